// The GICv3 a realm's Linux sees: the distributor and one redistributor per vCPU,
// emulated by the host from the realm's MMIO exits, and the list registers the host
// hands the RMM at every REC entry (RmiRecEnter.gicv3_lrs). The realm's CPU interface
// itself (ICC_* system registers) is the hardware's virtual interface, which the RMM
// loads from those list registers; SGIs reach the host as ICC_SGI1R_EL1 exits.
//
// Model: INTIDs 0-63 (16 SGIs, 16 PPIs, 32 SPIs: GICD_TYPER.ITLinesNumber 1), one
// security state (GICD_CTLR.DS 1), affinity routing always on, no LPIs, no ITS.
// An interrupt is pending when its edge latch is set or its level line is high (level
// lines are sampled by the host at every exit: the timers from the exit record, the
// UART from its model). Pure Swift: no platform import, host-tested.

public struct VirtualGIC: Sendable {
  public static let maxCPUs = 2
  public static let interruptCount = 64
  public static let maintenanceINTID = 25
  public static let physicalTimerINTID = 30
  public static let virtualTimerINTID = 27
  /// The PMU's overflow interrupt (PPI 7), level: high while the exit reports
  /// pmu_ovf_status ACTIVE.
  public static let pmuINTID = 23
  /// Redistributor frames per vCPU: RD_base and SGI_base, 64 KiB each.
  public static let redistributorStride: UInt64 = 0x2_0000

  /// One bit per INTID 0-63. Bits 0-31 are per vCPU (SGIs and PPIs), bits 32-63 are
  /// the SPIs, kept in vCPU 0's word and shared.
  struct Bits: Sendable {
    var words: InlineArray<2, UInt64> = .init(repeating: 0)
    func get(_ cpu: Int, _ intid: Int) -> Bool {
      words[intid < 32 ? cpu : 0] >> UInt64(intid) & 1 != 0
    }
    mutating func set(_ cpu: Int, _ intid: Int, _ on: Bool) {
      let w = intid < 32 ? cpu : 0
      if on { words[w] |= 1 << UInt64(intid) } else { words[w] &= ~(1 << UInt64(intid)) }
    }
    /// The 32 bits of register `n` (0: the private interrupts, 1: the SPIs) for `cpu`.
    func register(_ cpu: Int, _ n: Int) -> UInt32 {
      n == 0 ? UInt32(truncatingIfNeeded: words[cpu]) : UInt32(truncatingIfNeeded: words[0] >> 32)
    }
    mutating func update(_ cpu: Int, _ n: Int, setting bits: UInt32, _ on: Bool) {
      let w = n == 0 ? cpu : 0
      let mask = n == 0 ? UInt64(bits) : UInt64(bits) << 32
      if on { words[w] |= mask } else { words[w] &= ~mask }
    }
  }

  public let cpuCount: Int
  var distributorControl: UInt32 = 0
  var enabled = Bits()
  var latched = Bits()   // edge pending (and ISPENDR)
  var level = Bits()     // level line
  var active = Bits()
  var group1 = Bits()
  var edge = Bits()      // ICFGR: 1 = edge-triggered
  /// Priorities of INTIDs 0-31 for each vCPU, then of the SPIs (32-63).
  var priorities: InlineArray<96, UInt8> = .init(repeating: 0)
  var routes: InlineArray<32, UInt64> = .init(repeating: 0)
  var waker: InlineArray<2, UInt32> = .init(repeating: 0b110)  // ProcessorSleep, ChildrenAsleep
  var redistributorControl: InlineArray<2, UInt32> = .init(repeating: 0)
  /// Which INTID each list register carried at the last entry (-1: none), per vCPU.
  var listed: InlineArray<32, Int8> = .init(repeating: -1)

  public init(cpuCount: Int) {
    self.cpuCount = min(max(cpuCount, 1), Self.maxCPUs)
    for cpu in 0..<Self.maxCPUs {
      for sgi in 0..<16 { edge.set(cpu, sgi, true) }  // SGIs are edge-triggered
      group1.words[cpu] = 0
    }
  }

  func priorityIndex(_ cpu: Int, _ intid: Int) -> Int { intid < 32 ? cpu * 32 + intid : 64 + intid - 32 }

  // ---- interrupt state -------------------------------------------------------------

  public func isPending(_ cpu: Int, _ intid: Int) -> Bool {
    latched.get(cpu, intid) || (level.get(cpu, intid) && !edge.get(cpu, intid))
  }

  public func isActive(_ cpu: Int, _ intid: Int) -> Bool { active.get(cpu, intid) }
  public func isEnabled(_ cpu: Int, _ intid: Int) -> Bool { enabled.get(cpu, intid) }

  /// Sets the level line of a PPI (for `cpu`) or an SPI. An edge-configured interrupt
  /// latches on the rising edge.
  public mutating func setLine(_ cpu: Int, _ intid: Int, high: Bool) {
    guard intid >= 16, intid < Self.interruptCount else { return }
    if high && !level.get(cpu, intid) && edge.get(cpu, intid) { latched.set(cpu, intid, true) }
    level.set(cpu, intid, high)
  }

  /// The vCPU an SPI is routed to (IROUTER: Aff0 is the vCPU index here).
  public func target(ofSPI intid: Int) -> Int {
    let aff0 = Int(routes[intid - 32] & 0xFF)
    return aff0 < cpuCount ? aff0 : 0
  }

  /// A write to ICC_SGI1R_EL1 by `cpu` (the value of the realm's register): pends
  /// the SGI on every vCPU it names. Returns the vCPUs it reached (bit per vCPU).
  @discardableResult
  public mutating func generateSGI(from cpu: Int, _ value: UInt64) -> UInt32 {
    let intid = Int((value >> 24) & 0xF)
    let allButSelf = value >> 40 & 1 != 0
    let targetList = value & 0xFFFF
    let aff1 = (value >> 16) & 0xFF, aff2 = (value >> 32) & 0xFF, aff3 = (value >> 48) & 0xFF
    let rangeSelector = (value >> 44) & 0xF
    var reached: UInt32 = 0
    for target in 0..<cpuCount {
      let named = allButSelf ? target != cpu
        : aff1 == 0 && aff2 == 0 && aff3 == 0 && rangeSelector == 0 && targetList >> UInt64(target) & 1 != 0
      if named {
        latched.set(target, intid, true)
        reached |= 1 << UInt32(target)
      }
    }
    return reached
  }

  /// Whether `cpu` has an interrupt the list registers should carry: pending and
  /// enabled in an enabled group, or active.
  public func hasWork(_ cpu: Int) -> Bool {
    for intid in 0..<Self.interruptCount where deliverable(cpu, intid) || isActive(cpu, intid) {
      if intid < 32 || target(ofSPI: intid) == cpu { return true }
    }
    return false
  }

  func deliverable(_ cpu: Int, _ intid: Int) -> Bool {
    guard isPending(cpu, intid), enabled.get(cpu, intid) else { return false }
    let groupEnabled = group1.get(cpu, intid) ? distributorControl & 0b10 != 0 : distributorControl & 0b1 != 0
    return groupEnabled
  }

  // ---- list registers ----------------------------------------------------------------

  public static let lrPending: UInt64 = 1 << 62
  public static let lrActive: UInt64 = 1 << 63
  public static let lrGroup1: UInt64 = 1 << 60
  public static let lrEOIMaintenance: UInt64 = 1 << 41

  /// Takes back what the realm did with the list registers of the last entry (the
  /// exit's gicv3_lrs): an interrupt it acknowledged is active, one it ended is done.
  /// An edge the entry listed as pending left the latch then (`listRegisters`); still
  /// pending at the exit, it is latched again. So an edge that came in meanwhile (a
  /// second SGI while the realm handled the first) is never lost.
  public mutating func retire(_ cpu: Int, exitLRs: InlineArray<16, UInt64>, count: Int) {
    for slot in 0..<min(count, 16) {
      let intid = Int(listed[cpu * 16 + slot])
      guard intid >= 0 else { continue }
      listed[cpu * 16 + slot] = -1
      let lr = exitLRs[slot]
      // Invalid: taken and ended (the hardware keeps the vINTID field; do not rely on it).
      guard lr >> 62 == 0 || lr & 0xFFFF_FFFF == UInt64(intid) else { continue }
      active.set(cpu, intid, lr & Self.lrActive != 0)
      if lr & Self.lrPending != 0 { latched.set(cpu, intid, true) }
    }
  }

  /// The list registers for the next entry of `cpu`: every active interrupt (the
  /// realm must be able to end it) and then the pending ones, highest priority first,
  /// as many as the CPU has. Level interrupts ask for a maintenance interrupt when the
  /// realm ends them, so the host samples the line again.
  public mutating func listRegisters(_ cpu: Int, count: Int) -> InlineArray<16, UInt64> {
    var lrs: InlineArray<16, UInt64> = .init(repeating: 0)
    var used = 0
    let n = min(count, 16)
    // Active first, then pending by priority (lower value first), INTID order within.
    for pass in 0..<2 {
      var priority = 0
      while priority < 256 && used < n {
        for intid in 0..<Self.interruptCount where used < n {
          if intid >= 32 && target(ofSPI: intid) != cpu { continue }
          let isActive = active.get(cpu, intid)
          let wanted = pass == 0 ? isActive : (!isActive && deliverable(cpu, intid))
          guard wanted, Int(priorities[priorityIndex(cpu, intid)]) == priority else { continue }
          var lr = UInt64(intid) | UInt64(priority) << 48
          if group1.get(cpu, intid) { lr |= Self.lrGroup1 }
          if isActive { lr |= Self.lrActive }
          if deliverable(cpu, intid) {
            lr |= Self.lrPending
            latched.set(cpu, intid, false)  // the LR holds this edge now
          }
          if !edge.get(cpu, intid) { lr |= Self.lrEOIMaintenance }
          lrs[used] = lr
          listed[cpu * 16 + used] = Int8(intid)
          used += 1
        }
        priority += 1
      }
    }
    return lrs
  }

  // ---- distributor -------------------------------------------------------------------

  /// GICD_TYPER: 32 SPIs (ITLinesNumber 1), 10 INTID bits, no LPIs, no security
  /// extension; CPUNumber is the vCPU count - 1.
  public var distributorType: UInt32 { 1 | UInt32(cpuCount - 1) << 5 | 9 << 19 }

  public mutating func distributorRead(_ offset: UInt64, size: Int) -> UInt64 {
    switch offset {
    case 0x0000: return UInt64(distributorControl | 1 << 6)  // DS: one security state
    case 0x0004: return UInt64(distributorType)
    case 0x0008: return 0x0000_043B                           // IIDR: Arm
    case 0x0080..<0x0088: return UInt64(bitsRegister(group1, offset - 0x80, 0))
    case 0x0100..<0x0108, 0x0180..<0x0188: return UInt64(bitsRegister(enabled, offset & 0x7F, 0))
    case 0x0204, 0x0284: return UInt64(pendingRegister(0, n: 1))
    case 0x0300..<0x0308, 0x0380..<0x0388: return UInt64(bitsRegister(active, offset & 0x7F, 0))
    case 0x0400..<0x0440: return priorityBytes(0, firstINTID: Int(offset - 0x400), size: size)
    case 0x0C00..<0x0C10: return UInt64(configRegister(0, firstINTID: Int(offset - 0xC00) * 4))
    case 0x6100..<0x6200:
      let spi = Int(offset - 0x6000) / 8  // GICD_IROUTER<n> at 0x6000 + 8n, n >= 32
      let route = routes[spi - 32]
      return offset & 7 == 4 ? route >> 32 : route
    case 0xFFE8: return 0x3B                                  // PIDR2: ArchRev 3 (GICv3)
    default: return 0
    }
  }

  public mutating func distributorWrite(_ offset: UInt64, size: Int, _ value: UInt64) {
    let word = UInt32(truncatingIfNeeded: value)
    switch offset {
    case 0x0000: distributorControl = word & 0b1_0011           // EnableGrp0, EnableGrp1, ARE
    case 0x0084: group1.update(0, 1, setting: word, true); group1.update(0, 1, setting: ~word, false)
    case 0x0104: enabled.update(0, 1, setting: word, true)
    case 0x0184: enabled.update(0, 1, setting: word, false)
    case 0x0204: latched.update(0, 1, setting: word, true)
    case 0x0284: latched.update(0, 1, setting: word, false)
    case 0x0304: active.update(0, 1, setting: word, true)
    case 0x0384: active.update(0, 1, setting: word, false)
    case 0x0420..<0x0440: setPriorityBytes(0, firstINTID: Int(offset - 0x400), size: size, value)
    case 0x0C08..<0x0C10: setConfig(0, firstINTID: Int(offset - 0xC00) * 4, word)
    case 0x6100..<0x6200:
      let spi = Int(offset - 0x6000) / 8
      if size == 8 {
        routes[spi - 32] = value
      } else if offset & 7 == 4 {
        routes[spi - 32] = routes[spi - 32] & 0xFFFF_FFFF | UInt64(word) << 32
      } else {
        routes[spi - 32] = routes[spi - 32] & ~0xFFFF_FFFF | UInt64(word)
      }
    default: break  // SGI/PPI registers are the redistributor's (affinity routing): RAZ/WI
    }
  }

  // ---- redistributor (RD_base, then SGI_base at +64 KiB) -------------------------------

  /// `offset` is relative to the vCPU's RD_base.
  public mutating func redistributorRead(_ cpu: Int, _ offset: UInt64, size: Int) -> UInt64 {
    switch offset {
    case 0x0000: return UInt64(redistributorControl[cpu])
    case 0x0004: return 0x0000_043B
    case 0x0008, 0x000C:
      // GICR_TYPER: Affinity (Aff0 = the vCPU index), Processor_Number, Last.
      let last: UInt64 = cpu == cpuCount - 1 ? 1 << 4 : 0
      let typer = UInt64(cpu) << 32 | UInt64(cpu) << 8 | last
      return offset == 0x000C ? typer >> 32 : typer
    case 0x0014: return UInt64(waker[cpu])
    case 0xFFE8: return 0x3B
    case 0x1_0080: return UInt64(group1.register(cpu, 0))
    case 0x1_0100, 0x1_0180: return UInt64(enabled.register(cpu, 0))
    case 0x1_0200, 0x1_0280: return UInt64(pendingRegister(cpu, n: 0))
    case 0x1_0300, 0x1_0380: return UInt64(active.register(cpu, 0))
    case 0x1_0400..<0x1_0420: return priorityBytes(cpu, firstINTID: Int(offset - 0x1_0400), size: size)
    case 0x1_0C00: return 0xAAAA_AAAA                          // SGIs: edge
    case 0x1_0C04: return UInt64(configRegister(cpu, firstINTID: 16))
    case 0x1_FFE8: return 0x3B
    default: return 0
    }
  }

  public mutating func redistributorWrite(_ cpu: Int, _ offset: UInt64, size: Int, _ value: UInt64) {
    let word = UInt32(truncatingIfNeeded: value)
    switch offset {
    case 0x0000: redistributorControl[cpu] = 0                 // no LPIs
    case 0x0014:
      // ProcessorSleep; ChildrenAsleep follows it at once.
      let sleep = word & 0b10
      waker[cpu] = sleep | sleep << 1
    case 0x1_0080: group1.update(cpu, 0, setting: word, true); group1.update(cpu, 0, setting: ~word, false)
    case 0x1_0100: enabled.update(cpu, 0, setting: word, true)
    case 0x1_0180: enabled.update(cpu, 0, setting: word, false)
    case 0x1_0200: latched.update(cpu, 0, setting: word, true)
    case 0x1_0280: latched.update(cpu, 0, setting: word, false)
    case 0x1_0300: active.update(cpu, 0, setting: word, true)
    case 0x1_0380: active.update(cpu, 0, setting: word, false)
    case 0x1_0400..<0x1_0420: setPriorityBytes(cpu, firstINTID: Int(offset - 0x1_0400), size: size, value)
    case 0x1_0C04: setConfig(cpu, firstINTID: 16, word)
    default: break
    }
  }

  // ---- register helpers ---------------------------------------------------------------

  /// A 32-bit bitmap register at byte `offset` of its bank (0: private, 4: the SPIs).
  func bitsRegister(_ bits: Bits, _ offset: UInt64, _ cpu: Int) -> UInt32 {
    offset == 4 ? bits.register(cpu, 1) : 0  // the private word is the redistributor's
  }

  /// ISPENDR/ICPENDR read: the pending state (latch or line) of 32 interrupts.
  func pendingRegister(_ cpu: Int, n: Int) -> UInt32 {
    var word: UInt32 = 0
    for bit in 0..<32 where isPending(cpu, n * 32 + bit) { word |= 1 << UInt32(bit) }
    return word
  }

  func priorityBytes(_ cpu: Int, firstINTID: Int, size: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<min(size, 8) where firstINTID + i < Self.interruptCount {
      value |= UInt64(priorities[priorityIndex(cpu, firstINTID + i)]) << UInt64(8 * i)
    }
    return value
  }

  mutating func setPriorityBytes(_ cpu: Int, firstINTID: Int, size: Int, _ value: UInt64) {
    for i in 0..<min(size, 8) where firstINTID + i < Self.interruptCount {
      // Five priority bits, as the virtual CPU interface of the CPU has (QEMU: 5).
      priorities[priorityIndex(cpu, firstINTID + i)] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) & 0xF8
    }
  }

  /// ICFGR: two bits per interrupt, bit 1 of each pair = edge.
  func configRegister(_ cpu: Int, firstINTID: Int) -> UInt32 {
    var word: UInt32 = 0
    for i in 0..<16 where firstINTID + i < Self.interruptCount && edge.get(cpu, firstINTID + i) {
      word |= 2 << UInt32(2 * i)
    }
    return word
  }

  mutating func setConfig(_ cpu: Int, firstINTID: Int, _ word: UInt32) {
    for i in 0..<16 where firstINTID + i >= 16 && firstINTID + i < Self.interruptCount {
      edge.set(cpu, firstINTID + i, word >> UInt32(2 * i + 1) & 1 != 0)
    }
  }
}

// The NS host as a small VMM: builds a realm from a Linux kernel Image, an initramfs and
// a generated device tree, runs its REC and serves every exit (MMIO to the emulated
// GICv3 and PL011, pages populated on first touch, RIPAS changes, SGIs, timers, PSCI),
// then tears the realm down and checks that every granule went back to NS.
// scripts/run-linux (and scripts/run) load the images with QEMU's loader and say where
// in the run configuration page (mode .linux).

import AArch64Shim
import RMMABI
import RMMCore
import RealmVMM

/// What the scripts asked for: where QEMU's loader put the images, how to boot.
struct LinuxBootRequest {
  var kernelPA: UInt64
  var kernelSize: UInt64
  var initrdPA: UInt64
  var initrdSize: UInt64
  /// b0: interactive (poll the UART for input, keep the realm's console responsive);
  /// b1: QEMU answers semihosting: the audit stream goes to the file named at +0xF00.
  var flags: UInt64
  var ramSize: UInt64
  /// The kernel command line: a NUL-terminated string in the run configuration page.
  var commandLine: UInt64 { Board.runConfigurationPA + 0x800 }
  var commandLineLength: Int {
    var n = 0
    while n < 0x7FF && mmio_read8(commandLine + UInt64(n)) != 0 { n += 1 }
    return n
  }
  /// vCPUs (1 or 2), each on the physical CPU of its index.
  var vcpus: Int = 1
  var interactive: Bool { flags & 1 != 0 }
  var auditToFile: Bool { flags & 2 != 0 }
  /// b2: back all of RAM before activation instead of on first touch.
  var populateUpFront: Bool { flags & 4 != 0 }
  var auditFileName: UInt64 { Board.runConfigurationPA + 0xF00 }

  init(kernelPA: UInt64 = 0, kernelSize: UInt64 = 0, initrdPA: UInt64 = 0, initrdSize: UInt64 = 0, flags: UInt64 = 0,
       ramSize: UInt64 = 128 << 20, vcpus: Int = 1) {
    self.kernelPA = kernelPA
    self.kernelSize = kernelSize
    self.initrdPA = initrdPA
    self.initrdSize = initrdSize
    self.flags = flags
    self.ramSize = ramSize
    self.vcpus = vcpus
  }

  static func fromRunConfiguration() -> LinuxBootRequest {
    let ram = RunConfiguration.argument(5)
    let vcpus = Int(truncatingIfNeeded: RunConfiguration.argument(6))
    return LinuxBootRequest(kernelPA: RunConfiguration.argument(0), kernelSize: RunConfiguration.argument(1),
                            initrdPA: RunConfiguration.argument(2), initrdSize: RunConfiguration.argument(3),
                            flags: RunConfiguration.argument(4), ramSize: ram == 0 ? 128 << 20 : ram,
                            vcpus: min(max(vcpus, 1), LinuxRealm.maxVCPUs))
  }
}

/// NS granules for the realm, handed out in order from the board's pool and delegated.
struct GranulePool {
  let base: UInt64 = Board.linuxPool
  let count: UInt64 = Board.linuxPoolSize / 0x1000
  var used: UInt64 = 0

  var delegations: UInt64 = 0
  var undelegations: UInt64 = 0

  /// A delegated granule that came back unused (a fault the other vCPU served first).
  var spare: UInt64 = 0

  mutating func giveBack(_ granule: UInt64) { spare = granule }

  mutating func delegated() -> UInt64? {
    if spare != 0 {
      defer { spare = 0 }
      return spare
    }
    guard used < count else { return nil }
    let pa = base + used * 0x1000
    delegations += 1
    guard rmi(.granuleDelegate, pa).x0 == 0 else { return nil }
    used += 1
    return pa
  }

  /// Back to NS, all of them (after the realm is destroyed). The count that refused.
  mutating func undelegateAll() -> UInt64 {
    var refused: UInt64 = 0
    for i in 0..<used where rmi(.granuleUndelegate, base + i * 0x1000).x0 != 0 { refused += 1 }
    undelegations += used
    return refused
  }
}

/// Counters for the README's numbers.
struct LinuxRealmStatistics {
  var exits: InlineArray<8, UInt64> = .init(repeating: 0)   // by RecExitReason
  var mmio: UInt64 = 0
  var populated: UInt64 = 0
  var ripasCalls: UInt64 = 0
  var sgis: UInt64 = 0
  var wfx: UInt64 = 0
  var timerInjections: UInt64 = 0
  /// Exits that reported the realm's PMU overflow interrupt pending (pmu_ovf_status).
  var pmuOverflowExits: UInt64 = 0
  var rmiCalls: InlineArray<32, UInt64> = .init(repeating: 0)  // by FID - 0x150
}

/// The realm and everything the vCPU loops share: the device models, the granule
/// pool, the console, the counters. Each physical CPU runs one vCPU (VCPULoop); both
/// reach this state only through `LinuxRealm.shared` while holding `LinuxRealm.lock`.
struct LinuxRealm {
  typealias R = RecRunLayout
  static let maxVCPUs = 2
  var request: LinuxBootRequest
  var layout = RealmLayout()
  var devices: RealmDevices
  var pool = GranulePool()
  var rd: UInt64 = 0
  var recs: InlineArray<2, UInt64> = .init(repeating: 0)
  /// The REC run pages, one per vCPU.
  static func runPage(_ vcpu: Int) -> UInt64 { Board.linuxWork + (vcpu == 0 ? 0 : 0x7000) }
  let params = Board.linuxWork + 0x1000 // realm and REC parameters
  let treeBuffer = Board.linuxWork + 0x2000
  var treeSize: UInt64 = 0
  var listRegisters = 4
  var stats = LinuxRealmStatistics()
  /// The realm's console, a line at a time, so that audit records print between lines.
  var line: InlineArray<1024, UInt8> = .init(repeating: 0)
  var lineLength = 0
  var powerOff = false
  var failed = false
  /// vCPU 1's loop: started (CPU_ON) and finished, on physical CPU 1.
  var secondaryStarted = false
  var secondaryFinished = false

  init(request: LinuxBootRequest) {
    self.request = request
    layout.ramSize = request.ramSize
    layout.cpuCount = request.vcpus
    devices = RealmDevices(layout: layout)
  }

  nonisolated(unsafe) static var lockWord: UInt64 = 0
  nonisolated(unsafe) static var storage = LinuxRealm(request: LinuxBootRequest())
  static var shared: UnsafeMutablePointer<LinuxRealm> { withUnsafeMutablePointer(to: &storage) { $0 } }

  /// Runs `body` on the shared state with the lock held.
  static func locked<T>(_ body: (inout LinuxRealm) -> T) -> T {
    let word = withUnsafeMutablePointer(to: &lockWord) { $0 }
    testhost_lock(word)
    let result = body(&shared.pointee)
    testhost_unlock(word)
    return result
  }

  mutating func call(_ command: RMICommand, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
                     _ a4: UInt64 = 0, _ a5: UInt64 = 0) -> SMCResult {
    let index = Int(truncatingIfNeeded: command.rawValue & 0xFF) - 0x50
    if index >= 0 && index < 32 { stats.rmiCalls[index] += 1 }
    return rmi(command, a1, a2, a3, a4, a5)
  }

  // ---- building --------------------------------------------------------------------

  mutating func build() -> Bool {
    let features = RMIFeatureRegister0(rawValue: call(.features, 0).x1)
    listRegisters = Int(features.gicv3ListRegisters) + 1
    // The two concatenated root tables first: they must be one 8 KiB-aligned block.
    guard let root0 = pool.delegated(), let root1 = pool.delegated(), root1 == root0 + 0x1000, root0 & 0x1FFF == 0,
          let rd = pool.delegated()
    else { return fail("delegating the RD and the root tables") }
    self.rd = rd
    fillPage(params) { _ in 0 }
    mmio_write64(params + UInt64(RealmParamsLayout.s2sz), layout.ipaBits)
    mmio_write64(params + UInt64(RealmParamsLayout.numberOfBreakpoints), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.numberOfWatchpoints), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.hashAlgorithm), UInt64(HashAlgorithm.sha256.rawValue))
    mmio_write64(params + UInt64(RealmParamsLayout.vmid), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.rttBase), root0)
    mmio_write64(params + UInt64(RealmParamsLayout.rttLevelStart), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.rttNumStart), 2)
    // SVE at the largest vector length the RMM offers, and a PMU with every counter, as
    // a VMM gives a guest: Linux probes both at boot (SVE for userspace and kernel
    // crypto, the PMU for perf).
    let flags = (features.sveEnabled ? RealmParamsLayout.flagSVE : 0) | (features.pmuEnabled ? RealmParamsLayout.flagPMU : 0)
    let sveLength = features.sveEnabled ? features.sveVectorLength : 0
    let pmuCounters = features.pmuEnabled ? features.pmuCounters : 0
    mmio_write64(params + UInt64(RealmParamsLayout.flags), flags)
    mmio_write64(params + UInt64(RealmParamsLayout.sveVectorLength), sveLength)
    mmio_write64(params + UInt64(RealmParamsLayout.pmuCounters), pmuCounters)
    pmuInDeviceTree = features.pmuEnabled
    // For scripts/lib/realm_rim.py: the measured flags, sve_vl and pmu_num_ctrs.
    console.write("LINUX_REALM_PARAMS flags ")
    console.decimal(flags)
    console.write(" sve_vl ")
    console.decimal(sveLength)
    console.write(" pmu_num_ctrs ")
    console.decimal(pmuCounters)
    console.newline()
    let created = call(.realmCreate, rd, params).x0
    guard created == 0 else {
      console.hex(created)
      return fail(" REALM_CREATE")
    }

    // Tables for all of RAM (level 2 for its GiB, level 3 for every 2 MiB), then RAM
    // is RIPAS RAM before activation (the kernel's RSI setup expects it, arm-cca.rst).
    var ipa = layout.ramBase & ~0x3FFF_FFFF
    while ipa < layout.ramTop {
      guard let table = pool.delegated(), call(.rttCreate, rd, table, ipa, 2).x0 == 0 else { return fail("RTT_CREATE level 2") }
      ipa += 0x4000_0000
    }
    ipa = layout.ramBase
    while ipa < layout.ramTop {
      guard let table = pool.delegated(), call(.rttCreate, rd, table, ipa, 3).x0 == 0 else { return fail("RTT_CREATE level 3") }
      ipa += 0x20_0000
    }
    var base = layout.ramBase
    while base < layout.ramTop {
      let r = call(.rttInitRIPAS, rd, base, layout.ramTop)
      guard r.x0 == 0, r.x1 > base else { return fail("RTT_INIT_RIPAS") }
      base = r.x1
    }

    // The images, measured: kernel, initramfs, device tree.
    guard load(from: request.kernelPA, size: request.kernelSize, at: layout.kernel) else { return fail("loading the kernel") }
    if request.initrdSize > 0 {
      guard load(from: request.initrdPA, size: request.initrdSize, at: layout.initrd) else { return fail("loading the initramfs") }
    }
    guard let size = RealmDeviceTree.build(into: treeBuffer, capacity: 0x4000, layout: layout, commandLine: request.commandLine,
                                           commandLineLength: request.commandLineLength, initrdSize: request.initrdSize)
    else { return fail("writing the device tree (libfdt)") }
    treeSize = size
    printDeviceTree()
    guard load(from: treeBuffer, size: size, at: layout.deviceTree) else { return fail("loading the device tree") }

    if request.populateUpFront {
      var page = layout.ramBase
      while page < layout.ramTop {
        let inImage = page >= layout.kernel && page < layout.kernel + ((request.kernelSize + 0xFFF) & ~0xFFF)
          || page >= layout.initrd && page < layout.initrd + ((request.initrdSize + 0xFFF) & ~0xFFF)
          || page >= layout.deviceTree && page < layout.deviceTree + ((size + 0xFFF) & ~0xFFF)
        if !inImage {
          guard let granule = pool.delegated(), call(.dataCreateUnknown, rd, granule, page).x0 == 0 else {
            return fail("backing RAM up front")
          }
        }
        page += 0x1000
      }
    }

    // REC 0: the boot CPU at the kernel's entry, x0 = the device tree. REC 1 (MPIDR 1)
    // waits for the kernel's PSCI CPU_ON; not runnable, so not measured.
    let auxCount = call(.recAuxCount, rd).x1
    for vcpu in 0..<layout.cpuCount {
      guard let rec = pool.delegated() else { return fail("delegating a REC") }
      recs[vcpu] = rec
      fillPage(params) { _ in 0 }
      mmio_write64(params + UInt64(RecParamsLayout.flags), vcpu == 0 ? RecParamsLayout.flagRunnable : 0)
      mmio_write64(params + UInt64(RecParamsLayout.mpidr), UInt64(vcpu))
      mmio_write64(params + UInt64(RecParamsLayout.pc), vcpu == 0 ? layout.kernel : 0)
      mmio_write64(params + UInt64(RecParamsLayout.gprs), vcpu == 0 ? layout.deviceTree : 0)
      mmio_write64(params + UInt64(RecParamsLayout.numberOfAux), auxCount)
      for i in 0..<auxCount {
        guard let aux = pool.delegated() else { return fail("delegating aux granules") }
        mmio_write64(params + UInt64(RecParamsLayout.aux) + 8 * i, aux)
      }
      guard call(.recCreate, rd, rec, params).x0 == 0 else { return fail("REC_CREATE") }
    }
    guard call(.realmActivate, rd).x0 == 0 else { return fail("REALM_ACTIVATE") }
    return true
  }

  /// DATA_CREATE (measured) of `size` bytes at NS `source` to IPA `ipa`; the last
  /// granule's tail is zeroed first, so the measurement is of the image and zeros.
  mutating func load(from source: UInt64, size: UInt64, at ipa: UInt64) -> Bool {
    var tail = size
    while tail & 0xFFF != 0 {
      mmio_write8(source + tail, 0)
      tail += 1
    }
    var offset: UInt64 = 0
    while offset < size {
      guard let granule = pool.delegated(),
            call(.dataCreate, rd, granule, ipa + offset, source + offset, 1).x0 == 0 else { return false }
      offset += 0x1000
    }
    return true
  }

  /// The tree the realm boots with, in hex, for scripts/lib/realm_rim.py.
  func printDeviceTree() {
    var i: UInt64 = 0
    while i < treeSize {
      console.write("LINUX_DTB ")
      var j: UInt64 = 0
      while j < 32 && i + j < treeSize {
        console.hexByte(mmio_read8(treeBuffer + i + j))
        j += 1
      }
      console.newline()
      i += 32
    }
  }

  func fail(_ what: StaticString) -> Bool {
    console.write("VMM: failed: ")
    console.write(what)
    console.newline()
    return false
  }

  // ---- serving exits (with the lock held) ---------------------------------------------

  func exitField(_ vcpu: Int, _ offset: Int) -> UInt64 { mmio_read64(Self.runPage(vcpu) + UInt64(offset)) }

  /// Writes vCPU `vcpu`'s next entry: the host's answer and the interrupts to deliver.
  mutating func prepareEntry(_ vcpu: Int, flags: UInt64, reply: UInt64) {
    let run = Self.runPage(vcpu)
    mmio_write64(run + UInt64(R.enterFlags), flags)
    mmio_write64(run + UInt64(R.enterGPRs), reply)
    mmio_write64(run + UInt64(R.enterGICv3HCR), 0)
    let lrs = devices.gic.listRegisters(vcpu, count: listRegisters)
    for i in 0..<16 { mmio_write64(run + UInt64(R.enterGICv3LRs + 8 * i), lrs[i]) }
  }

  /// What to do after an exit of `vcpu`.
  enum Next { case enter(flags: UInt64, reply: UInt64), startSecondary, stop }

  /// Takes in the exit of `vcpu`: the list registers and timer lines first (every exit
  /// shows them, A6.2), then the reason.
  mutating func serveExit(_ vcpu: Int) -> Next {
    var exitLRs: InlineArray<16, UInt64> = .init(repeating: 0)
    for i in 0..<16 { exitLRs[i] = exitField(vcpu, R.exitGICv3LRs + 8 * i) }
    devices.gic.retire(vcpu, exitLRs: exitLRs, count: listRegisters)
    let vtimer = RECSystemRegisters.timerAsserted(exitField(vcpu, R.exitCNTVCTL))
    let ptimer = RECSystemRegisters.timerAsserted(exitField(vcpu, R.exitCNTPCTL))
    if vtimer && !devices.gic.isPending(vcpu, VirtualGIC.virtualTimerINTID) { stats.timerInjections += 1 }
    devices.gic.setLine(vcpu, VirtualGIC.virtualTimerINTID, high: vtimer)
    devices.gic.setLine(vcpu, VirtualGIC.physicalTimerINTID, high: ptimer)
    // The realm's PMU overflow: its virtual PPI follows pmu_ovf_status; the physical
    // PPI 23, which stays asserted while the realm's PMU state is loaded, is held off
    // on this CPU until the realm has cleared the overflow (else every entry exits).
    let pmuOverflow = exitField(vcpu, R.exitPMUOverflow) == 1
    if pmuOverflow { stats.pmuOverflowExits += 1 }
    devices.gic.setLine(vcpu, VirtualGIC.pmuINTID, high: pmuOverflow)
    setPhysicalPMUInterrupt(cpu: vcpu, enabled: !pmuOverflow)
    if request.interactive && vcpu == 0 { pollInput() }

    let reason = exitField(vcpu, R.exitReason) & 0xFF
    if reason < 8 { stats.exits[Int(reason)] += 1 }
    switch RecExitReason(rawValue: UInt8(reason)) {
    case .sync?:
      return serveSync(vcpu)
    case .irq?, .fiq?, .hostCall?:
      return .enter(flags: 0, reply: 0)  // the line states above are what the host had to learn
    case .ripasChange?:
      return serveRIPASChange(vcpu)
    case .psci?:
      return servePSCI(vcpu)
    case .serror?, nil:
      console.write("VMM: SError or unknown exit ")
      console.hex(exitField(vcpu, R.exitESR))
      console.newline()
      return .stop
    }
  }

  mutating func serveSync(_ vcpu: Int) -> Next {
    let esr = exitField(vcpu, R.exitESR)
    switch esr >> 26 {
    case 0x24, 0x20:  // data or instruction abort
      let ipa = (exitField(vcpu, R.exitHPFAR) >> 4) << 12 | exitField(vcpu, R.exitFAR) & 0xFFF
      if ipa & layout.sharedBit != 0 {
        guard esr >> 26 == 0x24, esr & (1 << 24) != 0 else {
          return .enter(flags: R.flagInjectSEA, reply: 0)  // not a single emulatable load or store
        }
        stats.mmio += 1
        let access = MMIOAccess(address: ipa & ~layout.sharedBit, esr: esr)
        switch devices.access(cpu: vcpu, access, value: exitField(vcpu, R.exitGPRs)) {
        case .value(let value):
          return .enter(flags: R.flagEmulatedMMIO, reply: value)
        case .written(let byte):
          if let byte { output(byte) }
          return .enter(flags: R.flagEmulatedMMIO, reply: 0)
        case .noDevice:
          return .enter(flags: R.flagInjectSEA, reply: 0)
        }
      }
      // Protected RAM the realm touched first: back it now (the other vCPU may just
      // have done so: then the RMM simply lets the access retry).
      guard layout.isRAM(ipa) else { _ = fail("a protected abort outside RAM"); return .stop }
      let page = ipa & ~0xFFF
      guard let granule = pool.delegated() else { _ = fail("the granule pool is empty"); return .stop }
      let created = call(.dataCreateUnknown, rd, granule, page).x0
      if created == 0 {
        stats.populated += 1
      } else {
        // Mapped meanwhile by the other vCPU's fault: give the granule back.
        pool.giveBack(granule)
      }
      return .enter(flags: 0, reply: 0)
    case 0x18:  // a GIC CPU interface write the RMM forwarded
      let encoding = SystemRegisterEncoding(iss: esr)
      if encoding.isHostEmulatedGICRegister && encoding.op2 == 5 {  // ICC_SGI1R_EL1
        stats.sgis += 1
        let reached = devices.gic.generateSGI(from: vcpu, exitField(vcpu, R.exitGPRs))
        for other in 0..<layout.cpuCount where other != vcpu && reached >> UInt32(other) & 1 != 0 { kick(other) }
      }
      return .enter(flags: 0, reply: 0)
    case 0x01:
      stats.wfx += 1
      return .enter(flags: 0, reply: 0)
    default:
      console.write("VMM: unexpected sync exit, ESR ")
      console.hex(esr)
      console.newline()
      return .stop
    }
  }

  /// RSI_IPA_STATE_SET: the host makes the change with RTT_SET_RIPAS, as far as it
  /// goes, and accepts.
  mutating func serveRIPASChange(_ vcpu: Int) -> Next {
    var base = exitField(vcpu, R.exitRIPASBase)
    let top = exitField(vcpu, R.exitRIPASTop)
    while base < top {
      stats.ripasCalls += 1
      let r = call(.rttSetRIPAS, rd, recs[vcpu], base, top)
      // A range without tables (outside RAM) stops here: the realm sees how far it got.
      guard r.x0 == 0, r.x1 > base else { break }
      base = r.x1
    }
    return .enter(flags: 0, reply: 0)
  }

  mutating func servePSCI(_ vcpu: Int) -> Next {
    let fid = exitField(vcpu, R.exitGPRs)
    if fid == PSCIFunction.systemOff.rawValue || fid == PSCIFunction.systemReset.rawValue {
      powerOff = true
      for other in 0..<layout.cpuCount where other != vcpu { kick(other) }
      return .stop
    }
    if fid == PSCIFunction.cpuOff.rawValue {
      // The REC is not runnable now; a later CPU_ON starts its loop again.
      if vcpu == 1 { secondaryStarted = false }
      return .stop
    }
    if fid == PSCIFunction.cpuOn.smc64 || fid == PSCIFunction.cpuOn.rawValue
      || fid == PSCIFunction.affinityInfo.smc64 || fid == PSCIFunction.affinityInfo.rawValue {
      let target = Int(exitField(vcpu, R.exitGPRs + 8) & 0xFF)
      guard target < layout.cpuCount, call(.psciComplete, recs[vcpu], recs[target], 0).x0 == 0 else {
        _ = fail("PSCI_COMPLETE")
        return .stop
      }
      let isCPUOn = fid == PSCIFunction.cpuOn.smc64 || fid == PSCIFunction.cpuOn.rawValue
      if isCPUOn && target == 1 && !secondaryStarted {
        secondaryStarted = true
        return .startSecondary
      }
    }
    return .enter(flags: 0, reply: 0)  // CPU_SUSPEND: the realm runs on
  }

  /// Makes physical CPU `vcpu` (which runs that vCPU) leave the realm: an SGI to it.
  func kick(_ vcpu: Int) {
    write_icc_sgi1r_el1(UInt64(VCPULoop.kickINTID) << 24 | 1 << UInt64(vcpu))
  }

  // ---- console -----------------------------------------------------------------------

  mutating func output(_ byte: UInt8) {
    line[lineLength] = byte
    lineLength += 1
    if byte == 10 || lineLength == 1024 { flushLine() }
  }

  mutating func flushLine() {
    guard lineLength > 0 else { return }
    // How long the realm took to reach /init, in counter ticks from the host's start
    // (under -icount shift=0: guest instructions of all CPUs).
    if lineLength > 12 && line[0] == 73 && line[4] == 45 && line[5] == 82 {  // "INIT-R"
      console.write("VMM-STATS init-reached-ticks=")
      console.decimal(counter() &- hostStartTicks)
      console.newline()
    }
    for i in 0..<lineLength where line[i] != 13 { console.put(line[i]) }
    // The console stays at a line boundary between the realm's lines (audit records
    // may print there), except for the interactive shell's prompt.
    if line[lineLength - 1] != 10 && !request.interactive { console.newline() }
    lineLength = 0
  }

  /// Bytes typed at the host's UART (the platform tree's stdout-path) go to the realm's.
  mutating func pollInput() {
    let uart = realmInterruptPlatform.uart
    // Only while the realm's FIFO has room: what stays in ours waits for the next look.
    while !devices.uart.receiveFull && mmio_read32(uart + 0x18) & (1 << 4) == 0 {
      _ = devices.receive(UInt8(truncatingIfNeeded: mmio_read32(uart)))
      flushLine()  // echo and prompts show at once
    }
  }

  // ---- teardown ----------------------------------------------------------------------

  /// Destroys everything and returns every granule to NS. The count that did not go back.
  mutating func tearDown() -> UInt64 {
    var refused: UInt64 = 0
    for vcpu in 0..<layout.cpuCount where call(.recDestroy, recs[vcpu]).x0 != 0 { refused += 1 }
    var ipa = layout.ramBase
    while ipa < layout.ramTop {
      let r = call(.dataDestroy, rd, ipa)
      ipa = r.x0 == 0 || r.x2 > ipa ? max(r.x2, ipa + 0x1000) : ipa + 0x1000
    }
    ipa = layout.ramBase
    while ipa < layout.ramTop {
      if call(.rttDestroy, rd, ipa, 3).x0 != 0 { refused += 1 }
      ipa += 0x20_0000
    }
    ipa = layout.ramBase & ~0x3FFF_FFFF
    while ipa < layout.ramTop {
      if call(.rttDestroy, rd, ipa, 2).x0 != 0 { refused += 1 }
      ipa += 0x4000_0000
    }
    if call(.realmDestroy, rd).x0 != 0 { refused += 1 }
    return refused + pool.undelegateAll()
  }

  func printStatistics() {
    console.write("VMM-STATS")
    console.counter(" vcpus=", UInt64(layout.cpuCount))
    console.counter(" exits sync=", stats.exits[0])
    console.counter(" irq=", stats.exits[1])
    console.counter(" psci=", stats.exits[3])
    console.counter(" ripas=", stats.exits[4])
    console.counter(" mmio=", stats.mmio)
    console.counter(" populated=", stats.populated)
    console.counter(" sgi=", stats.sgis)
    console.counter(" timer-injections=", stats.timerInjections)
    console.counter(" pmu-overflow-exits=", stats.pmuOverflowExits)
    console.counter(" granules=", pool.used)
    console.newline()
    console.write("VMM-STATS rmi")
    console.counter(" delegate=", pool.delegations)
    console.counter(" undelegate=", pool.undelegations)
    let commands: InlineArray<7, (Int, StaticString)> = [
      (0x53, " data_create="), (0x54, " data_create_unknown="), (0x5C, " rec_enter="), (0x5D, " rtt_create="),
      (0x69, " rtt_set_ripas="), (0x55, " data_destroy="), (0x64, " psci_complete="),
    ]
    for i in 0..<7 { console.counter(commands[i].1, stats.rmiCalls[commands[i].0 - 0x50]) }
    console.newline()
  }
}

/// One vCPU's run loop on the physical CPU of the same index: enter its REC, take the
/// exit in under the lock, repeat until the realm powers off or this vCPU stops.
struct VCPULoop {
  /// The physical SGI one CPU sends another to make its realm exit (new interrupts for
  /// its vCPU, or power-off).
  static let kickINTID: UInt64 = 2  // TF-A keeps SGIs 8-15 secure
  let vcpu: Int

  func run() -> Bool {
    var flags: UInt64 = 0
    var reply: UInt64 = 0
    let rec = LinuxRealm.locked { $0.recs[vcpu] }
    let interactive = LinuxRealm.locked { $0.request.interactive }
    while true {
      let stop = LinuxRealm.locked { realm -> Bool in
        if realm.powerOff || realm.failed { return true }
        realm.prepareEntry(vcpu, flags: flags, reply: reply)
        realm.stats.rmiCalls[0x0C] += 1
        return false
      }
      if stop { return true }
      if interactive {
        write_cnthp_tval_el2(10_000_000)  // 10 ms: exit now and then to look for input
        write_cnthp_ctl_el2(1)
      }
      let status = rmi(.recEnter, rec, LinuxRealm.runPage(vcpu)).x0
      if interactive { write_cnthp_ctl_el2(0) }
      acknowledgePhysicalInterrupts()
      if status != 0 {
        // After SYSTEM_OFF the realm refuses entry (ERROR_REALM): the normal end.
        return LinuxRealm.locked { realm -> Bool in
          if realm.powerOff { return true }
          console.write("VMM: REC_ENTER failed ")
          console.hex(status)
          console.newline()
          realm.failed = true
          return false
        }
      }
      let next = LinuxRealm.locked { $0.serveExit(vcpu) }
      switch next {
      case .enter(let f, let r):
        flags = f
        reply = r
      case .startSecondary:
        flags = 0
        reply = 0
        startSecondaryVCPU()
      case .stop:
        return LinuxRealm.locked { realm -> Bool in
          if !realm.powerOff && vcpu == 0 { realm.failed = true }
          return !realm.failed
        }
      }
    }
  }

  /// Physical interrupts the host does not take (it runs with them masked) but must
  /// acknowledge: the kick SGI, which would otherwise stay pending and make every
  /// entry exit at once. Level interrupts (timers) whose source went away are gone
  /// already; one still asserted comes back.
  func acknowledgePhysicalInterrupts() {
    let splitEOI = read_icc_ctlr_el1() & (1 << 1) != 0  // EOImode: EOIR only drops the priority
    while true {
      let intid = read_icc_iar1_el1() & 0xFF_FFFF
      if intid >= 1020 { return }
      write_icc_eoir1_el1(intid)
      if splitEOI { write_icc_dir_el1(intid) }
    }
  }
}

nonisolated(unsafe) var secondaryVCPUDone: UInt64 = 0

/// Physical CPU 1 runs vCPU 1 (after the realm's CPU_ON for MPIDR 1): once it is off,
/// if vCPU 1 ran before and switched itself off (CPU hotplug).
func startSecondaryVCPU() {
  let cpu1Off = { smc(PSCIFunction.affinityInfo.smc64, 1, 0).x0 == 1 }
  guard wait(upTo: 2_000_000_000, until: cpu1Off) else {
    LinuxRealm.locked { realm in
      _ = realm.fail("physical CPU 1 did not switch off after vCPU 1's CPU_OFF")
      realm.failed = true
    }
    return
  }
  mmio_write64(sharedAddress(&secondaryVCPUDone), 0)
  mmio_write64(sharedAddress(&secondaryTask), 4)
  dsb_sy()
  if smc(PSCIFunction.cpuOn.smc64, 1, testhost_secondary_entry_address(), 1).x0 != 0 {
    LinuxRealm.locked { realm in
      _ = realm.fail("starting physical CPU 1 for vCPU 1")
      realm.failed = true
    }
  }
}

func runSecondaryVCPU() {
  enableRealmInterrupts(cpu: 1)
  let ok = VCPULoop(vcpu: 1).run()
  if AuditFile.handle != 0 { AuditCollector.drainAndPrint() }
  LinuxRealm.locked { realm in
    realm.secondaryFinished = true
    if !ok { realm.failed = true }
  }
  dsb_sy()
  mmio_write64(sharedAddress(&secondaryVCPUDone), 1)
  dsb_sy()
}

/// Mode .linux: boot the images as a realm, run it to power-off, tear it down.
func runLinuxRealm() {
  hostStartTicks = counter()
  let request = LinuxBootRequest.fromRunConfiguration()
  let platform = PlatformDescription.read(at: Board.platformDeviceTree)
  console.write("VMM: platform device tree ")
  console.write(platform.fromDeviceTree ? "read:" : "absent, board constants:")
  console.address(" memory ", platform.memoryBase)
  console.address(" + ", platform.memorySize)
  console.address(", UART ", platform.uart)
  console.address(", GICD ", platform.distributor)
  console.address(", GICR ", platform.redistributor)
  console.newline()
  guard request.kernelSize > 0, request.kernelPA != 0 else {
    console.write("VMM: no kernel in the run configuration\nTESTHOST: 0 passed, 1 failed\n")
    return
  }
  realmInterruptPlatform = platform
  // The pool of granules for the realm and the images must be RAM the platform has.
  if platform.fromDeviceTree {
    let top = platform.memoryBase + platform.memorySize
    let inRAM = { (base: UInt64, size: UInt64) in base >= platform.memoryBase && base + size <= top }
    guard inRAM(Board.linuxPool, Board.linuxPoolSize), inRAM(request.kernelPA, request.kernelSize),
          inRAM(request.initrdPA, request.initrdSize) else {
      console.write("VMM: the granule pool or the images lie outside the platform's memory; start QEMU with more (-m)\n")
      console.write("TESTHOST: 0 passed, 1 failed\n")
      return
    }
  }
  enableRealmInterrupts(cpu: 0)
  // The audit log of the whole run, drained every few RMI calls (nothing lost); not in
  // the interactive shell, whose console it would flood.
  AuditCollector.enabled = !request.interactive
  if request.auditToFile && !AuditFile.open(path: request.auditFileName) {
    console.write("VMM: cannot open the audit file (semihosting)\n")
  }
  LinuxRealm.storage = LinuxRealm(request: request)
  console.write("VMM: building the realm: kernel ")
  console.decimal(request.kernelSize)
  console.write(" bytes, initramfs ")
  console.decimal(request.initrdSize)
  console.write(" bytes, RAM ")
  console.decimal(request.ramSize >> 20)
  console.write(" MiB, ")
  console.decimal(UInt64(request.vcpus))
  console.write(" vCPUs\n")
  let start = counter()
  guard LinuxRealm.locked({ $0.build() }) else {
    console.write("TESTHOST: 0 passed, 1 failed\n")
    return
  }
  let built = counter()
  console.write("VMM: realm built and activated (")
  console.decimal(LinuxRealm.locked { $0.pool.used })
  console.write(" granules); entering\n")
  var ran = VCPULoop(vcpu: 0).run()
  // vCPU 1 stops at the realm's SYSTEM_OFF too (it was kicked out of the realm).
  if LinuxRealm.locked({ $0.secondaryStarted }) {
    let finished = wait(upTo: 60_000_000_000) { mmio_read64(sharedAddress(&secondaryVCPUDone)) != 0 }
    if !finished { ran = false }
  }
  AuditCollector.drainAndPrint()
  let finished = counter()
  ran = ran && !LinuxRealm.locked { $0.failed }
  LinuxRealm.locked { $0.flushLine() }
  console.write(ran ? "VMM: the realm powered off\n" : "VMM: the realm stopped\n")
  let refused = LinuxRealm.locked { $0.tearDown() }
  LinuxRealm.locked { $0.printStatistics() }
  console.write("VMM-STATS build-ticks=")
  console.decimal(built &- start)
  console.write(" run-ticks=")
  console.decimal(finished &- built)
  console.newline()
  AuditCollector.drainAndPrint()
  console.write("VMM: teardown: ")
  console.decimal(refused)
  console.write(" granules not returned to NS\n")
  AuditFile.finish()
  // A signed checkpoint over the whole run's records (on the console, after them).
  if AuditCollector.enabled { AuditCollector.printCheckpoint(nonce: 0x5357_4946_5452_4D4D) }
  AuditCollector.printStatistics()
  console.write("TESTHOST: ")
  console.decimal(ran && refused == 0 ? 1 : 0)
  console.write(" passed, ")
  console.decimal(ran && refused == 0 ? 0 : 1)
  console.write(" failed\n")
}

nonisolated(unsafe) var realmInterruptPlatform = PlatformDescription()
/// The counter when the VMM started (about when QEMU powered on: TF-A and the RMM's
/// boot come before, a few million instructions).
nonisolated(unsafe) var hostStartTicks: UInt64 = 0

/// The physical interrupts that make the realm exit: the GIC maintenance interrupt
/// (PPI 25, the realm ended a level interrupt), the hypervisor timer (PPI 26, the
/// host's own tick while interactive), the EL1 virtual and physical timers (PPIs 27,
/// 30, the realm's timers while it runs), the PMU's overflow (PPI 23, the realm's PMU
/// while it runs), Group 1 on this CPU.
/// Also the kick SGI (VCPULoop.kickINTID).
func enableRealmInterrupts(cpu: Int) {
  let platform = realmInterruptPlatform
  if cpu == 0 { mmio_write32(platform.distributor, mmio_read32(platform.distributor) | 1 << 1) }
  let sgiBase = platform.redistributor + UInt64(cpu) * 0x2_0000 + 0x10000
  let ppis: UInt32 = 1 << 23 | 1 << 25 | 1 << 26 | 1 << 27 | 1 << 30 | 1 << UInt32(VCPULoop.kickINTID)
  mmio_write32(sgiBase + 0x080, mmio_read32(sgiBase + 0x080) | ppis)
  mmio_write32(sgiBase + 0x100, ppis)
  write_icc_pmr_el1(0xFF)
  write_icc_igrpen1_el1(1)
}

/// Whether the PMU's overflow interrupt (PPI 23) reaches `cpu`: held off while the
/// realm it runs has an overflow pending (the VMM gives the realm its virtual PPI).
nonisolated(unsafe) var physicalPMUInterruptMasked: InlineArray<2, Bool> = .init(repeating: false)
func setPhysicalPMUInterrupt(cpu: Int, enabled: Bool) {
  guard cpu < 2, physicalPMUInterruptMasked[cpu] == enabled else { return }
  physicalPMUInterruptMasked[cpu] = !enabled
  let sgiBase = realmInterruptPlatform.redistributor + UInt64(cpu) * 0x2_0000 + 0x10000
  mmio_write32(sgiBase + (enabled ? 0x100 : 0x180), 1 << UInt32(VirtualGIC.pmuINTID))  // ISENABLER0 / ICENABLER0
}
/// Whether the realm's device tree describes a PMU (the realm was created with one).
nonisolated(unsafe) var pmuInDeviceTree = false

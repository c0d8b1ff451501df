// The host-visible halves of RmiRecRun: `enter`, copied once from the host's run page
// and validated, and `exit`, built by the RMM and copied back. Only the fields the
// spec defines ever reach the host.

import RMMABI

/// RmiRecEnter, as copied.
public struct RECEnter: Sendable {
  public var flags: UInt64 = 0
  public var gprs: InlineArray<31, UInt64> = .init(repeating: 0)
  public var gicHCR: UInt64 = 0
  public var gicLRs: InlineArray<16, UInt64> = .init(repeating: 0)

  public init() {}

  /// From the single copy of the run page. The page is borrowed and read through a
  /// span: a 4 KiB value captured or passed generically would be copied per element.
  public init(copyOf page: borrowing PageBuffer) {
    let words = page.words.span
    flags = words[RecRunLayout.enterFlags / 8] & Self.knownFlags  // bits 63:5 SBZ, ignored (B4.4.15)
    gprs = InlineArray { i in words[RecRunLayout.enterGPRs / 8 + i] }
    gicHCR = words[RecRunLayout.enterGICv3HCR / 8]
    gicLRs = InlineArray { i in words[RecRunLayout.enterGICv3LRs / 8 + i] }
  }

  static let knownFlags = RecRunLayout.flagEmulatedMMIO | RecRunLayout.flagInjectSEA | RecRunLayout.flagTrapWFI
    | RecRunLayout.flagTrapWFE | RecRunLayout.flagRIPASResponseReject

  /// ICH_HCR_EL2 bits the host may set: UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE,
  /// VGrp1EIE, VGrp1DIE and TDIR. En is the RMM's.
  public static let hostGICHCRBits: UInt64 = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6)
    | (1 << 7) | (1 << 14)

  /// Whether the GIC part is acceptable with `listRegisters` implemented: no HCR bits
  /// outside the host's set, no hardware (HW = 1) list registers, no list registers
  /// beyond those implemented.
  public func gicIsValid(listRegisters: Int) -> Bool {
    guard gicHCR & ~Self.hostGICHCRBits == 0 else { return false }
    let lrs = gicLRs.span
    for i in 0..<16 {
      let lr = lrs[i]
      if i >= listRegisters { if lr != 0 { return false } else { continue } }
      if lr & (1 << 61) != 0 { return false }  // HW: a physical interrupt the host does not own
    }
    return true
  }
}

/// RmiRecExit, as built.
public struct RECExit: Sendable {
  public var reason: RecExitReason = .sync
  public var esr: UInt64 = 0
  public var far: UInt64 = 0
  public var hpfar: UInt64 = 0
  public var gprs: InlineArray<31, UInt64> = .init(repeating: 0)
  public var gicHCR: UInt64 = 0
  public var gicLRs: InlineArray<16, UInt64> = .init(repeating: 0)
  public var gicMISR: UInt64 = 0
  public var gicVMCR: UInt64 = 0
  public var cntpCTL: UInt64 = 0
  public var cntpCVAL: UInt64 = 0
  public var cntvCTL: UInt64 = 0
  public var cntvCVAL: UInt64 = 0
  public var ripasBase: UInt64 = 0
  public var ripasTop: UInt64 = 0
  public var ripasValue: UInt64 = 0
  public var imm: UInt64 = 0

  public init() {}

  /// The exit half of the run page (offsets relative to RecRunLayout.exit).
  public func store<Page: WritablePage>(to page: inout Page) {
    let base = RecRunLayout.exit
    func put(_ value: UInt64, _ absolute: Int) { page.store64(value, at: absolute - base) }
    put(UInt64(reason.rawValue), RecRunLayout.exitReason)
    put(esr, RecRunLayout.exitESR)
    put(far, RecRunLayout.exitFAR)
    put(hpfar, RecRunLayout.exitHPFAR)
    let registers = gprs.span
    for i in 0..<31 { put(registers[i], RecRunLayout.exitGPRs + 8 * i) }
    put(gicHCR, RecRunLayout.exitGICv3HCR)
    let lrs = gicLRs.span
    for i in 0..<16 { put(lrs[i], RecRunLayout.exitGICv3LRs + 8 * i) }
    put(gicMISR, RecRunLayout.exitGICv3MISR)
    put(gicVMCR, RecRunLayout.exitGICv3VMCR)
    put(cntpCTL, RecRunLayout.exitCNTPCTL)
    put(cntpCVAL, RecRunLayout.exitCNTPCVAL)
    put(cntvCTL, RecRunLayout.exitCNTVCTL)
    put(cntvCVAL, RecRunLayout.exitCNTVCVAL)
    put(ripasBase, RecRunLayout.exitRIPASBase)
    put(ripasTop, RecRunLayout.exitRIPASTop)
    put(ripasValue, RecRunLayout.exitRIPASValue)
    put(imm, RecRunLayout.exitImm)
  }
}

/// How the REC is to be entered (from the validated `enter` and the realm).
public struct RECEntryControl: Sendable {
  public var stage2: Stage2Config
  public var trapWFI: Bool
  public var trapWFE: Bool
  public var gicHCR: UInt64
  public var gicLRs: InlineArray<16, UInt64>
}

/// What ended a run, as the hardware reported it, plus the state the exit reports.
public struct RealmExitSyndrome: Sendable {
  public enum Kind: UInt8, Sendable { case sync = 8, irq = 9, fiq = 10, serror = 11 }
  public var kind: Kind
  public var esr: UInt64
  public var far: UInt64
  /// HPFAR_EL2 (IPA[51:12] in bits [43:4]).
  public var hpfar: UInt64
  public var gicHCR: UInt64
  public var gicLRs: InlineArray<16, UInt64>
  public var gicMISR: UInt64
  public var gicVMCR: UInt64
  public var cntvCTL: UInt64
  public var cntvCVAL: UInt64
  public var cntpCTL: UInt64
  public var cntpCVAL: UInt64

  public init(kind: Kind, esr: UInt64 = 0, far: UInt64 = 0, hpfar: UInt64 = 0) {
    self.kind = kind
    self.esr = esr
    self.far = far
    self.hpfar = hpfar
    gicHCR = 0
    gicLRs = .init(repeating: 0)
    gicMISR = 0
    gicVMCR = 0
    cntvCTL = 0
    cntvCVAL = 0
    cntpCTL = 0
    cntpCVAL = 0
  }

  /// The faulting IPA of a stage-2 abort (HPFAR gives the page, FAR the offset).
  public var faultIPA: UInt64 { ((hpfar >> 4) << 12) | (far & 0xFFF) }
}

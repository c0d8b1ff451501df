// The host-visible halves of RmiRecRun: `enter`, copied once from the host's run page
// and validated, and `exit`, built by the RMM and copied back. Only the fields the
// spec defines ever reach the host.

import RMMABI

/// RmiRecEnter, as copied: the one copy of the run page's `enter` fields (0x000 to
/// the end of the list registers), made straight from the host's page into this
/// value's storage; every check and every use reads this copy, never the page.
public struct RECEnter: ~Copyable, Sendable {
  /// Words 0x000..<0x388 of RmiRecRun.
  public static let copiedBytes = RecRunLayout.enterGICv3LRs + 16 * 8
  public var words: InlineArray<113, UInt64> = .init(repeating: 0)

  public init() {}

  // Reads go through a span: an InlineArray subscript that is not inlined (-Osize)
  // copies the whole array per element read.
  @inlinable @inline(__always) func word(_ offset: Int) -> UInt64 { words.span[offset / 8] }

  /// The flags the spec defines; bits 63:5 SBZ, ignored (B4.4.15).
  @inlinable public var flags: UInt64 { word(RecRunLayout.enterFlags) & Self.knownFlags }
  @inline(__always) public func gpr(_ n: Int) -> UInt64 { word(RecRunLayout.enterGPRs + 8 * n) }
  @inlinable public var gicHCR: UInt64 { word(RecRunLayout.enterGICv3HCR) }

  public static let knownFlags = RecRunLayout.flagEmulatedMMIO | RecRunLayout.flagInjectSEA | RecRunLayout.flagTrapWFI
    | RecRunLayout.flagTrapWFE | RecRunLayout.flagRIPASResponseReject

  /// ICH_HCR_EL2 bits the host may set: UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE,
  /// VGrp1EIE, VGrp1DIE and TDIR. En is the RMM's.
  public static let hostGICHCRBits: UInt64 = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6)
    | (1 << 7) | (1 << 14)

  /// Whether the GIC part is acceptable with `listRegisters` implemented: no HCR bits
  /// outside the host's set, no hardware (HW = 1) list registers, no list registers
  /// beyond those implemented.
  @inlinable public static func gicIsValid(_ lrs: Span<UInt64>, listRegisters: Int) -> Bool {
    guard lrs[RecRunLayout.enterGICv3HCR / 8] & ~Self.hostGICHCRBits == 0 else { return false }
    // Two branch-free reductions: the implemented LRs' HW bits (a physical interrupt
    // the host does not own), and everything in the LRs the CPU does not have.
    let first = RecRunLayout.enterGICv3LRs / 8, implemented = min(max(listRegisters, 0), 16)
    var hardware: UInt64 = 0, beyond: UInt64 = 0
    for i in 0..<implemented { hardware |= lrs[first + i] }
    for i in implemented..<16 { beyond |= lrs[first + i] }
    return hardware & (1 << 61) == 0 && beyond == 0
  }
}

/// RmiRecExit, built in place: the image of the exit half of the run page (2 KiB,
/// every field the spec does not set stays zero), written to the host once.
public struct RECExit: Sendable {
  public var words: InlineArray<256, UInt64> = .init(repeating: 0)

  public init() {}

  @inline(__always) func word(_ absolute: Int) -> UInt64 { words.span[(absolute - RecRunLayout.exit) / 8] }
  @inline(__always) mutating func set(_ absolute: Int, _ value: UInt64) { words[(absolute - RecRunLayout.exit) / 8] = value }

  public var reason: RecExitReason {
    get { RecExitReason(rawValue: UInt8(truncatingIfNeeded: word(RecRunLayout.exitReason))) ?? .sync }
    set { set(RecRunLayout.exitReason, UInt64(newValue.rawValue)) }
  }
  public var esr: UInt64 { get { word(RecRunLayout.exitESR) } set { set(RecRunLayout.exitESR, newValue) } }
  public var far: UInt64 { get { word(RecRunLayout.exitFAR) } set { set(RecRunLayout.exitFAR, newValue) } }
  public var hpfar: UInt64 { get { word(RecRunLayout.exitHPFAR) } set { set(RecRunLayout.exitHPFAR, newValue) } }
  @inline(__always) public func gpr(_ n: Int) -> UInt64 { word(RecRunLayout.exitGPRs + 8 * n) }
  @inline(__always) public mutating func setGPR(_ n: Int, _ value: UInt64) { set(RecRunLayout.exitGPRs + 8 * n, value) }
  public var gicHCR: UInt64 { get { word(RecRunLayout.exitGICv3HCR) } set { set(RecRunLayout.exitGICv3HCR, newValue) } }
  @inline(__always) public mutating func setGICLR(_ n: Int, _ value: UInt64) { set(RecRunLayout.exitGICv3LRs + 8 * n, value) }
  public var gicMISR: UInt64 { get { word(RecRunLayout.exitGICv3MISR) } set { set(RecRunLayout.exitGICv3MISR, newValue) } }
  public var gicVMCR: UInt64 { get { word(RecRunLayout.exitGICv3VMCR) } set { set(RecRunLayout.exitGICv3VMCR, newValue) } }
  public var cntpCTL: UInt64 { get { word(RecRunLayout.exitCNTPCTL) } set { set(RecRunLayout.exitCNTPCTL, newValue) } }
  public var cntpCVAL: UInt64 { get { word(RecRunLayout.exitCNTPCVAL) } set { set(RecRunLayout.exitCNTPCVAL, newValue) } }
  public var cntvCTL: UInt64 { get { word(RecRunLayout.exitCNTVCTL) } set { set(RecRunLayout.exitCNTVCTL, newValue) } }
  public var cntvCVAL: UInt64 { get { word(RecRunLayout.exitCNTVCVAL) } set { set(RecRunLayout.exitCNTVCVAL, newValue) } }
  /// RmiPmuOverflowStatus: 1 (ACTIVE) if the realm's PMU had an overflow interrupt
  /// pending at the exit, 0 otherwise (A8.1).
  public var pmuOverflowStatus: UInt64 {
    get { word(RecRunLayout.exitPMUOverflow) } set { set(RecRunLayout.exitPMUOverflow, newValue) }
  }
  public var ripasBase: UInt64 { get { word(RecRunLayout.exitRIPASBase) } set { set(RecRunLayout.exitRIPASBase, newValue) } }
  public var ripasTop: UInt64 { get { word(RecRunLayout.exitRIPASTop) } set { set(RecRunLayout.exitRIPASTop, newValue) } }
  public var ripasValue: UInt64 { get { word(RecRunLayout.exitRIPASValue) } set { set(RecRunLayout.exitRIPASValue, newValue) } }
  public var imm: UInt64 { get { word(RecRunLayout.exitImm) } set { set(RecRunLayout.exitImm, newValue) } }

  /// The 31 gprs of the record as bytes, for one copy from the realm's RsiHostCall.
  public mutating func withGPRBytes(_ body: (UnsafeMutableRawBufferPointer) -> Void) {
    withUnsafeMutableBytes(of: &words) { raw in
      let start = RecRunLayout.exitGPRs - RecRunLayout.exit
      body(UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + 31 * 8)]))
    }
  }

  /// Back to an all-zero record (an exit replaced by another), without a new value.
  public mutating func clear() {
    for i in 0..<256 { words[i] = 0 }
  }
}

/// How the REC is to be entered (from the validated `enter` and the realm).
public struct RECEntryControl: Sendable {
  public var stage2: Stage2Config
  public var trapWFI: Bool
  public var trapWFE: Bool
  public var gicHCR: UInt64
  public var gicLRs: InlineArray<16, UInt64>
  /// The realm's PMU event counters (MDCR_EL2.HPMN) if it has a PMU, else nil: its PMU
  /// state (RECLayout.pmuState) is switched with the host's at entry and exit.
  public var pmuCounters: UInt64?
}

/// The REC's SVE registers while their aux granules are mapped (REC_ENTER of an SVE
/// realm, through the gate with purpose `recSVEState`): Z0-Z31, P0-P15 and FFR at the
/// realm's vector length, in the layout of boot/fp_switch.S.
public struct SVERegisterArea {
  /// The realm's ZCR_EL2.LEN (its vector length is (LEN + 1) x 128 bits).
  public let vectorLength: UInt64
  let window: UnsafeMutableRawBufferPointer

  init(vectorLength: UInt64, window: UnsafeMutableRawBufferPointer) {
    precondition(window.count >= RealmFeatures.sveStateBytes(vectorLength: vectorLength))
    self.vectorLength = vectorLength
    self.window = window
  }

  /// Where the save and restore routines read and write: the window holds the whole
  /// state at this vector length (checked when the area was made).
  public var registers: UnsafeMutableRawPointer { window.baseAddress! }
}

/// What ended a run, as the hardware reported it (the state the exit also reports,
/// GIC and timers, goes from the CPU straight into the exit record at save).
public struct RealmExitSyndrome: Sendable {
  public enum Kind: UInt8, Sendable { case sync = 8, irq = 9, fiq = 10, serror = 11 }
  public var kind: Kind
  public var esr: UInt64
  public var far: UInt64
  /// HPFAR_EL2 (IPA[51:12] in bits [43:4]).
  public var hpfar: UInt64

  public init(kind: Kind, esr: UInt64 = 0, far: UInt64 = 0, hpfar: UInt64 = 0) {
    self.kind = kind
    self.esr = esr
    self.far = far
    self.hpfar = hpfar
  }

  /// The faulting IPA of a stage-2 abort (HPFAR gives the page, FAR the offset).
  public var faultIPA: UInt64 { ((hpfar >> 4) << 12) | (far & 0xFFF) }
}

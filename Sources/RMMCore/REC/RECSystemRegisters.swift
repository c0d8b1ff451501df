// The EL1 system registers a REC owns, in the order boot/rec_switch.S saves and
// restores them (one 64-bit slot each at RECLayout.el1), and their reset values.

public enum RECSystemRegisters {
  public static let sctlr = 0, tcr = 1, ttbr0 = 2, ttbr1 = 3, mair = 4, amair = 5, vbar = 6
  public static let contextidr = 7, tpidrEL1 = 8, tpidrEL0 = 9, tpidrroEL0 = 10, spEL1 = 11
  public static let elrEL1 = 12, spsrEL1 = 13, esrEL1 = 14, farEL1 = 15, afsr0 = 16, afsr1 = 17
  public static let par = 18, cpacr = 19, cntkctl = 20, csselr = 21, mdscr = 22, vmpidrSlot = 23
  /// Pointer authentication keys (where the CPU has them): APIA, APIB, APDA, APDB
  /// (low, high), APGA.
  public static let apiaKeyLo = 24, apgaKeyHi = 33
  public static let count = 34

  /// Timer registers at RECLayout.timers.
  public static let cntvCTL = 0, cntvCVAL = 1, cntpCTL = 2, cntpCVAL = 3

  /// Whether an EL1 timer with this CNTx_CTL_EL0 asserts its output: enabled, its
  /// condition met and not masked by the realm.
  @inline(__always)
  public static func timerAsserted(_ ctl: UInt64) -> Bool { ctl & 0b111 == 0b101 }

  /// CNTHCTL_EL2.CNTVMASK and CNTPMASK (FEAT_RME): hold the EL1 timer's signal away
  /// from the interrupt controller.
  public static let cnthctlVirtualMask: UInt64 = 1 << 18
  public static let cnthctlPhysicalMask: UInt64 = 1 << 19

  /// The timer masks for a REC entry (A6.2): a timer that asserted its output in the
  /// state the previous exit reported is masked, so that its physical interrupt,
  /// which the host has seen and virtualises, does not stop the realm from running.
  /// The mask goes at the next entry after the realm has moved the timer on.
  public static func entryTimerMasks(cntvCTL: UInt64, cntpCTL: UInt64) -> UInt64 {
    (timerAsserted(cntvCTL) ? cnthctlVirtualMask : 0) | (timerAsserted(cntpCTL) ? cnthctlPhysicalMask : 0)
  }

  /// EL1h, AArch64, D/A/I/F masked: how a REC starts (RMM specification).
  public static let initialPSTATE: UInt64 = 0x3C5
  /// SCTLR_EL1 with only its RES1 bits set: MMU and caches off.
  public static let sctlrReset: UInt64 = 0x30D0_0800

  public static func initialise<Page: WritablePage>(_ page: inout Page, vmpidr: UInt64) {
    for i in 0..<count { page.store64(0, at: RECLayout.el1 + 8 * i) }
    page.store64(sctlrReset, at: RECLayout.el1 + 8 * sctlr)
    page.store64(vmpidr, at: RECLayout.el1 + 8 * vmpidrSlot)
  }
}

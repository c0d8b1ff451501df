// The architectural fields of ESR_EL2 the RMM looks at, and the sanitised syndromes
// it reports in RmiRecExit.esr (DEN0137 A4.3.4, A4.3.9): only the fields the spec lists
// for each kind of exit. Everything else of ESR_EL2 stays in the RMM.

/// ESR_ELx fields (Arm ARM D24.2.40).
public enum ESR {
  public static let ec: UInt64 = 0x3F << 26
  public static let il: UInt64 = 1 << 25
  public static let isv: UInt64 = 1 << 24
  public static let sas: UInt64 = 0x3 << 22
  public static let sse: UInt64 = 1 << 21
  public static let sf: UInt64 = 1 << 15
  public static let set: UInt64 = 0x3 << 11
  public static let fnv: UInt64 = 1 << 10
  public static let ea: UInt64 = 1 << 9
  public static let wnr: UInt64 = 1 << 6
  public static let fsc: UInt64 = 0x3F
}

public enum SanitisedSyndrome {
  /// SError: EC, IDS, AET, EA and DFSC (A4.3.9). With IDS set the rest of the
  /// syndrome is IMPLEMENTATION DEFINED and may carry anything, so only EC and IDS go.
  public static func serror(_ esr: UInt64) -> UInt64 {
    let ids: UInt64 = 1 << 24
    if esr & ids != 0 { return esr & (ESR.ec | ids) }
    let aet: UInt64 = 0x7 << 10
    return esr & (ESR.ec | aet | ESR.ea | ESR.fsc)
  }

  /// Data abort (A4.3.4.3): EC, SET, FnV, EA, DFSC; plus ISV, SAS, SF, WnR when it is
  /// emulatable; plus IL when it is a non-emulatable abort at an unprotected IPA.
  public static func dataAbort(_ esr: UInt64, emulatable: Bool, unprotected: Bool) -> UInt64 {
    var kept = ESR.ec | ESR.set | ESR.fnv | ESR.ea | ESR.fsc
    if emulatable { kept |= ESR.isv | ESR.sas | ESR.sf | ESR.wnr } else if unprotected { kept |= ESR.il }
    return esr & kept
  }

  /// Instruction abort (A4.3.4.2): EC, SET, EA, IFSC.
  public static func instructionAbort(_ esr: UInt64) -> UInt64 {
    esr & (ESR.ec | ESR.set | ESR.ea | ESR.fsc)
  }

  /// A trapped write to a GIC CPU interface register the host emulates (ICC_SGI1R,
  /// ICC_ASGI1R, ICC_SGI0R, ICC_DIR): EC, IL, the register's encoding and the
  /// direction; Rt reads as 0, because the value travels in exit.gprs[0].
  public static func systemRegisterWrite(_ esr: UInt64) -> UInt64 {
    let rt: UInt64 = 0x1F << 5
    return esr & (ESR.ec | ESR.il | 0x1FFFFFF) & ~rt
  }

  /// WFI/WFE (A4.3.4.1): EC and TI (TI is ISS[1:0] with FEAT_WFxT).
  public static func wfx(_ esr: UInt64) -> UInt64 { esr & (ESR.ec | 0x3) }
}

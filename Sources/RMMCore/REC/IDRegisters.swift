// What a realm sees of the CPU's ID registers. HCR_EL2.TID3 traps every read of the
// ID group 3 space (op0 3, op1 0, CRn 0, CRm 1-7) to the RMM, which answers with the
// hardware value filtered through an allow-list: a realm sees a feature only if the
// RMM context-switches its state or it has none, and only what REALM_CREATE asked
// for (breakpoints, watchpoints, SVE, PMU; never SME, MTE, SPE, TRBE, BRBE, AMU or
// MPAM in this RMM). A feature that is hidden here is also trapped (CPTR_EL2, MDCR_EL2,
// HCR_EL2), so using it anyway gives the realm an Undefined exception.

/// The AArch64 ID registers of this CPU, read once at boot.
public struct HardwareIDRegisters: Sendable, Equatable {
  public var pfr0: UInt64 = 0, pfr1: UInt64 = 0
  public var dfr0: UInt64 = 0
  public var isar0: UInt64 = 0, isar1: UInt64 = 0, isar2: UInt64 = 0
  public var mmfr0: UInt64 = 0, mmfr1: UInt64 = 0, mmfr2: UInt64 = 0
  /// ID_AA64ZFR0_EL1 (SVE features; 0 without SVE).
  public var zfr0: UInt64 = 0
  public init() {}
}

/// What a realm was created with that its ID registers, its REC's controls and its
/// REC's aux granules reflect.
public struct RealmFeatures: Sendable, Equatable {
  public var breakpoints: UInt64 = 0
  public var watchpoints: UInt64 = 0
  /// ZCR_ELx.LEN of the realm's SVE vector length ((LEN + 1) x 128 bits); nil: no SVE.
  public var sveVectorLength: UInt64? = nil
  /// Event counters of the realm's PMU (MDCR_EL2.HPMN); nil: no PMU.
  public var pmuCounters: UInt64? = nil
  public init(breakpoints: UInt64 = 0, watchpoints: UInt64 = 0, sveVectorLength: UInt64? = nil,
              pmuCounters: UInt64? = nil) {
    self.breakpoints = breakpoints
    self.watchpoints = watchpoints
    self.sveVectorLength = sveVectorLength
    self.pmuCounters = pmuCounters
  }

  /// Bytes of the SVE registers at vector length LEN: Z0-Z31 of VL bytes each, then
  /// P0-P15 and FFR of VL/8 bytes each (the order of boot/fp_switch.S).
  @inlinable public static func sveStateBytes(vectorLength len: UInt64) -> Int {
    let vectorBytes = Int(len + 1) * 16
    return 32 * vectorBytes + 17 * (vectorBytes / 8)
  }

  /// Aux granules that hold the SVE registers (after the attestation workspace).
  @inlinable public var sveAuxGranules: Int {
    guard let len = sveVectorLength else { return 0 }
    return (Self.sveStateBytes(vectorLength: len) + 4095) / 4096
  }

  /// RMI_REC_AUX_COUNT for this realm: the attestation workspace, then the SVE registers.
  @inlinable public var recAuxCount: Int { attestationAuxGranules + sveAuxGranules }
}

public enum IDRegisterView {
  /// A 4-bit ID field at `shift`.
  @inline(__always) static func field(_ shift: Int) -> UInt64 { 0xF << UInt64(shift) }

  /// Fields kept from the hardware value, per register.
  // ID_AA64PFR0_EL1: EL0, EL1 (forced to AArch64 only below), EL2, EL3, FP, AdvSIMD,
  // GIC, DIT, CSV2, CSV3; SVE only for a realm created with it. Hidden: RAS (VDISR is
  // not switched), SEL2, MPAM, AMU, RME.
  static let pfr0Kept = field(8) | field(12) | field(16) | field(20) | field(24) | field(48) | field(56) | field(60)
  // ID_AA64PFR1_EL1: BT, SSBS, CSV2_frac. Hidden: MTE, RAS_frac, MPAM_frac, SME,
  // RNDR_trap, NMI, MTE_frac, GCS, THE, MTEX, DF2, PFAR.
  static let pfr1Kept = field(0) | field(4) | field(32)
  // ID_AA64DFR0_EL1: DebugVer and DoubleLock; BRPs, WRPs and CTX_CMPs from the realm;
  // PMUVer only for a realm created with a PMU.
  static let dfr0Kept = field(0) | field(36)
  // ID_AA64ISAR1_EL1 hides LS64 (its EL1 use is enabled in HCRX_EL2, which realms
  // do not get).
  static let isar1Hidden = field(60)
  // ID_AA64ISAR2_EL1 hides MOPS (UNDEFINED at EL1 unless HCRX_EL2.MSCEn) and the
  // 128-bit system registers and instructions (their EL2 enables are not set).
  static let isar2Hidden = field(16) | field(32) | field(36)
  // ID_AA64MMFR1_EL1 hides VH, LO, TWED, HCX (EL2 features or state not switched).
  static let mmfr1Hidden = field(8) | field(16) | field(32) | field(40)
  // ID_AA64MMFR2_EL1 hides NV (no EL2 in a realm).
  static let mmfr2Hidden = field(24)
  // ID_AA64MMFR0_EL1 hides FGT (EL2).
  static let mmfr0Hidden = field(56)

  /// The value a realm reads from the ID register at (op0, op1, CRn, CRm, op2), or nil
  /// if the encoding is not in the ID group 3 space.
  public static func realmValue(_ encoding: SystemRegisterEncoding, hardware: borrowing HardwareIDRegisters,
                                realm: RealmFeatures) -> UInt64? {
    guard encoding.isIDGroup3 else { return nil }
    switch (encoding.crm, encoding.op2) {
    case (4, 0):  // ID_AA64PFR0_EL1; EL0 and EL1: AArch64 only; SVE if the realm has it
      let sve = realm.sveVectorLength != nil ? hardware.pfr0 & field(32) : 0
      return hardware.pfr0 & pfr0Kept | sve | 1 << 4 | 1 << 0
    case (4, 1):
      return hardware.pfr1 & pfr1Kept
    case (4, 4):  // ID_AA64ZFR0_EL1: the SVE features, for a realm with SVE
      return realm.sveVectorLength != nil ? hardware.zfr0 : 0
    case (5, 0):  // ID_AA64DFR0_EL1
      let bps = realm.breakpoints &- 1, wps = realm.watchpoints &- 1
      let contextAware = min((hardware.dfr0 >> 28) & 0xF, bps)
      let pmu = realm.pmuCounters != nil ? hardware.dfr0 & field(8) : 0  // PMUVer, for a realm with a PMU
      return hardware.dfr0 & dfr0Kept | pmu | (bps & 0xF) << 12 | (wps & 0xF) << 20 | contextAware << 28
    case (6, 0): return hardware.isar0
    case (6, 1): return hardware.isar1 & ~isar1Hidden
    case (6, 2): return hardware.isar2 & ~isar2Hidden
    case (7, 0): return hardware.mmfr0 & ~mmfr0Hidden
    case (7, 1): return hardware.mmfr1 & ~mmfr1Hidden
    case (7, 2): return hardware.mmfr2 & ~mmfr2Hidden
    // Everything else reads as zero: SMFR0 (no SME), DFR1, AFR0/1,
    // PFR2, FPFR0, ISAR3, MMFR3/4 (TCR2, SCTLR2, permission indirection and overlays,
    // MAIR2 are not switched), the AArch32 registers (no AArch32 at any EL) and the
    // unallocated encodings of the space.
    default: return 0
    }
  }
}

/// The operands of a trapped MSR/MRS (ESR_EL2.EC 0x18).
public struct SystemRegisterEncoding: Sendable, Equatable {
  public var op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8

  public init(op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8) {
    self.op0 = op0; self.op1 = op1; self.crn = crn; self.crm = crm; self.op2 = op2
  }

  /// From the ISS of a trapped MSR/MRS.
  public init(iss esr: UInt64) {
    op0 = UInt8((esr >> 20) & 0x3)
    op2 = UInt8((esr >> 17) & 0x7)
    op1 = UInt8((esr >> 14) & 0x7)
    crn = UInt8((esr >> 10) & 0xF)
    crm = UInt8((esr >> 1) & 0xF)
  }

  public var isIDGroup3: Bool { op0 == 3 && op1 == 0 && crn == 0 && crm >= 1 && crm <= 7 }

  /// The self-hosted debug registers MDCR_EL2.TDA/TDOSA/TDRA trap: op0 2 with op1 0
  /// (DBGB*, DBGW*, MDSCR_EL1, MDCCINT_EL1, OSLAR_EL1, OS lock and claim registers...)
  /// and MDRAR_EL1.
  public var isSelfHostedDebug: Bool { op0 == 2 && op1 == 0 }

  /// ICC_DIR_EL1 (op2 1, trapped only when the host sets ICH_HCR_EL2.TDIR),
  /// ICC_SGI1R_EL1 (5), ICC_ASGI1R_EL1 (6), ICC_SGI0R_EL1 (7): op0 3, op1 0, CRn 12,
  /// CRm 11. Trapped by HCR_EL2.IMO/FMO; the host's virtual GIC emulates them.
  public var isHostEmulatedGICRegister: Bool {
    op0 == 3 && op1 == 0 && crn == 12 && crm == 11 && (op2 == 1 || op2 >= 5)
  }
}

/// What the RMM does with a trapped MSR/MRS.
public enum SystemRegisterTrapAction: Equatable, Sendable {
  /// A read that returns this value (written to Rt), then past the instruction.
  case read(UInt64)
  /// A write that is ignored, then past the instruction.
  case ignoreWrite
  /// An Undefined exception at the instruction.
  case undefined
  /// A write the host completes (REC exit with the value in exit.gprs[0]); the RMM
  /// moves the realm past the instruction.
  case exitToHost
}

public enum SystemRegisterTraps {
  /// ID registers are read-only; writes to the GIC CPU interface registers that
  /// signal other CPUs or deactivate across RECs (ICC_SGI1R, ICC_ASGI1R, ICC_SGI0R,
  /// ICC_DIR) go to the host, which owns the virtual distributor; self-hosted debug reads as zero and ignores writes
  /// (breakpoints and watchpoints are reported as the realm asked, but this RMM does
  /// not yet switch their state, so none of the host's reaches the realm or back);
  /// everything else trapped (PMU, AMU, SPE, TRBE, trace, MTE, implementation
  /// defined registers) is Undefined.
  public static func action(esr: UInt64, hardware: borrowing HardwareIDRegisters,
                            realm: RealmFeatures) -> SystemRegisterTrapAction {
    let encoding = SystemRegisterEncoding(iss: esr)
    let isRead = esr & 1 != 0
    if encoding.isHostEmulatedGICRegister { return isRead ? .undefined : .exitToHost }
    if let value = IDRegisterView.realmValue(encoding, hardware: hardware, realm: realm) {
      return isRead ? .read(value) : .undefined
    }
    if encoding.isSelfHostedDebug { return isRead ? .read(0) : .ignoreWrite }
    return .undefined
  }
}

// The SMC function identifiers this RMM speaks or calls, defined once for the RMM,
// the test payloads and the tests. SMCCC: SMC64, fast call, standard secure service
// (OEN 4) => 0xC400_0000 | function number. Sources: DEN0137 1.0-rel0 (RMI/RSI),
// TF-A 2.12.1 include/services/rmmd_svc.h (RMM-EL3 interface), DEN0022 (PSCI).

/// Bit 16 of an SMCCC FID: the caller's "no live SVE state" hint. The RMM ignores it.
public let smcSVEHintBit: UInt64 = 1 << 16

/// SMCCC `NOT_SUPPORTED` / `SMC_UNKNOWN`: the answer to an unknown function ID.
public let smcUnknown: UInt64 = 0xFFFF_FFFF_FFFF_FFFF

/// RMI commands (host -> RMM), RMM specification 1.0-rel0.
public enum RMICommand: UInt64, Sendable {
  case version = 0xC400_0150
  case granuleDelegate = 0xC400_0151
  case granuleUndelegate = 0xC400_0152
  case dataCreate = 0xC400_0153
  case dataCreateUnknown = 0xC400_0154
  case dataDestroy = 0xC400_0155
  case realmActivate = 0xC400_0157
  case realmCreate = 0xC400_0158
  case realmDestroy = 0xC400_0159
  case recCreate = 0xC400_015A
  case recDestroy = 0xC400_015B
  case recEnter = 0xC400_015C
  case rttCreate = 0xC400_015D
  case rttDestroy = 0xC400_015E
  case rttMapUnprotected = 0xC400_015F
  case rttReadEntry = 0xC400_0161
  case rttUnmapUnprotected = 0xC400_0162
  case psciComplete = 0xC400_0164
  case features = 0xC400_0165
  case rttFold = 0xC400_0166
  case recAuxCount = 0xC400_0167
  case rttInitRIPAS = 0xC400_0168
  case rttSetRIPAS = 0xC400_0169

  /// The RMI function-number range EL3 forwards to the RMM (0x150-0x18F).
  public static let forwardedRange: ClosedRange<UInt64> = 0xC400_0150...0xC400_018F

  /// Whether x1 of this FID is the realm's RD (for attributing work to a realm).
  public static func takesRealmFirst(_ fid: UInt64) -> Bool {
    switch RMICommand(rawValue: fid & ~smcSVEHintBit) {
    case .dataCreate?, .dataCreateUnknown?, .dataDestroy?, .realmActivate?, .realmCreate?, .realmDestroy?,
         .recCreate?, .rttCreate?, .rttDestroy?, .rttMapUnprotected?, .rttReadEntry?, .rttUnmapUnprotected?,
         .rttFold?, .recAuxCount?, .rttInitRIPAS?, .rttSetRIPAS?:
      return true
    default:
      return false
    }
  }

  /// Number of argument registers (x1...) the command takes.
  public var argumentCount: Int {
    switch self {
    case .version, .granuleDelegate, .granuleUndelegate, .realmActivate, .realmDestroy,
         .recDestroy, .features, .recAuxCount:
      return 1
    case .dataDestroy, .realmCreate, .recEnter:
      return 2
    case .dataCreateUnknown, .recCreate, .rttDestroy, .rttReadEntry, .rttUnmapUnprotected,
         .psciComplete, .rttFold, .rttInitRIPAS:
      return 3
    case .rttCreate, .rttMapUnprotected, .rttSetRIPAS:
      return 4
    case .dataCreate:
      return 5
    }
  }

  /// Number of result registers beyond the status in x0.
  public var resultCount: Int {
    switch self {
    case .version, .dataDestroy, .rttDestroy: return 2
    case .rttReadEntry: return 4
    case .features, .rttUnmapUnprotected, .rttFold, .recAuxCount, .rttInitRIPAS, .rttSetRIPAS:
      return 1
    default: return 0
    }
  }
}

/// RSI commands (realm -> RMM), RMM specification 1.0-rel0.
public enum RSICommand: UInt64, Sendable {
  case version = 0xC400_0190
  case features = 0xC400_0191
  case measurementRead = 0xC400_0192
  case measurementExtend = 0xC400_0193
  case attestTokenInit = 0xC400_0194
  case attestTokenContinue = 0xC400_0195
  case realmConfig = 0xC400_0196
  case ipaStateSet = 0xC400_0197
  case ipaStateGet = 0xC400_0198
  case hostCall = 0xC400_0199
}

/// Calls from the RMM to EL3 (TF-A RMMD), RMM-EL3 interface 0.4 (TF-A 2.12.1).
public enum EL3Call: UInt64, Sendable {
  /// Ends an RMI call: x1..x5 become the host's x0..x4. Never returns to the caller.
  case rmiRequestComplete = 0xC400_018F
  case gtsiDelegate = 0xC400_01B0
  case gtsiUndelegate = 0xC400_01B1
  case attestGetRealmKey = 0xC400_01B2
  case attestGetPlatformToken = 0xC400_01B3
  case el3Features = 0xC400_01B4
  case bootComplete = 0xC400_01CF
}

/// Status codes EL3 returns to the RMM (`E_RMM_*`).
public enum EL3Status: Int64, Sendable {
  case ok = 0
  case unknown = -1
  case badAddress = -2
  case badPAS = -3
  case noMemory = -4
  case invalid = -5
  case again = -6
}

/// `RMM_BOOT_COMPLETE` status codes (x1, signed).
public enum BootStatus: Int64, Error, Sendable {
  case success = 0
  case unknown = -1
  case versionNotValid = -2
  case cpusOutOfRange = -3
  case cpuIDOutOfRange = -4
  case invalidSharedBuffer = -5
  case manifestVersionNotSupported = -6
  case manifestDataError = -7
}

/// PSCI function IDs (DEN0022). SMC32 forms; the SMC64 form is `| 0x4000_0000`.
public enum PSCIFunction: UInt64, Sendable {
  case version = 0x8400_0000
  case cpuSuspend = 0x8400_0001
  case cpuOff = 0x8400_0002
  case cpuOn = 0x8400_0003
  case affinityInfo = 0x8400_0004
  case systemOff = 0x8400_0008
  case systemReset = 0x8400_0009
  case features = 0x8400_000A

  public static let smc64Bit: UInt64 = 0x4000_0000
  public var smc64: UInt64 { rawValue | Self.smc64Bit }
}

/// SMCCC architecture calls.
public enum SMCCCFunction: UInt64, Sendable {
  case version = 0x8000_0000
}

#if !hasFeature(Embedded)
// All cases, for the host tests (CaseIterable allocates, so the firmware does without).
extension RMICommand: CaseIterable {}
#endif

#if !hasFeature(Embedded)
// All cases, for the host tests (CaseIterable allocates, so the firmware does without).
extension RSICommand: CaseIterable {}
#endif

#if !hasFeature(Embedded)
// All cases, for the host tools (the audit analyser names every FID it knows).
extension PSCIFunction: CaseIterable {}
#endif

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

  /// The command's register ABI (DEN0137 B4.3), the one description that decoding,
  /// result packing, x4 preservation, the failure `top` and the audit note all use.
  @inline(__always) public var abi: RMICommandABI {
    switch self {
    //                                          args results top  RD first
    case .version:             return RMICommandABI(1, 2, .none, realmFirst: false)
    case .features:            return RMICommandABI(1, 1, .none, realmFirst: false)
    case .granuleDelegate:     return RMICommandABI(1, 0, .none, realmFirst: false)
    case .granuleUndelegate:   return RMICommandABI(1, 0, .none, realmFirst: false)
    case .dataCreate:          return RMICommandABI(5, 0, .none, realmFirst: true)
    case .dataCreateUnknown:   return RMICommandABI(3, 0, .none, realmFirst: true)
    case .dataDestroy:         return RMICommandABI(2, 2, .x2, realmFirst: true)
    case .realmActivate:       return RMICommandABI(1, 0, .none, realmFirst: true)
    case .realmCreate:         return RMICommandABI(2, 0, .none, realmFirst: true)
    case .realmDestroy:        return RMICommandABI(1, 0, .none, realmFirst: true)
    case .recAuxCount:         return RMICommandABI(1, 1, .none, realmFirst: true)
    case .recCreate:           return RMICommandABI(3, 0, .none, realmFirst: true)
    case .recDestroy:          return RMICommandABI(1, 0, .none, realmFirst: false)
    case .recEnter:            return RMICommandABI(2, 0, .none, realmFirst: false)
    case .rttCreate:           return RMICommandABI(4, 0, .none, realmFirst: true)
    case .rttDestroy:          return RMICommandABI(3, 2, .x2, realmFirst: true)
    case .rttFold:             return RMICommandABI(3, 1, .none, realmFirst: true)
    case .rttInitRIPAS:        return RMICommandABI(3, 1, .none, realmFirst: true)
    case .rttMapUnprotected:   return RMICommandABI(4, 0, .none, realmFirst: true)
    case .rttReadEntry:        return RMICommandABI(3, 4, .none, realmFirst: true)
    case .rttSetRIPAS:         return RMICommandABI(4, 1, .none, realmFirst: true)
    case .rttUnmapUnprotected: return RMICommandABI(3, 1, .x1, realmFirst: true)
    case .psciComplete:        return RMICommandABI(3, 0, .none, realmFirst: false)
    }
  }

  /// Whether x1 of this FID is the realm's RD (for attributing work to a realm).
  public static func takesRealmFirst(_ fid: UInt64) -> Bool {
    RMICommand(rawValue: fid & ~smcSVEHintBit)?.abi.realmFirst ?? false
  }

  /// Number of argument registers (x1...) the command takes.
  public var argumentCount: Int { Int(abi.arguments) }

  /// Number of result registers beyond the status in x0.
  public var resultCount: Int { Int(abi.results) }
}

/// One RMI command's registers: how many arguments (x1...) and results (x1... beside
/// the status in x0), which result register carries `top` when the command fails
/// with one (DATA_DESTROY, RTT_DESTROY: x2; RTT_UNMAP_UNPROTECTED: x1), and whether
/// x1 names the realm's RD.
public struct RMICommandABI: Sendable, Equatable {
  public enum TopRegister: UInt8, Sendable { case none = 0, x1 = 1, x2 = 2 }
  public let arguments: UInt8
  public let results: UInt8
  public let topOnFailure: TopRegister
  public let realmFirst: Bool
  @inline(__always) public init(_ arguments: UInt8, _ results: UInt8, _ top: TopRegister, realmFirst: Bool) {
    self.arguments = arguments
    self.results = results
    self.topOnFailure = top
    self.realmFirst = realmFirst
  }
  /// x4 is callee-saved (SMCCC) unless it carries a result.
  @inline(__always) public var preservesX4: Bool { results < 4 }
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

// Structures the host passes to the RMM for realm and REC creation, and the REC run
// page (RMM specification 1.0-rel0). Byte offsets into one 4 KiB page.

/// RmiRealmParams (RMI_REALM_CREATE).
public enum RealmParamsLayout {
  public static let flags = 0x000         // b0 LPA2, b1 SVE, b2 PMU
  public static let s2sz = 0x008          // u8
  public static let sveVectorLength = 0x010  // u8
  public static let numberOfBreakpoints = 0x018  // u8
  public static let numberOfWatchpoints = 0x020  // u8
  public static let pmuCounters = 0x028   // u8
  public static let hashAlgorithm = 0x030 // u8
  public static let personalizationValue = 0x400  // 64 bytes
  public static let vmid = 0x800          // u16
  public static let rttBase = 0x808       // PA
  public static let rttLevelStart = 0x810 // s64
  public static let rttNumStart = 0x818   // u32

  public static let flagLPA2: UInt64 = 1 << 0
  public static let flagSVE: UInt64 = 1 << 1
  public static let flagPMU: UInt64 = 1 << 2
}

/// RmiRecParams (RMI_REC_CREATE).
public enum RecParamsLayout {
  public static let flags = 0x000         // b0 RUNNABLE
  public static let mpidr = 0x100
  public static let pc = 0x200
  public static let gprs = 0x300          // x0..x7
  public static let gprCount = 8
  public static let numberOfAux = 0x800
  public static let aux = 0x808           // up to 16 PAs
  public static let maxAux = 16

  public static let flagRunnable: UInt64 = 1 << 0
}

/// RmiRecRun: the host-owned page of REC_ENTER. `enter` at 0x000, `exit` at 0x800.
public enum RecRunLayout {
  public static let enterFlags = 0x000
  public static let enterGPRs = 0x200     // x0..x30
  public static let enterGICv3HCR = 0x300
  public static let enterGICv3LRs = 0x308 // 16 list registers

  public static let exit = 0x800
  public static let exitReason = 0x800
  public static let exitESR = 0x900
  public static let exitFAR = 0x908
  public static let exitHPFAR = 0x910
  public static let exitGPRs = 0xA00
  public static let exitGICv3HCR = 0xB00
  public static let exitGICv3LRs = 0xB08
  public static let exitGICv3MISR = 0xB88
  public static let exitGICv3VMCR = 0xB90
  public static let exitCNTPCTL = 0xC00
  public static let exitCNTPCVAL = 0xC08
  public static let exitCNTVCTL = 0xC10
  public static let exitCNTVCVAL = 0xC18
  public static let exitRIPASBase = 0xD00
  public static let exitRIPASTop = 0xD08
  public static let exitRIPASValue = 0xD10
  public static let exitImm = 0xE00
  public static let exitPMUOverflow = 0xF00

  public static let gprCount = 31
  public static let listRegisterCount = 16

  /// RmiRecEnterFlags.
  public static let flagEmulatedMMIO: UInt64 = 1 << 0
  public static let flagInjectSEA: UInt64 = 1 << 1
  public static let flagTrapWFI: UInt64 = 1 << 2
  public static let flagTrapWFE: UInt64 = 1 << 3
  public static let flagRIPASResponseReject: UInt64 = 1 << 4
}

/// RmiRecExitReason.
public enum RecExitReason: UInt8, Sendable {
  case sync = 0
  case irq = 1
  case fiq = 2
  case psci = 3
  case ripasChange = 4
  case hostCall = 5
  case serror = 6
}

/// Hash algorithm of a realm's measurements (RmiHashAlgorithm / RsiHashAlgorithm).
public enum HashAlgorithm: UInt8, Sendable {
  case sha256 = 0
  case sha512 = 1
}

/// RTT entry state as RMI_RTT_READ_ENTRY reports it (RmiRttEntryState).
public enum RTTEntryState: UInt64, Sendable {
  case unassigned = 0
  case assigned = 1
  case table = 2
}

/// Realm IPA state (RmiRipas / RsiRipas).
public enum RIPAS: UInt64, Sendable {
  case empty = 0
  case ram = 1
  case destroyed = 2
}

/// RMI_DATA_CREATE flags.
public enum DataCreateFlags {
  public static let measureContent: UInt64 = 1 << 0
}

/// Realm states (RmiRealmState).
public enum RealmState: UInt8, Sendable {
  case new = 0
  case active = 1
  case systemOff = 2
}

/// Constants of the 1.0 ABI.
public enum RMIConstants {
  public static let personalizationValueSize = 64
  public static let maxConcatenatedRootTables = 16
  public static let minIPAWidth: UInt64 = 32
}

/// RsiHostCall (realm memory, 256-byte aligned).
public enum RSIHostCallLayout {
  public static let imm = 0x000           // u16
  public static let gprs = 0x008          // x0..x30
  public static let size = 0x100
}

/// RsiRealmConfig (realm memory, one 4 KiB page).
public enum RSIRealmConfigLayout {
  public static let ipaWidth = 0x000
  public static let hashAlgorithm = 0x008
  /// rpv[64]: the Realm Personalization Value given at REALM_CREATE.
  public static let personalizationValue = 0x200
}

/// RSI_IPA_STATE_SET responses and flags.
public enum RSIResponse {
  public static let accept: UInt64 = 0
  public static let reject: UInt64 = 1
  public static let changeDestroyed: UInt64 = 1
}

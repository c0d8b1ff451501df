// RmiRecParams: decoded from the single copy of the host's page and validated.

import RMMABI

/// The first REC auxiliary granules of every REC: room for its attestation context
/// (token under construction), which must outlive REC exits. A realm with SVE has
/// more (RealmFeatures.recAuxCount): its REC's Z, P and FFR registers follow.
public let attestationAuxGranules = 2
/// The most aux granules a REC can have (RmiRecParams holds 16 addresses).
public let maximumRECAuxGranules = 16

public struct RECParameters: Sendable {
  public var flags: UInt64
  public var mpidr: UInt64
  public var pc: UInt64
  public var gprs: InlineArray<8, UInt64>
  public var auxCount: Int
  public var aux: InlineArray<16, UInt64>

  public var runnable: Bool { flags & RecParamsLayout.flagRunnable != 0 }

  public enum Defect: Error, Equatable, Sendable {
    case mpidr, auxCount, auxAlignment
  }

  /// RmiRecMpidr fields a REC may use: Aff0[3:0] (16 RECs per cluster, as GICv3's
  /// 16-bit target lists need), Aff1[15:8], Aff2[23:16], Aff3[31:24].
  static let mpidrValidBits: UInt64 = 0xFFFF_FF0F

  /// The REC index an MPIDR stands for: RECs must be created in this order.
  public static func index(ofMPIDR mpidr: UInt64) -> UInt64 {
    (mpidr & 0xF) | ((mpidr >> 8) & 0xFF) << 4 | ((mpidr >> 16) & 0xFF) << 12 | ((mpidr >> 24) & 0xFF) << 20
  }

  /// The VMPIDR_EL1 value of the REC: Aff3 moves to [39:32], bit 31 is RES1.
  public static func vmpidr(ofMPIDR mpidr: UInt64) -> UInt64 {
    (mpidr & 0x00FF_FF0F) | ((mpidr >> 24) & 0xFF) << 32 | 1 << 31
  }

  public static func validate(_ page: borrowing PageBuffer) throws(Defect) -> RECParameters {
    typealias L = RecParamsLayout
    let flags = page.load64(at: L.flags) & L.flagRunnable  // bits 63:1 SBZ, ignored (B4.4.13)
    let mpidr = page.load64(at: L.mpidr)
    guard mpidr & ~mpidrValidBits == 0 else { throw .mpidr }
    // Exactly RMI_REC_AUX_COUNT of the realm: REC_CREATE compares it once it has the RD.
    let auxCount = page.load64(at: L.numberOfAux)
    guard auxCount <= UInt64(maximumRECAuxGranules) else { throw .auxCount }
    var gprs: InlineArray<8, UInt64> = .init(repeating: 0)
    for i in 0..<8 { gprs[i] = page.load64(at: L.gprs + 8 * i) }
    var aux: InlineArray<16, UInt64> = .init(repeating: 0)
    for i in 0..<Int(auxCount) {
      aux[i] = page.load64(at: L.aux + 8 * i)
      guard isGranuleAligned(aux[i]) else { throw .auxAlignment }
    }
    return RECParameters(flags: flags, mpidr: mpidr, pc: page.load64(at: L.pc), gprs: gprs,
                         auxCount: Int(auxCount), aux: aux)
  }
}

/// Field offsets inside a REC granule (the RMM's own layout).
public enum RECLayout {
  public static let flags = 0x000        // b0 runnable
  public static let mpidr = 0x008
  public static let index = 0x010
  public static let owner = 0x018        // PA of the RD
  public static let pc = 0x020           // initial PC (REC_CREATE)
  public static let auxCount = 0x030
  public static let aux = 0x038          // 16 PAs, to 0x0B8
  /// The pending RSI_IPA_STATE_SET request [ripasAddr, ripasTop) -> ripasValue, and
  /// how far the host has got with it (ripasAddr advances).
  public static let ripasAddr = 0x0C0
  public static let ripasTop = 0x0C8
  public static let ripasValue = 0x0D0
  public static let ripasFlags = 0x0D8   // b0: RSI_CHANGE_DESTROYED
  /// What the last exit left for the host to complete (`PendingExit`), and its details.
  public static let pending = 0x0E0
  public static let pendingIPA = 0x0E8   // RsiHostCall IPA, or the faulting IPA of an MMIO exit
  public static let pendingESR = 0x0F0   // ESR of an emulatable MMIO exit
  public static let psciTarget = 0x0F8   // MPIDR | psciPendingBit while CPU_ON / AFFINITY_INFO waits
  /// The register context the world switch saves and restores (RECContextLayout).
  public static let context = 0x100
  /// A CPU_ON this REC asked for: where the target starts and with what in x0.
  public static let psciEntry = 0x220
  public static let psciContext = 0x228
  public static let psciFID = 0x230
  /// The realm's breakpoints and watchpoints (RmiRealmParams), copied at REC_CREATE for
  /// the ID registers a trapped read answers with (IDRegisters.swift).
  public static let breakpoints = 0x238
  public static let watchpoints = 0x240
  /// The realm's SVE vector length (ZCR_ELx.LEN) | sveEnabledBit, and its PMU's event
  /// counters | pmuEnabledBit; 0: none. Copied from the RD at REC_CREATE.
  public static let sveVectorLength = 0x248
  public static let pmuCounters = 0x250
  public static let featureEnabledBit: UInt64 = 1 << 63
  public static let el1 = 0x300          // EL1 system registers (RECSystemRegisters)
  /// GICv3 virtual interface state: ICH_VMCR_EL2, then ICH_AP0R<n>_EL2 and
  /// ICH_AP1R<n>_EL2 (n < 4): the active priorities of interrupts the realm has
  /// acknowledged and not yet ended, which must survive an exit taken meanwhile.
  public static let gic = 0x500
  public static let gicActivePriorities0 = 0x508   // 4 words
  public static let gicActivePriorities1 = 0x528   // 4 words
  public static let timers = 0x600       // EL1 timers (RECSystemRegisters.cntv*/cntp*: 4 words)
  public static let timersSize = 4 * 8
  public static let gicSize = 9 * 8
  /// The FP/SIMD save area: q0-q31, FPCR, FPSR. In the REC granule itself, which the
  /// REC_ENTER maps for the whole call anyway (no second granule to lock and map twice).
  public static let fpState = 0x800
  public static let fpStateSize = 528
  /// The realm's ZCR_EL1 (SVE realms), switched with its SVE registers.
  public static let sveControl = 0xA10
  /// The PMU state of a realm with a PMU (RECPMULayout), switched at entry and exit.
  public static let pmuState = 0xA20
  public static let flagRunnable: UInt64 = 1 << 0
  public static let ripasChangeDestroyed: UInt64 = 1 << 0
  public static let psciPendingBit: UInt64 = 1 << 63
}

/// The PMU state at RECLayout.pmuState (and the host's, per CPU, in the same layout):
/// the control registers, then each event counter's value and type.
public enum RECPMULayout {
  public static let control = 0       // PMCR_EL0
  public static let counterEnables = 1  // PMCNTENSET_EL0
  public static let interruptEnables = 2  // PMINTENSET_EL1
  public static let overflows = 3     // PMOVSSET_EL0
  public static let select = 4        // PMSELR_EL0
  public static let userEnable = 5    // PMUSERENR_EL0
  public static let cycleFilter = 6   // PMCCFILTR_EL0
  public static let cycleCounter = 7  // PMCCNTR_EL0
  public static let counters = 8      // PMEVCNTR<n>_EL0, PMEVTYPER<n>_EL0 pairs, n < 31
  public static let words = 8 + 2 * 31
}

/// The context block at RECLayout.context, shared with boot/rec_switch.S.
public enum RECContextLayout {
  public static let gprs = 0x000         // x0..x30
  public static let elr = 0x0F8          // PC to resume at
  public static let spsr = 0x100         // PSTATE to resume with
  public static let spEL0 = 0x108        // the realm's SP_EL0
  public static let rmmSP = 0x110        // the RMM's stack pointer while the realm runs
  public static let size = 0x118
}

/// What the REC's last exit is waiting for from the host.
public enum PendingExit: UInt64, Sendable {
  case none = 0
  case hostCall = 1
  case emulatableMMIO = 2
  case ripasChange = 3
  case psci = 4
  case unprotectedAbort = 5
}

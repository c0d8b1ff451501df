// RmiRecParams: decoded from the single copy of the host's page and validated.

import RMMABI

/// REC auxiliary granules per REC (RMI_REC_AUX_COUNT): room for the REC's attestation
/// context (token under construction), which must outlive REC exits.
public let recAuxGranuleCount = 2

public struct RECParameters: Sendable {
  public var flags: UInt64
  public var mpidr: UInt64
  public var pc: UInt64
  public var gprs: InlineArray<8, UInt64>
  public var auxCount: Int
  public var aux: InlineArray<16, UInt64>

  public var runnable: Bool { flags & RecParamsLayout.flagRunnable != 0 }

  public enum Defect: Error, Equatable, Sendable {
    case reservedFlags, mpidr, auxCount, auxAlignment
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

  public static func validate<Page: ReadablePage>(_ page: Page) throws(Defect) -> RECParameters {
    typealias L = RecParamsLayout
    let flags = page.load64(at: L.flags)
    guard flags & ~L.flagRunnable == 0 else { throw .reservedFlags }
    let mpidr = page.load64(at: L.mpidr)
    guard mpidr & ~mpidrValidBits == 0 else { throw .mpidr }
    let auxCount = page.load64(at: L.numberOfAux)
    guard auxCount == UInt64(recAuxGranuleCount) else { throw .auxCount }  // exactly RMI_REC_AUX_COUNT
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
  public static let pc = 0x020
  public static let pstate = 0x028
  public static let auxCount = 0x030
  public static let aux = 0x038          // 16 PAs
  /// The pending RSI_IPA_STATE_SET request [ripasAddr, ripasTop) -> ripasValue, and
  /// how far the host has got with it (ripasAddr advances).
  public static let ripasAddr = 0x040
  public static let ripasTop = 0x048
  public static let ripasValue = 0x050
  public static let ripasFlags = 0x058   // b0: RSI_CHANGE_DESTROYED
  public static let gprs = 0x100         // x0..x30
  public static let flagRunnable: UInt64 = 1 << 0
  public static let ripasChangeDestroyed: UInt64 = 1 << 0
}

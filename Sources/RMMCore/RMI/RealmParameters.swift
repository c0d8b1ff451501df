// RmiRealmParams: decoded from the single copy of the host's page and validated
// completely. A field this RMM does not support is refused, not ignored.

import RMMABI

/// The leading part of RmiRealmParams that holds every field the RMM reads (from
/// flags at 0x000 to the end of rtt_num_start at 0x820): all that REALM_CREATE copies
/// of the host's page, once; only the copy is parsed.
public struct RealmParamsCopy: BitwiseCopyable {
  public static let length = RealmParamsLayout.rttNumStart + 8
  public var words: InlineArray<260, UInt64>
  @inlinable public init() { words = .init(repeating: 0) }
  /// The 64-bit field at `offset` (a constant of RealmParamsLayout).
  @inline(__always) func load64(at offset: Int) -> UInt64 {
    precondition(offset >= 0 && offset & 7 == 0 && offset < Self.length)
    return words.span[offset >> 3]
  }
}

public struct RealmParameters: Equatable, Sendable {
  public var flags: UInt64
  public var ipaWidth: UInt64
  public var sveVectorLength: UInt64
  public var breakpoints: UInt64
  public var watchpoints: UInt64
  public var pmuCounters: UInt64
  public var hashAlgorithm: HashAlgorithm
  public var personalizationValue: InlineArray<8, UInt64>
  public var vmid: UInt16
  public var rttBase: UInt64
  public var startLevel: Int
  public var rootTableCount: Int

  public static func == (lhs: RealmParameters, rhs: RealmParameters) -> Bool {
    for i in 0..<8 where lhs.personalizationValue[i] != rhs.personalizationValue[i] { return false }
    return lhs.flags == rhs.flags && lhs.ipaWidth == rhs.ipaWidth && lhs.sveVectorLength == rhs.sveVectorLength
      && lhs.breakpoints == rhs.breakpoints && lhs.watchpoints == rhs.watchpoints
      && lhs.pmuCounters == rhs.pmuCounters && lhs.hashAlgorithm == rhs.hashAlgorithm && lhs.vmid == rhs.vmid
      && lhs.rttBase == rhs.rttBase && lhs.startLevel == rhs.startLevel && lhs.rootTableCount == rhs.rootTableCount
  }

  /// What the realm's ID registers, REC controls and aux granules follow.
  public var features: RealmFeatures {
    typealias L = RealmParamsLayout
    return RealmFeatures(breakpoints: breakpoints, watchpoints: watchpoints,
                         sveVectorLength: flags & L.flagSVE != 0 ? sveVectorLength : nil,
                         pmuCounters: flags & L.flagPMU != 0 ? pmuCounters : nil)
  }

  /// Why a parameter page was refused (all are RMI_ERROR_INPUT to the host).
  public enum Defect: Error, Equatable, Sendable {
    case unsupportedFeature, ipaWidth, sveVectorLength, breakpoints, watchpoints
    case pmuCounters, hashAlgorithm, vmid, startLevel, rootTableCount, rttBase
    /// s2sz above 48 without flags.lpa2 (only the LPA2 format holds such IPAs).
    case ipaWidthNeedsLPA2
    /// rtt_level_start -1 without flags.lpa2 (only VTCR_EL2.DS = 1 has level -1).
    case startLevelNeedsLPA2
  }

  /// The same on a whole page (the fuzz target): its leading part is what REALM_CREATE copies.
  public static func validate(_ page: borrowing PageBuffer, features: RMIFeatureRegister0,
                              maximumVMID: UInt16) throws(Defect) -> RealmParameters {
    var copy = RealmParamsCopy()
    let words = page.words.span
    var part = copy.words.mutableSpan
    for i in 0..<part.count { part[i] = words[i] }
    return try validate(copy, features: features, maximumVMID: maximumVMID)
  }

  /// Decodes and validates the copy `page` against what this RMM supports. Inlined
  /// into its one caller: a call would copy the 2 KiB copy once more.
  @inline(__always)
  public static func validate(_ page: borrowing RealmParamsCopy, features: RMIFeatureRegister0,
                              maximumVMID: UInt16) throws(Defect) -> RealmParameters {
    typealias L = RealmParamsLayout
    // Reserved (SBZ) bits and unused bytes of the structure are ignored, not refused:
    // a later 1.x revision may give them a meaning (DEN0137 B2; docs/spec-notes/sbz-fields.md).
    let flags = page.load64(at: L.flags) & (L.flagLPA2 | L.flagSVE | L.flagPMU)
    // Each is refused unless RMI_FEATURES offers it.
    if flags & L.flagLPA2 != 0 && !features.lpa2 { throw .unsupportedFeature }
    if flags & L.flagSVE != 0 && !features.sveEnabled { throw .unsupportedFeature }
    if flags & L.flagPMU != 0 && !features.pmuEnabled { throw .unsupportedFeature }

    // UInt8 fields, each at the start of a 64-bit slot; the rest of the slot is unused.
    let s2sz = page.load64(at: L.s2sz) & 0xFF
    let sveVL = page.load64(at: L.sveVectorLength) & 0xFF
    let bps = page.load64(at: L.numberOfBreakpoints) & 0xFF
    let wps = page.load64(at: L.numberOfWatchpoints) & 0xFF
    let pmu = page.load64(at: L.pmuCounters) & 0xFF
    let hash = page.load64(at: L.hashAlgorithm) & 0xFF

    guard s2sz >= RMIConstants.minIPAWidth, s2sz <= features.s2sz else { throw .ipaWidth }
    let lpa2 = flags & L.flagLPA2 != 0
    // FEATURES' S2SZ is 52 where the CPU has LPA2, but a realm without it keeps 48 bits.
    guard s2sz <= 48 || lpa2 else { throw .ipaWidthNeedsLPA2 }
    guard flags & L.flagSVE != 0 ? sveVL <= features.sveVectorLength : sveVL == 0 else { throw .sveVectorLength }
    // Breakpoints and watchpoints: 0 is reserved; at most what feature register 0 reports
    // (as the reference RMM compares them).
    guard bps >= 1, bps <= features.numberOfBreakpoints else { throw .breakpoints }
    guard wps >= 1, wps <= features.numberOfWatchpoints else { throw .watchpoints }
    guard flags & L.flagPMU != 0 ? pmu <= features.pmuCounters : pmu == 0 else { throw .pmuCounters }
    guard let algorithm = HashAlgorithm(rawValue: UInt8(hash)),
          algorithm == .sha256 ? features.sha256 : features.sha512 else { throw .hashAlgorithm }

    let vmidWord = page.load64(at: L.vmid) & 0xFFFF  // UInt16
    guard vmidWord <= UInt64(maximumVMID) else { throw .vmid }

    let level = Int64(bitPattern: page.load64(at: L.rttLevelStart))
    guard level >= Int64(RTTLevel.lowest), level <= 3 else { throw .startLevel }
    guard level >= 0 || lpa2 else { throw .startLevelNeedsLPA2 }
    guard let roots = Stage2Config.rootTableCount(ipaWidth: s2sz, startLevel: Int(level)) else { throw .startLevel }
    // Starting at level 0 needs 44-bit physical addresses (VTCR_EL2.SL0 rules).
    guard level != 0 || features.s2sz >= 44 else { throw .startLevel }
    guard page.load64(at: L.rttNumStart) == UInt64(roots) else { throw .rootTableCount }
    // Concatenated roots are one naturally aligned block of `roots` granules.
    let rttBase = page.load64(at: L.rttBase)
    guard rttBase & (UInt64(roots) * granuleSize - 1) == 0, rttBase <= UInt64.max - UInt64(roots) * granuleSize else {
      throw .rttBase
    }

    var rpv: InlineArray<8, UInt64> = .init(repeating: 0)
    for i in 0..<8 { rpv[i] = page.load64(at: L.personalizationValue + 8 * i) }
    return RealmParameters(flags: flags, ipaWidth: s2sz, sveVectorLength: sveVL, breakpoints: bps,
                           watchpoints: wps, pmuCounters: pmu, hashAlgorithm: algorithm,
                           personalizationValue: rpv, vmid: UInt16(vmidWord), rttBase: rttBase,
                           startLevel: Int(level), rootTableCount: roots)
  }
}

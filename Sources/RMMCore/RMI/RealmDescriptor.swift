// The realm descriptor: the realm's state, kept in its RD granule and nowhere else.
// The byte layout inside the RD granule is the RMM's own.

import RMMABI

/// A realm's stage-2 configuration, fixed at REALM_CREATE.
public struct Stage2Config: Equatable, Sendable {
  public var ipaWidth: UInt64
  public var startLevel: Int
  public var rootTableCount: Int
  public var rttBase: UInt64
  public var vmid: UInt16
  /// flags.lpa2 of REALM_CREATE: the tables use the LPA2 descriptor format
  /// (VTCR_EL2.DS = 1), which allows 52-bit IPAs and PAs and start level -1.
  public var lpa2: Bool

  public init(ipaWidth: UInt64, startLevel: Int, rootTableCount: Int, rttBase: UInt64, vmid: UInt16,
              lpa2: Bool) {
    self.ipaWidth = ipaWidth
    self.startLevel = startLevel
    self.rootTableCount = rootTableCount
    self.rttBase = rttBase
    self.vmid = vmid
    self.lpa2 = lpa2
  }

  /// The descriptor format of the realm's tables.
  @inlinable public var format: S2TTEFormat { .of(lpa2: lpa2) }
  /// RttLevelIsValid: a level the realm's tables have (from its start level to 3).
  @inlinable public func isValidLevel(_ level: Int) -> Bool { level >= startLevel && level <= RTTLevel.page }
  /// A PA the realm's tables can hold (the `*_bound2` and `addr_bound` conditions of
  /// DATA_CREATE, DATA_CREATE_UNKNOWN, RTT_CREATE and RTT_MAP_UNPROTECTED: without
  /// LPA2 a PA at or above 2^48 is refused).
  @inlinable public func canAddress(_ pa: UInt64) -> Bool { pa < format.addressLimit }

  /// First IPA past the realm's IPA space.
  @inlinable public var ipaLimit: UInt64 { 1 << ipaWidth }
  /// IPA bit (s2sz - 1) selects the unprotected half.
  @inlinable public var unprotectedBase: UInt64 { 1 << (ipaWidth - 1) }
  @inlinable public func isProtected(_ ipa: UInt64) -> Bool { ipa < unprotectedBase }
  @inlinable public func contains(_ ipa: UInt64) -> Bool { ipa < ipaLimit }

  /// The root table granule and entry index that translate `ipa` (concatenated roots
  /// are consecutive granules from rttBase).
  @inlinable @inline(__always) public func rootEntry(for ipa: UInt64) -> (table: UInt64, index: Int) {
    let entry = ipa >> RTTLevel.shift(startLevel)
    return (rttBase + (entry / 512) * granuleSize, Int(entry % 512))
  }

  /// Number of concatenated root tables the architecture needs for `ipaWidth` bits
  /// starting at `startLevel`, or nil if that start level cannot translate that width
  /// (Arm ARM D8.2.8.2, tables D8-20 to D8-24, 4 KiB granule, stage 2). Level -1
  /// resolves IA[51:48] in one table of at most 16 entries (49 to 52 bits, never
  /// concatenated); level 0 takes 40 to 48 bits in one table, and 49 to 52 bits in 2 to
  /// 16. Both need VTCR_EL2.DS = 1, as any width above 48 does: the caller checks LPA2.
  public static func rootTableCount(ipaWidth: UInt64, startLevel: Int) -> Int? {
    guard startLevel >= RTTLevel.lowest, startLevel <= 3, ipaWidth <= 52 else { return nil }
    let resolvedBelow = RTTLevel.shift(startLevel)  // bits translated below the start level
    guard ipaWidth > resolvedBelow else { return nil }
    let startBits = ipaWidth - resolvedBelow
    if startBits <= 9 { return 1 }
    guard startBits - 9 <= 4 else { return nil }  // at most 16 concatenated tables
    return 1 << Int(startBits - 9)
  }
}

/// Field offsets inside the RD granule.
enum RDLayout {
  static let state = 0x000
  static let ipaWidth = 0x008
  static let startLevel = 0x010
  static let rootTableCount = 0x018
  static let rttBase = 0x020
  static let vmid = 0x028
  static let lpa2 = 0x078           // Stage2Config.lpa2: 0 or 1
  static let hashAlgorithm = 0x030
  static let recsCreated = 0x038
  static let liveRECs = 0x040
  static let flags = 0x048
  static let breakpoints = 0x050
  static let watchpoints = 0x058
  static let pmuCounters = 0x060
  static let sveVectorLength = 0x068
  static let liveRECBitmap = 0x080  // 1024 bits, to 0x100 (LiveRECs)
  static let rim = 0x100            // 64 bytes
  static let rems = 0x140           // 4 x 64 bytes
  static let personalizationValue = 0x300  // 64 bytes
}

/// The fields of an RD a running REC uses.
public struct RunningRealm: Equatable, Sendable {
  public var state: RealmState
  public var stage2: Stage2Config
  public var hashAlgorithm: HashAlgorithm
}

/// The fields of an RD every command needs, read from the granule in one go.
public struct RealmDescriptor: Equatable, Sendable {
  public var state: RealmState
  public var stage2: Stage2Config
  public var hashAlgorithm: HashAlgorithm
  /// RECs ever created: the MPIDR index the next REC must have.
  public var recsCreated: UInt64
  /// RECs that exist now: REALM_DESTROY needs zero.
  public var liveRECs: UInt64
  public var rim: Digest64

  /// nil if the granule does not hold a well-formed RD (corruption).
  @inline(__always)
  public static func load<Page: ReadablePage>(from page: Page) -> RealmDescriptor? {
    guard let state = RealmState(rawValue: UInt8(truncatingIfNeeded: page.load64(at: RDLayout.state))),
          let hash = HashAlgorithm(rawValue: UInt8(truncatingIfNeeded: page.load64(at: RDLayout.hashAlgorithm)))
    else { return nil }
    let stage2 = loadStage2Fields(from: page)
    var rim = Digest64()
    for i in 0..<8 { rim.words[i] = page.load64(at: RDLayout.rim + 8 * i) }
    rim.length = MeasurementHash.digestLength(hash)
    return RealmDescriptor(state: state, stage2: stage2, hashAlgorithm: hash,
                           recsCreated: page.load64(at: RDLayout.recsCreated),
                           liveRECs: page.load64(at: RDLayout.liveRECs), rim: rim)
  }

  /// What a running REC needs of its realm (state, stage-2 configuration, hash
  /// algorithm), with the same well-formedness check as `load`: REC_ENTER reads no
  /// measurements (a copy of the whole descriptor per entry showed in its profile).
  @inline(__always)
  public static func loadForRunning<Page: ReadablePage>(from page: Page) -> RunningRealm? {
    guard let state = RealmState(rawValue: UInt8(truncatingIfNeeded: page.load64(at: RDLayout.state))),
          let hash = HashAlgorithm(rawValue: UInt8(truncatingIfNeeded: page.load64(at: RDLayout.hashAlgorithm)))
    else { return nil }
    return RunningRealm(state: state, stage2: loadStage2Fields(from: page), hashAlgorithm: hash)
  }

  /// The stage-2 configuration alone; nil where `load` would find no well-formed RD.
  public static func loadStage2<Page: ReadablePage>(from page: Page) -> Stage2Config? {
    guard RealmState(rawValue: UInt8(truncatingIfNeeded: page.load64(at: RDLayout.state))) != nil,
          HashAlgorithm(rawValue: UInt8(truncatingIfNeeded: page.load64(at: RDLayout.hashAlgorithm))) != nil
    else { return nil }
    return loadStage2Fields(from: page)
  }

  @inline(__always)
  static func loadStage2Fields<Page: ReadablePage>(from page: Page) -> Stage2Config {
    Stage2Config(
      ipaWidth: page.load64(at: RDLayout.ipaWidth),
      startLevel: Int(truncatingIfNeeded: page.load64(at: RDLayout.startLevel)),
      rootTableCount: Int(truncatingIfNeeded: page.load64(at: RDLayout.rootTableCount)),
      rttBase: page.load64(at: RDLayout.rttBase),
      vmid: UInt16(truncatingIfNeeded: page.load64(at: RDLayout.vmid)),
      lpa2: page.load64(at: RDLayout.lpa2) & 1 != 0)
  }

  /// Writes every field of this struct back to the RD granule.
  public func store<Page: WritablePage>(to page: inout Page) {
    page.store64(UInt64(state.rawValue), at: RDLayout.state)
    page.store64(stage2.ipaWidth, at: RDLayout.ipaWidth)
    page.store64(UInt64(bitPattern: Int64(stage2.startLevel)), at: RDLayout.startLevel)  // -1 for level -1
    page.store64(UInt64(stage2.rootTableCount), at: RDLayout.rootTableCount)
    page.store64(stage2.rttBase, at: RDLayout.rttBase)
    page.store64(UInt64(stage2.vmid), at: RDLayout.vmid)
    page.store64(stage2.lpa2 ? 1 : 0, at: RDLayout.lpa2)
    page.store64(UInt64(hashAlgorithm.rawValue), at: RDLayout.hashAlgorithm)
    page.store64(recsCreated, at: RDLayout.recsCreated)
    page.store64(liveRECs, at: RDLayout.liveRECs)
    let words = rim.words.span  // read in place: `rim.words[i]` would copy the array
    for i in 0..<8 { page.store64(words[i], at: RDLayout.rim + 8 * i) }
  }

  /// What REALM_CREATE gave the realm that its ID registers reflect; only REC_ENTER
  /// needs it, so it is not part of every command's load.
  public static func loadFeatures<Page: ReadablePage>(from page: Page) -> RealmFeatures {
    RealmFeatures(breakpoints: page.load64(at: RDLayout.breakpoints), watchpoints: page.load64(at: RDLayout.watchpoints),
                  sveVectorLength: optionalFeature(page.load64(at: RDLayout.sveVectorLength)),
                  pmuCounters: optionalFeature(page.load64(at: RDLayout.pmuCounters)))
  }

  public static func store<Page: WritablePage>(_ features: RealmFeatures, to page: inout Page) {
    page.store64(features.breakpoints, at: RDLayout.breakpoints)
    page.store64(features.watchpoints, at: RDLayout.watchpoints)
    page.store64(encodedFeature(features.sveVectorLength), at: RDLayout.sveVectorLength)
    page.store64(encodedFeature(features.pmuCounters), at: RDLayout.pmuCounters)
  }

  /// An optional feature's value as the RD and the REC keep it: value | enabled bit, or 0.
  @inline(__always) public static func encodedFeature(_ value: UInt64?) -> UInt64 {
    value.map { $0 | RECLayout.featureEnabledBit } ?? 0
  }
  @inline(__always) public static func optionalFeature(_ word: UInt64) -> UInt64? {
    word & RECLayout.featureEnabledBit != 0 ? word & ~RECLayout.featureEnabledBit : nil
  }
}

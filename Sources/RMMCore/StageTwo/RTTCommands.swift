// RMI_RTT_CREATE, RMI_RTT_DESTROY, RMI_RTT_FOLD, RMI_RTT_READ_ENTRY,
// RMI_RTT_MAP_UNPROTECTED, RMI_RTT_UNMAP_UNPROTECTED, RMI_RTT_INIT_RIPAS.
//
// Every command locks the RD first (an external granule), checks its arguments against
// the realm's stage-2 configuration, and leaves the table work to StageTwoTables,
// which walks the RTTs hand over hand (internal granules). The RD lock serialises
// commands on one realm; commands on different realms run concurrently.

import RMMABI

/// What RMI_RTT_READ_ENTRY reports.
public struct RTTEntryReport: Equatable, Sendable {
  public var level: Int
  public var state: RTTEntryState
  public var descriptor: UInt64
  public var ripas: RIPAS
}

extension RMIDispatcher {
  /// Locks the RD, reads its realm, runs `body`, then releases the RD (on a throw too).
  ///
  /// `changing`: the RD is mapped once for the whole command (`Gate.mapPage`), and what
  /// `body` leaves in `realm` is written back if it returns (nothing if it throws).
  @inline(__always) func withRealm<Result>(
    _ rd: UInt64, changing: Bool = false, _ body: (inout LockedGranule, inout RealmDescriptor) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    try environment.granules.holding(try lockRD(rd)) { granule throws(RMIError) in
      guard changing else {
        var realm = try loadRealm(granule)
        return try body(&granule, &realm)
      }
      var page: MappedPage
      do throws(GateError) {
        page = try environment.gate.mapPage(granule, AccessIntent(.rdWrite, .write, expecting: .rd))
      } catch { environment.halt(.refusedOwnAccess) }
      defer { environment.gate.unmap(page) }
      guard var realm = RealmDescriptor.load(from: page) else { environment.halt(.realmDescriptor) }
      let result = try body(&granule, &realm)
      realm.store(to: &page)
      return result
    }
  }

  /// Locks the RD, reads its stage-2 configuration (all the table commands need of
  /// it), runs `body`, then releases the RD (on a throw too).
  @inline(__always) func withStage2<Result>(
    _ rd: UInt64, _ body: (Stage2Config) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    try environment.granules.holding(try lockRD(rd)) { granule throws(RMIError) in
      try body(try loadStage2(granule))
    }
  }

  public func rttCreate(rd: UInt64, rtt: UInt64, ipa: UInt64, level: Int) throws(RMIError) {
    // RD and the new table are external granules: ascending PA order.
    guard let pair = environment.granules.lockPair(rd, rtt) else { throw .input }
    try environment.granules.holding(pair) { locked throws(RMIError) in
      guard locked.first.state == .rd, locked.second.state == .delegated else { throw .input }
      let s2 = try loadStage2(locked.first)
      guard level > s2.startLevel, level <= RTTLevel.page else { throw .input }
      guard RTTLevel.isAligned(ipa, to: level - 1), s2.contains(ipa) else { throw .input }
      guard s2.canAddress(rtt) else { throw .input }  // rtt_bound2
      try tables.create(s2, table: &locked.second, ipa: ipa, level: level)
    }
  }

  public func rttDestroy(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> (rtt: UInt64, top: UInt64) {
    try withStage2(rd) { s2 throws(RMIError) in
      guard level > s2.startLevel, level <= RTTLevel.page else { throw .input }
      guard RTTLevel.isAligned(ipa, to: level - 1), s2.contains(ipa) else { throw .input }
      return try tables.destroy(s2, ipa: ipa, level: level)
    }
  }

  public func rttFold(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> UInt64 {
    try withStage2(rd) { s2 throws(RMIError) in
      guard level > s2.startLevel, level <= RTTLevel.page else { throw .input }
      guard RTTLevel.isAligned(ipa, to: level - 1), s2.contains(ipa) else { throw .input }
      return try tables.fold(s2, ipa: ipa, level: level)
    }
  }

  public func rttReadEntry(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> RTTEntryReport {
    try withStage2(rd) { s2 throws(RMIError) in
      guard s2.isValidLevel(level) else { throw .input }
      guard RTTLevel.isAligned(ipa, to: level), s2.contains(ipa) else { throw .input }
      return try tables.report(s2, ipa: ipa, level: level)
    }
  }

  /// Whether `descriptor` is something the host may ask to map at `level` of a realm
  /// whose tables are in `format`: only PA, MemAttr[4:2] (not the reserved 0b100) and
  /// S2AP, PA aligned to the level (attr_valid, addr_align). With LPA2, bits [9:8] are
  /// OA[51:50], not SH. Without it, a PA at or above 2^48 has no encoding (bits [51:48]
  /// are not host fields), so addr_bound is part of this check.
  static func isValidUnprotectedDescriptor(_ descriptor: UInt64, level: Int, format: S2TTEFormat) -> Bool {
    guard descriptor & ~(format.addressField | S2TTE.hostAttributeMask) == 0 else { return false }
    guard RTTLevel.isAligned(format.address(of: descriptor), to: level) else { return false }
    return (descriptor >> 2) & 0x7 != 0b100
  }

  public func rttMapUnprotected(rd: UInt64, ipa: UInt64, level: Int, descriptor: UInt64) throws(RMIError) {
    try withStage2(rd) { s2 throws(RMIError) in
      guard level >= max(s2.startLevel, 1), level <= RTTLevel.page else { throw .input }
      guard RTTLevel.isAligned(ipa, to: level), s2.contains(ipa), !s2.isProtected(ipa) else { throw .input }
      guard Self.isValidUnprotectedDescriptor(descriptor, level: level, format: s2.format) else { throw .input }
      try tables.mapUnprotected(s2, ipa: ipa, level: level, descriptor: descriptor)
    }
  }

  public func rttUnmapUnprotected(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> UInt64 {
    try withStage2(rd) { s2 throws(RMIError) in
      guard level >= max(s2.startLevel, 1), level <= RTTLevel.page else { throw .input }
      guard RTTLevel.isAligned(ipa, to: level), s2.contains(ipa), !s2.isProtected(ipa) else { throw .input }
      return try tables.unmapUnprotected(s2, ipa: ipa, level: level)
    }
  }

  /// Sets RIPAS RAM over unassigned entries from `base` towards `top`, one whole RTT
  /// entry at a time, extending the RIM once per entry. Returns how far it got.
  public func rttInitRIPAS(rd: UInt64, base: UInt64, top: UInt64) throws(RMIError) -> UInt64 {
    try withRealm(rd, changing: true) { rdGranule, realm throws(RMIError) in
      let s2 = realm.stage2
      // B4.3.18: size_valid, top_bound (the last granule below top is protected),
      // realm_state, then base_align and rtte_state at the level the walk reached;
      // top_gran_align before no_progress.
      guard base < top, top &- granuleSize < s2.unprotectedBase else { throw .input }
      guard realm.state == .new else { throw .realm() }
      return try walking(s2, base & ~(granuleSize - 1), to: RTTLevel.page, forUpdate: false) { walk throws(RMIError) in
        // (The run is rewritten through one mapping of its own: rewriteRun.)
        let entrySize = RTTLevel.size(walk.level)
        guard RTTLevel.isAligned(base, to: walk.level) else { throw .rtt(level: walk.level) }
        guard case .unassigned = walk.entry else { throw .rtt(level: walk.level) }
        guard isGranuleAligned(top) else { throw .input }
        var rim = realm.rim
        let algorithm = realm.hashAlgorithm
        // Every UNASSIGNED entry becomes RAM, DESTROYED ones too (A5.2.4: in REALM_NEW the
        // host may make any unassigned IPA RAM; each such entry is measured).
        let address = rewriteRun(walk, from: base, below: top) { entry, ipa in
          guard case .unassigned = entry else { return nil }
          rim = RIMDescriptor.extendForRIPAS(algorithm, rim: rim, base: ipa, top: ipa + entrySize)
          return .unassigned(.ram)
        }
        realm.rim = rim
        guard address > base else { throw .rtt(level: walk.level) }
        return address  // the new RIM goes into the RD when withRealm returns
      }
    }
  }
}

// RMI_RTT_CREATE, RMI_RTT_DESTROY, RMI_RTT_FOLD, RMI_RTT_READ_ENTRY,
// RMI_RTT_MAP_UNPROTECTED, RMI_RTT_UNMAP_UNPROTECTED, RMI_RTT_INIT_RIPAS.
//
// Every command locks the RD first (an external granule), then walks the RTTs hand
// over hand (internal granules). The RD lock serialises commands on one realm;
// commands on different realms run concurrently.

import RMMABI

/// What RMI_RTT_READ_ENTRY reports.
public struct RTTEntryReport: Equatable, Sendable {
  public var level: Int
  public var state: RTTEntryState
  public var descriptor: UInt64
  public var ripas: RIPAS
}

extension RMIDispatcher {
  /// Locks the RD and reads its realm; the caller releases `rd`.
  func openRealm(_ rd: UInt64) throws(RMIError) -> (LockedGranule, RealmDescriptor) {
    let granule = try lockRD(rd)
    do throws(RMIError) {
      return (granule, try loadRealm(granule))
    } catch {
      environment.granules.release(granule)
      throw error
    }
  }

  /// `top` for DATA_DESTROY, RTT_DESTROY and RTT_UNMAP_UNPROTECTED: `ipa` itself if
  /// the walk's entry is live; otherwise the IPA of the next live entry in the same
  /// table, or the end of that table.
  func nextLiveEntry(after walk: RTTWalk, ipa: UInt64, protected: Bool) throws(RMIError) -> UInt64 {
    if walk.entry.isLive { return ipa }
    let level = walk.level
    let entrySize = RTTLevel.size(level)
    let tableBase = ipa & ~(entrySize * 512 - 1)
    let first = walk.index + 1
    let next: Int
    do throws(GateError) {
      // One mapping for the whole scan.
      next = try environment.gate.reading(walk.table, AccessIntent(.rttRead, .read, expecting: .rtt)) { page in
        page.firstWord(from: first, withAnyOf: S2TTE.liveMask(protected: protected))
      }
    } catch { throw internalError }
    return tableBase + UInt64(next) * entrySize
  }

  /// The 512 entries of a new level-`level` table that replaces `parent` (unfold).
  func unfolded(_ parent: S2TTE, index: Int, level: Int) -> S2TTE {
    let offset = UInt64(index) * RTTLevel.size(level)
    switch parent {
    case .unassigned, .unassignedNS, .table: return parent
    case .assignedEmpty(let pa): return .assignedEmpty(pa: pa + offset)
    case .assignedRAM(let pa): return .assignedRAM(pa: pa + offset)
    case .assignedDestroyed(let pa): return .assignedDestroyed(pa: pa + offset)
    case .assignedNS(let descriptor): return .assignedNS(descriptor: descriptor + offset)
    }
  }

  public func rttCreate(rd: UInt64, rtt: UInt64, ipa: UInt64, level: Int) throws(RMIError) {
    // RD and the new table are external granules: ascending PA order.
    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    addresses[0] = rd
    addresses[1] = rtt
    guard var locked = environment.granules.lockAll(addresses, count: 2) else { throw .input }
    defer { environment.granules.releaseAll(locked) }
    guard locked.state(of: rd) == .rd, locked.state(of: rtt) == .delegated else { throw .input }
    let realm = try loadRealm(locked.granule(rd))
    let s2 = realm.stage2
    guard level > s2.startLevel, level <= RTTLevel.page else { throw .input }
    guard RTTLevel.isAligned(ipa, to: level - 1), s2.contains(ipa) else { throw .input }

    var walk = try walk(s2, ipa, to: level - 1)
    defer { environment.granules.release(walk.table) }
    guard walk.level == level - 1 else { throw .rtt(level: walk.level) }
    if case .table = walk.entry { throw .rtt(level: walk.level) }

    // Fill the new table from the parent entry, then hook it in. A valid block is
    // replaced break-before-make: invalidate, TLBI, then the table descriptor.
    locked.setState(.rtt, of: rtt)
    let table = locked.granule(rtt)
    let parent = walk.entry
    let childReferences = unfolded(parent, index: 0, level: level).holdsReference
    do throws(GateError) {
      let first = unfolded(parent, index: 0, level: level).encode(level: level)
      let uniform = !parent.isLive || parent.isTableOrUnassigned
      // A DELEGATED granule is zero: a table of zero entries needs no writes at all.
      if !(uniform && first == 0) {
        try environment.gate.writing(table, AccessIntent(.rttWrite, .write, expecting: .rtt)) { page in
          if uniform {
            for i in 0..<512 { page.store64(first, at: i * 8) }
          } else {
            let step = RTTLevel.size(level)
            for i in 0..<512 { page.store64(first &+ UInt64(i) &* step, at: i * 8) }
          }
        }
      }
    } catch {
      locked.setState(.delegated, of: rtt)
      throw internalError
    }
    locked.setRefcount(childReferences ? 512 : 0, of: rtt)
    if parent.isValidDescriptor {  // break-before-make
      try writeEntry(walk.table, walk.index, 0)
      environment.tlb.invalidate(vmid: s2.vmid, ipa: ipa, level: walk.level)
    }
    try writeEntry(walk.table, walk.index, S2TTE.table(pa: rtt).encode(level: walk.level))
    if !parent.holdsReference {
      walk.table.descriptor = GranuleDescriptor(state: .rtt, refcount: walk.table.descriptor.refcount + 1)
    }
  }

  public func rttDestroy(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> (rtt: UInt64, top: UInt64) {
    let (rdGranule, realm) = try openRealm(rd)
    defer { environment.granules.release(rdGranule) }
    let s2 = realm.stage2
    guard level > s2.startLevel, level <= RTTLevel.page else { throw .input }
    guard RTTLevel.isAligned(ipa, to: level - 1), s2.contains(ipa) else { throw .input }
    let protected = s2.isProtected(ipa)
    var walk = try walk(s2, ipa, to: level - 1)
    defer { environment.granules.release(walk.table) }
    guard walk.level == level - 1, case .table(let childPA) = walk.entry else {
      throw RMIError.rtt(level: walk.level).with(top: try nextLiveEntry(after: walk, ipa: ipa, protected: protected))
    }
    guard var child = environment.granules.lock(childPA, expecting: .rtt) else { throw internalError }
    guard child.descriptor.refcount == 0 else {
      environment.granules.release(child)
      throw RMIError.rtt(level: level).with(top: ipa)  // the parent entry is a live table
    }
    try update(&walk, to: protected ? .unassigned(.destroyed) : .unassignedNS, ipa: ipa, vmid: s2.vmid)
    scrubForDestroy(child)  // unassigned entries may still carry RIPAS bits
    child.setState(.delegated)
    environment.granules.release(child)
    return (childPA, try nextLiveEntry(after: walk, ipa: ipa, protected: protected))
  }

  public func rttFold(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> UInt64 {
    let (rdGranule, realm) = try openRealm(rd)
    defer { environment.granules.release(rdGranule) }
    let s2 = realm.stage2
    guard level > s2.startLevel, level <= RTTLevel.page else { throw .input }
    guard RTTLevel.isAligned(ipa, to: level - 1), s2.contains(ipa) else { throw .input }
    var walk = try walk(s2, ipa, to: level - 1)
    defer { environment.granules.release(walk.table) }
    guard walk.level == level - 1, case .table(let childPA) = walk.entry else { throw .rtt(level: walk.level) }
    guard var child = environment.granules.lock(childPA, expecting: .rtt) else { throw internalError }
    let protected = s2.isProtected(ipa)

    // Homogeneous: every entry is what unfolding one parent entry would produce.
    let first = S2TTE.decode(try readEntryOrRelease(child), level: level, protected: protected)
    var folded: S2TTE? = nil
    switch first {
    case .unassigned, .unassignedNS: folded = first
    case .assignedEmpty(let pa), .assignedRAM(let pa), .assignedDestroyed(let pa):
      if RTTLevel.isAligned(pa, to: level - 1) { folded = first }
    case .assignedNS(let descriptor):
      if RTTLevel.isAligned(descriptor & S2TTE.oaMask, to: level - 1) { folded = first }
    case .table, nil: folded = nil
    }
    if let candidate = folded {
      var homogeneous = true
      do throws(GateError) {
        homogeneous = try environment.gate.reading(child, AccessIntent(.rttRead, .read, expecting: .rtt)) { page in
          for i in 1..<512 where page.load64(at: i * 8) != unfolded(candidate, index: i, level: level).encode(level: level) {
            return false
          }
          return true
        }
      } catch {
        environment.granules.release(child)
        throw internalError
      }
      if !homogeneous { folded = nil }
    }
    guard let parentEntry = folded else {
      environment.granules.release(child)
      throw .rtt(level: level)
    }
    if parentEntry.isLive && !RTTLevel.allowsBlock(level - 1) {  // no blocks at level 0: not homogeneous
      environment.granules.release(child)
      throw .rtt(level: level)
    }
    try update(&walk, to: parentEntry, ipa: ipa, vmid: s2.vmid)
    scrubForDestroy(child)
    child.setState(.delegated)
    environment.granules.release(child)
    return childPA
  }

  /// Reads entry 0 of `table`, releasing it if that fails.
  private func readEntryOrRelease(_ table: LockedGranule) throws(RMIError) -> UInt64 {
    do throws(RMIError) { return try readEntry(table, 0) } catch {
      environment.granules.release(table)
      throw error
    }
  }

  public func rttReadEntry(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> RTTEntryReport {
    let (rdGranule, realm) = try openRealm(rd)
    defer { environment.granules.release(rdGranule) }
    let s2 = realm.stage2
    guard level >= s2.startLevel, level <= RTTLevel.page else { throw .input }
    guard RTTLevel.isAligned(ipa, to: level), s2.contains(ipa) else { throw .input }
    let walk = try walk(s2, ipa, to: level)
    defer { environment.granules.release(walk.table) }
    let descriptor: UInt64
    switch walk.entry {
    case .unassigned, .unassignedNS: descriptor = 0
    case .assignedEmpty(let pa), .assignedRAM(let pa), .assignedDestroyed(let pa), .table(let pa): descriptor = pa
    case .assignedNS(let host): descriptor = host
    }
    return RTTEntryReport(level: walk.level, state: walk.entry.hostState, descriptor: descriptor, ripas: walk.entry.ripas)
  }

  /// Whether `descriptor` is something the host may ask to map at `level`: only PA,
  /// MemAttr[4:2] (not the reserved 0b100) and S2AP, PA aligned to the level.
  static func isValidUnprotectedDescriptor(_ descriptor: UInt64, level: Int) -> Bool {
    guard descriptor & ~(S2TTE.oaMask | S2TTE.hostAttributeMask) == 0 else { return false }
    guard RTTLevel.isAligned(descriptor & S2TTE.oaMask, to: level) else { return false }
    return (descriptor >> 2) & 0x7 != 0b100
  }

  public func rttMapUnprotected(rd: UInt64, ipa: UInt64, level: Int, descriptor: UInt64) throws(RMIError) {
    let (rdGranule, realm) = try openRealm(rd)
    defer { environment.granules.release(rdGranule) }
    let s2 = realm.stage2
    guard level >= max(s2.startLevel, 1), level <= RTTLevel.page else { throw .input }
    guard RTTLevel.isAligned(ipa, to: level), s2.contains(ipa), !s2.isProtected(ipa) else { throw .input }
    guard Self.isValidUnprotectedDescriptor(descriptor, level: level) else { throw .input }
    var walk = try walk(s2, ipa, to: level)
    defer { environment.granules.release(walk.table) }
    guard walk.level == level else { throw .rtt(level: walk.level) }
    guard walk.entry == .unassignedNS else { throw .rtt(level: level) }
    try update(&walk, to: .assignedNS(descriptor: descriptor), ipa: ipa, vmid: s2.vmid)
  }

  public func rttUnmapUnprotected(rd: UInt64, ipa: UInt64, level: Int) throws(RMIError) -> UInt64 {
    let (rdGranule, realm) = try openRealm(rd)
    defer { environment.granules.release(rdGranule) }
    let s2 = realm.stage2
    guard level >= max(s2.startLevel, 1), level <= RTTLevel.page else { throw .input }
    guard RTTLevel.isAligned(ipa, to: level), s2.contains(ipa), !s2.isProtected(ipa) else { throw .input }
    var walk = try walk(s2, ipa, to: level)
    defer { environment.granules.release(walk.table) }
    guard walk.level == level, case .assignedNS = walk.entry else {
      throw RMIError.rtt(level: walk.level).with(top: try nextLiveEntry(after: walk, ipa: ipa, protected: false))
    }
    try update(&walk, to: .unassignedNS, ipa: ipa, vmid: s2.vmid)
    return try nextLiveEntry(after: walk, ipa: ipa, protected: false)
  }

  /// Sets RIPAS RAM over unassigned entries from `base` towards `top`, one whole RTT
  /// entry at a time, extending the RIM once per entry. Returns how far it got.
  public func rttInitRIPAS(rd: UInt64, base: UInt64, top: UInt64) throws(RMIError) -> UInt64 {
    var (rdGranule, realm) = try openRealm(rd)
    defer { environment.granules.release(rdGranule) }
    let s2 = realm.stage2
    // B4.3.18: size_valid, top_bound (the last granule below top is protected),
    // realm_state, then base_align and rtte_state at the level the walk reached;
    // top_gran_align before no_progress.
    guard base < top, top &- granuleSize < s2.unprotectedBase else { throw .input }
    guard realm.state == .new else { throw .realm() }
    let walk = try walk(s2, base & ~(granuleSize - 1), to: RTTLevel.page)
    defer { environment.granules.release(walk.table) }
    let entrySize = RTTLevel.size(walk.level)
    guard RTTLevel.isAligned(base, to: walk.level) else { throw .rtt(level: walk.level) }
    guard case .unassigned = walk.entry else { throw .rtt(level: walk.level) }
    guard isGranuleAligned(top) else { throw .input }
    // One mapping of the table for the whole run of entries (one audited access).
    var address = base
    var rim = realm.rim
    let level = walk.level
    let first = walk.index
    let algorithm = realm.hashAlgorithm
    do throws(GateError) {
      try environment.gate.writing(walk.table, AccessIntent(.rttWrite, .write, expecting: .rtt)) { page in
        var index = first
        while address + entrySize <= top && index < 512 {
          // Every UNASSIGNED entry becomes RAM, DESTROYED ones too (A5.2.4: in REALM_NEW
          // the host may make any unassigned IPA RAM; each such entry is measured).
          guard case .unassigned(let ripas)? = S2TTE.decode(page.load64(at: index * 8), level: level, protected: true)
          else { break }
          if ripas != .ram { page.store64(S2TTE.unassigned(.ram).encode(level: level), at: index * 8) }
          rim = RIMDescriptor.extendForRIPAS(algorithm, rim: rim, base: address, top: address + entrySize)
          address += entrySize
          index += 1
        }
      }
    } catch { throw internalError }
    realm.rim = rim
    guard address > base else { throw .rtt(level: walk.level) }
    try storeRealm(realm, rdGranule)
    return address
  }
}

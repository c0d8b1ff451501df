// RMI_DATA_CREATE, RMI_DATA_CREATE_UNKNOWN, RMI_DATA_DESTROY.

import RMMABI

extension RMIDispatcher {
  /// Shared by both DATA_CREATE forms: locks RD and the target DELEGATED granule (in
  /// ascending PA order), checks the IPA, and walks to its level-3 entry, which must
  /// be unassigned; then runs `body` on them (`locked` first: RD, second: DATA) and
  /// releases the walk's table and the pair, whether `body` returns or throws.
  ///
  /// `changesRealm` (DATA_CREATE: the RIM): the RD is mapped once for the whole command,
  /// read at its start and, if `body` returns, written back with what `body` left in
  /// `realm`; otherwise it is only read.
  @inline(__always) func withDataTarget(
    rd: UInt64, data: UInt64, ipa: UInt64, requireNew: Bool, changesRealm: Bool = false,
    _ body: (inout LockedPair, inout RealmDescriptor, inout RTTWalk) throws(RMIError) -> Void
  ) throws(RMIError) {
    guard let pair = environment.granules.lockPair(rd, data) else { throw .input }
    try environment.granules.holding(pair) { locked throws(RMIError) in
      guard locked.first.state == .rd, locked.second.state == .delegated else { throw .input }
      var rdPage: MappedPage? = nil
      defer { if let rdPage { environment.gate.unmap(rdPage) } }
      var realm: RealmDescriptor
      if changesRealm {
        do throws(GateError) {
          rdPage = try environment.gate.mapPage(locked.first, AccessIntent(.rdWrite, .write, expecting: .rd))
        } catch { environment.halt(.refusedOwnAccess) }
        guard let loaded = RealmDescriptor.load(from: rdPage!) else { environment.halt(.realmDescriptor) }
        realm = loaded
      } else {
        realm = try loadRealm(locked.first)
      }
      let s2 = realm.stage2
      guard s2.canAddress(data) else { throw .input }  // data_bound2
      guard !requireNew || realm.state == .new else { throw .realm() }
      guard isGranuleAligned(ipa), s2.contains(ipa), s2.isProtected(ipa) else { throw .input }
      try walking(s2, ipa, to: RTTLevel.page) { walk throws(RMIError) in
        guard walk.level == RTTLevel.page else { throw .rtt(level: walk.level) }
        guard case .unassigned = walk.entry else { throw .rtt(level: RTTLevel.page) }
        try body(&locked, &realm, &walk)
      }
      if var page = rdPage { realm.store(to: &page) }
    }
  }

  public func dataCreate(rd: UInt64, data: UInt64, ipa: UInt64, source: UInt64, flags requested: UInt64) throws(RMIError) {
    let flags = requested & DataCreateFlags.measureContent  // RmiDataFlags bits 63:1 SBZ, ignored (B4.4.3)
    // The source is copied once, before anything is locked; from here on only the copy is used.
    var contents = PageBuffer()
    try copyHostPage(source, .dataSource, into: &contents)
    try withDataTarget(rd: rd, data: data, ipa: ipa, requireNew: true, changesRealm: true) { locked, realm, walk throws(RMIError) in
      locked.second.setState(.data)
      do throws(GateError) {
        try environment.gate.fill(locked.second, AccessIntent(.dataCreateWrite, .write, expecting: .data),
                                               from: &contents)
      } catch {
        locked.second.setState(.delegated)
        throw accessFailed
      }
      let measure = flags & DataCreateFlags.measureContent != 0
      let content = measure ? MeasurementHash.digest(realm.hashAlgorithm) { h in h.update(page: &contents) } : Digest64()
      realm.rim = RIMDescriptor.extendForData(realm.hashAlgorithm, rim: realm.rim, ipa: ipa, flags: flags, content: content)
      do throws(RMIError) {
        // The new RIM goes into the RD when withDataTarget returns.
        try update(&walk, to: .assignedRAM(pa: data), ipa: ipa, vmid: realm.stage2.vmid)
      } catch {
        locked.second.setState(.delegated)
        throw error
      }
    }
  }

  public func dataCreateUnknown(rd: UInt64, data: UInt64, ipa: UInt64) throws(RMIError) {
    try withDataTarget(rd: rd, data: data, ipa: ipa, requireNew: false) { locked, realm, walk throws(RMIError) in
      // Contents stay zero (DELEGATED granules are); RIPAS is unchanged.
      let assigned: S2TTE
      switch walk.entry.ripas {
      case .ram: assigned = .assignedRAM(pa: data)
      case .empty: assigned = .assignedEmpty(pa: data)
      case .destroyed: assigned = .assignedDestroyed(pa: data)
      }
      locked.second.setState(.data)
      do throws(RMIError) { try update(&walk, to: assigned, ipa: ipa, vmid: realm.stage2.vmid) } catch {
        locked.second.setState(.delegated)
        throw error
      }
    }
  }

  public func dataDestroy(rd: UInt64, ipa: UInt64) throws(RMIError) -> (data: UInt64, top: UInt64) {
    // The stage-2 configuration is all it needs of the RD (the same check as loadRealm).
    try withStage2(rd) { s2 throws(RMIError) in
      guard isGranuleAligned(ipa), s2.contains(ipa), s2.isProtected(ipa) else { throw .input }
      return try walking(s2, ipa, to: RTTLevel.page, throughEnd: true) { walk throws(RMIError) in
        let pa: UInt64
        let after: S2TTE
        switch (walk.level, walk.entry) {
        case (RTTLevel.page, .assignedRAM(let p)): pa = p; after = .unassigned(.destroyed)
        case (RTTLevel.page, .assignedDestroyed(let p)): pa = p; after = .unassigned(.destroyed)
        case (RTTLevel.page, .assignedEmpty(let p)): pa = p; after = .unassigned(.empty)
        default:
          throw RMIError.rtt(level: walk.level).with(top: try nextLiveEntry(after: &walk, ipa: ipa, protected: true))
        }
        // DATA is internal to the realm: locked after the RTT.
        guard var data = environment.granules.lock(pa, expecting: .data) else { environment.halt(.granuleState) }
        do throws(RMIError) { try update(&walk, to: after, ipa: ipa, vmid: s2.vmid) } catch {
          environment.granules.release(data)
          throw error
        }
        scrubForDestroy(data)
        data.setState(.delegated)
        environment.granules.release(data)
        return (pa, try nextLiveEntry(after: &walk, ipa: ipa, protected: true))
      }
    }
  }
}

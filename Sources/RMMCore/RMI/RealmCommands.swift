// RMI_REALM_CREATE, RMI_REALM_ACTIVATE, RMI_REALM_DESTROY.

import RMMABI

extension RMIDispatcher {
  // ---- shared helpers ----------------------------------------------------------

  /// Copies the host's page at `pa` into `buffer`, once, for `purpose`. Any address
  /// that is not an NS DRAM granule, or that faults, is RMI_ERROR_INPUT.
  func copyHostPage(_ pa: UInt64, _ purpose: AccessPurpose, into buffer: inout PageBuffer) throws(RMIError) {
    try copyFromHost(pa, purpose, length: 4096, into: &buffer)
  }

  /// Copies the first `length` bytes of the host's page at `pa` into `buffer`, once.
  @inline(__always)
  func copyFromHost<Buffer: BitwiseCopyable>(_ pa: UInt64, _ purpose: AccessPurpose, length: Int,
                                             into buffer: inout Buffer) throws(RMIError) {
    // A host address that is not an NS granule is the host's error, refused here; the
    // gate's own refusal is kept for the RMM's mistakes (those raise alerts).
    guard isGranuleAligned(pa), environment.granules.state(of: pa) == .undelegated else { throw .input }
    do throws(GateError) {
      try environment.gate.copyFromNonSecure(
        pa, AccessIntent(purpose, .read, expecting: .undelegated, length: UInt16(length)), into: &buffer)
    } catch { throw .input }
  }

  func loadRealm(_ rd: borrowing LockedGranule) throws(RMIError) -> RealmDescriptor {
    let realm: RealmDescriptor?
    do throws(GateError) {
      realm = try environment.gate.reading(rd, AccessIntent(.rdRead, .read, expecting: .rd)) { page in
        RealmDescriptor.load(from: page)
      }
    } catch { environment.halt(.refusedOwnAccess) }
    guard let realm else { environment.halt(.realmDescriptor) }
    return realm
  }

  /// The stage-2 configuration alone (what the table commands need), with the same
  /// well-formedness check as `loadRealm`.
  func loadStage2(_ rd: borrowing LockedGranule) throws(RMIError) -> Stage2Config {
    let config: Stage2Config?
    do throws(GateError) {
      config = try environment.gate.reading(rd, AccessIntent(.rdRead, .read, expecting: .rd)) { page in
        RealmDescriptor.loadStage2(from: page)
      }
    } catch { environment.halt(.refusedOwnAccess) }
    guard let config else { environment.halt(.realmDescriptor) }
    return config
  }

  func storeRealm(_ realm: RealmDescriptor, _ rd: borrowing LockedGranule) throws(RMIError) {
    do throws(GateError) {
      try environment.gate.writing(rd, AccessIntent(.rdWrite, .write, expecting: .rd)) { page in
        realm.store(to: &page)
      }
    } catch { environment.halt(.refusedOwnAccess) }
  }

  /// Zeroes a granule that is about to return to DELEGATED (the DELEGATED invariant).
  func scrubForDestroy(_ granule: borrowing LockedGranule) {
    // The intent names the state the granule still has while its owner destroys it.
    guard let state = granule.state else { return }
    _ = try? environment.gate.scrub(granule, AccessIntent(.destroyScrub, .write, expecting: state))
  }

  /// Locks `rd`, which must be an RD granule (RMI_ERROR_INPUT otherwise).
  func lockRD(_ rd: UInt64) throws(RMIError) -> LockedGranule {
    guard let granule = environment.granules.lock(rd, expecting: .rd) else { throw .input }
    return granule
  }

  // ---- commands -----------------------------------------------------------------

  public func realmCreate(rd: UInt64, paramsPA: UInt64) throws(RMIError) {
    // Only the part of the page that holds fields is copied (once).
    var page = RealmParamsCopy()
    try copyFromHost(paramsPA, .realmParams, length: RealmParamsCopy.length, into: &page)
    let params: RealmParameters
    do throws(RealmParameters.Defect) {
      params = try RealmParameters.validate(page, features: environment.features, maximumVMID: environment.vmids.maximum)
    } catch { throw .input }

    // RD and the root RTTs: distinct DELEGATED granules, locked in ascending PA order.
    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    addresses[0] = rd
    for i in 0..<params.rootTableCount { addresses[1 + i] = params.rttBase + UInt64(i) * granuleSize }
    let count = 1 + params.rootTableCount
    var locked = GranuleLockSet()
    guard isGranuleAligned(rd), environment.granules.lockAll(addresses, count: count, into: &locked) else { throw .input }
    for i in 0..<count where locked.state(of: addresses[i]) != .delegated {
      environment.granules.releaseAll(locked)
      throw .input
    }
    guard environment.vmids.reserve(params.vmid) else {
      environment.granules.releaseAll(locked)
      throw .input
    }

    let realm = RealmDescriptor(
      state: .new,
      stage2: Stage2Config(ipaWidth: params.ipaWidth, startLevel: params.startLevel,
                           rootTableCount: params.rootTableCount, rttBase: params.rttBase, vmid: params.vmid,
                           lpa2: params.flags & RealmParamsLayout.flagLPA2 != 0),
      hashAlgorithm: params.hashAlgorithm, recsCreated: 0, liveRECs: 0,
      rim: RIMDescriptor.initial(params.hashAlgorithm, flags: params.flags, s2sz: params.ipaWidth,
                                 sveVectorLength: params.sveVectorLength, breakpoints: params.breakpoints,
                                 watchpoints: params.watchpoints, pmuCounters: params.pmuCounters))
    locked.setState(.rd, of: rd)
    do throws(GateError) {
      try environment.gate.writing(locked[rd], AccessIntent(.rdWrite, .write, expecting: .rd)) { page in
        realm.store(to: &page)
        RealmDescriptor.store(params.features, to: &page)
        for i in 0..<8 { page.store64(params.personalizationValue[i], at: RDLayout.personalizationValue + 8 * i) }
      }
    } catch {
      environment.vmids.release(params.vmid)
      locked.setState(.delegated, of: rd)
      environment.granules.releaseAll(locked)
      throw accessFailed
    }
    // Root tables: zero (DELEGATED granules are) = every entry unassigned.
    for i in 0..<params.rootTableCount { locked.setState(.rtt, of: addresses[1 + i]) }
    environment.granules.releaseAll(locked)
  }

  public func realmActivate(rd: UInt64) throws(RMIError) {
    try withRealm(rd, changing: true) { granule, realm throws(RMIError) in
      guard realm.state == .new else { throw .realm() }
      realm.state = .active  // the RIM is frozen from here on (stored when withRealm returns)
    }
  }

  public func realmDestroy(rd: UInt64) throws(RMIError) {
    var rdGranule = try lockRD(rd)
    let realm: RealmDescriptor
    do throws(RMIError) { realm = try loadRealm(rdGranule) } catch {
      environment.granules.release(rdGranule)
      throw error
    }
    guard realm.liveRECs == 0 else {
      environment.granules.release(rdGranule)
      throw .realm()
    }
    // Root RTTs: internal granules, locked after the RD. None may hold a live entry.
    var roots = GranuleLockSet()
    var busy = false
    for i in 0..<realm.stage2.rootTableCount {
      guard let root = environment.granules.lock(realm.stage2.rttBase + UInt64(i) * granuleSize, expecting: .rtt) else {
        busy = true
        break
      }
      if root.descriptor.refcount != 0 { busy = true }
      roots.append(root)
    }
    if busy {
      environment.granules.releaseAll(roots)
      environment.granules.release(rdGranule)
      throw .realm()
    }
    for i in 0..<roots.count {
      roots.withSlot(i) { root in
        scrubForDestroy(root)  // unassigned entries may carry RIPAS bits
        root.setState(.delegated)
      }
    }
    environment.granules.releaseAll(roots)
    environment.tlb.invalidateAll(vmid: realm.stage2.vmid)
    environment.vmids.release(realm.stage2.vmid)
    scrubForDestroy(rdGranule)
    rdGranule.setState(.delegated)
    environment.granules.release(rdGranule)
  }
}

// RMI_REC_CREATE, RMI_REC_DESTROY, RMI_REC_AUX_COUNT.

import RMMABI

/// RECs a realm may have at once (RMI feature register 0: MAX_RECS_ORDER = 10).
public let maxLiveRECs: UInt64 = 1 << 10 - 1

extension RMIDispatcher {
  public func recAuxCount(rd: UInt64) throws(RMIError) -> UInt64 {
    let granule = try lockRD(rd)
    let features = try? environment.gate.reading(granule, AccessIntent(.rdRead, .read, expecting: .rd)) { page in
      RealmDescriptor.loadFeatures(from: page)
    }
    environment.granules.release(granule)
    guard let features else { environment.halt(.refusedOwnAccess) }
    return UInt64(features.recAuxCount)
  }

  public func recCreate(rd: UInt64, rec: UInt64, paramsPA: UInt64) throws(RMIError) {
    var page = PageBuffer()
    try copyHostPage(paramsPA, .recParams, into: &page)
    let params: RECParameters
    do throws(RECParameters.Defect) { params = try RECParameters.validate(page) } catch { throw .input }

    // RD, REC and aux granules: external, distinct, locked in ascending PA order.
    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    addresses[0] = rd
    addresses[1] = rec
    for i in 0..<params.auxCount { addresses[2 + i] = params.aux[i] }
    let count = 2 + params.auxCount
    var locked = GranuleLockSet()
    guard environment.granules.lockAll(addresses, count: count, into: &locked) else { throw .input }
    guard locked.state(of: rd) == .rd else {
      environment.granules.releaseAll(locked)
      throw .input
    }
    for i in 1..<count where locked.state(of: addresses[i]) != .delegated {
      environment.granules.releaseAll(locked)
      throw .input
    }
    // The RD is read once here (the realm and its features) and written once at the end.
    guard let (loaded, features) = try? environment.gate.reading(locked[rd], AccessIntent(.rdRead, .read, expecting: .rd), {
      page in (RealmDescriptor.load(from: page), RealmDescriptor.loadFeatures(from: page))
    }) else { environment.halt(.refusedOwnAccess) }
    guard var realm = loaded else { environment.halt(.realmDescriptor) }
    guard realm.liveRECs < maxLiveRECs, realm.state == .new else {
      environment.granules.releaseAll(locked)
      throw .realm()
    }
    // num_aux: exactly what RMI_REC_AUX_COUNT reports for this realm.
    guard params.auxCount == features.recAuxCount else {
      environment.granules.releaseAll(locked)
      throw .input
    }
    // RECs are created in MPIDR order: the MPIDR must name the next index, one of the
    // 2^MAX_RECS_ORDER that RMI_FEATURES reports.
    guard RECParameters.index(ofMPIDR: params.mpidr) == realm.recsCreated, realm.recsCreated < LiveRECs.capacity else {
      environment.granules.releaseAll(locked)
      throw .input
    }

    locked.setState(.rec, of: rec)
    do throws(GateError) {
      try environment.gate.writing(locked[rec], AccessIntent(.recWrite, .write, expecting: .rec)) { page in
        page.store64(params.runnable ? RECLayout.flagRunnable : 0, at: RECLayout.flags)
        page.store64(params.mpidr, at: RECLayout.mpidr)
        page.store64(realm.recsCreated, at: RECLayout.index)
        page.store64(rd, at: RECLayout.owner)
        page.store64(params.pc, at: RECLayout.pc)
        page.store64(features.breakpoints, at: RECLayout.breakpoints)
        page.store64(features.watchpoints, at: RECLayout.watchpoints)
        page.store64(RealmDescriptor.encodedFeature(features.sveVectorLength), at: RECLayout.sveVectorLength)
        page.store64(RealmDescriptor.encodedFeature(features.pmuCounters), at: RECLayout.pmuCounters)
        // The realm's EL1 starts at its whole vector length (ZCR_EL1.LEN).
        page.store64(features.sveVectorLength ?? 0, at: RECLayout.sveControl)
        page.store64(UInt64(params.auxCount), at: RECLayout.auxCount)
        for i in 0..<params.auxCount { page.store64(params.aux[i], at: RECLayout.aux + 8 * i) }
        for i in 0..<8 { page.store64(params.gprs[i], at: RECLayout.context + RECContextLayout.gprs + 8 * i) }
        page.store64(params.pc, at: RECLayout.context + RECContextLayout.elr)
        page.store64(RECSystemRegisters.initialPSTATE, at: RECLayout.context + RECContextLayout.spsr)
        RECSystemRegisters.initialise(&page, vmpidr: RECParameters.vmpidr(ofMPIDR: params.mpidr))
      }
    } catch {
      locked.setState(.delegated, of: rec)
      environment.granules.releaseAll(locked)
      throw accessFailed
    }
    for i in 0..<params.auxCount { locked.setState(.recAux, of: params.aux[i]) }
    if params.runnable {  // only runnable RECs are measured
      let content = RIMDescriptor.recParamsContent(realm.hashAlgorithm, flags: params.flags, pc: params.pc, gprs: params.gprs)
      realm.rim = RIMDescriptor.extendForREC(realm.hashAlgorithm, rim: realm.rim, content: content)
    }
    let index = realm.recsCreated
    realm.recsCreated += 1
    realm.liveRECs += 1
    storeRealm(realm, settingREC: index, live: true, locked[rd])
    environment.granules.releaseAll(locked)
  }

  public func recDestroy(rec: UInt64) throws(RMIError) {
    // The owner RD is only known from inside the REC: read it, then lock RD and REC in
    // ascending order and check nothing changed in between.
    guard let probe = environment.granules.lock(rec, expecting: .rec) else { throw .input }
    let owner: UInt64
    do throws(GateError) {
      owner = try environment.gate.reading(probe, AccessIntent(.recRead, .read, expecting: .rec, length: 64)) { page in
        page.load64(at: RECLayout.owner)
      }
    } catch {
      environment.granules.release(probe)
      environment.halt(.refusedOwnAccess)
    }
    guard probe.descriptor.refcount == 0 else {  // running on another CPU
      environment.granules.release(probe)
      throw .rec
    }
    environment.granules.release(probe)

    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    addresses[0] = owner
    addresses[1] = rec
    var locked = GranuleLockSet()
    guard environment.granules.lockAll(addresses, count: 2, into: &locked) else { throw .input }
    guard locked.state(of: rec) == .rec, locked.state(of: owner) == .rd else {
      environment.granules.releaseAll(locked)
      throw .input
    }
    guard locked[rec].descriptor.refcount == 0 else {
      environment.granules.releaseAll(locked)
      throw .rec
    }
    var auxCount = 0
    var aux: InlineArray<16, UInt64> = .init(repeating: 0)
    var sameOwner = false
    var index: UInt64 = 0
    do throws(GateError) {
      try environment.gate.reading(locked[rec], AccessIntent(.recRead, .read, expecting: .rec)) { page in
        sameOwner = page.load64(at: RECLayout.owner) == owner
        index = page.load64(at: RECLayout.index)
        auxCount = min(Int(page.load64(at: RECLayout.auxCount)), 16)
        for i in 0..<auxCount { aux[i] = page.load64(at: RECLayout.aux + 8 * i) }
      }
    } catch {
      environment.granules.releaseAll(locked)
      environment.halt(.refusedOwnAccess)
    }
    guard sameOwner else {  // the REC was destroyed and re-created meanwhile
      environment.granules.releaseAll(locked)
      throw .input
    }
    var realm: RealmDescriptor
    do throws(RMIError) { realm = try loadRealm(locked[owner]) } catch {
      environment.granules.releaseAll(locked)
      throw error
    }
    // Aux granules are internal to the REC: locked after it, scrubbed, released.
    for i in 0..<auxCount {
      if var granule = environment.granules.lock(aux[i], expecting: .recAux) {
        scrubForDestroy(granule)
        granule.setState(.delegated)
        environment.granules.release(granule)
      }
    }
    scrubForDestroy(locked[rec])
    locked.setState(.delegated, of: rec)
    realm.liveRECs -= 1
    storeRealm(realm, settingREC: index, live: false, locked[owner])
    environment.granules.releaseAll(locked)
  }
}

/// Which REC indices of a realm exist now: a bitmap in the RD, so that PSCI can tell an
/// MPIDR that names a live REC from one whose REC was destroyed (MpidrIsUsed).
public enum LiveRECs {
  /// 2^MAX_RECS_ORDER (RMI_FEATURES): the indices a realm's RECs can have.
  public static let capacity: UInt64 = 1 << 10
  static func word(_ index: UInt64) -> Int { RDLayout.liveRECBitmap + 8 * Int(index / 64) }
  static func bit(_ index: UInt64) -> UInt64 { 1 << (index % 64) }
}

extension RMIDispatcher {
  /// Marks REC `index` live or gone in its realm's RD (locked by the caller).
  /// Writes `realm` back and marks REC `index` live or not, in one mapping of the RD.
  func storeRealm(_ realm: RealmDescriptor, settingREC index: UInt64, live: Bool, _ rd: borrowing LockedGranule) {
    do throws(GateError) {
      try environment.gate.writing(rd, AccessIntent(.rdWrite, .write, expecting: .rd)) { page in
        realm.store(to: &page)
        guard index < LiveRECs.capacity else { return }
        let word = page.load64(at: LiveRECs.word(index))
        page.store64(live ? word | LiveRECs.bit(index) : word & ~LiveRECs.bit(index), at: LiveRECs.word(index))
      }
    } catch { environment.halt(.refusedOwnAccess) }
  }

  /// Whether REC `index` of the realm at `rd` exists (locks the RD).
  func recExists(index: UInt64, rd: UInt64) -> Bool {
    guard index < LiveRECs.capacity, let granule = environment.granules.lock(rd, expecting: .rd) else { return false }
    let live = (try? environment.gate.reading(granule, AccessIntent(.rdRead, .read, expecting: .rd)) { page in
      page.load64(at: LiveRECs.word(index)) & LiveRECs.bit(index) != 0
    }) ?? false
    environment.granules.release(granule)
    return live
  }
}

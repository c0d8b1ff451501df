// RMI fuzzing from the Normal world, against the real RMM: seeded random sequences of
// lifecycle calls (delegate, realms, RTTs, DATA, RECs) interleaved with hostile ones
// (addresses of RMM, EL3, secure, MMIO and absent memory; granules in the wrong state
// or of the other realm; delegated or corrupted parameter pages; wrong levels,
// unaligned and out-of-range IPAs; unknown FIDs in the RMI range).
//
// The fuzzer keeps its own model of every granule and table it touches and checks each
// result against it, in both directions: a call the model says must fail may not
// succeed, a call it says must succeed may not fail, every status is a well-formed RMI
// 1.0 status, and results that carry addresses carry the right ones. At the end the
// model tears everything down and every granule must be NS again and readable.
//
// Each CPU runs its own fuzzer on its own granules and realms, at the same time, so
// the RMM's locks are exercised too; the pools are disjoint, so a CPU's sequence is
// fully determined by its seed and replays on one CPU (scripts/fuzz --seed S --cpus 1).

import AArch64Shim
import RMMABI
import RMMCore

/// What the model believes a pool granule is.
enum FuzzGranule: UInt8 {
  case undelegated, delegated, rd, rtt, data, rec, recAux
}

/// One fuzz realm: s2sz 39, one level-1 root. Tables and DATA live at a few fixed IPA
/// slots so that the sequence keeps hitting existing state: 2 L2 tables (1 GiB apart),
/// 4 L3 tables under each, 4 DATA pages at the start of each L3 range.
struct FuzzRealm {
  static let l2Slots = 2, l3PerL2 = 4, dataPerL3 = 4, maxRECs = 3
  var live = false
  var active = false
  var rd: UInt64 = 0
  var root: UInt64 = 0
  var vmid: UInt64 = 0
  var recsCreated: UInt64 = 0
  var l2: InlineArray<2, UInt64> = .init(repeating: 0)
  var l3: InlineArray<8, UInt64> = .init(repeating: 0)
  var data: InlineArray<32, UInt64> = .init(repeating: 0)
  var recs: InlineArray<3, UInt64> = .init(repeating: 0)
  /// Up to 3 aux granules per REC: a realm with SVE (at most 896 bits here) has 3.
  var aux: InlineArray<9, UInt64> = .init(repeating: 0)
  /// RMI_REC_AUX_COUNT of the realm.
  var auxCount = 2

  static func l2IPA(_ s: Int) -> UInt64 { UInt64(s) << 30 }
  static func l3IPA(_ t: Int) -> UInt64 { l2IPA(t / l3PerL2) + UInt64(t % l3PerL2) << 21 }
  static func dataIPA(_ d: Int) -> UInt64 { l3IPA(d / dataPerL3) + UInt64(d % dataPerL3) << 12 }
  var liveRECs: Int {
    var n = 0
    for i in 0..<FuzzRealm.maxRECs where recs[i] != 0 { n += 1 }
    return n
  }
}

/// One call as issued, for the failure report.
struct FuzzCall {
  var fid: UInt64 = 0, a1: UInt64 = 0, a2: UInt64 = 0, a3: UInt64 = 0, a4: UInt64 = 0, a5: UInt64 = 0, x0: UInt64 = 0
}

enum FuzzExpectation { case success, failure, unknownFunction }

/// Addresses no RMI call may accept as a granule or an NS page: RMM image, EL3-RMM
/// shared page, secure SRAM, MMIO (UART, GIC), beyond DRAM, in the DRAM bank but
/// absent, top of the PA space, unaligned.
enum HostileAddresses {
  static let count: UInt64 = 11
  static func pick(_ i: UInt64, pool: UInt64) -> UInt64 {
    switch i {
    case 0: return Board.rmmBase
    case 1: return Board.rmmBase + 0x20000
    case 2: return Board.sharedPage
    case 3: return Board.securePA
    case 4: return Board.mmioPA
    case 5: return Board.gicDistributor
    case 6: return Board.beyondDRAM
    case 7: return Board.topOfRAM
    case 8: return 0x000F_FFFF_FFFF_F000
    case 9: return 0xFFFF_FFFF_FFFF_F000
    default: return pool + 0x10  // unaligned
    }
  }
}

struct NSFuzzer {
  static let poolSize = 64
  let cpu: UInt64
  let pool: UInt64          // poolSize granules
  let paramsPage: UInt64    // NS, never delegated
  let sourcePage: UInt64    // NS DATA_CREATE source
  var random: FuzzRandom
  var granules: InlineArray<64, FuzzGranule> = .init(repeating: .undelegated)
  var realms: InlineArray<2, FuzzRealm> = .init(repeating: FuzzRealm())
  var history: InlineArray<8, FuzzCall> = .init(repeating: FuzzCall())
  /// `history` as it was at the first violation (the failing call last).
  var historyAtViolation: InlineArray<8, FuzzCall> = .init(repeating: FuzzCall())
  var calls: UInt64 = 0
  var violations: UInt64 = 0
  var firstViolation: UInt64 = 0
  var successes: UInt64 = 0

  /// RMI_FEATURES offers LPA2: the fuzz realms then use the LPA2 descriptor format half
  /// of the time (the same IPA slots, so the model does not change).
  let lpa2Offered: Bool
  /// What RMI_FEATURES offers of SVE and the PMU (valid realms use them at random).
  let features: RMIFeatureRegister0
  /// The aux count of the realm the last writeRealmParams described.
  var paramsAuxCount = 2

  init(cpu: UInt64, seed: UInt64) {
    self.cpu = cpu
    features = RMIFeatureRegister0(rawValue: rmi(.features, 0).x1)
    lpa2Offered = features.lpa2
    pool = Board.testGranules + 0x0600_0000 + cpu * 0x10_0000
    paramsPage = Board.testGranules + 0x0680_0000 + cpu * 0x1_0000
    sourcePage = paramsPage + 0x1000
    random = FuzzRandom(seed: seed)
  }

  func address(_ i: Int) -> UInt64 { pool + UInt64(i) * 0x1000 }
  func index(of pa: UInt64) -> Int? {
    guard pa >= pool, pa < pool + UInt64(NSFuzzer.poolSize) * 0x1000, pa & 0xFFF == 0 else { return nil }
    return Int((pa - pool) >> 12)
  }
  func state(_ pa: UInt64) -> FuzzGranule? { index(of: pa).map { granules[$0] } }
  mutating func set(_ pa: UInt64, _ s: FuzzGranule) { if let i = index(of: pa) { granules[i] = s } }
  func isDelegated(_ pa: UInt64) -> Bool { state(pa) == .delegated }

  /// A granule for an argument: mostly from the pool (any state), sometimes hostile.
  mutating func anyGranule() -> UInt64 {
    if random.percent(8) { return HostileAddresses.pick(random.below(HostileAddresses.count), pool: pool) }
    return address(Int(random.below(UInt64(NSFuzzer.poolSize))))
  }
  /// A granule the model says is in `wanted`, if there is one (else any granule).
  mutating func granule(in wanted: FuzzGranule) -> UInt64 {
    let start = Int(random.below(UInt64(NSFuzzer.poolSize)))
    for k in 0..<NSFuzzer.poolSize {
      let i = (start + k) % NSFuzzer.poolSize
      if granules[i] == wanted { return address(i) }
    }
    return anyGranule()
  }
  /// An RD argument: a live realm's RD mostly, anything sometimes.
  mutating func rdArgument() -> (UInt64, Int?) {
    let r = Int(random.below(2))
    if realms[r].live && random.percent(85) { return (realms[r].rd, r) }
    let pa = anyGranule()
    return (pa, realmIndex(rd: pa))
  }
  /// An address the RMM may not use as an NS page: a delegated granule, or hostile.
  mutating func unreadableNSPage() -> UInt64 {
    random.percent(50) ? granule(in: .delegated) : HostileAddresses.pick(random.below(HostileAddresses.count), pool: pool)
  }
  func realmIndex(rd: UInt64) -> Int? {
    for r in 0..<2 where realms[r].live && realms[r].rd == rd { return r }
    return nil
  }

  // ---- issuing and checking ----------------------------------------------------

  mutating func issue(_ fid: UInt64, _ a1: UInt64, _ a2: UInt64 = 0, _ a3: UInt64 = 0, _ a4: UInt64 = 0,
                      _ a5: UInt64 = 0, expecting expectation: FuzzExpectation) -> SMCResult {
    let result = smc(fid, a1, a2, a3, a4, a5)
    history[Int(calls % 8)] = FuzzCall(fid: fid, a1: a1, a2: a2, a3: a3, a4: a4, a5: a5, x0: result.x0)
    calls += 1
    var ok: Bool
    switch expectation {
    case .success: ok = result.x0 == 0
    case .unknownFunction: ok = result.x0 == smcUnknown
    case .failure:
      if let status = RMIStatus(encoded: result.x0), status.code != .success {
        ok = status.code == .errorRTT ? status.index <= 3 : status.index == 0
      } else {
        ok = false
      }
    }
    if result.x0 == 0 { successes += 1 }
    if !ok { violation() }
    return result
  }

  mutating func violation() {
    if violations == 0 {
      firstViolation = calls
      historyAtViolation = history
    }
    violations += 1
  }

  mutating func expectValue(_ got: UInt64, _ expected: UInt64) { if got != expected { violation() } }

  // ---- the operations --------------------------------------------------------------

  mutating func step() {
    switch random.below(100) {
    case 0..<14: delegate()
    case 14..<24: undelegate()
    case 24..<31: realmCreate()
    case 31..<35: realmDestroy()
    case 35..<37: realmActivate()
    case 37..<50: rttCreate()
    case 50..<58: rttDestroy()
    case 58..<68: dataCreate()
    case 68..<75: dataDestroy()
    case 75..<81: recCreate()
    case 81..<85: recDestroy()
    case 85..<88: readEntry()
    case 88..<90: recEnter()
    case 90..<95: hostileFirstArgument()
    default: unknownFunction()
    }
  }

  mutating func delegate() {
    let pa = anyGranule()
    let ok = state(pa) == .undelegated
    if issue(RMICommand.granuleDelegate.rawValue, pa, expecting: ok ? .success : .failure).x0 == 0 && ok {
      set(pa, .delegated)
    }
  }

  mutating func undelegate() {
    let pa = random.percent(70) ? granule(in: .delegated) : anyGranule()
    let ok = state(pa) == .delegated
    if issue(RMICommand.granuleUndelegate.rawValue, pa, expecting: ok ? .success : .failure).x0 == 0 && ok {
      set(pa, .undelegated)
    }
  }

  /// Writes realm parameters for `r`; returns whether they are valid.
  mutating func writeRealmParams(root: UInt64, vmid: UInt64) -> Bool {
    let p = paramsPage
    fillPage(p) { _ in 0 }
    mmio_write64(p + UInt64(RealmParamsLayout.s2sz), 39)
    mmio_write64(p + UInt64(RealmParamsLayout.numberOfBreakpoints), 1)
    mmio_write64(p + UInt64(RealmParamsLayout.numberOfWatchpoints), 1)
    mmio_write64(p + UInt64(RealmParamsLayout.vmid), vmid)
    mmio_write64(p + UInt64(RealmParamsLayout.rttBase), root)
    mmio_write64(p + UInt64(RealmParamsLayout.rttLevelStart), 1)
    mmio_write64(p + UInt64(RealmParamsLayout.rttNumStart), 1)
    let lpa2 = lpa2Offered && random.percent(50)
    // SVE up to 896 bits (one SVE aux granule) and a PMU, each a third of the time.
    let sve = features.sveEnabled && random.percent(33)
    let pmu = features.pmuEnabled && random.percent(33)
    let flags = (lpa2 ? RealmParamsLayout.flagLPA2 : 0) | (sve ? RealmParamsLayout.flagSVE : 0) | (pmu ? RealmParamsLayout.flagPMU : 0)
    mmio_write64(p + UInt64(RealmParamsLayout.flags), flags)
    if sve { mmio_write64(p + UInt64(RealmParamsLayout.sveVectorLength), random.below(min(features.sveVectorLength, 6) + 1)) }
    if pmu { mmio_write64(p + UInt64(RealmParamsLayout.pmuCounters), random.below(features.pmuCounters + 1)) }
    paramsAuxCount = sve ? 3 : 2
    guard random.percent(20) else { return true }
    if random.percent(25) {  // a feature beyond what RMI_FEATURES offers
      let field = random.percent(50) ? RealmParamsLayout.sveVectorLength : RealmParamsLayout.pmuCounters
      mmio_write64(p + UInt64(RealmParamsLayout.flags), flags | RealmParamsLayout.flagSVE | RealmParamsLayout.flagPMU)
      mmio_write64(p + UInt64(field), field == RealmParamsLayout.sveVectorLength ? features.sveVectorLength + 1 : features.pmuCounters + 1)
      return false
    }
    switch random.below(9) {  // one defect the RMM must reject
    case 0: mmio_write64(p + UInt64(RealmParamsLayout.hashAlgorithm), 7)
    case 1: mmio_write64(p + UInt64(RealmParamsLayout.s2sz), 60)
    case 2: mmio_write64(p + UInt64(RealmParamsLayout.rttNumStart), 2)
    case 3:  // sve_vl without flags.sve
      mmio_write64(p + UInt64(RealmParamsLayout.flags), flags & ~RealmParamsLayout.flagSVE)
      mmio_write64(p + UInt64(RealmParamsLayout.sveVectorLength), 1)
    case 4: mmio_write64(p + UInt64(RealmParamsLayout.rttBase), root + 0x800)
    case 5 where !lpa2, 6 where !lpa2:  // 49 bits from level 0 (2 roots) or 52 from level -1: LPA2 only
      let wide = random.percent(50)
      mmio_write64(p + UInt64(RealmParamsLayout.s2sz), wide ? 52 : 49)
      mmio_write64(p + UInt64(RealmParamsLayout.rttLevelStart), wide ? UInt64(bitPattern: -1) : 0)
      mmio_write64(p + UInt64(RealmParamsLayout.rttNumStart), wide ? 1 : 2)
    case 7 where !lpa2Offered: mmio_write64(p + UInt64(RealmParamsLayout.flags), flags | RealmParamsLayout.flagLPA2)
    case 7, 8: mmio_write64(p + UInt64(RealmParamsLayout.rttLevelStart), UInt64(bitPattern: -1))  // 39 bits: no level -1
    default: mmio_write64(p + UInt64(RealmParamsLayout.numberOfBreakpoints), 0)
    }
    return false
  }

  mutating func realmCreate() {
    // A free slot if there is one: with both slots live every VMID is taken, so the
    // RMM must refuse (the model tracks two realms per CPU).
    var r = Int(random.below(2))
    if realms[r].live { r = 1 - r }
    let rd = random.percent(80) ? granule(in: .delegated) : anyGranule()
    let root = random.percent(80) ? granule(in: .delegated) : anyGranule()
    // The other realm's VMID sometimes: rejected while that realm lives.
    let vmid = random.percent(10) ? 200 + cpu * 4 + UInt64(1 - r) : 200 + cpu * 4 + UInt64(r)
    var paramsValid = writeRealmParams(root: root, vmid: vmid)
    var params = paramsPage
    if random.percent(8) {  // parameters in realm, secure or absent memory
      params = unreadableNSPage()
      paramsValid = false
    }
    let vmidFree = !(realms[0].live && realms[0].vmid == vmid) && !(realms[1].live && realms[1].vmid == vmid)
    let ok = !realms[r].live && paramsValid && vmidFree && rd != root && isDelegated(rd) && isDelegated(root)
    if issue(RMICommand.realmCreate.rawValue, rd, params, expecting: ok ? .success : .failure).x0 == 0 && ok {
      set(rd, .rd)
      set(root, .rtt)
      realms[r] = FuzzRealm()
      realms[r].live = true
      realms[r].rd = rd
      realms[r].root = root
      realms[r].vmid = vmid
      realms[r].auxCount = paramsAuxCount
    }
  }

  mutating func realmDestroy() {
    let (rd, r) = rdArgument()
    var ok = false
    if let r {
      ok = realms[r].liveRECs == 0
      for s in 0..<FuzzRealm.l2Slots where realms[r].l2[s] != 0 { ok = false }
    }
    if issue(RMICommand.realmDestroy.rawValue, rd, expecting: ok ? .success : .failure).x0 == 0 && ok, let r {
      set(realms[r].rd, .delegated)
      set(realms[r].root, .delegated)
      realms[r].live = false
    }
  }

  mutating func realmActivate() {
    let (rd, r) = rdArgument()
    let ok = r.map { !realms[$0].active } ?? false
    if issue(RMICommand.realmActivate.rawValue, rd, expecting: ok ? .success : .failure).x0 == 0 && ok, let r {
      realms[r].active = true
    }
  }

  /// An IPA slot with, sometimes, a defect: unaligned, beyond s2sz.
  mutating func ipa(_ base: UInt64) -> (UInt64, Bool) {
    guard random.percent(10) else { return (base, true) }
    switch random.below(3) {
    case 0: return (base + 0x800, false)
    case 1: return (base | 1 << 39, false)
    default: return (base | 1 << 50, false)
    }
  }

  mutating func rttCreate() {
    let (rd, r) = rdArgument()
    let table = random.percent(80) ? granule(in: .delegated) : anyGranule()
    let level: UInt64 = random.percent(50) ? 2 : 3
    let slot = Int(random.below(level == 2 ? 2 : 8))
    let (ipa, ipaOK) = ipa(level == 2 ? FuzzRealm.l2IPA(slot) : FuzzRealm.l3IPA(slot))
    var wrongLevel = level
    if random.percent(5) {
      switch random.below(4) {
      case 0: wrongLevel = 0
      case 1: wrongLevel = 1
      case 2: wrongLevel = 4
      default: wrongLevel = 0x100
      }
    }
    var ok = ipaOK && wrongLevel == level && isDelegated(table) && table != rd
    if let r {
      let realm = realms[r]
      ok = ok && (level == 2 ? realm.l2[slot] == 0 : realm.l2[slot / 4] != 0 && realm.l3[slot] == 0)
    } else {
      ok = false
    }
    if issue(RMICommand.rttCreate.rawValue, rd, table, ipa, wrongLevel, expecting: ok ? .success : .failure).x0 == 0
      && ok, let r
    {
      set(table, .rtt)
      if level == 2 { realms[r].l2[slot] = table } else { realms[r].l3[slot] = table }
    }
  }

  mutating func rttDestroy() {
    let (rd, r) = rdArgument()
    let level: UInt64 = random.percent(40) ? 2 : 3
    let slot = Int(random.below(level == 2 ? 2 : 8))
    let (ipa, ipaOK) = ipa(level == 2 ? FuzzRealm.l2IPA(slot) : FuzzRealm.l3IPA(slot))
    var ok = ipaOK
    var table: UInt64 = 0
    if let r {
      let realm = realms[r]
      if level == 2 {
        table = realm.l2[slot]
        for t in 0..<4 where realm.l3[slot * 4 + t] != 0 { ok = false }
      } else {
        table = realm.l3[slot]
        for d in 0..<4 where realm.data[slot * 4 + d] != 0 { ok = false }
      }
      ok = ok && table != 0
    } else {
      ok = false
    }
    let result = issue(RMICommand.rttDestroy.rawValue, rd, ipa, level, expecting: ok ? .success : .failure)
    if result.x0 == 0 && ok, let r {
      expectValue(result.x1, table)
      set(table, .delegated)
      if level == 2 { realms[r].l2[slot] = 0 } else { realms[r].l3[slot] = 0 }
    }
  }

  mutating func dataCreate() {
    let (rd, r) = rdArgument()
    let data = random.percent(80) ? granule(in: .delegated) : anyGranule()
    let slot = Int(random.below(32))
    var (ipa, ipaOK) = ipa(FuzzRealm.dataIPA(slot))
    if random.percent(4) { (ipa, ipaOK) = (FuzzRealm.dataIPA(slot) | 1 << 38, false) }  // unprotected IPA
    let measured = random.percent(50)
    var ok = ipaOK && isDelegated(data) && data != rd
    if let r {
      let realm = realms[r]
      ok = ok && realm.l3[slot / 4] != 0 && realm.data[slot] == 0 && (!measured || !realm.active)
    } else {
      ok = false
    }
    let result: SMCResult
    if measured {
      var source = sourcePage
      if random.percent(10) {  // a source the RMM may not read
        source = unreadableNSPage()
        ok = false
      }
      mmio_write64(sourcePage, random.next())
      result = issue(RMICommand.dataCreate.rawValue, rd, data, ipa, source, random.below(2),
                     expecting: ok ? .success : .failure)
    } else {
      result = issue(RMICommand.dataCreateUnknown.rawValue, rd, data, ipa, expecting: ok ? .success : .failure)
    }
    if result.x0 == 0 && ok, let r {
      set(data, .data)
      realms[r].data[slot] = data
    }
  }

  mutating func dataDestroy() {
    let (rd, r) = rdArgument()
    let slot = Int(random.below(32))
    let (ipa, ipaOK) = ipa(FuzzRealm.dataIPA(slot))
    let data = r.map { realms[$0].data[slot] } ?? 0
    let ok = ipaOK && data != 0
    let result = issue(RMICommand.dataDestroy.rawValue, rd, ipa, expecting: ok ? .success : .failure)
    if result.x0 == 0 && ok, let r {
      expectValue(result.x1, data)
      set(data, .delegated)
      realms[r].data[slot] = 0
    }
  }

  mutating func recCreate() {
    let (rd, r) = rdArgument()
    let rec = random.percent(85) ? granule(in: .delegated) : anyGranule()
    let aux0 = random.percent(85) ? granule(in: .delegated) : anyGranule()
    let aux1 = random.percent(85) ? granule(in: .delegated) : anyGranule()
    let aux2 = random.percent(85) ? granule(in: .delegated) : anyGranule()
    let auxCount = r.map { realms[$0].auxCount } ?? 2
    var index = r.map { realms[$0].recsCreated } ?? 0
    if random.percent(10) { index += 1 + random.below(3) }  // out of order: rejected
    let p = paramsPage
    fillPage(p) { _ in 0 }
    mmio_write64(p + UInt64(RecParamsLayout.mpidr), index)
    mmio_write64(p + UInt64(RecParamsLayout.numberOfAux), UInt64(auxCount))
    mmio_write64(p + UInt64(RecParamsLayout.aux), aux0)
    mmio_write64(p + UInt64(RecParamsLayout.aux) + 8, aux1)
    var ok = isDelegated(rec) && isDelegated(aux0) && isDelegated(aux1)
      && rec != aux0 && rec != aux1 && aux0 != aux1 && rec != rd && aux0 != rd && aux1 != rd
    if auxCount == 3 {
      mmio_write64(p + UInt64(RecParamsLayout.aux) + 16, aux2)
      ok = ok && isDelegated(aux2) && aux2 != rec && aux2 != aux0 && aux2 != aux1 && aux2 != rd
    }
    if random.percent(5) {  // one aux granule more or fewer than RMI_REC_AUX_COUNT
      mmio_write64(p + UInt64(RecParamsLayout.numberOfAux), UInt64(random.percent(50) ? auxCount + 1 : auxCount - 1))
      ok = false
    }
    var slot = -1
    if let r {
      for i in 0..<FuzzRealm.maxRECs where realms[r].recs[i] == 0 { slot = i }
      ok = ok && !realms[r].active && index == realms[r].recsCreated && slot >= 0
    } else {
      ok = false
    }
    if r != nil && slot < 0 { return }  // the model keeps at most 3 RECs per realm
    if issue(RMICommand.recCreate.rawValue, rd, rec, p, expecting: ok ? .success : .failure).x0 == 0 && ok, let r {
      set(rec, .rec)
      set(aux0, .recAux)
      set(aux1, .recAux)
      realms[r].recs[slot] = rec
      realms[r].aux[slot * 3] = aux0
      realms[r].aux[slot * 3 + 1] = aux1
      if auxCount == 3 {
        set(aux2, .recAux)
        realms[r].aux[slot * 3 + 2] = aux2
      }
      realms[r].recsCreated += 1
    }
  }

  mutating func recDestroy() {
    let rec = random.percent(75) ? granule(in: .rec) : anyGranule()
    var owner: (Int, Int)?
    for r in 0..<2 where realms[r].live {
      for i in 0..<FuzzRealm.maxRECs where realms[r].recs[i] == rec { owner = (r, i) }
    }
    let ok = owner != nil
    if issue(RMICommand.recDestroy.rawValue, rec, expecting: ok ? .success : .failure).x0 == 0 && ok,
       case let (r, i)? = owner
    {
      set(rec, .delegated)
      for a in 0..<realms[r].auxCount { set(realms[r].aux[i * 3 + a], .delegated) }
      realms[r].recs[i] = 0
    }
  }

  /// REC_ENTER never runs anything here: the fuzzer's RECs are created not runnable,
  /// so it fails with ERROR_REALM (realm NEW), ERROR_REC (not runnable) or, for a run
  /// page the RMM may not read or write (delegated, secure, absent...), ERROR_INPUT.
  mutating func recEnter() {
    let rec = random.percent(80) ? granule(in: .rec) : anyGranule()
    var run = paramsPage + 0x2000
    if random.percent(40) {
      run = unreadableNSPage()
    }
    fillPage(paramsPage + 0x2000) { _ in random.next() }  // garbage in every enter field
    _ = issue(RMICommand.recEnter.rawValue, rec, run, expecting: .failure)
  }

  /// RTT_READ_ENTRY: succeeds for any valid realm and IPA the walk can reach; checks
  /// that a DATA page reads back as ASSIGNED with its PA.
  mutating func readEntry() {
    let (rd, r) = rdArgument()
    let slot = Int(random.below(32))
    let (ipa, ipaOK) = ipa(FuzzRealm.dataIPA(slot))
    let ok = ipaOK && r != nil
    let result = issue(RMICommand.rttReadEntry.rawValue, rd, ipa, 3, expecting: ok ? .success : .failure)
    guard result.x0 == 0, ok, let r else { return }
    let data = realms[r].data[slot]
    if data != 0 {
      expectValue(result.x1, 3)        // walk level
      expectValue(result.x2, 1)        // ASSIGNED
      expectValue(result.x3, data)
    } else if realms[r].l3[slot / 4] != 0 {
      expectValue(result.x1, 3)
      expectValue(result.x2, 0)        // UNASSIGNED
    }
  }

  /// Every command that takes a granule first, given an address no granule can have.
  mutating func hostileFirstArgument() {
    let commands: InlineArray<13, RMICommand> = [
      .granuleDelegate, .granuleUndelegate, .dataCreate, .dataCreateUnknown, .dataDestroy, .realmActivate,
      .realmCreate, .realmDestroy, .recCreate, .recDestroy, .recEnter, .rttCreate, .rttReadEntry,
    ]
    let command = commands[Int(random.below(13))]
    let pa = HostileAddresses.pick(random.below(HostileAddresses.count), pool: pool)
    _ = issue(command.rawValue, pa, anyGranule(), random.next(), random.below(4), expecting: .failure)
  }

  /// FIDs the RMM forwards range has no command for: SMC_UNKNOWN, nothing else.
  mutating func unknownFunction() {
    var fid = RMICommand.forwardedRange.lowerBound + random.below(0x40)
    if random.percent(30) { fid |= smcSVEHintBit }
    let plain = fid & ~smcSVEHintBit
    // Known commands, and the project's audit/test-hook FIDs, are not "unknown".
    if RMICommand(rawValue: plain) != nil || plain == AuditInterface.fid || plain == 0xC400_018E { return }
    _ = issue(fid, random.next(), random.next(), random.next(), random.next(), expecting: .unknownFunction)
  }

  // ---- teardown ----------------------------------------------------------------------

  /// Undoes everything through the model; every call must succeed. Then every pool
  /// granule must be NS again: readable without a granule protection fault.
  mutating func tearDown() -> Bool {
    for r in 0..<2 where realms[r].live {
      let rd = realms[r].rd
      for d in 0..<32 where realms[r].data[d] != 0 {
        _ = issue(RMICommand.dataDestroy.rawValue, rd, FuzzRealm.dataIPA(d), expecting: .success)
        set(realms[r].data[d], .delegated)
      }
      for t in 0..<8 where realms[r].l3[t] != 0 {
        _ = issue(RMICommand.rttDestroy.rawValue, rd, FuzzRealm.l3IPA(t), 3, expecting: .success)
        set(realms[r].l3[t], .delegated)
      }
      for s in 0..<2 where realms[r].l2[s] != 0 {
        _ = issue(RMICommand.rttDestroy.rawValue, rd, FuzzRealm.l2IPA(s), 2, expecting: .success)
        set(realms[r].l2[s], .delegated)
      }
      for i in 0..<FuzzRealm.maxRECs where realms[r].recs[i] != 0 {
        _ = issue(RMICommand.recDestroy.rawValue, realms[r].recs[i], expecting: .success)
        set(realms[r].recs[i], .delegated)
        for a in 0..<realms[r].auxCount { set(realms[r].aux[3 * i + a], .delegated) }
      }
      _ = issue(RMICommand.realmDestroy.rawValue, rd, expecting: .success)
      set(rd, .delegated)
      set(realms[r].root, .delegated)
      realms[r].live = false
    }
    var allNS = true
    for i in 0..<NSFuzzer.poolSize {
      if granules[i] == .delegated {
        _ = issue(RMICommand.granuleUndelegate.rawValue, address(i), expecting: .success)
        granules[i] = .undelegated
      }
      if granules[i] != .undelegated || testhost_probe_read(address(i)).esr != 0 { allNS = false }
    }
    return allNS
  }

  /// A run: `count` random calls, then the teardown. Returns whether it was clean.
  mutating func run(calls count: UInt64) -> Bool {
    while calls < count { step() }
    return tearDown() && violations == 0
  }

  func report() {
    console.write("FUZZ CPU ")
    console.decimal(cpu)
    console.write(": ")
    console.decimal(calls)
    console.write(" calls, ")
    console.decimal(successes)
    console.write(" succeeded, ")
    console.decimal(violations)
    console.write(" model violations\n")
    guard violations > 0 else { return }
    console.write("FUZZ first violation at call ")
    console.decimal(firstViolation)
    console.write("; the calls up to it (fid a1 a2 a3 a4 a5 -> x0):\n")
    for k in 0..<UInt64(8) where firstViolation >= 8 - k {
      let c = historyAtViolation[Int((firstViolation + k) % 8)]
      console.write("FUZZ   ")
      let values: InlineArray<6, UInt64> = [c.fid, c.a1, c.a2, c.a3, c.a4, c.a5]
      for v in 0..<6 {
        console.hex(values[v])
        console.put(32)
      }
      console.write("-> ")
      console.hex(c.x0)
      console.newline()
    }
  }
}

// ---- the fuzz run mode ------------------------------------------------------------

/// Per-CPU results in NS memory (the CPUs' caches are coherent; plain device-style
/// accesses keep the compiler from caching them): start flag, done, clean, calls,
/// violations, first violation.
enum FuzzShared {
  static let maxCPUs: UInt64 = 4
  static let base = Board.testGranules + 0x0690_0000
  static func slot(_ cpu: UInt64, _ field: UInt64) -> UInt64 { base + cpu * 0x100 + field * 8 }
  static let start: UInt64 = 0, done: UInt64 = 1, clean: UInt64 = 2, calls: UInt64 = 3, violations: UInt64 = 4,
             firstViolation: UInt64 = 5, seed: UInt64 = 6, count: UInt64 = 7, stress: UInt64 = 8
}

func runSecondaryFuzzer(cpu: UInt64) {
  typealias S = FuzzShared
  while mmio_read64(S.slot(cpu, S.start)) == 0 {}
  var fuzzer = NSFuzzer(cpu: cpu, seed: mmio_read64(S.slot(0, S.seed)) &+ cpu)
  let clean = fuzzer.run(calls: mmio_read64(S.slot(0, S.count)))
  mmio_write64(S.slot(cpu, S.calls), fuzzer.calls)
  mmio_write64(S.slot(cpu, S.violations), fuzzer.violations)
  mmio_write64(S.slot(cpu, S.firstViolation), fuzzer.firstViolation)
  mmio_write64(S.slot(cpu, S.clean), clean ? 1 : 0)
  dsb_sy()
  mmio_write64(S.slot(cpu, S.done), 1)
  dsb_sy()
  if mmio_read64(S.slot(0, S.stress)) != 0 { stressWork(cpu: cpu, seed: mmio_read64(S.slot(0, S.seed))) }
}

/// Arguments: seed (0: from the counter), calls per CPU, CPUs (1 to 4).
func runFuzzer(seed requested: UInt64, calls: UInt64, cpus: UInt64) {
  typealias S = FuzzShared
  let seed = requested != 0 ? requested : counter() | 1
  section("RMI fuzzing from the Normal world")
  console.write("FUZZ seed ")
  console.hex(seed)
  console.write(" (CPU n uses seed+n), ")
  console.decimal(calls)
  console.write(" calls on each of ")
  console.decimal(cpus)
  console.write(" CPUs\n")
  for cpu in 0..<S.maxCPUs {
    for field in 0..<UInt64(9) { mmio_write64(S.slot(cpu, field), 0) }
  }
  resetStressCounters()
  mmio_write64(S.slot(0, S.stress), cpus > 1 ? 1 : 0)
  mmio_write64(S.slot(0, S.seed), seed)
  mmio_write64(S.slot(0, S.count), calls)
  dsb_sy()
  var running: UInt64 = 1
  for cpu in 1..<cpus {
    mmio_write64(sharedAddress(&secondaryTask), 2)
    dsb_sy()
    let on = smc(PSCIFunction.cpuOn.smc64, cpu, testhost_secondary_entry_address(), cpu).x0 == 0
    expectValue(on ? 0 : 1, 0, "PSCI CPU_ON for another fuzzing CPU")
    if on {
      running += 1
      mmio_write64(S.slot(cpu, S.start), 1)
    }
  }
  dsb_sy()
  var fuzzer = NSFuzzer(cpu: 0, seed: seed)
  let clean = fuzzer.run(calls: calls)
  var total = fuzzer.calls
  fuzzer.report()
  check(clean, "CPU 0: every result matched the model; all its granules are NS again")
  if running > 1 { runSMPStress(cpus: running, seed: seed) }
  for cpu in 1..<running {
    let done = wait(upTo: 600_000_000_000) { mmio_read64(S.slot(cpu, S.done)) != 0 }
    console.write("FUZZ CPU ")
    console.decimal(cpu)
    console.write(": ")
    console.decimal(mmio_read64(S.slot(cpu, S.calls)))
    console.write(" calls, ")
    console.decimal(mmio_read64(S.slot(cpu, S.violations)))
    console.write(" model violations")
    if mmio_read64(S.slot(cpu, S.violations)) != 0 {
      console.write(" (first at call ")
      console.decimal(mmio_read64(S.slot(cpu, S.firstViolation)))
      console.write("; replay: scripts/fuzz --cpus 1 --seed ")
      console.hex(seed &+ cpu)
      console.write(" -- as CPU 0 the pool differs, the sequence does not)")
    }
    console.newline()
    check(done && mmio_read64(S.slot(cpu, S.clean)) == 1,
          "another CPU: every result matched the model; all its granules are NS again")
    total += mmio_read64(S.slot(cpu, S.calls))
  }
  check(rmi(.version, rmiABIVersion.encoded).x0 == 0, "the RMM still answers after the fuzzing")
  let stats = smc(AuditInterface.fid, AuditInterface.statistics)
  expectValue(stats.x1, 0, "no RMM access to realm or NS memory was refused by the policy")
  console.write("FUZZ TOTAL ")
  console.decimal(total)
  console.write(" calls\n")
}

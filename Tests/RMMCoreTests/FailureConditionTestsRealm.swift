// Failure conditions of GRANULE_UNDELEGATE, REALM_*, REC_AUX_COUNT, REC_CREATE and
// REC_DESTROY that no other test covered (docs/spec-notes/rmi-failure-conditions.md).
// Each test: the exact status and index, and nothing changed.

import XCTest
import RMMABI
@testable import RMMCore

final class FailureConditionGranuleTests: XCTestCase {
  let granule: UInt64 = 0x8000_5000

  func testGranuleUndelegate_gran_align() {
    let env = FakeEnvironment()
    XCTAssertEqual(env.call(.granuleDelegate, granule).x0, success)
    for pa in [granule + 8, granule + 0x800] {
      XCTAssertEqual(env.call(.granuleUndelegate, pa).x0, errorInput)
    }
    XCTAssertEqual(env.granules.state(of: granule), .delegated)
    XCTAssertEqual(env.monitor.state.calls.count, 1, "only the delegation reached EL3")
    XCTAssertFalse(env.granules.storage.anyLocked)
  }

  func testGranuleUndelegate_gran_bound() {
    let env = FakeEnvironment()
    for pa: UInt64 in [0x7FFF_F000, 0x8004_0000, 0x1_0002_0000, 0xFFFF_FFFF_FFFF_F000, BadPA.above48Bits] {
      XCTAssertEqual(env.call(.granuleUndelegate, pa).x0, errorInput, String(pa, radix: 16))
    }
    XCTAssertTrue(env.monitor.state.calls.isEmpty, "nothing reached EL3")
    XCTAssertEqual(env.granules.count(in: .undelegated), 96)
  }
}

final class FailureConditionRealmTests: XCTestCase {
  // ---- REALM_ACTIVATE ----

  func testRealmActivate_rd_align() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    h.expectFailure(errorInput, "rd + 8") { h.env.call(.realmActivate, BadPA.unaligned(h.rd)) }
  }

  func testRealmActivate_rd_bound() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    h.expectFailure(errorInput, "rd outside DRAM") { h.env.call(.realmActivate, BadPA.notDelegable) }
  }

  func testRealmActivate_rd_state() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    let delegated = h.allocateDelegated()
    h.expectFailure(errorInput, "rd DELEGATED") { h.env.call(.realmActivate, delegated) }
    h.expectFailure(errorInput, "rd is an RTT") { h.env.call(.realmActivate, h.rttBase) }
    h.expectFailure(errorInput, "rd UNDELEGATED") { h.env.call(.realmActivate, h.paramsPA) }
  }

  func testRealmActivate_realm_state() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    XCTAssertEqual(h.env.call(.realmActivate, h.rd).x0, success)
    h.expectFailure(status(.errorRealm, 0), "ACTIVE") { h.env.call(.realmActivate, h.rd) }
    // SYSTEM_OFF: the state a realm's PSCI_SYSTEM_OFF leaves (set in the RD directly).
    h.poke(h.rd, RDLayout.state, UInt64(RealmState.systemOff.rawValue))
    h.expectFailure(status(.errorRealm, 0), "SYSTEM_OFF") { h.env.call(.realmActivate, h.rd) }
  }

  // ---- REALM_CREATE ----

  func testRealmCreate_rd_bound() {
    var h = RealmHarness()
    h.delegate(h.rttBase)
    h.delegate(h.rttBase + 4096)
    h.writeRealmParams(RealmHarness.RealmConfig())
    for rd in [BadPA.notDelegable, 0x1_0002_0000, BadPA.above48Bits] {
      h.expectFailure(errorInput, "rd \(String(rd, radix: 16))") { h.env.call(.realmCreate, rd, h.paramsPA) }
    }
  }

  func testRealmCreate_rtt_state() {
    var h = RealmHarness()
    h.delegate(h.rd)
    h.writeRealmParams(RealmHarness.RealmConfig())
    h.expectFailure(errorInput, "no root delegated") { h.env.call(.realmCreate, h.rd, h.paramsPA) }
    h.delegate(h.rttBase)
    h.expectFailure(errorInput, "second root not delegated") { h.env.call(.realmCreate, h.rd, h.paramsPA) }
    // Second root in another state (an RD of another realm would be RD; DATA-like states
    // are set directly).
    var g = h.env.granules.lock(h.rttBase + 4096)!
    g.setState(.rec)
    h.env.granules.release(g)
    h.expectFailure(errorInput, "second root is a REC") { h.env.call(.realmCreate, h.rd, h.paramsPA) }
  }

  /// vmid_valid: a VMID beyond the VMIDs the platform implements (8 bits here). Bits
  /// 63:16 of the slot are SBZ and ignored (RealmTests.testSBZFieldsOfRealmParamsAreIgnored).
  func testRealmCreate_vmid_valid() {
    var h = RealmHarness()
    h.env.vmids.maximum = 0xFF
    h.delegate(h.rd)
    h.delegate(h.rttBase)
    h.delegate(h.rttBase + 4096)
    var c = RealmHarness.RealmConfig()
    c.vmid = 0x100
    h.writeRealmParams(c)
    h.expectFailure(errorInput, "VMID 0x100 without 16-bit VMIDs") { h.env.call(.realmCreate, h.rd, h.paramsPA) }
    c.vmid = 0xFF
    h.writeRealmParams(c)
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA).x0, success, "the largest VMID")
  }

  func testRealmCreate_success_rpv_and_counters() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    let rpv = (0..<8).map { h.peek(h.rd, RDLayout.personalizationValue + 8 * $0) }
    XCTAssertEqual(rpv, RealmHarness.RealmConfig().rpv, "rpv == params.rpv")
    let realm = h.realm()
    XCTAssertEqual(realm.recsCreated, 0, "rec_index == 0")
    XCTAssertEqual(realm.liveRECs, 0, "num_recs == 0")
    XCTAssertEqual(realm.hashAlgorithm, .sha256, "hash_algo")
    XCTAssertEqual((0..<32).map { h.peek(h.rd, RDLayout.rems + 8 * $0) }, [UInt64](repeating: 0, count: 32), "REMs zero")
    // Every root entry: protected half UNASSIGNED EMPTY, unprotected half UNASSIGNED_NS.
    for ipa: UInt64 in [0, 1 << 30, (1 << 39) - (1 << 30)] {
      XCTAssertEqual(h.readEntry(ipa, 1), RMIResult(success, 1, 0, 0, RIPAS.empty.rawValue))
    }
    XCTAssertEqual(h.readEntry(1 << 39, 1), RMIResult(success, 1, 0, 0, 0))
  }

  // ---- REALM_DESTROY ----

  func testRealmDestroy_rd_align() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    h.expectFailure(errorInput, "rd + 8") { h.env.call(.realmDestroy, BadPA.unaligned(h.rd)) }
  }

  func testRealmDestroy_rd_bound() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    h.expectFailure(errorInput, "rd outside DRAM") { h.env.call(.realmDestroy, BadPA.notDelegable) }
  }

  func testRealmDestroy_rd_state() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    let delegated = h.allocateDelegated()
    h.expectFailure(errorInput, "rd DELEGATED") { h.env.call(.realmDestroy, delegated) }
    h.expectFailure(errorInput, "rd is a root RTT") { h.env.call(.realmDestroy, h.rttBase) }
  }

  func testRealmDestroy_realm_live() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    // A starting-level RTT that is live (it holds a level-2 table).
    let l2 = h.allocateDelegated()
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, l2, 0, 2).x0, success)
    h.expectFailure(status(.errorRealm, 0), "live root RTT") { h.env.call(.realmDestroy, h.rd) }
    XCTAssertEqual(h.env.call(.rttDestroy, h.rd, 0, 2).x0, success)
    // A REC.
    let rec = h.allocateDelegated()
    h.writeRECParams(mpidr: 0, aux: [h.allocateDelegated(), h.allocateDelegated()])
    XCTAssertEqual(h.env.call(.recCreate, h.rd, rec, h.recParamsPA).x0, success)
    h.expectFailure(status(.errorRealm, 0), "one REC") { h.env.call(.realmDestroy, h.rd) }
    XCTAssertEqual(h.env.call(.recDestroy, rec).x0, success)
    // Unprotected mappings in a root do not make it live (A5.5.8): destroy succeeds.
    XCTAssertEqual(h.env.call(.rttMapUnprotected, h.rd, 1 << 39, 1, 0x4000_0000 | 0b101 << 2).x0, success)
    XCTAssertEqual(h.env.call(.realmDestroy, h.rd).x0, success)
  }

  // ---- REC_AUX_COUNT ----

  func testRecAuxCount_rd_align() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    h.expectFailure(errorInput, "rd + 8") { h.env.call(.recAuxCount, BadPA.unaligned(h.rd)) }
  }

  func testRecAuxCount_rd_bound() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    let r = h.expectFailure(errorInput, "rd outside DRAM") { h.env.call(.recAuxCount, BadPA.notDelegable) }
    XCTAssertEqual(r.x1, 0, "no aux_count on failure")
  }
}

final class FailureConditionRECTests: XCTestCase {
  /// A NEW realm, a delegated REC granule and two aux granules, valid REC params.
  struct Fixture {
    var h = RealmHarness()
    var rec: UInt64 = 0
    var aux: [UInt64] = []
    init() {
      precondition(h.createRealm() == success)
      rec = h.allocateDelegated()
      aux = [h.allocateDelegated(), h.allocateDelegated()]
      h.writeRECParams(mpidr: 0, aux: aux)
    }
    func create(rd: UInt64? = nil, rec: UInt64? = nil, params: UInt64? = nil) -> RMIResult {
      h.env.call(.recCreate, rd ?? h.rd, rec ?? self.rec, params ?? h.recParamsPA)
    }
  }

  // ---- REC_CREATE ----

  func testRecCreate_params_align() {
    let f = Fixture()
    f.h.expectFailure(errorInput, "params + 8") { f.create(params: BadPA.unaligned(f.h.recParamsPA)) }
  }

  func testRecCreate_params_bound() {
    let f = Fixture()
    f.h.expectFailure(errorInput, "params outside DRAM") { f.create(params: BadPA.notDelegable) }
  }

  func testRecCreate_params_pas() {
    var f = Fixture()
    let delegated = f.h.allocateDelegated()
    f.h.expectFailure(errorInput, "params page in the Realm PAS") { f.create(params: delegated) }
    f.h.env.memory.faulting = [f.h.recParamsPA]
    f.h.expectFailure(errorInput, "params read takes a GPF") { f.create() }
  }

  func testRecCreate_rec_align() {
    let f = Fixture()
    f.h.expectFailure(errorInput, "rec + 8") { f.create(rec: BadPA.unaligned(f.rec)) }
  }

  func testRecCreate_rec_bound() {
    let f = Fixture()
    f.h.expectFailure(errorInput, "rec outside DRAM") { f.create(rec: BadPA.notDelegable) }
  }

  func testRecCreate_rd_align() {
    let f = Fixture()
    f.h.expectFailure(errorInput, "rd + 8") { f.create(rd: BadPA.unaligned(f.h.rd)) }
  }

  func testRecCreate_rd_bound() {
    let f = Fixture()
    f.h.expectFailure(errorInput, "rd outside DRAM") { f.create(rd: BadPA.notDelegable) }
  }

  func testRecCreate_rd_state() {
    var f = Fixture()
    let delegated = f.h.allocateDelegated()
    f.h.expectFailure(errorInput, "rd DELEGATED") { f.create(rd: delegated) }
    f.h.expectFailure(errorInput, "rd is an RTT") { f.create(rd: f.h.rttBase) }
  }

  func testRecCreate_realm_state() {
    let f = Fixture()
    XCTAssertEqual(f.h.env.call(.realmActivate, f.h.rd).x0, success)
    f.h.expectFailure(status(.errorRealm, 0), "ACTIVE") { f.create() }
  }

  func testRecCreate_num_recs() {
    let f = Fixture()
    // 2^MAX_RECS_ORDER - 1 RECs exist (the count kept in the RD, set directly: 3069
    // granules would not fit the harness).
    f.h.poke(f.h.rd, RDLayout.liveRECs, maxLiveRECs)
    f.h.expectFailure(status(.errorRealm, 0), "num_recs == 2^10 - 1") { f.create() }
    f.h.poke(f.h.rd, RDLayout.liveRECs, maxLiveRECs - 1)
    XCTAssertEqual(f.create().x0, success, "one fewer: created")
  }

  func testRecCreate_aux_align() {
    let f = Fixture()
    f.h.writeRECParams(mpidr: 0, aux: [f.aux[0], f.aux[1] + 0x800])
    f.h.expectFailure(errorInput, "aux[1] unaligned") { f.create() }
  }

  func testRecCreate_mpidr_index_after_destroy() {
    // rec_index counts RECs ever created: after a destroy the next MPIDR is still 1.
    var f = Fixture()
    XCTAssertEqual(f.create().x0, success)
    XCTAssertEqual(f.h.env.call(.recDestroy, f.rec).x0, success)
    let rec = f.h.allocateDelegated()
    f.h.writeRECParams(mpidr: 0, aux: [f.h.allocateDelegated(), f.h.allocateDelegated()])
    f.h.expectFailure(errorInput, "MPIDR 0 again") { f.create(rec: rec) }
    f.h.writeRECParams(mpidr: 1, aux: [f.h.allocateDelegated(), f.h.allocateDelegated()])
    XCTAssertEqual(f.create(rec: rec).x0, success)
  }

  func testRecCreate_success_fields() {
    let f = Fixture()
    f.h.writeRECParams(flags: 0, mpidr: 0, pc: 0x1234_5000, gprs: [1, 2, 3, 4, 5, 6, 7, 8], aux: f.aux)
    XCTAssertEqual(f.create().x0, success)
    let page = f.h.env.memory.page(f.rec)
    XCTAssertEqual(page[RECLayout.owner / 8], f.h.rd, "rec_owner")
    XCTAssertEqual(page[RECLayout.mpidr / 8], 0, "rec_mpidr")
    XCTAssertEqual(page[RECLayout.flags / 8] & RECLayout.flagRunnable, 0, "not_runnable")
    XCTAssertEqual(page[(RECLayout.context + RECContextLayout.elr) / 8], 0x1234_5000, "rec_pc")
    let gprs = (0..<31).map { page[(RECLayout.context + 8 * $0) / 8] }
    XCTAssertEqual(gprs, [1, 2, 3, 4, 5, 6, 7, 8] + [UInt64](repeating: 0, count: 23), "rec_gprs")
    XCTAssertEqual([page[RECLayout.ripasAddr / 8], page[RECLayout.ripasTop / 8]], [0, 0], "ripas_addr, ripas_top")
    XCTAssertEqual(page[RECLayout.pending / 8], PendingExit.none.rawValue, "host_call: NO_HOST_CALL_PENDING")
    XCTAssertEqual(page[RECLayout.psciTarget / 8], 0, "no PSCI request pending")
    XCTAssertEqual(f.h.env.granules.storage.peek(f.h.env.granules.index(of: f.rec)!).refcount, 0, "REC_READY")
    XCTAssertEqual(f.h.realm().recsCreated, 1, "rec_index + 1")
    XCTAssertEqual(f.h.realm().liveRECs, 1, "num_recs + 1")
    XCTAssertEqual(f.aux.map { f.h.env.memory.isZero($0) }, [true, true], "rec_attest: NO_ATTEST_IN_PROGRESS")
    XCTAssertEqual([page[RECLayout.auxCount / 8], page[RECLayout.aux / 8], page[RECLayout.aux / 8 + 1]],
                   [2, f.aux[0], f.aux[1]], "rec_aux: the aux granules, in order")
    XCTAssertEqual(f.aux.map { f.h.state($0) }, [.recAux, .recAux], "rec_aux_state")
  }

  // ---- REC_DESTROY ----

  func testRecDestroy_rec_align() {
    let f = Fixture()
    XCTAssertEqual(f.create().x0, success)
    f.h.expectFailure(errorInput, "rec + 8") { f.h.env.call(.recDestroy, BadPA.unaligned(f.rec)) }
  }

  func testRecDestroy_rec_bound() {
    let f = Fixture()
    XCTAssertEqual(f.create().x0, success)
    f.h.expectFailure(errorInput, "rec outside DRAM") { f.h.env.call(.recDestroy, BadPA.notDelegable) }
  }

  func testRecDestroy_rec_gran_state() {
    let f = Fixture()
    XCTAssertEqual(f.create().x0, success)
    f.h.expectFailure(errorInput, "an aux granule") { f.h.env.call(.recDestroy, f.aux[0]) }
    f.h.expectFailure(errorInput, "the RD") { f.h.env.call(.recDestroy, f.h.rd) }
  }

  func testRecDestroy_rec_state() {
    let f = Fixture()
    XCTAssertEqual(f.create().x0, success)
    f.h.markRunning(f.rec)
    f.h.expectFailure(status(.errorREC), "REC_RUNNING") { f.h.env.call(.recDestroy, f.rec) }
    f.h.markRunning(f.rec, false)
    XCTAssertEqual(f.h.env.call(.recDestroy, f.rec).x0, success)
    XCTAssertEqual(f.h.realm().liveRECs, 0, "num_recs - 1")
  }
}

import XCTest
import RMMABI
@testable import RMMCore

final class SetRIPASTests: XCTestCase {
  /// A realm with L2+L3 tables at IPA 0, one REC, and a pending request set directly in
  /// the REC (as RSI_IPA_STATE_SET will).
  func makeFixture(request: (UInt64, UInt64, RIPAS, Bool)) -> (RTTFixture, UInt64) {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    let rec = f.h.allocateDelegated()
    let aux = [f.h.allocateDelegated(), f.h.allocateDelegated()]
    f.h.writeRECParams(mpidr: 0, aux: aux)
    precondition(f.h.env.call(.recCreate, f.h.rd, rec, f.h.recParamsPA).x0 == success)
    var page = f.h.env.memory.page(rec)
    page[RECLayout.ripasAddr / 8] = request.0
    page[RECLayout.ripasTop / 8] = request.1
    page[RECLayout.ripasValue / 8] = request.2.rawValue
    page[RECLayout.ripasFlags / 8] = request.3 ? 1 : 0
    f.h.env.memory.setPage(rec, page)
    return (f, rec)
  }

  func testRAMToEmptyAndBack() {
    var (f, rec) = makeFixture(request: (0x1000, 0x4000, .empty, false))
    XCTAssertEqual(f.call(.rttInitRIPAS, 0, 0x8000).x0, success)
    let d = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, d, 0x2000, f.h.sourcePA, 0).x0, success)
    XCTAssertEqual(f.h.env.call(.realmActivate, f.h.rd).x0, success)
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0x1000, 0x3000), RMIResult(success, 0x3000, 0, 0, 0x3000), "x4 (top) preserved")
    XCTAssertEqual(f.h.readEntry(0x1000, 3).x4, RIPAS.empty.rawValue, "unassigned RAM -> EMPTY")
    XCTAssertEqual(f.h.readEntry(0x2000, 3), RMIResult(success, 3, 1, d, RIPAS.empty.rawValue), "assigned RAM -> EMPTY")
    XCTAssertEqual(f.h.env.tlb.state.ipaInvalidations.last?.ipa, 0x2000, "an unmapped page is invalidated")
    XCTAssertEqual(f.h.env.memory.page(rec)[RECLayout.ripasAddr / 8], 0x3000, "progress recorded in the REC")
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0x1000, 0x4000).x0, errorInput, "base is not the next address")
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0x3000, 0x5000).x0, errorInput, "top beyond the request")
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0x3000, 0x3000).x0, errorInput, "empty range")
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0x3000, 0x4000), RMIResult(success, 0x4000, 0, 0, 0x4000))
  }

  func testDestroyedNeedsConsent() {
    var (f, rec) = makeFixture(request: (0, 0x2000, .ram, false))
    let d = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, d, 0, f.h.sourcePA, 0).x0, success)
    XCTAssertEqual(f.call(.dataDestroy, 0).x0, success)  // entry 0: unassigned DESTROYED
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0, 0x2000).x0, status(.errorRTT, 3), "DESTROYED without consent")
    var (g, rec2) = makeFixture(request: (0, 0x2000, .ram, true))
    let d2 = g.h.allocateDelegated()
    XCTAssertEqual(g.h.env.call(.dataCreate, g.h.rd, d2, 0, g.h.sourcePA, 0).x0, success)
    XCTAssertEqual(g.call(.dataDestroy, 0).x0, success)
    XCTAssertEqual(g.h.env.call(.rttSetRIPAS, g.h.rd, rec2, 0, 0x2000), RMIResult(success, 0x2000, 0, 0, 0x2000), "with RSI_CHANGE_DESTROYED")
    XCTAssertEqual(g.h.readEntry(0, 3).x4, RIPAS.ram.rawValue)
  }

  func testWrongRECOrRealm() {
    var (f, rec) = makeFixture(request: (0, 0x2000, .ram, false))
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, f.h.rttBase, 0, 0x1000).x0, errorInput, "not a REC")
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rttBase, rec, 0, 0x1000).x0, errorInput, "not an RD")
    // A second realm's RD with this REC.
    let rd2 = f.h.allocateDelegated()
    var c = RealmHarness.RealmConfig()
    c.vmid = 9
    c.rttBase = RealmHarness.granule(40)
    f.h.delegate(c.rttBase)
    f.h.delegate(c.rttBase + 4096)
    f.h.writeRealmParams(c)
    XCTAssertEqual(f.h.env.call(.realmCreate, rd2, f.h.paramsPA).x0, success)
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, rd2, rec, 0, 0x1000).x0, status(.errorREC), "REC of another realm")
    // A running REC (refcount held by REC_ENTER).
    var g = f.h.env.granules.lock(rec)!
    g.descriptor = GranuleDescriptor(state: .rec, refcount: 1)
    f.h.env.granules.release(g)
    XCTAssertEqual(f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0, 0x1000).x0, status(.errorREC), "REC running")
  }

  func testTransitionTable() {
    typealias D = RMIDispatcher<FakeEnvironment>
    XCTAssertEqual(D.ripasChange(.unassigned(.empty), to: .ram, changeDestroyed: false), .unassigned(.ram))
    XCTAssertEqual(D.ripasChange(.assignedEmpty(pa: 0x1000), to: .ram, changeDestroyed: false), .assignedRAM(pa: 0x1000))
    XCTAssertEqual(D.ripasChange(.assignedRAM(pa: 0x1000), to: .ram, changeDestroyed: false), .assignedRAM(pa: 0x1000))
    XCTAssertNil(D.ripasChange(.assignedDestroyed(pa: 0x1000), to: .empty, changeDestroyed: false))
    XCTAssertEqual(D.ripasChange(.assignedDestroyed(pa: 0x1000), to: .empty, changeDestroyed: true), .assignedEmpty(pa: 0x1000))
    XCTAssertNil(D.ripasChange(.unassignedNS, to: .ram, changeDestroyed: true))
    XCTAssertNil(D.ripasChange(.table(pa: 0x1000), to: .ram, changeDestroyed: true))
  }
}

// Failure conditions of DATA_* and RTT_* that no other test covered
// (docs/spec-notes/rmi-failure-conditions.md): the exact status, index and `top`, and
// nothing changed.

import XCTest
import RMMABI
@testable import RMMCore

extension RTTFixture {
  /// An L3 table at `ipa` filled with 512 DATA granules (PAs from 0x8020_0000, 2 MiB
  /// aligned) and folded into a 2 MiB ASSIGNED block. NEW realm only.
  mutating func makeBlock(at ipa: UInt64) {
    let l3 = createTable(ipa, 3)
    precondition(l3.status == success)
    let base: UInt64 = 0x8020_0000
    for i in 0..<UInt64(512) {
      h.delegate(base + i * 4096)
      precondition(h.env.call(.dataCreate, h.rd, base + i * 4096, ipa + i * 4096, h.sourcePA, 0).x0 == success)
    }
    precondition(command(.rttFold, ipa, 3).x0 == success)
  }

  /// `call` without `mutating`, for closures.
  func command(_ c: RMICommand, _ a: UInt64 = 0, _ b: UInt64 = 0, _ d: UInt64 = 0, _ e: UInt64 = 0) -> RMIResult {
    h.env.call(c, h.rd, a, b, d, e)
  }

  func fail(_ expected: UInt64, _ name: String, file: StaticString = #filePath, line: UInt = #line,
            _ call: () -> RMIResult) -> RMIResult {
    h.expectFailure(expected, name, file: file, line: line, call)
  }
}

final class FailureConditionDataTests: XCTestCase {
  /// L2 + L3 tables at IPA 0, RIPAS RAM over [0, 16 KiB), one DELEGATED target granule.
  func fixture() -> (RTTFixture, UInt64) {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    precondition(f.command(.rttInitRIPAS, 0, 0x4000).x0 == success)
    let data = f.h.allocateDelegated()
    return (f, data)
  }

  // ---- DATA_CREATE ----

  func testDataCreate_data_align() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "data + 8") { f.h.env.call(.dataCreate, f.h.rd, BadPA.unaligned(data), 0x1000, f.h.sourcePA, 0) }
  }

  func testDataCreate_data_bound() {
    let (f, _) = fixture()
    _ = f.fail(errorInput, "data outside DRAM") { f.h.env.call(.dataCreate, f.h.rd, BadPA.notDelegable, 0x1000, f.h.sourcePA, 0) }
  }

  func testDataCreate_data_bound2() {
    let (f, _) = fixture()
    _ = f.fail(errorInput, "data >= 2^48") { f.h.env.call(.dataCreate, f.h.rd, BadPA.above48Bits, 0x1000, f.h.sourcePA, 0) }
  }

  func testDataCreate_rd_align() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.dataCreate, BadPA.unaligned(f.h.rd), data, 0x1000, f.h.sourcePA, 0) }
  }

  func testDataCreate_rd_bound() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.dataCreate, BadPA.notDelegable, data, 0x1000, f.h.sourcePA, 0) }
  }

  func testDataCreate_rd_state() {
    var (f, data) = fixture()
    let other = f.h.allocateDelegated()
    _ = f.fail(errorInput, "rd DELEGATED") { f.h.env.call(.dataCreate, other, data, 0x1000, f.h.sourcePA, 0) }
    _ = f.fail(errorInput, "rd is an RTT") { f.h.env.call(.dataCreate, f.h.rttBase, data, 0x1000, f.h.sourcePA, 0) }
  }

  func testDataCreate_realm_state() {
    let (f, data) = fixture()
    XCTAssertEqual(f.h.env.call(.realmActivate, f.h.rd).x0, success)
    _ = f.fail(status(.errorRealm, 0), "ACTIVE") { f.h.env.call(.dataCreate, f.h.rd, data, 0x1000, f.h.sourcePA, 0) }
  }

  func testDataCreate_rtte_state() {
    var (f, data) = fixture()
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, data, 0x1000, f.h.sourcePA, 0).x0, success)
    let data2 = f.h.allocateDelegated()
    _ = f.fail(status(.errorRTT, 3), "ASSIGNED") { f.h.env.call(.dataCreate, f.h.rd, data2, 0x1000, f.h.sourcePA, 0) }
  }

  // ---- DATA_CREATE_UNKNOWN ----

  func testDataCreateUnknown_data_align() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "data + 8") { f.h.env.call(.dataCreateUnknown, f.h.rd, BadPA.unaligned(data), 0x1000) }
  }

  func testDataCreateUnknown_data_bound() {
    let (f, _) = fixture()
    _ = f.fail(errorInput, "data outside DRAM") { f.h.env.call(.dataCreateUnknown, f.h.rd, BadPA.notDelegable, 0x1000) }
  }

  func testDataCreateUnknown_data_state() {
    let (f, _) = fixture()
    _ = f.fail(errorInput, "data UNDELEGATED") { f.h.env.call(.dataCreateUnknown, f.h.rd, f.h.sourcePA, 0x1000) }
    _ = f.fail(errorInput, "data is the RD") { f.h.env.call(.dataCreateUnknown, f.h.rd, f.h.rd, 0x1000) }
    _ = f.fail(errorInput, "data is a root RTT") { f.h.env.call(.dataCreateUnknown, f.h.rd, f.h.rttBase, 0x1000) }
  }

  func testDataCreateUnknown_data_bound2() {
    let (f, _) = fixture()
    _ = f.fail(errorInput, "data >= 2^48") { f.h.env.call(.dataCreateUnknown, f.h.rd, BadPA.above48Bits, 0x1000) }
  }

  func testDataCreateUnknown_rd_align() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.dataCreateUnknown, BadPA.unaligned(f.h.rd), data, 0x1000) }
  }

  func testDataCreateUnknown_rd_bound() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.dataCreateUnknown, BadPA.notDelegable, data, 0x1000) }
  }

  func testDataCreateUnknown_rd_state() {
    var (f, data) = fixture()
    let other = f.h.allocateDelegated()
    _ = f.fail(errorInput, "rd DELEGATED") { f.h.env.call(.dataCreateUnknown, other, data, 0x1000) }
    _ = f.fail(errorInput, "rd is an RTT") { f.h.env.call(.dataCreateUnknown, f.h.rttBase, data, 0x1000) }
  }

  func testDataCreateUnknown_ipa_align() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "ipa + 8") { f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x1008) }
  }

  func testDataCreateUnknown_ipa_bound() {
    let (f, data) = fixture()
    _ = f.fail(errorInput, "unprotected IPA") { f.h.env.call(.dataCreateUnknown, f.h.rd, data, 1 << 39) }
    _ = f.fail(errorInput, "beyond the IPA space") { f.h.env.call(.dataCreateUnknown, f.h.rd, data, 1 << 40) }
  }

  func testDataCreateUnknown_rtt_walk() {
    let (f, data) = fixture()
    _ = f.fail(status(.errorRTT, 2), "no L3 table") { f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x20_0000) }
    _ = f.fail(status(.errorRTT, 1), "no L2 table") { f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x4000_0000) }
  }

  func testDataCreateUnknown_rtte_state() {
    var (f, data) = fixture()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x1000).x0, success)
    let data2 = f.h.allocateDelegated()
    _ = f.fail(status(.errorRTT, 3), "ASSIGNED") { f.h.env.call(.dataCreateUnknown, f.h.rd, data2, 0x1000) }
  }

  func testDataCreateUnknown_success() {
    var (f, data) = fixture()
    XCTAssertEqual(f.h.env.call(.realmActivate, f.h.rd).x0, success, "allowed in any realm state")
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x1000).x0, success)
    XCTAssertEqual(f.h.state(data), .data, "data_state")
    XCTAssertTrue(f.h.env.memory.isZero(data), "data_content: wiped")
    XCTAssertEqual(f.h.readEntry(0x1000, 3), RMIResult(success, 3, 1, data, RIPAS.ram.rawValue), "ASSIGNED, addr, RIPAS kept (RAM)")
    // RIPAS DESTROYED is kept too.
    XCTAssertEqual(f.command(.dataDestroy, 0x1000).x0, success)
    let data2 = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, data2, 0x1000).x0, success)
    XCTAssertEqual(f.h.readEntry(0x1000, 3), RMIResult(success, 3, 1, data2, RIPAS.destroyed.rawValue))
  }

  // ---- DATA_DESTROY ----

  func testDataDestroy_rd_align() {
    let (f, _) = fixture()
    let r = f.fail(errorInput, "rd + 8") { f.h.env.call(.dataDestroy, BadPA.unaligned(f.h.rd), 0x1000) }
    XCTAssertEqual([r.x1, r.x2], [0, 0], "no walk: top 0")
  }

  func testDataDestroy_rd_bound() {
    let (f, _) = fixture()
    let r = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.dataDestroy, BadPA.notDelegable, 0x1000) }
    XCTAssertEqual([r.x1, r.x2], [0, 0])
  }

  func testDataDestroy_rd_state() {
    var (f, data) = fixture()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x1000).x0, success)
    _ = f.fail(errorInput, "rd is the DATA granule") { f.h.env.call(.dataDestroy, data, 0x1000) }
    let other = f.h.allocateDelegated()
    _ = f.fail(errorInput, "rd DELEGATED") { f.h.env.call(.dataDestroy, other, 0x1000) }
  }

  func testDataDestroy_ipa_align() {
    let (f, data) = fixture()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x1000).x0, success)
    let r = f.fail(errorInput, "ipa + 8") { f.command(.dataDestroy, 0x1008) }
    XCTAssertEqual([r.x1, r.x2], [0, 0])
  }

  func testDataDestroy_ipa_bound() {
    let (f, _) = fixture()
    let r = f.fail(errorInput, "unprotected IPA") { f.command(.dataDestroy, 1 << 39) }
    XCTAssertEqual([r.x1, r.x2], [0, 0])
    _ = f.fail(errorInput, "beyond the IPA space") { f.command(.dataDestroy, 1 << 40) }
  }

  func testDataDestroy_rtt_walk() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    // Walk ends at level 1 (no L2 table for 1 GiB): top = end of the root table.
    let r1 = f.fail(status(.errorRTT, 1), "no L2 table") { f.command(.dataDestroy, 0x4000_0000) }
    XCTAssertEqual([r1.x1, r1.x2], [0, 1 << 39], "top = walk_top")
    // A 2 MiB block (live): the walk ends at level 2 on it, top == ipa.
    f.makeBlock(at: 0x20_0000)
    let r2 = f.fail(status(.errorRTT, 2), "block mapping") { f.command(.dataDestroy, 0x20_0000) }
    XCTAssertEqual([r2.x1, r2.x2], [0, 0x20_0000], "top == ipa")
  }

  func testDataDestroy_success_ripas() {
    var (f, data) = fixture()
    // ASSIGNED with RIPAS EMPTY (DATA_CREATE_UNKNOWN outside the RAM range): EMPTY stays.
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, data, 0x8000).x0, success)
    XCTAssertEqual(f.command(.dataDestroy, 0x8000), RMIResult(success, data, 0x20_0000))
    XCTAssertEqual(f.h.readEntry(0x8000, 3), RMIResult(success, 3, 0, 0, RIPAS.empty.rawValue), "UNASSIGNED, RIPAS EMPTY")
    XCTAssertEqual(f.h.state(data), .delegated)
  }
}

final class FailureConditionRTTTests: XCTestCase {
  let ns: UInt64 = 1 << 39
  let nsDesc: UInt64 = 0x9000_0000 | (0b101 << 2) | (0b11 << 6)

  // ---- RTT_CREATE ----

  func testRttCreate_rd_align() {
    var f = RTTFixture()
    let rtt = f.h.allocateDelegated()
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttCreate, BadPA.unaligned(f.h.rd), rtt, 0, 2) }
  }

  func testRttCreate_rd_bound() {
    var f = RTTFixture()
    let rtt = f.h.allocateDelegated()
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttCreate, BadPA.notDelegable, rtt, 0, 2) }
  }

  func testRttCreate_rd_state() {
    var f = RTTFixture()
    let rtt = f.h.allocateDelegated()
    let other = f.h.allocateDelegated()
    _ = f.fail(errorInput, "rd DELEGATED") { f.h.env.call(.rttCreate, other, rtt, 0, 2) }
    _ = f.fail(errorInput, "rd is a root RTT") { f.h.env.call(.rttCreate, f.h.rttBase, rtt, 0, 2) }
    _ = f.fail(errorInput, "rd == rtt") { f.h.env.call(.rttCreate, f.h.rd, f.h.rd, 0, 2) }
  }

  func testRttCreate_rtt_align() {
    var f = RTTFixture()
    let rtt = f.h.allocateDelegated()
    _ = f.fail(errorInput, "rtt + 8") { f.h.env.call(.rttCreate, f.h.rd, BadPA.unaligned(rtt), 0, 2) }
  }

  func testRttCreate_rtt_bound() {
    let f = RTTFixture()
    _ = f.fail(errorInput, "rtt outside DRAM") { f.h.env.call(.rttCreate, f.h.rd, BadPA.notDelegable, 0, 2) }
  }

  func testRttCreate_rtt_bound2() {
    let f = RTTFixture()
    _ = f.fail(errorInput, "rtt >= 2^48") { f.h.env.call(.rttCreate, f.h.rd, BadPA.above48Bits, 0, 2) }
  }

  func testRttCreate_level_bound() {
    var f = RTTFixture()
    let rtt = f.h.allocateDelegated()
    for level in [UInt64(1), 0, 4, UInt64(bitPattern: -1)] {
      _ = f.fail(errorInput, "level \(Int64(bitPattern: level))") { f.h.env.call(.rttCreate, f.h.rd, rtt, 0, level) }
    }
  }

  func testRttCreate_success_unfold_unassigned() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    // A level-2 entry with RIPAS RAM (INIT_RIPAS of a whole 2 MiB) and one DESTROYED
    // (a destroyed L3 table); the new L3 tables inherit them in every entry.
    XCTAssertEqual(f.command(.rttInitRIPAS, 0x20_0000, 0x40_0000), RMIResult(success, 0x40_0000))
    _ = f.createTable(0x40_0000, 3)
    XCTAssertEqual(f.command(.rttDestroy, 0x40_0000, 3).x0, success)
    let ram = f.createTable(0x20_0000, 3)
    let destroyed = f.createTable(0x40_0000, 3)
    XCTAssertEqual([ram.status, destroyed.status], [success, success])
    for offset: UInt64 in [0, 0x1000, 0x1F_F000] {
      XCTAssertEqual(f.h.readEntry(0x20_0000 + offset, 3), RMIResult(success, 3, 0, 0, RIPAS.ram.rawValue))
      XCTAssertEqual(f.h.readEntry(0x40_0000 + offset, 3), RMIResult(success, 3, 0, 0, RIPAS.destroyed.rawValue))
    }
    XCTAssertEqual(f.h.env.granules.storage.peek(f.h.env.granules.index(of: ram.pa)!).refcount, 0,
                   "no live entries in an unfolded unassigned table")
  }

  // ---- RTT_DESTROY ----

  func testRttDestroy_rd_align() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let r = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttDestroy, BadPA.unaligned(f.h.rd), 0, 2) }
    XCTAssertEqual([r.x1, r.x2], [0, 0])
  }

  func testRttDestroy_rd_bound() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttDestroy, BadPA.notDelegable, 0, 2) }
  }

  func testRttDestroy_rd_state() {
    var f = RTTFixture()
    let l2 = f.createTable(0, 2)
    _ = f.fail(errorInput, "rd is the RTT") { f.h.env.call(.rttDestroy, l2.pa, 0, 2) }
  }

  func testRttDestroy_level_bound() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    for level in [UInt64(1), 0, 4] {
      let r = f.fail(errorInput, "level \(level)") { f.command(.rttDestroy, 0, level) }
      XCTAssertEqual([r.x1, r.x2], [0, 0])
    }
  }

  func testRttDestroy_ipa_align() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    _ = f.fail(errorInput, "L3 table IPA not 2 MiB aligned") { f.command(.rttDestroy, 0x1000, 3) }
    _ = f.fail(errorInput, "L2 table IPA not 1 GiB aligned") { f.command(.rttDestroy, 0x20_0000, 2) }
  }

  func testRttDestroy_ipa_bound() {
    let f = RTTFixture()
    let r = f.fail(errorInput, "beyond the IPA space") { f.command(.rttDestroy, 1 << 40, 2) }
    XCTAssertEqual([r.x1, r.x2], [0, 0])
  }

  func testRttDestroy_rtt_walk() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let r = f.fail(status(.errorRTT, 1), "no L2 table above the L3") { f.command(.rttDestroy, 0x4000_0000, 3) }
    XCTAssertEqual([r.x1, r.x2], [0, 1 << 39], "top = walk_top (end of the root table)")
  }

  func testRttDestroy_rtte_state() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let missing = f.fail(status(.errorRTT, 2), "missing RTT") { f.command(.rttDestroy, 0x20_0000, 3) }
    XCTAssertEqual(missing.x2, 0x4000_0000, "top > ipa")
    f.makeBlock(at: 0x20_0000)
    let block = f.fail(status(.errorRTT, 2), "block at the parent level") { f.command(.rttDestroy, 0x20_0000, 3) }
    XCTAssertEqual([block.x1, block.x2], [0, 0x20_0000], "top == ipa")
  }

  func testRttDestroy_rtt_live() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0x20_0000, 3)
    let d = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, d, 0x20_3000).x0, success)
    let r = f.fail(status(.errorRTT, 3), "RTT holds DATA") { f.command(.rttDestroy, 0x20_0000, 3) }
    XCTAssertEqual([r.x1, r.x2], [0, 0x20_0000], "top == ipa")
  }

  // ---- RTT_FOLD ----

  func testRttFold_rd_align() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttFold, BadPA.unaligned(f.h.rd), 0, 3) }
  }

  func testRttFold_rd_bound() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttFold, BadPA.notDelegable, 0, 3) }
  }

  func testRttFold_rd_state() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let l3 = f.createTable(0, 3)
    _ = f.fail(errorInput, "rd is an RTT") { f.h.env.call(.rttFold, l3.pa, 0, 3) }
  }

  func testRttFold_level_bound() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    for level in [UInt64(1), 0, 4] {
      _ = f.fail(errorInput, "level \(level)") { f.command(.rttFold, 0, level) }
    }
  }

  func testRttFold_ipa_align() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    _ = f.fail(errorInput, "ipa not 2 MiB aligned") { f.command(.rttFold, 0x1000, 3) }
  }

  func testRttFold_ipa_bound() {
    let f = RTTFixture()
    _ = f.fail(errorInput, "beyond the IPA space") { f.command(.rttFold, 1 << 40, 2) }
  }

  func testRttFold_rtt_walk() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(status(.errorRTT, 1), "no L2 table") { f.command(.rttFold, 0x4000_0000, 3) }
  }

  func testRttFold_rtte_state() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(status(.errorRTT, 2), "no L3 table") { f.command(.rttFold, 0x20_0000, 3) }
  }

  func testRttFold_rtt_homo() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    XCTAssertEqual(f.command(.rttInitRIPAS, 0, 0x1000).x0, success)  // entry 0 RAM, the rest EMPTY
    _ = f.fail(status(.errorRTT, 3), "mixed RIPAS") { f.command(.rttFold, 0, 3) }
  }

  func testRttFold_success_assigned_ns() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    let l3 = f.createTable(ns, 3)
    let base: UInt64 = 0x9000_0000
    for i in 0..<UInt64(512) {
      XCTAssertEqual(f.command(.rttMapUnprotected, ns + i * 4096, 3, (base + i * 4096) | 0b101 << 2 | 0b01 << 6).x0, success)
    }
    XCTAssertEqual(f.command(.rttFold, ns, 3), RMIResult(success, l3.pa))
    XCTAssertEqual(f.h.readEntry(ns, 3), RMIResult(success, 2, 1, base | 0b101 << 2 | 0b01 << 6, 0),
                   "ASSIGNED_NS block with the children's MemAttr and S2AP")
    XCTAssertEqual(f.h.state(l3.pa), .delegated)
  }

  // ---- RTT_INIT_RIPAS ----

  func testRttInitRipas_rd_align() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttInitRIPAS, BadPA.unaligned(f.h.rd), 0, 0x20_0000) }
  }

  func testRttInitRipas_rd_bound() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttInitRIPAS, BadPA.notDelegable, 0, 0x20_0000) }
  }

  func testRttInitRipas_rd_state() {
    var f = RTTFixture()
    let l2 = f.createTable(0, 2)
    _ = f.fail(errorInput, "rd is an RTT") { f.h.env.call(.rttInitRIPAS, l2.pa, 0, 0x20_0000) }
  }

  func testRttInitRipas_size_valid() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(errorInput, "top == base") { f.command(.rttInitRIPAS, 0x20_0000, 0x20_0000) }
    _ = f.fail(errorInput, "top < base") { f.command(.rttInitRIPAS, 0x40_0000, 0x20_0000) }
  }

  func testRttInitRipas_top_bound() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(errorInput, "top - 4 KiB unprotected") { f.command(.rttInitRIPAS, 0, ns + 0x1000) }
  }

  func testRttInitRipas_realm_state() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    XCTAssertEqual(f.h.env.call(.realmActivate, f.h.rd).x0, success)
    _ = f.fail(status(.errorRealm, 0), "ACTIVE") { f.command(.rttInitRIPAS, 0, 0x20_0000) }
  }

  func testRttInitRipas_base_align() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(status(.errorRTT, 2), "base not aligned to the level-2 entry") { f.command(.rttInitRIPAS, 0x20_1000, 0x40_0000) }
  }

  func testRttInitRipas_rtte_state() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    let d = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, d, 0x1000).x0, success)
    _ = f.fail(status(.errorRTT, 3), "ASSIGNED") { f.command(.rttInitRIPAS, 0x1000, 0x2000) }
  }

  func testRttInitRipas_top_gran_align() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    _ = f.fail(errorInput, "top + 0x800") { f.command(.rttInitRIPAS, 0, 0x1800) }
  }

  func testRttInitRipas_no_progress() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(status(.errorRTT, 2), "[base, top) smaller than the level-2 entry") { f.command(.rttInitRIPAS, 0x20_0000, 0x20_1000) }
    _ = f.fail(status(.errorRTT, 1), "[base, top) smaller than the level-1 entry") { f.command(.rttInitRIPAS, 0x4000_0000, 0x4000_1000) }
  }

  // ---- RTT_MAP_UNPROTECTED ----

  func testRttMapUnprotected_rd_align() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttMapUnprotected, BadPA.unaligned(f.h.rd), ns, 2, 0x8020_0000) }
  }

  func testRttMapUnprotected_rd_bound() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttMapUnprotected, BadPA.notDelegable, ns, 2, 0x8020_0000) }
  }

  func testRttMapUnprotected_rd_state() {
    var f = RTTFixture()
    let l2 = f.createTable(ns, 2)
    _ = f.fail(errorInput, "rd is an RTT") { f.h.env.call(.rttMapUnprotected, l2.pa, ns, 2, 0x8020_0000) }
  }

  func testRttMapUnprotected_level_bound() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    _ = f.createTable(ns, 3)
    for level in [UInt64(0), 4, UInt64(bitPattern: -1)] {
      _ = f.fail(errorInput, "level \(Int64(bitPattern: level))") { f.command(.rttMapUnprotected, ns, level, 0) }
    }
  }

  func testRttMapUnprotected_addr_bound() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    _ = f.createTable(ns, 3)
    _ = f.fail(errorInput, "desc PA >= 2^48") { f.command(.rttMapUnprotected, ns, 3, 1 << 48 | 0b101 << 2) }
  }

  func testRttMapUnprotected_ipa_align() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    _ = f.createTable(ns, 3)
    _ = f.fail(errorInput, "ipa + 0x800 at level 3") { f.command(.rttMapUnprotected, ns + 0x800, 3, nsDesc) }
    _ = f.fail(errorInput, "ipa + 4 KiB at level 2") { f.command(.rttMapUnprotected, ns + 0x1000, 2, 0x8020_0000) }
  }

  func testRttMapUnprotected_ipa_bound() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    _ = f.createTable(ns, 3)
    _ = f.fail(errorInput, "beyond the IPA space") { f.command(.rttMapUnprotected, 1 << 40, 3, nsDesc) }
    _ = f.fail(errorInput, "protected IPA") { f.command(.rttMapUnprotected, 0, 3, nsDesc) }
  }

  func testRttMapUnprotected_attr_valid() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    _ = f.createTable(ns, 3)
    for (name, bad) in [("valid bit", nsDesc | 1), ("AF", nsDesc | 1 << 10), ("SH", nsDesc | 0b11 << 8),
                        ("XN", nsDesc | 1 << 54), ("NS", nsDesc | 1 << 55), ("MemAttr[3]", nsDesc | 1 << 5),
                        ("reserved MemAttr 0b100", 0x9000_0000 | (0b100 << 2)), ("software bits", nsDesc | 1 << 58)] {
      _ = f.fail(errorInput, name) { f.command(.rttMapUnprotected, ns, 3, bad) }
    }
  }

  func testRttMapUnprotected_rtte_state() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns, 2, 0x8020_0000).x0, success)
    _ = f.createTable(ns + 0x20_0000, 3)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns + 0x20_0000, 3, nsDesc).x0, success)
    _ = f.fail(status(.errorRTT, 3), "ASSIGNED_NS at level 3") { f.command(.rttMapUnprotected, ns + 0x20_0000, 3, nsDesc) }
    _ = f.fail(status(.errorRTT, 2), "ASSIGNED_NS block at level 2") { f.command(.rttMapUnprotected, ns, 2, 0x8020_0000) }
    _ = f.fail(status(.errorRTT, 2), "TABLE at level 2") { f.command(.rttMapUnprotected, ns + 0x20_0000, 2, 0x8020_0000) }
  }

  // ---- RTT_READ_ENTRY ----

  func testRttReadEntry_rd_align() {
    let f = RTTFixture()
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttReadEntry, BadPA.unaligned(f.h.rd), 0, 1) }
  }

  func testRttReadEntry_rd_bound() {
    let f = RTTFixture()
    let r = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttReadEntry, BadPA.notDelegable, 0, 1) }
    XCTAssertEqual([r.x1, r.x2, r.x3, r.x4], [0, 0, 0, 0], "no outputs on failure")
  }

  func testRttReadEntry_rd_state() {
    let f = RTTFixture()
    _ = f.fail(errorInput, "rd is a root RTT") { f.h.env.call(.rttReadEntry, f.h.rttBase, 0, 1) }
  }

  func testRttReadEntry_level_bound() {
    let f = RTTFixture()
    for level in [UInt64(0), 4, UInt64(bitPattern: -1)] {
      _ = f.fail(errorInput, "level \(Int64(bitPattern: level))") { f.command(.rttReadEntry, 0, level) }
    }
  }

  func testRttReadEntry_ipa_align() {
    let f = RTTFixture()
    _ = f.fail(errorInput, "ipa 4 KiB at level 1") { f.command(.rttReadEntry, 0x1000, 1) }
    _ = f.fail(errorInput, "ipa + 8 at level 3") { f.command(.rttReadEntry, 0x1008, 3) }
  }

  func testRttReadEntry_ipa_bound() {
    let f = RTTFixture()
    _ = f.fail(errorInput, "beyond the IPA space") { f.command(.rttReadEntry, 1 << 40, 1) }
  }

  func testRttReadEntry_success_assigned_destroyed_and_table() {
    var f = RTTFixture()
    let l2 = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    let d1 = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, d1, 0x1000, f.h.sourcePA, 0).x0, success)
    XCTAssertEqual(f.command(.dataDestroy, 0x1000).x0, success)  // UNASSIGNED, DESTROYED
    let d2 = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, d2, 0x1000).x0, success)  // ASSIGNED, DESTROYED
    XCTAssertEqual(f.h.readEntry(0x1000, 3), RMIResult(success, 3, 1, d2, RIPAS.destroyed.rawValue),
                   "state_prot: addr is the DATA granule even with RIPAS DESTROYED")
    XCTAssertEqual(f.h.readEntry(0, 1), RMIResult(success, 1, 2, l2.pa, 0), "TABLE: addr, no attributes")
  }

  // ---- RTT_SET_RIPAS ----

  /// A realm with an L2 table at 0 (no L3 at 2 MiB), one REC, and a pending request.
  func setRIPASFixture(_ base: UInt64, _ top: UInt64, _ value: RIPAS) -> (RTTFixture, UInt64) {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    let rec = f.h.allocateDelegated()
    f.h.writeRECParams(mpidr: 0, aux: [f.h.allocateDelegated(), f.h.allocateDelegated()])
    precondition(f.h.env.call(.recCreate, f.h.rd, rec, f.h.recParamsPA).x0 == success)
    f.h.poke(rec, RECLayout.ripasAddr, base)
    f.h.poke(rec, RECLayout.ripasTop, top)
    f.h.poke(rec, RECLayout.ripasValue, value.rawValue)
    precondition(f.h.env.call(.realmActivate, f.h.rd).x0 == success)
    return (f, rec)
  }

  func testRttSetRipas_rd_align() {
    let (f, rec) = setRIPASFixture(0x1000, 0x3000, .ram)
    _ = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttSetRIPAS, BadPA.unaligned(f.h.rd), rec, 0x1000, 0x3000) }
  }

  func testRttSetRipas_rd_bound() {
    let (f, rec) = setRIPASFixture(0x1000, 0x3000, .ram)
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttSetRIPAS, BadPA.notDelegable, rec, 0x1000, 0x3000) }
  }

  func testRttSetRipas_rec_align() {
    let (f, rec) = setRIPASFixture(0x1000, 0x3000, .ram)
    _ = f.fail(errorInput, "rec + 8") { f.h.env.call(.rttSetRIPAS, f.h.rd, BadPA.unaligned(rec), 0x1000, 0x3000) }
  }

  func testRttSetRipas_rec_bound() {
    let (f, _) = setRIPASFixture(0x1000, 0x3000, .ram)
    _ = f.fail(errorInput, "rec outside DRAM") { f.h.env.call(.rttSetRIPAS, f.h.rd, BadPA.notDelegable, 0x1000, 0x3000) }
  }

  func testRttSetRipas_base_align() {
    // Walk ends at level 2 (no L3 table for 2 MiB); base is not 2 MiB aligned and the
    // entry's RIPAS (EMPTY) differs from the requested RAM.
    let (f, rec) = setRIPASFixture(0x20_1000, 0x60_0000, .ram)
    _ = f.fail(status(.errorRTT, 2), "unaligned to the walk level") { f.h.env.call(.rttSetRIPAS, f.h.rd, rec, 0x20_1000, 0x60_0000) }
  }

  // ---- RTT_UNMAP_UNPROTECTED ----

  func testRttUnmapUnprotected_rd_align() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns, 2, 0x8020_0000).x0, success)
    let r = f.fail(errorInput, "rd + 8") { f.h.env.call(.rttUnmapUnprotected, BadPA.unaligned(f.h.rd), ns, 2) }
    XCTAssertEqual(r.x1, 0, "no walk: top 0")
  }

  func testRttUnmapUnprotected_rd_bound() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns, 2, 0x8020_0000).x0, success)
    _ = f.fail(errorInput, "rd outside DRAM") { f.h.env.call(.rttUnmapUnprotected, BadPA.notDelegable, ns, 2) }
  }

  func testRttUnmapUnprotected_rd_state() {
    var f = RTTFixture()
    let l2 = f.createTable(ns, 2)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns, 2, 0x8020_0000).x0, success)
    _ = f.fail(errorInput, "rd is an RTT") { f.h.env.call(.rttUnmapUnprotected, l2.pa, ns, 2) }
  }

  func testRttUnmapUnprotected_level_bound() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns, 2, 0x8020_0000).x0, success)
    for level in [UInt64(0), 4] {
      let r = f.fail(errorInput, "level \(level)") { f.command(.rttUnmapUnprotected, ns, level) }
      XCTAssertEqual(r.x1, 0)
    }
  }

  func testRttUnmapUnprotected_ipa_align() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns, 2, 0x8020_0000).x0, success)
    _ = f.fail(errorInput, "ipa not 2 MiB aligned at level 2") { f.command(.rttUnmapUnprotected, ns + 0x1000, 2) }
  }

  func testRttUnmapUnprotected_ipa_bound() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.fail(errorInput, "protected IPA") { f.command(.rttUnmapUnprotected, 0, 2) }
    _ = f.fail(errorInput, "beyond the IPA space") { f.command(.rttUnmapUnprotected, 1 << 40, 2) }
  }

  func testRttUnmapUnprotected_rtt_walk() {
    var f = RTTFixture()
    _ = f.createTable(ns, 2)
    XCTAssertEqual(f.command(.rttMapUnprotected, ns + 0x40_0000, 2, 0x8040_0000).x0, success)
    let missing = f.fail(status(.errorRTT, 2), "no L3 table") { f.command(.rttUnmapUnprotected, ns + 0x20_0000, 3) }
    XCTAssertEqual(missing.x1, ns + 0x40_0000, "top = next live entry")
    let block = f.fail(status(.errorRTT, 2), "mapped at a lower level") { f.command(.rttUnmapUnprotected, ns + 0x40_0000, 3) }
    XCTAssertEqual(block.x1, ns + 0x40_0000, "top == ipa")
  }
}

final class FoldReferenceTests: XCTestCase {
  /// RTT_FOLD moves the table's 512 references to the parent's block entry: the folded
  /// table returns to DELEGATED holding none (the release invariant stops the RMM
  /// otherwise), and can become an RTT again.
  func testAFoldedTableHoldsNoReferences() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let l3 = f.createTable(0x20_0000, 3)
    let base: UInt64 = 0x8020_0000
    for i in 0..<UInt64(512) {
      f.h.delegate(base + i * 4096)
      XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, base + i * 4096, 0x20_0000 + i * 4096, f.h.sourcePA, 0).x0, success)
    }
    XCTAssertEqual(f.command(.rttFold, 0x20_0000, 3).x0, success)
    let descriptor = f.h.env.granules.storage.peek(f.h.env.granules.index(of: l3.pa)!)
    XCTAssertEqual(descriptor, GranuleDescriptor(state: .delegated, refcount: 0))
    XCTAssertEqual(f.h.env.call(.rttCreate, f.h.rd, l3.pa, 0x40_0000, 3).x0, success, "the granule is an RTT again")
  }
}

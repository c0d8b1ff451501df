// The gate itself (RMMCore/Gate/Gate.swift), as the firmware runs it: the fake
// supplies only a mapper, so these tests exercise the one copy of the check, the
// audit record, the refusal and the view bounds.

import XCTest
import RMMABI
@testable import RMMCore

final class GateTests: XCTestCase {
  /// A machine with one DELEGATED granule locked as an RTT (a granule the test owns).
  /// The environment and the locked granule (a class: a non-copyable handle the
  /// tests' escaping closures can reach).
  final class LockedRTT {
    let env: FakeEnvironment
    var granule: LockedGranule
    init(_ env: FakeEnvironment, _ granule: consuming LockedGranule) {
      self.env = env
      self.granule = granule
    }
  }

  func lockedRTT() -> LockedRTT {
    let env = FakeEnvironment()
    let pa: UInt64 = 0x8000_4000
    XCTAssertEqual(env.call(.granuleDelegate, pa).x0, success)
    var granule = env.granules.lock(pa)!
    granule.setState(.rtt)
    env.memory.restore(nil)
    env.memory.setPage(pa, (0..<512).map { UInt64($0) | 0xAB00 })
    return LockedRTT(env, granule)
  }

  func testAReadViewSeesOnlyTheDeclaredBytes() throws {
    let rttHeld = lockedRTT()
    let env = rttHeld.env
    let intent = AccessIntent(.rttRead, .read, expecting: .rtt, offset: 16, length: 16)
    let inside = try env.gate.reading(rttHeld.granule, intent) { page in [page.load64(at: 16), page.load64(at: 24)] }
    XCTAssertEqual(inside, [0xAB02, 0xAB03])
    XCTAssertEqual(env.memory.violations, 0)
    // One word before and one after the declared range: not read, and the whole access refused.
    for offset in [8, 32, 4088] {
      XCTAssertThrowsError(try env.gate.reading(rttHeld.granule, intent) { page in page.load64(at: offset) }) { error in
        XCTAssertEqual(error as? GateError, .policyViolation)
      }
    }
    XCTAssertEqual(env.memory.violations, 3)
    XCTAssertEqual(env.memory.alerts.count, 3, "each refusal raises an alert")
    XCTAssertEqual(env.memory.records.filter { !$0.allowed }.map(\.offset), [16, 16, 16])
    // A scan or a copy that runs past the range is refused too.
    XCTAssertThrowsError(try env.gate.reading(rttHeld.granule, intent) { page in page.firstWord(from: 2, withAnyOf: 0) })
    XCTAssertThrowsError(try env.gate.reading(rttHeld.granule, intent) { page in
      var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
      withUnsafeMutableBytes(of: &words) { page.loadWords(at: 16, into: $0) }
    })
    XCTAssertEqual(env.memory.violations, 5)
    XCTAssertTrue(env.memory.mappings.isEmpty, "every mapping undone")
  }

  func testAWriteViewChangesOnlyTheDeclaredBytes() throws {
    let rttHeld = lockedRTT()
    let env = rttHeld.env
    let before = env.memory.page(rttHeld.granule.pa)
    let intent = AccessIntent(.rttWrite, .write, expecting: .rtt, offset: 8, length: 8)
    try env.gate.writing(rttHeld.granule, intent) { page in page.store64(0x5555, at: 8) }
    XCTAssertEqual(env.memory.load64(rttHeld.granule.pa, word: 1), 0x5555)
    XCTAssertThrowsError(try env.gate.writing(rttHeld.granule, intent) { page in page.store64(0x6666, at: 16) })
    XCTAssertThrowsError(try env.gate.writing(rttHeld.granule, intent) { page in
      page.storeBytes(UnsafeRawBufferPointer(start: nil, count: 0), at: 8)
      var two: (UInt64, UInt64) = (1, 2)
      withUnsafeBytes(of: &two) { page.storeBytes($0, at: 8) }  // 16 bytes into 8
    })
    XCTAssertThrowsError(try env.gate.writing(rttHeld.granule, intent) { page in page.fill(0, words: 2, at: 8) })
    XCTAssertThrowsError(try env.gate.writing(rttHeld.granule, intent) { page in _ = page.pointer(at: 0, count: 16) })
    var after = env.memory.page(rttHeld.granule.pa)
    after[1] = before[1]
    XCTAssertEqual(after, before, "nothing outside the declared word was written")
    XCTAssertEqual(env.memory.violations, 4)
  }

  func testTheIntentMustMatchTheViewAndTheGranule() {
    let rttHeld = lockedRTT()
    let env = rttHeld.env
    // A read intent for a write view (MEASUREMENT_EXTEND's RD access declared as a
    // read), a write intent for a read view, another owner's purpose, a range past
    // the granule, the wrong expected state: each refused before anything is mapped.
    let refusals: [(String, () throws -> Void)] = [
      ("read intent, write view", { try env.gate.writing(rttHeld.granule, AccessIntent(.rttRead, .read, expecting: .rtt)) { _ in } }),
      ("write intent, read view", { try env.gate.reading(rttHeld.granule, AccessIntent(.rttWrite, .write, expecting: .rtt)) { _ in } }),
      ("RD purpose on an RTT", { try env.gate.reading(rttHeld.granule, AccessIntent(.rdRead, .read, expecting: .rtt)) { _ in } }),
      ("past the granule", {
        try env.gate.reading(rttHeld.granule, AccessIntent(.rttRead, .read, expecting: .rtt, offset: 4092, length: 8)) { _ in }
      }),
      ("expected state", { try env.gate.reading(rttHeld.granule, AccessIntent(.rttRead, .read, expecting: .rd)) { _ in } }),
      ("fill of part of a page", {
        var buffer = PageBuffer()
        try env.gate.fill(rttHeld.granule, AccessIntent(.rttWrite, .write, expecting: .rtt, length: 8), from: &buffer)
      }),
    ]
    for (name, access) in refusals {
      XCTAssertThrowsError(try access(), name) { XCTAssertEqual($0 as? GateError, .policyViolation, name) }
    }
    XCTAssertEqual(env.memory.violations, UInt64(refusals.count))
    XCTAssertEqual(env.memory.records.count, refusals.count, "every refusal recorded")
    XCTAssertTrue(env.memory.records.allSatisfy { !$0.allowed && $0.pa == rttHeld.granule.pa })
    XCTAssertEqual(env.memory.page(rttHeld.granule.pa)[0], 0xAB00, "nothing written")
  }

  func testNonSecureCopies() throws {
    let env = FakeEnvironment()
    let ns: UInt64 = 0x8000_1000
    env.memory.setPage(ns, (0..<512).map { UInt64($0) })
    var words: (UInt64, UInt64) = (0, 0)
    try env.gate.copyFromNonSecure(ns, AccessIntent(.recParams, .read, expecting: .undelegated, offset: 8, length: 16),
                                   into: &words)
    XCTAssertEqual([words.0, words.1], [1, 2], "the declared bytes, from the declared offset")
    XCTAssertThrowsError(try env.gate.copyFromNonSecure(
      ns, AccessIntent(.recParams, .read, expecting: .undelegated, length: 24), into: &words), "longer than the buffer")
    XCTAssertThrowsError(try env.gate.copyFromNonSecure(
      0x1_0000_0000_0000, AccessIntent(.recParams, .read, expecting: .undelegated, length: 16), into: &words)) {
      XCTAssertEqual($0 as? GateError, .notDRAM)
    }
    XCTAssertEqual(env.call(.granuleDelegate, ns).x0, success)
    XCTAssertThrowsError(try env.gate.copyFromNonSecure(
      ns, AccessIntent(.recParams, .read, expecting: .undelegated, length: 16), into: &words), "a delegated granule")
    XCTAssertEqual(env.memory.violations, 3)
    // A fault on the copy fails it cleanly, with no refusal.
    let other: UInt64 = 0x8000_2000
    env.memory.faulting = [other]
    XCTAssertThrowsError(try env.gate.copyToNonSecure(
      other, AccessIntent(.auditDrain, .write, expecting: .undelegated, length: 16), from: &words)) {
      XCTAssertEqual($0 as? GateError, .nonSecureAccessFault)
    }
    XCTAssertEqual(env.memory.violations, 3)
  }

  func testTheSharedPageExchangeArea() throws {
    let env = FakeEnvironment()
    let exchange = AccessIntent(.el3ExchangeWrite, .write, expecting: .undelegated, offset: 0x800, length: 32)
    try env.gate.writingSharedPage(exchange) { area in area.store64(0x1234, at: 0x800) }
    let read = try env.gate.readingSharedPage(AccessIntent(.el3ExchangeRead, .read, expecting: .undelegated,
                                                           offset: 0x800, length: 8)) { area in area.load64(at: 0x800) }
    XCTAssertEqual(read, 0x1234)
    XCTAssertEqual(env.memory.records.map(\.pa), [FakeMemoryState.sharedPagePA, FakeMemoryState.sharedPagePA])
    XCTAssertTrue(env.memory.records.allSatisfy { $0.allowed && $0.state == nil && $0.conformsToPolicy })
    // The boot manifest half, another purpose, or a realm purpose on the shared page: refused.
    XCTAssertThrowsError(try env.gate.readingSharedPage(
      AccessIntent(.el3ExchangeRead, .read, expecting: .undelegated, offset: 0, length: 8)) { _ in })
    XCTAssertThrowsError(try env.gate.readingSharedPage(
      AccessIntent(.realmParams, .read, expecting: .undelegated, offset: 0x800, length: 8)) { _ in })
    XCTAssertThrowsError(try env.gate.writingSharedPage(
      AccessIntent(.el3ExchangeRead, .read, expecting: .undelegated, offset: 0x800, length: 8)) { _ in })
    XCTAssertEqual(env.memory.violations, 3)
  }

  /// DATA_CREATE whose DATA granule cannot be written (the platform fails the mapping)
  /// fails and leaves nothing half-changed: the granule is DELEGATED again, the RTT
  /// entry is unassigned, the RIM is unchanged; the same call then succeeds.
  func testDataCreateRollsBackWhenTheWriteFails() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    XCTAssertEqual(f.call(.rttInitRIPAS, 0, 0x2000).x0, success)
    let data = f.h.allocateDelegated()
    let rim = f.h.realm().rim
    f.h.env.memory.unmappable = [data]
    XCTAssertNotEqual(f.h.env.call(.dataCreate, f.h.rd, data, 0x1000, f.h.sourcePA, 1).x0, success)
    XCTAssertEqual(f.h.state(data), .delegated)
    XCTAssertEqual(f.h.readEntry(0x1000, 3).x2 & 0x7, 0, "RTT entry still UNASSIGNED")
    XCTAssertEqual(f.h.realm().rim, rim)
    f.h.env.memory.unmappable = []
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, data, 0x1000, f.h.sourcePA, 1).x0, success)
    XCTAssertEqual(f.h.state(data), .data)
  }

  /// A REC round trip with a host call makes only allowed accesses, each inside its
  /// declared bytes.
  func testARealmRoundTripStaysInsideItsViews() {
    var n = RunFixture()
    let data = n.f.h.allocateDelegated()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0, success)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 0x2100])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.env.memory.violations, 0)
    let hostCall = n.env.memory.records.filter { $0.purpose == .rsiHostCallRead || $0.purpose == .rsiHostCallWrite }
    XCTAssertEqual(hostCall.map(\.offset), [0x100, 0x100], "RsiHostCall at its IPA's offset in the page")
    XCTAssertEqual(hostCall.map(\.length), [0x100, 0x100])
  }
}

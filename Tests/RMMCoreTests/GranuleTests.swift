import XCTest
import RMMABI
@testable import RMMCore

final class GranuleDescriptorTests: XCTestCase {
  func testPackingRoundTrips() {
    for state in GranuleState.allCases {
      for refcount: UInt16 in [0, 1, 511, 512, 0xFFF] {
        let d = GranuleDescriptor(state: state, refcount: refcount)
        XCTAssertEqual(d.state, state)
        XCTAssertEqual(d.refcount, refcount)
        XCTAssertFalse(d.isLocked)
      }
    }
    XCTAssertEqual(GranuleDescriptor(rawValue: 0x8000 | 0x5003).unlocked, GranuleDescriptor(state: .data, refcount: 3))
    XCTAssertNil(GranuleDescriptor(rawValue: 0x7000).state, "encoding 7 is not a state")
    XCTAssertEqual(MemoryLayout<GranuleDescriptor>.size, 2, "2 bytes per granule")
  }

  func testRefcountIsMasked() {
    XCTAssertEqual(GranuleDescriptor(state: .rtt, refcount: 0x1001).refcount, 1)
  }
}

final class GranuleTableTests: XCTestCase {
  func testIndexAcrossBanks() {
    let env = FakeEnvironment()
    let t = env.granules
    XCTAssertEqual(t.index(of: 0x8000_0000), 0)
    XCTAssertEqual(t.index(of: 0x8003_F000), 63)
    XCTAssertNil(t.index(of: 0x8004_0000), "one past bank 0")
    XCTAssertEqual(t.index(of: 0x1_0000_0000), 64, "bank 1 follows bank 0")
    XCTAssertEqual(t.index(of: 0x1_0001_F000), 95)
    XCTAssertNil(t.index(of: 0x1_0002_0000))
    XCTAssertNil(t.index(of: 0x8000_0008), "unaligned")
    XCTAssertNil(t.index(of: 0x7FFF_F000), "below DRAM")
    XCTAssertNil(t.index(of: 0xFFFF_FFFF_FFFF_F000), "top of the address space")
    XCTAssertEqual(t.count(in: .undelegated), 96)
  }

  func testTableRefusesMoreDRAMThanDescriptors() {
    var dram = DRAMLayout()
    dram.banks[0] = PhysicalRange(base: 0x8000_0000, size: 65 * 4096)
    dram.bankCount = 1
    XCTAssertNil(GranuleTable(storage: FakeDescriptors(count: 64), dram: dram))
  }

  func testEmptyTableCoversNothing() {
    let t = GranuleTable(storage: FakeDescriptors(count: 8))
    XCTAssertNil(t.index(of: 0))
    XCTAssertTrue(t.lock(0x8000_0000) == nil)
  }

  func testLockExpectingState() {
    let env = FakeEnvironment()
    XCTAssertTrue(env.granules.lock(0x8000_0000, expecting: .delegated) == nil)
    XCTAssertFalse(env.granules.storage.anyLocked, "a refused lock is released")
    var g = env.granules.lock(0x8000_0000, expecting: .undelegated)!
    XCTAssertTrue(env.granules.storage.anyLocked)
    g.setState(.rtt)
    env.granules.release(g)
    XCTAssertEqual(env.granules.state(of: 0x8000_0000), .rtt)
    XCTAssertFalse(env.granules.storage.anyLocked)
  }
}

final class GranuleDelegationTests: XCTestCase {
  let granule: UInt64 = 0x8000_5000

  func testDelegateAndUndelegate() {
    let env = FakeEnvironment()
    env.memory.setPage(granule, Array(repeating: 0xDEAD, count: 512))
    XCTAssertEqual(env.call(.granuleDelegate, granule).x0, success)
    XCTAssertEqual(env.granules.state(of: granule), .delegated)
    XCTAssertEqual(env.memory.page(granule), Array(repeating: 0, count: 512), "DELEGATED is all zeros")
    XCTAssertTrue(env.monitor.state.realmPAS.contains(granule))
    XCTAssertEqual(env.call(.granuleUndelegate, granule).x0, success)
    XCTAssertEqual(env.granules.state(of: granule), .undelegated)
    XCTAssertFalse(env.monitor.state.realmPAS.contains(granule))
    XCTAssertEqual(env.memory.accesses.map(\.intent.purpose), [.delegateScrub], "UNDELEGATE writes nothing: DELEGATED is zero")
    XCTAssertTrue(env.memory.accesses.allSatisfy(\.allowed))
    XCTAssertFalse(env.granules.storage.anyLocked)
  }

  /// Found by the NS fuzzer: a PA inside the manifest's DRAM bank but past the
  /// platform's RAM. EL3 delegates it; the scrub aborts; the RMM must undo it all.
  func testDelegateOfAbsentMemoryIsUndone() {
    let env = FakeEnvironment()
    env.memory.absent.insert(granule)
    XCTAssertEqual(env.call(.granuleDelegate, granule).x0, errorInput)
    XCTAssertEqual(env.granules.state(of: granule), .undelegated)
    XCTAssertFalse(env.monitor.state.realmPAS.contains(granule), "EL3's delegation was reverted")
    XCTAssertEqual(env.monitor.state.calls, ["delegate \(String(granule, radix: 16))", "undelegate \(String(granule, radix: 16))"])
    XCTAssertFalse(env.granules.storage.anyLocked)
  }

  func testDelegateRefusals() {
    let env = FakeEnvironment()
    let bad: [UInt64] = [granule + 8, granule + 0x800, 0x7FFF_F000, 0x8004_0000, 0x1_0002_0000,
                         0xFFFF_FFFF_FFFF_F000, 0, 1]
    for pa in bad {
      XCTAssertEqual(env.call(.granuleDelegate, pa).x0, errorInput, "delegate \(String(pa, radix: 16))")
    }
    XCTAssertTrue(env.monitor.state.calls.isEmpty, "bad addresses never reach EL3")
    XCTAssertEqual(env.call(.granuleDelegate, granule).x0, success)
    XCTAssertEqual(env.call(.granuleDelegate, granule).x0, errorInput, "double delegate")
    XCTAssertEqual(env.monitor.state.calls.count, 1, "the double delegate is caught by the RMM, not EL3")
    XCTAssertFalse(env.granules.storage.anyLocked)
  }

  func testDelegateInEveryOtherState() {
    for state in GranuleState.allCases where state != .undelegated {
      let env = FakeEnvironment()
      var g = env.granules.lock(granule)!
      g.setState(state)
      env.granules.release(g)
      XCTAssertEqual(env.call(.granuleDelegate, granule).x0, errorInput, "delegate from \(state)")
      XCTAssertEqual(env.granules.state(of: granule), state, "unchanged")
    }
  }

  func testUndelegateInEveryOtherState() {
    for state in GranuleState.allCases where state != .delegated {
      let env = FakeEnvironment()
      var g = env.granules.lock(granule)!
      g.setState(state)
      env.granules.release(g)
      XCTAssertEqual(env.call(.granuleUndelegate, granule).x0, errorInput, "undelegate from \(state)")
      XCTAssertEqual(env.granules.state(of: granule), state, "unchanged")
      XCTAssertTrue(env.monitor.state.calls.isEmpty)
    }
  }

  func testEL3RefusalLeavesGranuleUnchanged() {
    let env = FakeEnvironment()
    env.monitor.state.refused = [granule]
    env.memory.setPage(granule, Array(repeating: 7, count: 512))
    XCTAssertEqual(env.call(.granuleDelegate, granule).x0, errorInput)
    XCTAssertEqual(env.granules.state(of: granule), .undelegated)
    XCTAssertEqual(env.memory.page(granule)[0], 7, "host memory untouched when EL3 refuses")
    XCTAssertTrue(env.memory.accesses.isEmpty)
  }

  func testEL3RefusingUndelegateKeepsGranuleDelegated() {
    let env = FakeEnvironment()
    XCTAssertEqual(env.call(.granuleDelegate, granule).x0, success)
    env.monitor.state.refused = [granule]
    XCTAssertEqual(env.call(.granuleUndelegate, granule).x0, errorInput)
    XCTAssertEqual(env.granules.state(of: granule), .delegated)
    XCTAssertFalse(env.granules.storage.anyLocked)
  }

  func testSecondBank() {
    let env = FakeEnvironment()
    XCTAssertEqual(env.call(.granuleDelegate, 0x1_0001_F000).x0, success)
    XCTAssertEqual(env.granules.state(of: 0x1_0001_F000), .delegated)
    XCTAssertEqual(env.granules.count(in: .delegated), 1)
  }

  /// Random sequences of delegate/undelegate against a model of the expected states.
  func testRandomSequencesAgainstModel() {
    var rng = SystemRandomNumberGenerator()
    let env = FakeEnvironment()
    var model: [UInt64: Bool] = [:]  // pa -> delegated
    let candidates: [UInt64] = (0..<8).map { 0x8000_0000 + UInt64($0) * 0x1000 } + [0x8000_0008, 0x7000_0000]
    for _ in 0..<2000 {
      let pa = candidates.randomElement(using: &rng)!
      let delegate = Bool.random(using: &rng)
      let valid = pa & 0xFFF == 0 && pa >= 0x8000_0000
      let wasDelegated = model[pa] ?? false
      let result = env.call(delegate ? .granuleDelegate : .granuleUndelegate, pa).x0
      let shouldSucceed = valid && (delegate ? !wasDelegated : wasDelegated)
      XCTAssertEqual(result, shouldSucceed ? success : errorInput)
      if shouldSucceed { model[pa] = delegate }
    }
    for (pa, delegated) in model {
      XCTAssertEqual(env.granules.state(of: pa), delegated ? .delegated : .undelegated)
    }
  }
}


final class GranuleDescriptorLayoutTests: XCTestCase {
  /// The descriptor decodes a state by the enum's layout: it must equal the raw value.
  func testEveryStateRoundTripsThroughADescriptor() {
    for state in GranuleState.allCases {
      XCTAssertEqual(UInt16(state.layoutTag), state.rawValue, "\(state)")
      for refcount: UInt16 in [0, 1, 0xFFF] {
        let descriptor = GranuleDescriptor(state: state, refcount: refcount)
        XCTAssertEqual(descriptor.state, state)
        XCTAssertEqual(GranuleDescriptor(rawValue: descriptor.rawValue | GranuleDescriptor.lockBit).state, state)
      }
    }
    XCTAssertNil(GranuleDescriptor(rawValue: 7 << 12).state, "encoding 7 is no state")
  }
}

extension GranuleDescriptorLayoutTests {
  /// The invariants every release checks: only RD, REC (at most 1) and RTT (at most
  /// 512) hold references; encoding 7 is no state.
  func testDescriptorInvariants() {
    for state in GranuleState.allCases {
      XCTAssertTrue(GranuleDescriptor(state: state, refcount: 0).isConsistent, "\(state) with no references")
      let one = GranuleDescriptor(state: state, refcount: 1).isConsistent
      XCTAssertEqual(one, [.rd, .rec, .rtt].contains(state), "\(state) with one reference")
    }
    XCTAssertFalse(GranuleDescriptor(state: .rec, refcount: 2).isConsistent)
    XCTAssertTrue(GranuleDescriptor(state: .rtt, refcount: 512).isConsistent)
    XCTAssertFalse(GranuleDescriptor(state: .rtt, refcount: 513).isConsistent)
    XCTAssertTrue(GranuleDescriptor(state: .rd, refcount: 0xFFF).isConsistent)
    XCTAssertFalse(GranuleDescriptor(rawValue: 7 << 12).isConsistent)
  }
}

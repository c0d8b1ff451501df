import XCTest
import RMMABI
@testable import RMMCore

/// Realms with SVE and a PMU (issue #15): what REALM_CREATE accepts, what REC_AUX_COUNT
/// and REC_CREATE make of it, and how REC_ENTER switches the state.
final class RealmFeatureTests: XCTestCase {
  /// Feature register 0 of a CPU with SVE up to 2048 bits and a PMU with 6 counters.
  static func featuresWithSVEAndPMU() -> RMIFeatureRegister0 {
    var f = FakeEnvironment().features
    f.sveEnabled = true
    f.sveVectorLength = 15
    f.pmuEnabled = true
    f.pmuCounters = 6
    return f
  }

  static func harness(features: RMIFeatureRegister0 = featuresWithSVEAndPMU()) -> RealmHarness {
    var h = RealmHarness()
    h.env.features = features
    return h
  }

  typealias Config = RealmHarness.RealmConfig
  static let sve = RealmParamsLayout.flagSVE, pmu = RealmParamsLayout.flagPMU

  func testRealmCreateValidatesSVEAndPMU() {
    func create(_ c: Config, features: RMIFeatureRegister0 = RealmFeatureTests.featuresWithSVEAndPMU()) -> UInt64 {
      var h = Self.harness(features: features)
      return h.createRealm(c)
    }
    XCTAssertEqual(create(Config(flags: Self.sve, sveVL: 15)), success, "SVE at the largest vector length")
    XCTAssertEqual(create(Config(flags: Self.sve, sveVL: 0)), success, "SVE at 128 bits")
    XCTAssertEqual(create(Config(flags: Self.sve, sveVL: 16)), errorInput, "sve_vl beyond SVE_VL")
    XCTAssertEqual(create(Config(flags: 0, sveVL: 3)), errorInput, "sve_vl without flags.sve")
    var smallSVE = Self.featuresWithSVEAndPMU()
    smallSVE.sveVectorLength = 3
    XCTAssertEqual(create(Config(flags: Self.sve, sveVL: 4), features: smallSVE), errorInput, "sve_vl beyond a 512-bit CPU")
    XCTAssertEqual(create(Config(flags: Self.sve, sveVL: 3), features: smallSVE), success)
    XCTAssertEqual(create(Config(flags: Self.sve, sveVL: 1), features: FakeEnvironment().features), errorInput,
                   "flags.sve on a CPU without SVE")
    XCTAssertEqual(create(Config(flags: Self.pmu, pmu: 6)), success, "PMU with every counter")
    XCTAssertEqual(create(Config(flags: Self.pmu, pmu: 7)), errorInput, "pmu_num_ctrs beyond PMU_NUM_CTRS")
    XCTAssertEqual(create(Config(flags: 0, pmu: 2)), errorInput, "pmu_num_ctrs without flags.pmu")
    XCTAssertEqual(create(Config(flags: Self.pmu, pmu: 1), features: FakeEnvironment().features), errorInput,
                   "flags.pmu on a CPU without a PMU")
  }

  func testRECAuxCountFollowsTheVectorLength() {
    // The attestation workspace (2), then Z0-Z31 + P0-P15 + FFR at the realm's VL.
    let expected: [(UInt64?, UInt64)] = [(nil, 2), (0, 3), (3, 3), (6, 3), (7, 4), (11, 4), (15, 5)]
    for (length, count) in expected {
      var h = Self.harness()
      XCTAssertEqual(h.createRealm(Config(flags: length == nil ? 0 : Self.sve, sveVL: length ?? 0)), success)
      XCTAssertEqual(h.env.call(.recAuxCount, h.rd), RMIResult(success, count), "SVE LEN \(String(describing: length))")
    }
    XCTAssertEqual(RealmFeatures.sveStateBytes(vectorLength: 15), 8_736, "2048 bits: 32 x 256 + 17 x 32 bytes")
  }

  func testRECCreateWantsExactlyTheRealmsAuxCount() {
    var h = Self.harness()
    XCTAssertEqual(h.createRealm(Config(flags: Self.sve, sveVL: 15)), success)
    let rec = h.allocateDelegated()
    let aux = (0..<6).map { _ in h.allocateDelegated() }
    for count in [2, 4, 6] {
      h.writeRECParams(mpidr: 0, aux: Array(aux.prefix(count)))
      XCTAssertEqual(h.env.call(.recCreate, h.rd, rec, h.recParamsPA).x0, errorInput, "\(count) aux granules, 5 wanted")
      XCTAssertEqual(h.state(rec), .delegated, "nothing changed")
      for a in aux { XCTAssertEqual(h.state(a), .delegated) }
    }
    h.writeRECParams(mpidr: 0, aux: Array(aux.prefix(5)))
    XCTAssertEqual(h.env.call(.recCreate, h.rd, rec, h.recParamsPA).x0, success)
    for a in aux.prefix(5) { XCTAssertEqual(h.state(a), .recAux) }
    let page = h.env.memory.page(rec)
    XCTAssertEqual(page[RECLayout.sveVectorLength / 8], 15 | RECLayout.featureEnabledBit, "the REC knows the realm's VL")
    XCTAssertEqual(page[RECLayout.sveControl / 8], 15, "the realm's EL1 starts at its whole vector length")
    XCTAssertEqual(page[RECLayout.pmuCounters / 8], 0, "no PMU")
  }

  /// An ACTIVE realm with one runnable REC and the realm's aux granules.
  struct FeatureRun {
    var h: RealmHarness
    var rec: UInt64 = 0
    var aux: [UInt64] = []
    let run = RealmHarness.granule(3)

    init(_ c: Config) {
      h = RealmFeatureTests.harness()
      precondition(h.createRealm(c) == success)
      let count = Int(h.env.call(.recAuxCount, h.rd).x1)
      rec = h.allocateDelegated()
      aux = (0..<count).map { _ in h.allocateDelegated() }
      h.writeRECParams(mpidr: 0, pc: 0x1000, aux: aux)
      precondition(h.env.call(.recCreate, h.rd, rec, h.recParamsPA).x0 == success)
      precondition(h.env.call(.realmActivate, h.rd).x0 == success)
    }

    var cpu: FakeCPUState { h.env.cpu.state }
    /// One REC_ENTER during which the "realm" leaves `registers` in its SVE registers,
    /// ending with a host call exit.
    func enter(leaving registers: [UInt8]? = nil) -> UInt64 {
      let state = cpu
      state.script.append(({ page in
        if let registers { state.sveRegisterFile = registers }
        page[RECLayout.context / 8] = RSICommand.hostCall.rawValue
      }, RealmExitSyndrome(kind: .sync, esr: RunFixture.smc)))
      return h.env.call(.recEnter, rec, run).x0
    }
  }

  func testSVERegistersLiveInTheSVEAuxGranules() {
    let n = FeatureRun(Config(flags: Self.sve, sveVL: 3))
    XCTAssertEqual(n.aux.count, 3)
    let bytes = RealmFeatures.sveStateBytes(vectorLength: 3)
    let pattern = (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    n.h.env.memory.forgetAccesses()
    XCTAssertEqual(n.enter(leaving: pattern), success)
    XCTAssertEqual(n.cpu.sveLoads, [3], "loaded at the realm's vector length")
    XCTAssertEqual(n.cpu.sveSaves, [3], "and saved")
    // Saved into the third aux granule (after the attestation workspace), whole.
    let saved = n.h.env.memory.page(n.aux[2])
    let savedBytes = saved.withUnsafeBytes { Array($0.prefix(bytes)) }
    XCTAssertEqual(savedBytes, pattern, "Z, P and FFR in the SVE aux granule")
    XCTAssertTrue(n.h.env.memory.page(n.aux[0]).allSatisfy { $0 == 0 }, "the attestation workspace is untouched")
    let sveAccesses = n.h.env.memory.accesses.filter { $0.intent.purpose == .recSVEState }
    XCTAssertEqual(sveAccesses.count, 2, "one audited load and one audited save")
    XCTAssertTrue(sveAccesses.allSatisfy { $0.pa == n.aux[2] && $0.allowed && $0.intent.direction == .write })
    // The next entry loads what the last exit saved.
    n.cpu.sveRegisterFile = []
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.cpu.sveRegisterFile, pattern, "the REC's registers come back at the next entry")
  }

  func testLargestVectorLengthSpansThreeGranules() {
    let n = FeatureRun(Config(flags: Self.sve, sveVL: 15))
    let pattern = (0..<8_736).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    n.h.env.memory.forgetAccesses()
    XCTAssertEqual(n.enter(leaving: pattern), success)
    var saved: [UInt8] = []
    for a in n.aux[2...] { saved += n.h.env.memory.page(a).withUnsafeBytes { Array($0) } }
    XCTAssertEqual(Array(saved.prefix(8_736)), pattern, "Z, P and FFR across aux granules 2, 3 and 4, in order")
    let sveAccesses = n.h.env.memory.accesses.filter { $0.intent.purpose == .recSVEState }
    XCTAssertEqual(Set(sveAccesses.map(\.pa)), Set(n.aux[2...]), "every SVE aux granule audited")
    XCTAssertEqual(sveAccesses.count, 6)
  }

  func testRealmWithoutSVEOrPMUSwitchesNeither() {
    let n = FeatureRun(Config())
    n.h.env.memory.forgetAccesses()
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.cpu.sveLoads, [nil])
    XCTAssertEqual(n.cpu.sveSaves, [nil])
    XCTAssertNil(n.cpu.entries.last?.pmuCounters, "no PMU state switched")
    XCTAssertFalse(n.h.env.memory.accesses.contains { $0.intent.purpose == .recSVEState })
  }

  func testPMURealmEntersWithItsCounters() {
    let n = FeatureRun(Config(flags: Self.pmu, pmu: 4))
    XCTAssertEqual(n.aux.count, 2, "the PMU state lives in the REC granule")
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.cpu.entries.last?.pmuCounters, 4)
  }

  func testIDRegistersShowOnlyWhatTheRealmAskedFor() {
    var hw = HardwareIDRegisters()
    hw.pfr0 = 0x1101_0011_1111_2222 | 1 << 32  // SVE
    hw.zfr0 = 0x0011_0000_0010_0011
    hw.dfr0 = 0x0000_0000_0000_0506  // PMUVer 5, DebugVer 6
    func read(_ crm: UInt8, _ op2: UInt8, _ realm: RealmFeatures) -> UInt64 {
      IDRegisterView.realmValue(SystemRegisterEncoding(op0: 3, op1: 0, crn: 0, crm: crm, op2: op2), hardware: hw,
                                realm: realm)!
    }
    let plain = RealmFeatures(breakpoints: 1, watchpoints: 1)
    let both = RealmFeatures(breakpoints: 1, watchpoints: 1, sveVectorLength: 3, pmuCounters: 2)
    XCTAssertEqual((read(4, 0, plain) >> 32) & 0xF, 0, "PFR0.SVE hidden without SVE")
    XCTAssertEqual((read(4, 0, both) >> 32) & 0xF, 1, "PFR0.SVE shown with SVE")
    XCTAssertEqual(read(4, 4, plain), 0, "ZFR0 zero without SVE")
    XCTAssertEqual(read(4, 4, both), hw.zfr0, "ZFR0 the CPU's with SVE")
    XCTAssertEqual((read(5, 0, plain) >> 8) & 0xF, 0, "DFR0.PMUVer hidden without a PMU")
    XCTAssertEqual((read(5, 0, both) >> 8) & 0xF, 5, "DFR0.PMUVer shown with a PMU")
  }
}

import XCTest
import RMMABI
@testable import RMMCore

final class RealmCreateTests: XCTestCase {
  func testCreateActivateDestroy() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    XCTAssertEqual(h.state(h.rd), .rd)
    XCTAssertEqual(h.state(h.rttBase), .rtt)
    XCTAssertEqual(h.state(h.rttBase + 4096), .rtt)
    XCTAssertEqual(h.env.vmids.state.used, [7])
    let realm = h.realm()
    XCTAssertEqual(realm.state, .new)
    XCTAssertEqual(realm.stage2, Stage2Config(ipaWidth: 40, startLevel: 1, rootTableCount: 2, rttBase: h.rttBase, vmid: 7, lpa2: false))
    XCTAssertEqual(h.env.call(.realmActivate, h.rd).x0, success)
    XCTAssertEqual(h.realm().state, .active)
    XCTAssertEqual(h.env.call(.realmActivate, h.rd).x0, status(.errorRealm), "activate twice")
    XCTAssertEqual(h.env.call(.realmDestroy, h.rd).x0, success)
    XCTAssertEqual(h.state(h.rd), .delegated)
    XCTAssertEqual(h.state(h.rttBase), .delegated)
    XCTAssertEqual(h.env.memory.page(h.rd), [UInt64](repeating: 0, count: 512), "RD scrubbed")
    XCTAssertTrue(h.env.vmids.state.used.isEmpty, "VMID released")
    XCTAssertFalse(h.env.granules.storage.anyLocked)
    XCTAssertEqual(h.env.call(.realmActivate, h.rd).x0, errorInput, "no realm any more")
  }

  /// The host's parameter page is read once, and only the part that holds fields.
  func testParamsAreCopiedOnceAndOnlyTheFields() {
    var h = RealmHarness()
    h.delegate(h.rd)
    for i in 0..<UInt64(2) { h.delegate(h.rttBase + i * 4096) }
    h.writeRealmParams(RealmHarness.RealmConfig())
    h.env.memory.forgetAccesses()
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA).x0, success)
    let reads = h.env.memory.accesses.filter { $0.pa == h.paramsPA }
    XCTAssertEqual(reads.count, 1)
    XCTAssertEqual(reads.first?.intent.purpose, .realmParams)
    XCTAssertEqual(reads.first.map { Int($0.intent.length) }, RealmParamsLayout.rttNumStart + 8)
    var rpv: [UInt64] = []
    h.env.memory.page(h.rd).withUnsafeBufferPointer { words in
      for i in 0..<8 { rpv.append(words[(RDLayout.personalizationValue >> 3) + i]) }
    }
    XCTAssertEqual(rpv, RealmHarness.RealmConfig().rpv, "RPV from the copy")
  }

  func testInitialRIMMatchesIndependentHash() {
    for (hash, sha512) in [(UInt64(0), false), (1, true)] {
      var h = RealmHarness()
      var c = RealmHarness.RealmConfig()
      c.hash = hash
      c.flags = 0
      c.bps = 3
      c.wps = 2
      XCTAssertEqual(h.createRealm(c), success)
      // RmiRealmParams page, zero except the measured fields (RPV, VMID, RTT fields are not measured).
      var page = [UInt64](repeating: 0, count: 512)
      page[0x008 / 8] = 40
      page[0x018 / 8] = 3
      page[0x020 / 8] = 2
      page[0x030 / 8] = hash
      let expected = coreutilsDigest(leBytes(page), sha512: sha512)
      XCTAssertEqual(bytes(of: h.realm().rim), expected, "sha512: \(sha512)")
    }
  }

  func testEveryInvalidParameterIsRefusedAndNothingChanges() {
    typealias C = RealmHarness.RealmConfig
    let cases: [(String, (inout C) -> Void)] = [
      ("LPA2 not supported", { $0.flags = 1 }),
      ("SVE not supported", { $0.flags = 2 }),
      ("PMU not supported", { $0.flags = 4 }),
      ("s2sz below 32", { $0.s2sz = 31; $0.level = 2; $0.numStart = 1 }),
      ("s2sz above FR0", { $0.s2sz = 49; $0.level = 0; $0.numStart = 2 }),
      ("sve_vl without SVE", { $0.sveVL = 1 }),
      ("no breakpoints", { $0.bps = 0 }),
      ("too many breakpoints", { $0.bps = 6 }),
      ("no watchpoints", { $0.wps = 0 }),
      ("too many watchpoints", { $0.wps = 4 }),
      ("PMU counters without PMU", { $0.pmu = 1 }),
      ("hash algorithm 2", { $0.hash = 2 }),
      ("start level 4", { $0.level = 4 }),
      ("start level -1", { $0.level = UInt64(bitPattern: -1) }),
      ("start level 3 cannot map 40 bits", { $0.level = 3; $0.numStart = 1 }),
      ("start level 2 needs 16+ tables for 40 bits", { $0.level = 2; $0.numStart = 16 }),
      ("root count too small", { $0.numStart = 1 }),
      ("root count too large", { $0.numStart = 4 }),
      ("rtt_base not aligned to the concatenation", { $0.rttBase = RealmHarness.granule(33) }),
    ]
    for (name, mutate) in cases {
      var h = RealmHarness()
      h.delegate(h.rd)
      for i in 0..<UInt64(4) { h.delegate(h.rttBase + i * 4096) }
      var c = C()
      mutate(&c)
      h.writeRealmParams(c)
      let before = h.snapshot()
      XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA).x0, errorInput, name)
      XCTAssertEqual(h.snapshot(), before, "\(name): nothing changed")
      XCTAssertFalse(h.env.granules.storage.anyLocked, name)
    }
  }

  /// SBZ fields are ignored (DEN0137 B2, B4.4.11/12; docs/spec-notes/sbz-fields.md): reserved
  /// flag bits and the unused bytes of the UInt8/UInt16 slots neither refuse the realm nor
  /// reach its state or its RIM.
  func testSBZFieldsOfRealmParamsAreIgnored() {
    var plain = RealmHarness()
    XCTAssertEqual(plain.createRealm(), success)
    var c = RealmHarness.RealmConfig()
    c.flags = 0xFFFF_FFFF_FFFF_FFF8     // every reserved flag bit
    c.s2sz = 0xAB00 | 40
    c.bps = 0x7700 | 2
    c.hash = 0x100                       // SHA-256 with junk above the byte
    c.vmid = 0xDEAD_0000 | 7
    var junk = RealmHarness()
    XCTAssertEqual(junk.createRealm(c), success)
    let a = plain.realm(), b = junk.realm()
    XCTAssertEqual(b.stage2.ipaWidth, 40)
    XCTAssertEqual(b.stage2.vmid, 7)
    XCTAssertEqual(bytes(of: b.rim), bytes(of: a.rim), "the RIM measures what the realm got, not the junk")
  }

  func testValidStartLevelCombinations() {
    // (s2sz, level, root tables)
    for (s2sz, level, roots) in [(UInt64(32), UInt64(2), UInt64(4)), (34, 2, 16), (32, 1, 1), (39, 1, 1),
                                  (43, 1, 16), (40, 0, 1), (48, 0, 1)] {
      var h = RealmHarness()
      var c = RealmHarness.RealmConfig()
      c.s2sz = s2sz
      c.level = level
      c.numStart = roots
      c.rttBase = RealmHarness.granule(32)
      XCTAssertEqual(h.createRealm(c), success, "s2sz \(s2sz) level \(level) roots \(roots)")
    }
  }

  func testGranuleAndAliasRefusals() {
    var h = RealmHarness()
    h.writeRealmParams(RealmHarness.RealmConfig())
    h.delegate(h.rttBase)
    h.delegate(h.rttBase + 4096)
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA).x0, errorInput, "RD not delegated")
    h.delegate(h.rd)
    XCTAssertEqual(h.env.call(.realmCreate, h.rd + 8, h.paramsPA).x0, errorInput, "RD unaligned")
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA + 8).x0, errorInput, "params unaligned")
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, 0x10_0000).x0, errorInput, "params outside DRAM")
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.rd).x0, errorInput, "params page delegated")
    h.env.memory.faulting = [h.paramsPA]
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA).x0, errorInput, "params read faults")
    h.env.memory.faulting = []
    XCTAssertEqual(h.env.call(.realmCreate, h.rttBase, h.paramsPA).x0, errorInput, "RD aliases the RTTs")
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA).x0, success)
    // Same VMID again, with fresh granules.
    let rd2 = h.allocateDelegated()
    var c = RealmHarness.RealmConfig()
    c.rttBase = RealmHarness.granule(40)
    h.delegate(c.rttBase)
    h.delegate(c.rttBase + 4096)
    h.writeRealmParams(c)
    XCTAssertEqual(h.env.call(.realmCreate, rd2, h.paramsPA).x0, errorInput, "VMID in use")
    XCTAssertEqual(h.env.call(.realmCreate, h.rd, h.paramsPA).x0, errorInput, "RD already an RD")
    c.vmid = 8
    h.writeRealmParams(c)
    XCTAssertEqual(h.env.call(.realmCreate, rd2, h.paramsPA).x0, success, "second realm, own VMID")
  }
}

final class RECTests: XCTestCase {
  func testRECLifecycleAndRIM() throws {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    XCTAssertEqual(h.env.call(.recAuxCount, h.rd), RMIResult(success, UInt64(attestationAuxGranules)))
    XCTAssertEqual(h.env.call(.recAuxCount, h.rttBase).x0, errorInput)
    let rim0 = h.realm().rim
    let rec0 = h.allocateDelegated()
    let aux0 = [h.allocateDelegated(), h.allocateDelegated()]
    h.writeRECParams(flags: 1, mpidr: 0, pc: 0x1000, gprs: [1, 2, 3], aux: aux0)
    XCTAssertEqual(h.env.call(.recCreate, h.rd, rec0, h.recParamsPA).x0, success)
    XCTAssertEqual(h.state(rec0), .rec)
    XCTAssertEqual(aux0.map { h.state($0) }, [.recAux, .recAux])
    // RIM' = H(REC descriptor), content = H(RmiRecParams zero except flags, pc, gprs).
    var params = [UInt64](repeating: 0, count: 512)
    params[0] = 1
    params[0x200 / 8] = 0x1000
    params[0x300 / 8] = 1; params[0x308 / 8] = 2; params[0x310 / 8] = 3
    let content = coreutilsDigest(leBytes(params))
    let descriptor = leBytes([1, 0x100]) + slot(bytes(of: rim0)) + slot(content) + [UInt8](repeating: 0, count: 0x100 - 0x90)
    XCTAssertEqual(bytes(of: h.realm().rim), coreutilsDigest(descriptor))

    // Not runnable: created, not measured.
    let rim1 = h.realm().rim
    let rec1 = h.allocateDelegated()
    let aux1 = [h.allocateDelegated(), h.allocateDelegated()]
    h.writeRECParams(flags: 0, mpidr: 1, aux: aux1)
    XCTAssertEqual(h.env.call(.recCreate, h.rd, rec1, h.recParamsPA).x0, success)
    XCTAssertEqual(h.realm().rim, rim1)
    XCTAssertEqual(h.realm().liveRECs, 2)

    XCTAssertEqual(h.env.call(.realmDestroy, h.rd).x0, status(.errorRealm), "RECs still exist")
    XCTAssertEqual(h.env.call(.recDestroy, rec0).x0, success)
    XCTAssertEqual(h.state(rec0), .delegated)
    XCTAssertEqual(aux0.map { h.state($0) }, [.delegated, .delegated])
    XCTAssertEqual(h.env.call(.recDestroy, rec0).x0, errorInput, "already destroyed")
    XCTAssertEqual(h.env.call(.recDestroy, rec1).x0, success)
    XCTAssertEqual(h.env.call(.realmDestroy, h.rd).x0, success)
    XCTAssertFalse(h.env.granules.storage.anyLocked)
  }

  func testRECCreateRefusals() {
    var h = RealmHarness()
    XCTAssertEqual(h.createRealm(), success)
    let rec = h.allocateDelegated()
    let aux = [h.allocateDelegated(), h.allocateDelegated()]
    let cases: [(String, () -> Void, UInt64, UInt64)] = [
      ("MPIDR not the next index", { h.writeRECParams(mpidr: 1, aux: aux) }, rec, errorInput),
      ("MPIDR reserved Aff0 bits", { h.writeRECParams(mpidr: 0x10, aux: aux) }, rec, errorInput),
      ("MPIDR bits above Aff3", { h.writeRECParams(mpidr: 1 << 32, aux: aux) }, rec, errorInput),
      ("too few aux", { h.writeRECParams(mpidr: 0, aux: [aux[0]]) }, rec, errorInput),
      ("aux not delegated", { h.writeRECParams(mpidr: 0, aux: [aux[0], h.paramsPA]) }, rec, errorInput),
      ("aux twice", { h.writeRECParams(mpidr: 0, aux: [aux[0], aux[0]]) }, rec, errorInput),
      ("aux is the REC", { h.writeRECParams(mpidr: 0, aux: [aux[0], rec]) }, rec, errorInput),
      ("aux is the RD", { h.writeRECParams(mpidr: 0, aux: [aux[0], h.rd]) }, rec, errorInput),
      ("REC not delegated", { h.writeRECParams(mpidr: 0, aux: aux) }, h.sourcePA, errorInput),
      ("REC is the RD", { h.writeRECParams(mpidr: 0, aux: aux) }, h.rd, errorInput),
    ]
    for (name, prepare, recPA, expected) in cases {
      prepare()
      let before = h.snapshot()
      XCTAssertEqual(h.env.call(.recCreate, h.rd, recPA, h.recParamsPA).x0, expected, name)
      XCTAssertEqual(h.snapshot(), before, "\(name): nothing changed")
    }
    h.writeRECParams(mpidr: 0, aux: aux)
    XCTAssertEqual(h.env.call(.recCreate, h.rttBase, rec, h.recParamsPA).x0, errorInput, "rd not an RD")
    XCTAssertEqual(h.env.call(.realmActivate, h.rd).x0, success)
    XCTAssertEqual(h.env.call(.recCreate, h.rd, rec, h.recParamsPA).x0, status(.errorRealm), "realm not NEW")
  }

  func testMPIDRIndex() {
    XCTAssertEqual(RECParameters.index(ofMPIDR: 0x0000_0000), 0)
    XCTAssertEqual(RECParameters.index(ofMPIDR: 0x0000_000F), 15)
    XCTAssertEqual(RECParameters.index(ofMPIDR: 0x0000_0100), 16)
    XCTAssertEqual(RECParameters.index(ofMPIDR: 0x0001_0000), 1 << 12)
    XCTAssertEqual(RECParameters.index(ofMPIDR: 0x0100_0000), 1 << 20)
    XCTAssertEqual(RECParameters.vmpidr(ofMPIDR: 0x0102_0304), 0x01_8002_0304)
  }
}

final class FirmwareLikeRealmCreateTests: XCTestCase {
  func testQEMUFeatureRegister() {
    var h = RealmHarness()
    h.env.features = RMIFeatureRegister0(rawValue: 0x314030 | 3 << 32 | 10 << 38)
    var c = RealmHarness.RealmConfig()
    c.bps = 1
    c.wps = 1
    c.vmid = 1
    XCTAssertEqual(h.createRealm(c), success)
  }
}

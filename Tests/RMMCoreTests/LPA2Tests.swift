import XCTest
import RMMABI
@testable import RMMCore

/// LPA2 and 52-bit IPAs (DEN0137 A3.1.2, A5.5.11; B4.3.1, B4.3.2, B4.3.9, B4.3.15,
/// B4.3.19, B4.3.20): REALM_CREATE's rules, every RTT command on a realm that starts at
/// level -1, the LPA2 descriptor format, and the 2^48 bounds of realms without LPA2.
final class LPA2Tests: XCTestCase {
  /// DRAM bank 1 (32 granules) with PA bits 51:48 all set.
  static let highBank: UInt64 = 0xF_0000_8000_0000
  static func high(_ i: UInt64) -> UInt64 { highBank + i * 4096 }

  /// A harness whose RMI_FEATURES offers LPA2 and S2SZ 52, with a bank above 2^48.
  static func lpa2Harness(offered: Bool = true) -> RealmHarness {
    var h = RealmHarness()
    h.env = FakeEnvironment(bank0Granules: 2048, bank1Base: highBank)
    if offered {
      h.env.features.lpa2 = true
      h.env.features.s2sz = 52
    }
    return h
  }

  static func config(lpa2: Bool, s2sz: UInt64, level: Int64, roots: UInt64) -> RealmHarness.RealmConfig {
    var c = RealmHarness.RealmConfig()
    c.flags = lpa2 ? RealmParamsLayout.flagLPA2 : 0
    c.s2sz = s2sz
    c.level = UInt64(bitPattern: level)
    c.numStart = roots
    return c
  }

  // ---- REALM_CREATE --------------------------------------------------------------------

  /// lpa2 on/off x s2sz 48/49/52 x start levels, against the Arm ARM's tables D8-20 to
  /// D8-24 (written out here, not computed): what succeeds, and the Defect of each refusal.
  func testRealmCreateMatrix() {
    typealias D = RealmParameters.Defect
    let cases: [(lpa2: Bool, s2sz: UInt64, level: Int64, roots: UInt64, defect: D?)] = [
      (false, 48, 0, 1, nil),
      (false, 48, -1, 1, .startLevelNeedsLPA2),
      (false, 49, 0, 2, .ipaWidthNeedsLPA2),
      (false, 49, -1, 1, .ipaWidthNeedsLPA2),
      (false, 52, 0, 16, .ipaWidthNeedsLPA2),
      (false, 52, -1, 1, .ipaWidthNeedsLPA2),
      (true, 48, 0, 1, nil),
      (true, 43, 1, 16, nil),
      (true, 48, -1, 1, .startLevel),      // level -1 resolves bits 51:48: none here
      (true, 49, -1, 1, nil),
      (true, 49, 0, 2, nil),
      (true, 49, 0, 1, .rootTableCount),
      (true, 49, 1, 32, .startLevel),      // 32 tables: more than 16 concatenated
      (true, 52, -1, 1, nil),
      (true, 52, -1, 2, .rootTableCount),  // level -1 is never concatenated
      (true, 52, 0, 16, nil),
      (true, 52, 0, 8, .rootTableCount),
      (true, 52, 1, 16, .startLevel),
      (true, 53, -1, 1, .ipaWidth),        // above FEATURES' S2SZ
      (true, 52, -2, 1, .startLevel),
    ]
    for c in cases {
      let name = "lpa2 \(c.lpa2), s2sz \(c.s2sz), level \(c.level), \(c.roots) roots"
      var h = Self.lpa2Harness()
      let config = Self.config(lpa2: c.lpa2, s2sz: c.s2sz, level: c.level, roots: c.roots)
      h.writeRealmParams(config)
      var page = PageBuffer()
      for (i, w) in h.env.memory.page(h.paramsPA).enumerated() { page.store64(w, at: 8 * i) }
      do throws(RealmParameters.Defect) {
        let params = try RealmParameters.validate(page, features: h.env.features, maximumVMID: 255)
        XCTAssertNil(c.defect, "\(name): accepted")
        XCTAssertEqual(params.startLevel, Int(c.level), name)
      } catch {
        XCTAssertEqual(error, c.defect, name)
      }
      // The command: ERROR_INPUT for every refusal, nothing changed; on success the RD
      // keeps the format.
      for i in 0..<min(c.roots, 16) { h.delegate(config.rttBase + i * 4096) }
      h.delegate(h.rd)
      let before = h.snapshot()
      let result = h.env.call(.realmCreate, h.rd, h.paramsPA).x0
      if c.defect == nil {
        XCTAssertEqual(result, success, name)
        XCTAssertEqual(h.realm().stage2.lpa2, c.lpa2, name)
        XCTAssertEqual(h.realm().stage2.startLevel, Int(c.level), name)
        XCTAssertEqual(h.env.call(.realmDestroy, h.rd).x0, success, name)
      } else {
        XCTAssertEqual(result, errorInput, name)
        XCTAssertEqual(h.snapshot(), before, "\(name): nothing changed")
      }
    }
  }

  /// flags.lpa2 where RMI_FEATURES does not offer it is refused, whatever the width.
  func testLPA2NotOfferedIsRefused() {
    var h = Self.lpa2Harness(offered: false)
    XCTAssertEqual(h.createRealm(Self.config(lpa2: true, s2sz: 40, level: 1, roots: 2)), errorInput)
    var g = Self.lpa2Harness(offered: false)
    XCTAssertEqual(g.createRealm(Self.config(lpa2: false, s2sz: 40, level: 1, roots: 2)), success)
    XCTAssertFalse(g.realm().stage2.lpa2, "no LPA2 realm without the flag")
  }

  /// The root table count rules, entry by entry from the Arm ARM's tables.
  func testRootTableCountFollowsTheArmARM() {
    let expected: [(UInt64, Int, Int?)] = [
      (49, -1, 1), (50, -1, 1), (51, -1, 1), (52, -1, 1), (48, -1, nil), (40, -1, nil),
      (40, 0, 1), (48, 0, 1), (49, 0, 2), (50, 0, 4), (51, 0, 8), (52, 0, 16), (39, 0, nil),
      (39, 1, 1), (40, 1, 2), (43, 1, 16), (44, 1, nil), (53, -1, nil),
    ]
    for (width, level, roots) in expected {
      XCTAssertEqual(Stage2Config.rootTableCount(ipaWidth: width, startLevel: level), roots, "\(width) bits at level \(level)")
    }
  }

  // ---- descriptors ---------------------------------------------------------------------

  /// Every state round-trips through the LPA2 format at every level it exists at, PAs
  /// with bits 51:48 set included, and the LPA2 encoding puts OA[51:50] in [9:8] with no
  /// SH field; the format without LPA2 is what it always was.
  func testDescriptorRoundTripInBothFormats() {
    let pas: [UInt64] = [0x8000_0000, 0x1_0000_0000_0000, 0x4_0000_0000_0000, 0xF_FFFF_C000_0000, 0xB_0000_8020_0000]
    for pa in pas {
      for level in -1...3 {
        let states: [(S2TTE, Bool)] = [
          (.unassigned(.empty), true), (.unassigned(.ram), true), (.unassigned(.destroyed), true),
          (.assignedEmpty(pa: pa), true), (.assignedDestroyed(pa: pa), true), (.unassignedNS, false),
        ] + (level < 3 ? [(.table(pa: pa), true), (.table(pa: pa), false)] : [])
          + (RTTLevel.allowsBlock(level) && RTTLevel.isAligned(pa, to: level)
             ? [(.assignedRAM(pa: pa), true),
                (.assignedNS(descriptor: S2TTEFormat.lpa2.packAddress(pa) | 0b101 << 2 | 0b11 << 6), false)] : [])
        for (entry, protected) in states {
          let raw = entry.encode(level: level, format: .lpa2)
          XCTAssertEqual(S2TTE.decode(raw, level: level, protected: protected, format: .lpa2), entry, "\(entry) at level \(level)")
          if pa < 1 << 48 {
            let standard = entry.encode(level: level, format: .standard)
            XCTAssertEqual(S2TTE.decode(standard, level: level, protected: protected, format: .standard), entry)
          }
        }
      }
    }
    let pa: UInt64 = 0xE_0001_2345_6000  // OA[51:50] = 0b11, OA[49:48] = 0b10
    let packed: UInt64 = 0x2_0001_2345_6000 | 0b11 << 8
    XCTAssertEqual(S2TTE.assignedRAM(pa: pa).encode(level: 3, format: .lpa2), packed | 0x4DB,
                   "Normal WB, RW, AF, page; no SH (VTCR_EL2.SH0 gives Inner Shareable)")
    XCTAssertEqual(S2TTE.table(pa: pa).encode(level: 0, format: .lpa2), packed | 0b11)
    XCTAssertEqual(S2TTE.assignedEmpty(pa: pa).encode(level: 3, format: .lpa2), packed | 1 << 2, "52-bit PA in an invalid entry")
    let ns = S2TTE.assignedNS(descriptor: packed | 0b101 << 2 | 0b01 << 6).encode(level: 3, format: .lpa2)
    XCTAssertEqual(ns, packed | 0b101 << 2 | 0b01 << 6 | 1 << 10 | 1 << 55 | 0b10 << 53 | 0b11, "NS non-cacheable, no SH bits")
    // Without LPA2: the same attributes as ever (SH from MemAttr, A5.5.11).
    let low: UInt64 = 0x8_1234_5000
    XCTAssertEqual(S2TTE.assignedRAM(pa: low).encode(level: 3, format: .standard), low | 0x7DB)
    XCTAssertEqual(S2TTE.assignedNS(descriptor: low | 0b101 << 2 | 0b11 << 6).encode(level: 3, format: .standard),
                   low | 0b101 << 2 | 0b11 << 6 | 0b10 << 8 | 1 << 10 | 1 << 55 | 0b10 << 53 | 0b11)
    XCTAssertEqual(S2TTE.assignedNS(descriptor: low | 0b111 << 2).encode(level: 3, format: .standard) & (0b11 << 8), 0b11 << 8)
  }

  // ---- every RTT command on an LPA2 realm starting at level -1 ---------------------------

  func testEveryRTTCommandAtLevelMinus1With52BitIPAs() {
    var h = Self.lpa2Harness()
    XCTAssertEqual(h.createRealm(Self.config(lpa2: true, s2sz: 52, level: -1, roots: 1)), success)
    let minus1 = UInt64(bitPattern: -1)
    let ipa: UInt64 = 0x3_0000_0000_0000 + 0x20_0000   // IPA bits 49:48 set, protected (< 2^51)
    let nsIPA: UInt64 = (1 << 51) + 0x4000_0000     // unprotected half of 52 bits
    var next: UInt64 = 0
    func highGranule() -> UInt64 {
      let pa = Self.high(next)
      next += 1
      XCTAssertEqual(h.env.call(.granuleDelegate, pa).x0, success)
      return pa
    }
    // Tables from levels 0 to 3 for both IPAs, in granules above 2^48.
    XCTAssertEqual(h.readEntry(ipa & ~(RTTLevel.size(-1) - 1), minus1), RMIResult(success, minus1, 0, 0, RIPAS.empty.rawValue), "walk_level -1")
    XCTAssertEqual(h.readEntry(ipa, minus1).x0, errorInput, "ipa_align at level -1: 2^48")
    var protectedTables: [UInt64] = [], nsTables: [UInt64] = []
    for level in 0...3 {
      let rtt = highGranule(), nsRTT = highGranule()
      let base = ipa & ~(RTTLevel.size(level - 1) - 1), nsBase = nsIPA & ~(RTTLevel.size(level - 1) - 1)
      if level == 1 {
        XCTAssertEqual(h.env.call(.rttCreate, h.rd, rtt, base, 2).x0, status(.errorRTT, 0), "level 2 before level 1")
      }
      XCTAssertEqual(h.env.call(.rttCreate, h.rd, rtt, base, UInt64(level)).x0, success, "RTT_CREATE level \(level)")
      XCTAssertEqual(h.env.call(.rttCreate, h.rd, nsRTT, nsBase, UInt64(level)).x0, success, "NS RTT_CREATE level \(level)")
      protectedTables.append(rtt)
      nsTables.append(nsRTT)
    }
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, highGranule(), 0, 0).x0, success, "a second level-0 table (IPA 0)")
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, h.allocateDelegated(), 0, UInt64(bitPattern: -1)).x0, errorInput,
                   "level -1 is the start level: no RTT_CREATE there")
    // The root's entry is an LPA2 table descriptor: OA[51:50] of the level-0 table in [9:8].
    let l0 = protectedTables[0]
    let rootEntry = h.env.memory.page(h.rttBase)[Int(ipa >> 48)]
    XCTAssertEqual(rootEntry, (l0 & 0x3_FFFF_FFFF_F000) | (l0 >> 50) << 8 | 0b11)
    XCTAssertEqual(h.readEntry(ipa & ~(RTTLevel.size(-1) - 1), minus1), RMIResult(success, minus1, RTTEntryState.table.rawValue, l0, 0))
    XCTAssertEqual(h.readEntry(ipa, 3), RMIResult(success, 3, 0, 0, RIPAS.empty.rawValue))

    // INIT_RIPAS, DATA_CREATE and DATA_CREATE_UNKNOWN at IPAs above 2^48 with PAs above 2^48.
    XCTAssertEqual(h.env.call(.rttInitRIPAS, h.rd, ipa, ipa + 0x2000).x1, ipa + 0x2000)
    let data = highGranule(), unknown = highGranule()
    h.writeHostPage(h.sourcePA, [0: 0x5A5A, 4088: 0xA5A5])
    XCTAssertEqual(h.env.call(.dataCreate, h.rd, data, ipa, h.sourcePA, 1).x0, success)
    XCTAssertEqual(h.env.call(.dataCreateUnknown, h.rd, unknown, ipa + 0x1000).x0, success)
    XCTAssertEqual(h.env.memory.page(data)[0], 0x5A5A)
    XCTAssertEqual(h.readEntry(ipa, 3), RMIResult(success, 3, RTTEntryState.assigned.rawValue, data, RIPAS.ram.rawValue))
    let l3 = protectedTables[3]
    XCTAssertEqual(h.env.memory.page(l3)[Int((ipa >> 12) & 511)], (data & 0x3_FFFF_FFFF_F000) | (data >> 50) << 8 | 0x4DB)
    XCTAssertEqual(h.readEntry(ipa + 0x1000, 3).x3, unknown)

    // MAP_UNPROTECTED of an NS PA above 2^48: the host's descriptor in the LPA2 format.
    let nsPA: UInt64 = 0xD_0000_1234_5000
    let desc = (nsPA & 0x3_FFFF_FFFF_F000) | (nsPA >> 50) << 8 | 0b101 << 2 | 0b11 << 6
    XCTAssertEqual(h.env.call(.rttMapUnprotected, h.rd, nsIPA, 3, desc | 1 << 1).x0, errorInput, "bit 1 is not a host field")
    XCTAssertEqual(h.env.call(.rttMapUnprotected, h.rd, nsIPA, 3, desc | 1 << 52).x0, errorInput, "bit 52 is not an address bit")
    XCTAssertEqual(h.env.call(.rttMapUnprotected, h.rd, nsIPA, 2, desc).x0, errorInput, "PA not 2 MiB aligned")
    XCTAssertEqual(h.env.call(.rttMapUnprotected, h.rd, nsIPA, 3, desc).x0, success)
    XCTAssertEqual(h.readEntry(nsIPA, 3), RMIResult(success, 3, RTTEntryState.assigned.rawValue, desc, 0), "desc as the host gave it")
    XCTAssertEqual(h.env.memory.page(nsTables[3])[Int((nsIPA >> 12) & 511)], desc | 1 << 10 | 1 << 55 | 0b10 << 53 | 0b11)

    // Tear down: unmap, fold the empty NS table, destroy data and every table.
    XCTAssertEqual(h.env.call(.rttUnmapUnprotected, h.rd, nsIPA, 3).x0, success)
    XCTAssertEqual(h.env.call(.rttFold, h.rd, nsIPA, 3), RMIResult(success, nsTables[3]))
    XCTAssertEqual(h.env.call(.dataDestroy, h.rd, ipa), RMIResult(success, data, ipa + 0x1000))
    XCTAssertEqual(h.env.call(.dataDestroy, h.rd, ipa + 0x1000).x1, unknown)
    XCTAssertEqual(h.env.call(.rttDestroy, h.rd, ipa & ~(RTTLevel.size(-1) - 1), 0).x0, status(.errorRTT, 0), "level 0 table is live")
    for level in stride(from: 3, through: 0, by: -1) {
      let base = ipa & ~(RTTLevel.size(level - 1) - 1)
      XCTAssertEqual(h.env.call(.rttDestroy, h.rd, base, UInt64(level)).x1, protectedTables[level], "RTT_DESTROY level \(level)")
      if level < 3 {
        let nsBase = nsIPA & ~(RTTLevel.size(level - 1) - 1)
        XCTAssertEqual(h.env.call(.rttDestroy, h.rd, nsBase, UInt64(level)).x1, nsTables[level], "NS RTT_DESTROY level \(level)")
      }
    }
    XCTAssertEqual(h.env.call(.rttDestroy, h.rd, 0, 0).x0, success)
    XCTAssertEqual(h.readEntry(ipa & ~(RTTLevel.size(-1) - 1), minus1), RMIResult(success, minus1, 0, 0, RIPAS.destroyed.rawValue))
    XCTAssertEqual(h.env.call(.realmDestroy, h.rd).x0, success)
    for i in 0..<next { XCTAssertEqual(h.state(Self.high(i)), .delegated, "high granule \(i) back to DELEGATED") }
  }

  /// RttLevelIsValid follows the realm's start level: -1 only for realms that start there.
  func testLevelMinus1IsInvalidForRealmsStartingAtLevel0() {
    var h = Self.lpa2Harness()
    XCTAssertEqual(h.createRealm(Self.config(lpa2: true, s2sz: 52, level: 0, roots: 16)), success)
    XCTAssertEqual(h.readEntry(0, UInt64(bitPattern: -1)).x0, errorInput)
    XCTAssertEqual(h.readEntry(1 << 48, 0), RMIResult(success, 0, 0, 0, RIPAS.empty.rawValue), "root 2 of 16 holds 2^48")
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, h.allocateDelegated(), 1 << 48, 1).x0, success)
    XCTAssertEqual(h.env.memory.page(h.rttBase + 4096)[0] & 0b11, 0b11, "the table hangs off the second concatenated root")
  }

  // ---- realms without LPA2: PAs at or above 2^48 are refused --------------------------------

  func testNonLPA2RealmRefusesPAsFrom2to48() {
    var h = Self.lpa2Harness()
    XCTAssertEqual(h.createRealm(), success)  // s2sz 40, start level 1, no LPA2
    var tables: [UInt64] = []
    for level in 2...3 {
      let rtt = h.allocateDelegated()
      XCTAssertEqual(h.env.call(.rttCreate, h.rd, rtt, 0, UInt64(level)).x0, success)
      tables.append(rtt)
    }
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, h.allocateDelegated(), 1 << 39, 2).x0, success)
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, h.allocateDelegated(), 1 << 39, 3).x0, success)
    XCTAssertEqual(h.env.call(.rttInitRIPAS, h.rd, 0, 0x1000).x1, 0x1000)
    let high = Self.high(0)
    XCTAssertEqual(h.env.call(.granuleDelegate, high).x0, success)
    h.writeHostPage(h.sourcePA, [0: 1])
    let nsPA: UInt64 = 0x1_0000_0000_0000
    let cases: [(String, RMICommand, UInt64, UInt64, UInt64, UInt64)] = [
      ("RTT_CREATE, rtt_bound2", .rttCreate, high, 0x20_0000, 3, 0),
      ("DATA_CREATE, data_bound2", .dataCreate, high, 0, h.sourcePA, 0),
      ("DATA_CREATE_UNKNOWN, data_bound2", .dataCreateUnknown, high, 0x1000, 0, 0),
      ("MAP_UNPROTECTED, PA bit 48 (addr_bound)", .rttMapUnprotected, 1 << 39, 3, nsPA | 0b111 << 2 | 0b11 << 6, 0),
      ("MAP_UNPROTECTED, bits [9:8] are not OA here", .rttMapUnprotected, 1 << 39, 3, 0x8_0000_0000 | 0b01 << 8 | 0b111 << 2, 0),
    ]
    for (name, command, a, b, c, d) in cases {
      let before = h.snapshot()
      let highBefore = h.env.memory.page(high)
      XCTAssertEqual(h.env.call(command, h.rd, a, b, c, d).x0, errorInput, name)
      XCTAssertEqual(h.snapshot(), before, "\(name): nothing changed")
      XCTAssertEqual(h.state(high), .delegated, name)
      XCTAssertEqual(h.env.memory.page(high), highBefore, name)
    }
    // The same granule below 2^48 works (the refusal is the bound, not the arguments).
    let low = h.allocateDelegated()
    XCTAssertEqual(h.env.call(.dataCreate, h.rd, low, 0, h.sourcePA, 0).x0, success)
    XCTAssertEqual(h.env.call(.rttMapUnprotected, h.rd, 1 << 39, 3, 0x8_0000_0000 | 0b111 << 2 | 0b11 << 6).x0, success)
  }

  /// The same PAs work for an LPA2 realm (the bound is the realm's, not the machine's).
  func testLPA2RealmAcceptsTheSamePAs() {
    var h = Self.lpa2Harness()
    XCTAssertEqual(h.createRealm(Self.config(lpa2: true, s2sz: 40, level: 1, roots: 2)), success)
    let high = Self.high(0), highTable = Self.high(1)
    XCTAssertEqual(h.env.call(.granuleDelegate, high).x0, success)
    XCTAssertEqual(h.env.call(.granuleDelegate, highTable).x0, success)
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, h.allocateDelegated(), 0, 2).x0, success)
    XCTAssertEqual(h.env.call(.rttCreate, h.rd, highTable, 0, 3).x0, success)
    XCTAssertEqual(h.env.call(.dataCreateUnknown, h.rd, high, 0x1000).x0, success)
    XCTAssertEqual(h.readEntry(0x1000, 3).x3, high)
  }

  // ---- the granule table with DRAM above 2^48 ------------------------------------------

  func testManifestAndGranuleTableWithABankAbove2to48() {
    var builder = ManifestBuilder()
    builder.banks = [(0x4000_0000, 0x1000_0000), (Self.highBank, 0x20_0000)]
    guard case .success(let manifest) = builder.parse() else { return XCTFail("manifest refused") }
    XCTAssertEqual(manifest.dram.bankCount, 2)
    XCTAssertEqual(manifest.dram.banks[1].base, Self.highBank)
    XCTAssertEqual(manifest.dram.granuleCount, (0x1000_0000 + 0x20_0000) / 4096)
    let table = GranuleTable(storage: FakeDescriptors(count: Int(manifest.dram.granuleCount)), dram: manifest.dram)!
    XCTAssertEqual(table.index(of: Self.highBank), 0x1000_0000 / 4096)
    XCTAssertEqual(table.index(of: Self.highBank + 0x20_0000 - 4096), Int(manifest.dram.granuleCount) - 1)
    XCTAssertNil(table.index(of: Self.highBank + 0x20_0000))
    XCTAssertNil(table.index(of: Self.highBank & 0xFFFF_FFFF_FFFF), "the same PA without bits 51:48 is not DRAM")
    XCTAssertEqual(table.state(of: Self.highBank), .undelegated)
  }
}

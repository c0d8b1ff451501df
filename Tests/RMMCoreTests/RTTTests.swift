import XCTest
import RMMABI
@testable import RMMCore

/// A NEW realm (s2sz 40, start level 1, two roots) with helpers to build tables.
struct RTTFixture {
  var h = RealmHarness()
  init() { precondition(h.createRealm() == success) }

  mutating func createTable(_ ipa: UInt64, _ level: UInt64) -> (pa: UInt64, status: UInt64) {
    let rtt = h.allocateDelegated()
    return (rtt, h.env.call(.rttCreate, h.rd, rtt, ipa, level).x0)
  }

  mutating func call(_ c: RMICommand, _ a: UInt64 = 0, _ b: UInt64 = 0, _ d: UInt64 = 0, _ e: UInt64 = 0) -> RMIResult {
    h.env.call(c, h.rd, a, b, d, e)
  }
}

final class RTTTests: XCTestCase {
  let unprotected: UInt64 = 1 << 39

  func testCreateAtEveryLevelAndReadBack() {
    var f = RTTFixture()
    XCTAssertEqual(f.h.readEntry(0, 1), RMIResult(success, 1, 0, 0, RIPAS.empty.rawValue), "root entry unassigned EMPTY")
    XCTAssertEqual(f.h.readEntry(0, 3), RMIResult(success, 1, 0, 0, 0), "walk stops at the root")
    XCTAssertEqual(f.h.readEntry(unprotected, 1), RMIResult(success, 1, 0, 0, 0), "unprotected: UNASSIGNED_NS")
    let l2 = f.createTable(0, 2)
    XCTAssertEqual(l2.status, success)
    XCTAssertEqual(f.h.readEntry(0, 1), RMIResult(success, 1, RTTEntryState.table.rawValue, l2.pa, 0))
    XCTAssertEqual(f.h.env.granules.storage.peek(f.h.env.granules.index(of: f.h.rttBase)!).refcount, 1, "root holds the table")
    let l3 = f.createTable(0, 3)
    XCTAssertEqual(l3.status, success)
    XCTAssertEqual(f.h.readEntry(0x5000, 3), RMIResult(success, 3, 0, 0, 0))
    XCTAssertEqual(f.h.state(l3.pa), .rtt)
    // Second root table (IPAs from 512 GiB: the unprotected half here).
    let ns2 = f.createTable(unprotected, 2)
    XCTAssertEqual(ns2.status, success)
    XCTAssertEqual(f.h.readEntry(unprotected, 2), RMIResult(success, 2, 0, 0, 0))
  }

  func testCreateRefusals() {
    var f = RTTFixture()
    let rtt = f.h.allocateDelegated()
    let cases: [(String, UInt64, UInt64, UInt64, UInt64)] = [
      ("level at the start level", rtt, 0, 1, errorInput),
      ("level 4", rtt, 0, 4, errorInput),
      ("level 0 (above the start level)", rtt, 0, 0, errorInput),
      ("IPA not aligned to the parent entry", rtt, 0x1000, 3, errorInput),
      ("IPA beyond s2sz", rtt, 1 << 40, 2, errorInput),
      ("missing level-2 table", rtt, 0, 3, status(.errorRTT, 1)),
      ("table is not delegated", f.h.paramsPA, 0, 2, errorInput),
      ("table is the RD", f.h.rd, 0, 2, errorInput),
      ("table is a root RTT", f.h.rttBase, 0, 2, errorInput),
    ]
    for (name, table, ipa, level, expected) in cases {
      let before = f.h.snapshot()
      XCTAssertEqual(f.h.env.call(.rttCreate, f.h.rd, table, ipa, level).x0, expected, name)
      XCTAssertEqual(f.h.snapshot(), before, "\(name): nothing changed")
    }
    XCTAssertEqual(f.h.env.call(.rttCreate, f.h.rttBase, rtt, 0, 2).x0, errorInput, "rd is not an RD")
    XCTAssertEqual(f.createTable(0, 2).status, success)
    XCTAssertEqual(f.h.env.call(.rttCreate, f.h.rd, rtt, 0, 2).x0, status(.errorRTT, 1), "table exists already")
  }

  func testInitRIPASDataCreateAndRIM() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    var rim = bytes(of: f.h.realm().rim)
    XCTAssertEqual(f.call(.rttInitRIPAS, 0, 0x3000), RMIResult(success, 0x3000))
    for base: UInt64 in [0, 0x1000, 0x2000] {  // one descriptor per entry
      rim = coreutilsDigest(leBytes([2, 0x100]) + slot(rim) + leBytes([base, base + 0x1000]) + [UInt8](repeating: 0, count: 0xA0))
    }
    XCTAssertEqual(bytes(of: f.h.realm().rim), rim, "RIPAS descriptors")
    XCTAssertEqual(f.h.readEntry(0x2000, 3).x4, RIPAS.ram.rawValue)
    XCTAssertEqual(f.h.readEntry(0x3000, 3).x4, RIPAS.empty.rawValue)

    // Measured DATA_CREATE: content hash of the copied page.
    let data = f.h.allocateDelegated()
    var source = [UInt64](repeating: 0, count: 512)
    for i in 0..<512 { source[i] = UInt64(i) &* 0x9E37_79B9_7F4A_7C15 }
    f.h.env.memory.setPage(f.h.sourcePA, source)
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, data, 0x1000, f.h.sourcePA, 1).x0, success)
    XCTAssertEqual(f.h.env.memory.page(data), source, "contents copied")
    XCTAssertEqual(f.h.state(data), .data)
    let content = coreutilsDigest(leBytes(source))
    rim = coreutilsDigest(leBytes([0, 0x100]) + slot(rim) + leBytes([0x1000, 1]) + slot(content) + [UInt8](repeating: 0, count: 0x60))
    XCTAssertEqual(bytes(of: f.h.realm().rim), rim, "DATA descriptor, measured")
    XCTAssertEqual(f.h.readEntry(0x1000, 3), RMIResult(success, 3, RTTEntryState.assigned.rawValue, data, RIPAS.ram.rawValue))

    // Unmeasured: content field zero; an EMPTY entry becomes RAM.
    let data2 = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, data2, 0x4000, f.h.sourcePA, 0).x0, success)
    rim = coreutilsDigest(leBytes([0, 0x100]) + slot(rim) + leBytes([0x4000, 0]) + [UInt8](repeating: 0, count: 64 + 0x60))
    XCTAssertEqual(bytes(of: f.h.realm().rim), rim, "DATA descriptor, unmeasured")
    XCTAssertEqual(f.h.readEntry(0x4000, 3).x4, RIPAS.ram.rawValue)
    XCTAssertEqual(f.h.env.granules.storage.peek(f.h.env.granules.index(of: f.h.readEntry(0, 2).x3)!).refcount, 2)
  }

  func testDataCreateRefusals() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let data = f.h.allocateDelegated()
    let cases: [(String, UInt64, UInt64, UInt64, UInt64, UInt64)] = [
      ("flags SBZ bits are ignored: the walk fails", data, 0x1000, f.h.sourcePA, ~UInt64(0), status(.errorRTT, 2)),
      ("source unaligned", data, 0x1000, f.h.sourcePA + 8, 1, errorInput),
      ("source delegated", data, 0x1000, f.h.rd, 1, errorInput),
      ("source outside DRAM", data, 0x1000, 0x1000, 1, errorInput),
      ("data not delegated", f.h.paramsPA, 0x1000, f.h.sourcePA, 1, errorInput),
      ("data is the RD", f.h.rd, 0x1000, f.h.sourcePA, 1, errorInput),
      ("IPA unaligned", data, 0x1008, f.h.sourcePA, 1, errorInput),
      ("IPA unprotected", data, unprotected, f.h.sourcePA, 1, errorInput),
      ("IPA beyond s2sz", data, 1 << 40, f.h.sourcePA, 1, errorInput),
      ("no level-3 table", data, 0x1000, f.h.sourcePA, 1, status(.errorRTT, 2)),
    ]
    for (name, target, ipa, source, flags, expected) in cases {
      let before = f.h.snapshot()
      XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, target, ipa, source, flags).x0, expected, name)
      XCTAssertEqual(f.h.snapshot(), before, "\(name): nothing changed")
    }
    _ = f.createTable(0, 3)
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, data, 0x1000, f.h.sourcePA, 1).x0, success)
    let data2 = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, data2, 0x1000, f.h.sourcePA, 1).x0, status(.errorRTT, 3), "entry assigned")
    XCTAssertEqual(f.h.env.call(.realmActivate, f.h.rd).x0, success)
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, data2, 0x2000, f.h.sourcePA, 1).x0, status(.errorRealm), "realm active")
    XCTAssertEqual(f.h.env.call(.rttInitRIPAS, f.h.rd, 0x2000, 0x3000).x0, status(.errorRealm), "INIT_RIPAS when active")
    // DATA_CREATE_UNKNOWN is allowed in any state and keeps RIPAS (EMPTY here).
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, data2, 0x2000).x0, success)
    XCTAssertEqual(f.h.readEntry(0x2000, 3), RMIResult(success, 3, 1, data2, RIPAS.empty.rawValue))
  }

  func testDataDestroyTopAndRIPAS() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let l3 = f.createTable(0, 3)
    XCTAssertEqual(f.call(.rttInitRIPAS, 0, 0x10000).x0, success)
    var data: [UInt64] = []
    for ipa: UInt64 in [0x1000, 0x5000] {
      let d = f.h.allocateDelegated()
      data.append(d)
      XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, d, ipa, f.h.sourcePA, 0).x0, success)
    }
    XCTAssertEqual(f.call(.dataDestroy, 0x1000), RMIResult(success, data[0], 0x5000), "top = next live entry")
    XCTAssertEqual(f.h.readEntry(0x1000, 3), RMIResult(success, 3, 0, 0, RIPAS.destroyed.rawValue))
    XCTAssertEqual(f.h.state(data[0]), .delegated)
    XCTAssertEqual(f.h.env.memory.page(data[0]), [UInt64](repeating: 0, count: 512), "scrubbed")
    XCTAssertEqual(f.call(.dataDestroy, 0x1000), RMIResult(status(.errorRTT, 3), 0, 0x5000), "not assigned: top still reported")
    XCTAssertEqual(f.call(.dataDestroy, 0x5000), RMIResult(success, data[1], 0x20_0000), "top = end of the table")
    XCTAssertEqual(f.call(.dataDestroy, 0x20_0000), RMIResult(status(.errorRTT, 2), 0, 0x4000_0000), "no L3 table")
    XCTAssertEqual(f.call(.dataDestroy, unprotected).x0, errorInput)
    XCTAssertEqual(f.h.env.tlb.state.ipaInvalidations.map(\.ipa), [0x1000, 0x5000], "a valid page was unmapped twice")
    XCTAssertEqual(f.h.env.granules.storage.peek(f.h.env.granules.index(of: l3.pa)!).refcount, 0)
  }

  func testDestroyTablesAndTop() {
    var f = RTTFixture()
    let l2 = f.createTable(0, 2)
    let l3 = f.createTable(0, 3)
    let d = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreateUnknown, f.h.rd, d, 0x3000).x0, success)
    XCTAssertEqual(f.call(.rttDestroy, 0, 3), RMIResult(status(.errorRTT, 3), 0, 0), "table holds DATA")
    XCTAssertEqual(f.call(.rttDestroy, 0, 2), RMIResult(status(.errorRTT, 2), 0, 0), "L2 holds a table")
    XCTAssertEqual(f.call(.rttDestroy, 0x20_0000, 3).x0, status(.errorRTT, 2), "no table there")
    XCTAssertEqual(f.call(.dataDestroy, 0x3000).x0, success)
    XCTAssertEqual(f.call(.rttDestroy, 0, 3), RMIResult(success, l3.pa, 0x4000_0000), "top = end of the L2 table")
    XCTAssertEqual(f.h.readEntry(0, 2), RMIResult(success, 2, 0, 0, RIPAS.destroyed.rawValue), "parent DESTROYED")
    XCTAssertEqual(f.call(.rttDestroy, 0, 2), RMIResult(success, l2.pa, 1 << 39), "top = end of the root table")
    XCTAssertEqual([l2.pa, l3.pa].map { f.h.state($0) }, [.delegated, .delegated])
    XCTAssertEqual(f.h.env.call(.realmDestroy, f.h.rd).x0, success)
    XCTAssertFalse(f.h.env.granules.storage.anyLocked)
  }

  /// `top` after RTT_DESTROY: the next live entry of the parent table when there is one
  /// (a scan), the end of the table when the table holds no reference any more.
  func testDestroyTopIsTheNextLiveEntry() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let first = f.createTable(0, 3)
    let second = f.createTable(0x60_0000, 3)
    XCTAssertEqual(f.call(.rttDestroy, 0, 3), RMIResult(success, first.pa, 0x60_0000), "next live: the other table")
    XCTAssertEqual(f.call(.rttDestroy, 0, 3), RMIResult(status(.errorRTT, 2), 0, 0x60_0000), "no table: top still reported")
    XCTAssertEqual(f.call(.rttDestroy, 0x60_0000, 3), RMIResult(success, second.pa, 0x4000_0000), "none left")
    // A table created from a DESTROYED parent entry is 512 DESTROYED entries.
    let again = f.createTable(0, 3)
    XCTAssertEqual(again.status, success)
    XCTAssertEqual(f.h.env.memory.page(again.pa),
                   [UInt64](repeating: S2TTE.unassigned(.destroyed).encode(level: 3, format: .standard), count: 512))
    XCTAssertEqual(f.h.env.granules.storage.peek(f.h.env.granules.index(of: again.pa)!).refcount, 0)
  }

  func testFoldAndUnfold() {
    var f = RTTFixture()
    _ = f.createTable(0, 2)
    let l3 = f.createTable(0x20_0000, 3)
    // 512 DATA granules, contiguous and 2 MiB aligned: granules 512..1023 (0x8020_0000).
    let base: UInt64 = 0x8020_0000
    for i in 0..<UInt64(512) {
      f.h.delegate(base + i * 4096)
      XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, base + i * 4096, 0x20_0000 + i * 4096, f.h.sourcePA, 0).x0, success)
    }
    XCTAssertEqual(f.call(.rttFold, 0x20_0000, 3), RMIResult(success, l3.pa))
    XCTAssertEqual(f.h.readEntry(0x20_0000, 3), RMIResult(success, 2, 1, base, RIPAS.ram.rawValue), "2 MiB block")
    XCTAssertEqual(f.h.state(l3.pa), .delegated)
    // Re-split: a new table unfolded from the block.
    let again = f.createTable(0x20_0000, 3)
    XCTAssertEqual(again.status, success)
    XCTAssertEqual(f.h.readEntry(0x20_5000, 3), RMIResult(success, 3, 1, base + 0x5000, RIPAS.ram.rawValue))
    XCTAssertEqual(f.h.env.granules.storage.peek(f.h.env.granules.index(of: again.pa)!).refcount, 512)
    // Not homogeneous any more after one destroy.
    XCTAssertEqual(f.call(.dataDestroy, 0x20_5000).x0, success)
    XCTAssertEqual(f.call(.rttFold, 0x20_0000, 3).x0, status(.errorRTT, 3))
    // A uniform unassigned table folds to an unassigned entry.
    let empty = f.createTable(0x40_0000, 3)
    XCTAssertEqual(f.call(.rttInitRIPAS, 0x40_0000, 0x60_0000), RMIResult(success, 0x60_0000))
    XCTAssertEqual(f.call(.rttFold, 0x40_0000, 3), RMIResult(success, empty.pa))
    XCTAssertEqual(f.h.readEntry(0x40_0000, 3), RMIResult(success, 2, 0, 0, RIPAS.ram.rawValue))
    XCTAssertEqual(f.call(.rttFold, 0x60_0000, 3).x0, status(.errorRTT, 2), "no table to fold")
  }

  func testUnprotectedMappings() {
    var f = RTTFixture()
    let ns: UInt64 = unprotected
    _ = f.createTable(ns, 2)
    _ = f.createTable(ns, 3)
    let desc: UInt64 = 0x9000_0000 | (0b101 << 2) | (0b11 << 6)
    XCTAssertEqual(f.call(.rttMapUnprotected, ns + 0x1000, 3, desc).x0, success)
    XCTAssertEqual(f.h.readEntry(ns + 0x1000, 3), RMIResult(success, 3, 1, desc, RIPAS.empty.rawValue))
    XCTAssertEqual(f.call(.rttMapUnprotected, ns + 0x1000, 3, desc).x0, status(.errorRTT, 3), "already mapped")
    for (name, bad) in [("valid bit", desc | 1), ("AF", desc | 1 << 10), ("NS", desc | 1 << 55),
                        ("reserved MemAttr 0b100", 0x9000_0000 | (0b100 << 2)), ("unaligned PA", desc | 0x800)] {
      XCTAssertEqual(f.call(.rttMapUnprotected, ns + 0x2000, 3, bad).x0, errorInput, name)
    }
    XCTAssertEqual(f.call(.rttMapUnprotected, 0x1000, 3, desc).x0, errorInput, "protected IPA")
    XCTAssertEqual(f.call(.rttMapUnprotected, ns + 0x20_0000, 3, desc).x0, status(.errorRTT, 2), "no L3 table")
    XCTAssertEqual(f.call(.rttMapUnprotected, ns + 0x20_0000, 2, 0x8020_0000 | desc & 0xFF).x0, success, "2 MiB block")
    XCTAssertEqual(f.call(.rttUnmapUnprotected, ns + 0x1000, 3), RMIResult(success, ns + 0x20_0000))
    XCTAssertEqual(f.call(.rttUnmapUnprotected, ns + 0x1000, 3), RMIResult(status(.errorRTT, 3), ns + 0x20_0000))
    XCTAssertEqual(f.h.env.tlb.state.ipaInvalidations.last?.ipa, ns + 0x1000)
    // A table of unprotected mappings holds no references: it can be destroyed.
    XCTAssertEqual(f.call(.rttMapUnprotected, ns + 0x3000, 3, desc).x0, success)
    XCTAssertEqual(f.call(.rttDestroy, ns, 3).x0, success)
    XCTAssertEqual(f.h.readEntry(ns, 3), RMIResult(success, 2, 0, 0, 0), "parent back to UNASSIGNED_NS")
  }

  func testTeardownReturnsEveryGranule() {
    var f = RTTFixture()
    let l2 = f.createTable(0, 2)
    let l3 = f.createTable(0, 3)
    let d = f.h.allocateDelegated()
    XCTAssertEqual(f.h.env.call(.dataCreate, f.h.rd, d, 0, f.h.sourcePA, 1).x0, success)
    XCTAssertEqual(f.call(.dataDestroy, 0).x0, success)
    XCTAssertEqual(f.call(.rttDestroy, 0, 3).x0, success)
    XCTAssertEqual(f.call(.rttDestroy, 0, 2).x0, success)
    XCTAssertEqual(f.h.env.call(.realmDestroy, f.h.rd).x0, success)
    for pa in [f.h.rd, f.h.rttBase, f.h.rttBase + 4096, l2.pa, l3.pa, d] {
      XCTAssertEqual(f.h.state(pa), .delegated)
      XCTAssertEqual(f.h.env.memory.page(pa), [UInt64](repeating: 0, count: 512), "DELEGATED is zero")
      XCTAssertEqual(f.h.env.call(.granuleUndelegate, pa).x0, success)
    }
    XCTAssertEqual(f.h.env.granules.count(in: .undelegated), 2048 + 32)
  }

  /// The one-mask liveness test of table scans agrees with `isLive` on every encoding
  /// the RMM writes, at every level, in both halves, in both formats (with LPA2 a PA
  /// with bits 51:48 set).
  func testLiveMaskAgreesWithIsLive() {
    for (format, pa) in [(S2TTEFormat.standard, UInt64(0x8_0020_0000)), (.lpa2, 0xF_0008_0020_0000)] {
      for level in 1...3 {
        let entries: [(S2TTE, Bool)] = [
          (.unassigned(.empty), true), (.unassigned(.ram), true), (.unassigned(.destroyed), true),
          (.assignedEmpty(pa: pa), true), (.assignedRAM(pa: pa), true), (.assignedDestroyed(pa: pa), true),
          (.table(pa: pa), true), (.table(pa: pa), false), (.unassignedNS, false),
          (.assignedNS(descriptor: pa | 0b110 << 2 | 0b11 << 6), false),
        ]
        for (entry, protected) in entries where level > 1 || entry.isValidDescriptor || protected {
          let raw = entry.encode(level: level, format: format)
          XCTAssertEqual(raw & S2TTE.liveMask(protected: protected) != 0, S2TTE.isLive(raw: raw, protected: protected),
                         "\(entry) at level \(level), protected \(protected)")
          XCTAssertEqual(S2TTE.isLive(raw: raw, protected: protected), entry.isLive, "\(entry) at level \(level)")
        }
      }
    }
  }
}

/// Per-call slot-map work is done once per granule: the table a walk stops at is mapped
/// once for the read and the rewrite of its entry (issue #13).
final class RTTMappingTests: XCTestCase {
  func testTheWalksLastTableIsMappedOncePerCommand() {
    var f = RTTFixture()
    let l2 = f.createTable(0, 2)
    let l3 = f.createTable(0, 3)
    XCTAssertEqual(l2.status, success)
    XCTAssertEqual(l3.status, success)
    let data = f.h.allocateDelegated()
    f.h.env.memory.forgetAccesses()
    XCTAssertEqual(f.call(.dataCreateUnknown, data, 0x3000).x0, success)
    let onL3 = f.h.env.memory.accesses.filter { $0.pa == l3.pa }
    XCTAssertEqual(onL3.count, 1, "one audited access of the level-3 table: \(onL3.map(\.intent))")
    XCTAssertEqual(onL3.first?.intent, AccessIntent(.rttWrite, .write, expecting: .rtt, offset: 3 * 8, length: 8),
                   "the write the command declares, of the one entry it rewrites")
    XCTAssertTrue(f.h.env.memory.mappings.isEmpty, "nothing stays mapped after the call")
    // A command that only reads keeps a read intent.
    f.h.env.memory.forgetAccesses()
    XCTAssertEqual(f.h.readEntry(0x3000, 3).x0, success)
    let read = f.h.env.memory.accesses.filter { $0.pa == l3.pa }
    XCTAssertEqual(read.map(\.intent.direction), [.read], "RTT_READ_ENTRY reads its entry, never writes")
    // A refused command (the entry is not UNASSIGNED) unmaps too.
    let other = f.h.allocateDelegated()
    XCTAssertEqual(f.call(.dataCreateUnknown, other, 0x3000).x0, status(.errorRTT, 3))
    XCTAssertTrue(f.h.env.memory.mappings.isEmpty, "nothing stays mapped after a refusal")
    XCTAssertEqual(f.h.state(other), .delegated)
  }
}

extension RTTMappingTests {
  /// DATA_CREATE maps the RD once (read at the start, the new RIM written at the end).
  func testDataCreateMapsTheRDOnce() {
    var f = RTTFixture()
    XCTAssertEqual(f.createTable(0, 2).status, success)
    XCTAssertEqual(f.createTable(0, 3).status, success)
    XCTAssertEqual(f.call(.rttInitRIPAS, 0, 0x1000).x0, success)
    let before = f.h.realm().rim
    let data = f.h.allocateDelegated()
    f.h.writeHostPage(f.h.sourcePA, [0: 0x1234])
    f.h.env.memory.forgetAccesses()
    XCTAssertEqual(f.call(.dataCreate, data, 0, f.h.sourcePA, 1).x0, success)
    let onRD = f.h.env.memory.accesses.filter { $0.pa == f.h.rd }
    XCTAssertEqual(onRD.map(\.intent), [AccessIntent(.rdWrite, .write, expecting: .rd)], "one mapping of the RD")
    XCTAssertNotEqual(f.h.realm().rim, before, "and the new RIM is in it")
    XCTAssertTrue(f.h.env.memory.mappings.isEmpty)
    // A refused DATA_CREATE (the entry is assigned now) leaves the RD as it was.
    let rim = f.h.realm().rim
    let other = f.h.allocateDelegated()
    XCTAssertEqual(f.call(.dataCreate, other, 0, f.h.sourcePA, 1).x0, status(.errorRTT, 3))
    XCTAssertEqual(f.h.realm().rim, rim)
    XCTAssertTrue(f.h.env.memory.mappings.isEmpty)
  }
}

extension RTTMappingTests {
  /// DATA_DESTROY finds `top` (the next live entry) through the same mapping of the
  /// table it rewrote: one audited write intent from its entry to the end of the table.
  func testDestroyScansThroughItsOwnMapping() {
    var f = RTTFixture()
    XCTAssertEqual(f.createTable(0, 2).status, success)
    let l3 = f.createTable(0, 3)
    XCTAssertEqual(l3.status, success)
    for ipa: UInt64 in [0x3000, 0x9000] {
      XCTAssertEqual(f.call(.dataCreateUnknown, f.h.allocateDelegated(), ipa).x0, success)
    }
    f.h.env.memory.forgetAccesses()
    let r = f.call(.dataDestroy, 0x3000)
    XCTAssertEqual(r.x0, success)
    XCTAssertEqual(r.x2, 0x9000, "top: the next live entry")
    let onL3 = f.h.env.memory.accesses.filter { $0.pa == l3.pa }
    XCTAssertEqual(onL3.map(\.intent), [AccessIntent(.rttWrite, .write, expecting: .rtt, offset: 3 * 8, length: 4096 - 3 * 8)],
                   "one mapping of the table for the rewrite and the scan")
    XCTAssertTrue(f.h.env.memory.mappings.isEmpty)
  }
}

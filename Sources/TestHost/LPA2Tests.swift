// Integration checks of LPA2 and 52-bit IPAs (issue #15): RMI_FEATURES offers them on a
// CPU with FEAT_LPA2; a realm without flags.lpa2 is refused what needs it; a realm with
// s2sz 52 and its tables starting at level -1 runs the realm payload at IPA 0 and
// reads and writes a measured DATA page at an IPA above 2^48; then it is torn down.

import AArch64Shim
import RMMABI
import RMMCore

enum LPA2Memory {
  static let rd = Board.testGranules + 0x0580_0000
  static let root = rd + 0x1000              // one level -1 table (16 entries used)
  static let tables = rd + 0x10000           // levels 0-3 for IPA 0, then for `high`
  static let recs = rd + 0x20000             // REC, 2 aux
  static let pool = rd + 0x40000             // DATA granules
  static let populated: UInt64 = 0x8_0000    // the payload and its .bss, stacks: as RealmRunner
  static let high: UInt64 = 0x1_0000_0020_0000  // protected (below 2^51), above 2^48
  static let pattern: UInt64 = 0x4C50_4132_3532_4950
}

func runLPA2Tests() {
  typealias M = LPA2Memory
  section("LPA2 and 52-bit IPAs")
  let features = RMIFeatureRegister0(rawValue: rmi(.features, 0).x1)
  guard features.lpa2 else {
    check(features.s2sz <= 48, "no LPA2: S2SZ at most 48")
    return
  }
  check(features.s2sz == 52, "RMI_FEATURES: LPA2 with S2SZ 52")

  var ok = rmi(.granuleDelegate, M.rd).x0 == 0 && rmi(.granuleDelegate, M.root).x0 == 0
  for i in 0..<UInt64(16) { ok = ok && rmi(.granuleDelegate, M.tables + i * 0x1000).x0 == 0 }
  check(ok, "delegate the RD and root candidates")
  // Without flags.lpa2 a realm keeps 48 bits and has no level -1.
  writeRealmParams(rttBase: M.root, vmid: 11, s2sz: 52, level: UInt64(bitPattern: -1), roots: 1)
  expect(rmi(.realmCreate, M.rd, LifecycleMemory.realmParams), inputError, "no flags.lpa2: s2sz 52 from level -1 refused")
  writeRealmParams(rttBase: M.root, vmid: 11, s2sz: 48, level: UInt64(bitPattern: -1), roots: 1)
  expect(rmi(.realmCreate, M.rd, LifecycleMemory.realmParams), inputError, "no flags.lpa2: start level -1 refused")
  writeRealmParams(rttBase: M.tables, vmid: 11, s2sz: 52, level: 0, roots: 16)
  expect(rmi(.realmCreate, M.rd, LifecycleMemory.realmParams), inputError, "no flags.lpa2: s2sz 52 from level 0 refused")
  writeRealmParams(rttBase: M.tables, vmid: 11, s2sz: 52, level: 0, roots: 1, flags: RealmParamsLayout.flagLPA2)
  expect(rmi(.realmCreate, M.rd, LifecycleMemory.realmParams), inputError, "flags.lpa2, s2sz 52 from level 0, 1 root: refused")
  writeRealmParams(rttBase: M.tables, vmid: 11, s2sz: 52, level: 0, roots: 16, flags: RealmParamsLayout.flagLPA2)
  expect(rmi(.realmCreate, M.rd, LifecycleMemory.realmParams), .success, "flags.lpa2, s2sz 52 from level 0, 16 roots")
  expect(rmi(.realmDestroy, M.rd), .success, "REALM_DESTROY of it")
  ok = true
  for i in 0..<UInt64(16) { ok = ok && rmi(.granuleUndelegate, M.tables + i * 0x1000).x0 == 0 }
  check(ok, "its 16 roots undelegated")

  writeRealmParams(rttBase: M.root, vmid: 11, s2sz: 52, level: UInt64(bitPattern: -1), roots: 1,
                   flags: RealmParamsLayout.flagLPA2)
  expect(rmi(.realmCreate, M.rd, LifecycleMemory.realmParams), .success, "REALM_CREATE: flags.lpa2, s2sz 52, start level -1")
  // Levels 0-3 for IPA 0 (the payload) and for `high`.
  ok = true
  for n in stride(from: UInt64(0), through: 4, by: 4) {  // tables 0-3: IPA 0; 4-7: high
    let base = n == 0 ? 0 : M.high
    for level in UInt64(0)...3 {
      let table = M.tables + (n + level) * 0x1000
      let size: UInt64 = 1 << (12 + 9 * (4 - level))  // what an entry of the parent maps
      ok = ok && rmi(.granuleDelegate, table).x0 == 0
      ok = ok && rmi(.rttCreate, M.rd, table, base & ~(size - 1), level).x0 == 0
    }
  }
  check(ok, "RTT_CREATE at levels 0-3 under the level -1 root, for IPA 0 and an IPA above 2^48")
  let root = rmi(.rttReadEntry, M.rd, 1 << 48, UInt64(bitPattern: -1))
  check(root.x0 == 0 && root.x1 == UInt64(bitPattern: -1) && root.x2 == RTTEntryState.table.rawValue && root.x3 == M.tables + 0x4000,
        "RTT_READ_ENTRY at level -1: walk_level -1, a TABLE")

  ok = rmi(.rttInitRIPAS, M.rd, 0, M.populated).x1 == M.populated
  ok = ok && rmi(.rttInitRIPAS, M.rd, M.high, M.high + 0x1000).x1 == M.high + 0x1000
  var next: UInt64 = 0
  let image = testrealm_image_address()
  let pages = testrealm_image_size() / 0x1000
  for i in 0..<pages {
    ok = ok && lpa2DataGranule(&next) && rmi(.dataCreate, M.rd, M.pool + (next - 1) * 0x1000, i * 0x1000, image + i * 0x1000, 1).x0 == 0
  }
  var ipa = pages * 0x1000
  while ipa < M.populated {
    ok = ok && lpa2DataGranule(&next) && rmi(.dataCreateUnknown, M.rd, M.pool + (next - 1) * 0x1000, ipa).x0 == 0
    ipa += 0x1000
  }
  fillPage(LifecycleMemory.source) { i in i == 511 ? ~M.pattern : i == 0 ? M.pattern : 0 }
  ok = ok && lpa2DataGranule(&next)
  let highData = M.pool + (next - 1) * 0x1000
  ok = ok && rmi(.dataCreate, M.rd, highData, M.high, LifecycleMemory.source, 1).x0 == 0
  check(ok, "RIPAS RAM and DATA for the payload at IPA 0 and a measured page above 2^48")
  let entry = rmi(.rttReadEntry, M.rd, M.high, 3)
  check(entry.x0 == 0 && entry.x1 == 3 && entry.x2 == RTTEntryState.assigned.rawValue && entry.x3 == highData
        && entry.x4 == RIPAS.ram.rawValue, "RTT_READ_ENTRY above 2^48: ASSIGNED RAM, the DATA granule's PA")

  writeRECParams(mpidr: 0, runnable: true, pc: 0, aux: M.recs + 0x1000)
  let gprs = LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs)
  mmio_write64(gprs + 16, 3)          // x2: the LPA2 touch
  mmio_write64(gprs + 24, M.high)     // x3: where
  mmio_write64(gprs + 32, M.pattern)  // x4: what it holds
  ok = rmi(.granuleDelegate, M.recs).x0 == 0 && rmi(.granuleDelegate, M.recs + 0x1000).x0 == 0
    && rmi(.granuleDelegate, M.recs + 0x2000).x0 == 0
  ok = ok && rmi(.recCreate, M.rd, M.recs, LifecycleMemory.recParams).x0 == 0
  check(ok, "REC_CREATE")
  expect(rmi(.realmActivate, M.rd), .success, "REALM_ACTIVATE")
  var runner = RealmRunner()
  fillPage(RealmRunMemory.run) { _ in 0 }
  check(runner.run(M.recs), "the LPA2 realm ran to PSCI SYSTEM_OFF")
  passed += runner.realmPassed
  failed += runner.realmFailed
  check(runner.realmPassed == 5 && runner.realmFailed == 0, "the LPA2 realm's 5 checks passed")

  // Tear down: DATA, tables leaf to root, REC, realm; every granule back to NS.
  ok = rmi(.recDestroy, M.recs).x0 == 0
  for i in 0..<M.populated / 0x1000 { ok = ok && rmi(.dataDestroy, M.rd, i * 0x1000).x0 == 0 }
  ok = ok && rmi(.dataDestroy, M.rd, M.high).x1 == highData
  for n in stride(from: UInt64(0), through: 4, by: 4) {  // tables 0-3: IPA 0; 4-7: high
    let base = n == 0 ? 0 : M.high
    for level in stride(from: UInt64(3), through: 0, by: -1) {
      let size: UInt64 = 1 << (12 + 9 * (4 - level))
      ok = ok && rmi(.rttDestroy, M.rd, base & ~(size - 1), level).x1 == M.tables + (n + level) * 0x1000
    }
  }
  ok = ok && rmi(.realmDestroy, M.rd).x0 == 0
  for i in 0..<next { ok = ok && rmi(.granuleUndelegate, M.pool + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(8) { ok = ok && rmi(.granuleUndelegate, M.tables + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(3) { ok = ok && rmi(.granuleUndelegate, M.recs + i * 0x1000).x0 == 0 }
  ok = ok && rmi(.granuleUndelegate, M.root).x0 == 0 && rmi(.granuleUndelegate, M.rd).x0 == 0
  check(ok, "tear the LPA2 realm down, every granule back to NS")
}

/// Delegates the next granule of the LPA2 realm's DATA pool.
func lpa2DataGranule(_ next: inout UInt64) -> Bool {
  next += 1
  return rmi(.granuleDelegate, LPA2Memory.pool + (next - 1) * 0x1000).x0 == 0
}

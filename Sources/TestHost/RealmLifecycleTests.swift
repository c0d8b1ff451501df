// Integration checks of the realm lifecycle: a complete realm built, inspected,
// activated and torn down, with bad inputs for every command on the way, and every
// granule back in the Normal world at the end.

import AArch64Shim
import RMMABI
import RMMCore

/// NS pages and granules the lifecycle test uses (all in NS DRAM below 1 GiB of RAM).
enum LifecycleMemory {
  static let realmParams: UInt64 = Board.testGranules + 0x0300_0000  // NS, never delegated
  static let recParams = realmParams + 0x1000
  static let source = realmParams + 0x2000
  static let rd = Board.testGranules + 0x0100_0000
  static let rttBase = rd + 0x2000               // two concatenated roots, 8 KiB aligned
  static let tables = rd + 0x10000               // RTTs, one granule each
  static let data = rd + 0x20000                 // DATA granules
  static let recs = rd + 0x30000                 // RECs and their aux granules
  static let block = Board.testGranules + 0x0200_0000  // 2 MiB aligned: 512 DATA granules to fold
  static let unprotected: UInt64 = 1 << 39       // s2sz 40
}

func fillPage(_ pa: UInt64, _ value: (Int) -> UInt64) {
  for i in 0..<512 { mmio_write64(pa + UInt64(i) * 8, value(i)) }
}

func writeRealmParams(rttBase: UInt64, vmid: UInt64, s2sz: UInt64 = 40, level: UInt64 = 1, roots: UInt64 = 2,
                      hash: UInt64 = 0, flags: UInt64 = 0, bps: UInt64 = 1, sveLength: UInt64 = 0, pmuCounters: UInt64 = 0) {
  let p = LifecycleMemory.realmParams
  fillPage(p) { _ in 0 }
  mmio_write64(p + UInt64(RealmParamsLayout.flags), flags)
  mmio_write64(p + UInt64(RealmParamsLayout.sveVectorLength), sveLength)
  mmio_write64(p + UInt64(RealmParamsLayout.pmuCounters), pmuCounters)
  mmio_write64(p + UInt64(RealmParamsLayout.s2sz), s2sz)
  mmio_write64(p + UInt64(RealmParamsLayout.numberOfBreakpoints), bps)
  mmio_write64(p + UInt64(RealmParamsLayout.numberOfWatchpoints), 1)
  mmio_write64(p + UInt64(RealmParamsLayout.hashAlgorithm), hash)
  mmio_write64(p + UInt64(RealmParamsLayout.vmid), vmid)
  mmio_write64(p + UInt64(RealmParamsLayout.rttBase), rttBase)
  mmio_write64(p + UInt64(RealmParamsLayout.rttLevelStart), level)
  mmio_write64(p + UInt64(RealmParamsLayout.rttNumStart), roots)
  mmio_write64(p + UInt64(RealmParamsLayout.personalizationValue), 0x5357_4946_5452_4D4D)
}

/// RmiRecParams with `count` aux granules from `aux` on, one after the other.
func writeRECParams(mpidr: UInt64, runnable: Bool, pc: UInt64, aux: UInt64, count: UInt64 = 2) {
  let p = LifecycleMemory.recParams
  fillPage(p) { _ in 0 }
  mmio_write64(p + UInt64(RecParamsLayout.flags), runnable ? 1 : 0)
  mmio_write64(p + UInt64(RecParamsLayout.mpidr), mpidr)
  mmio_write64(p + UInt64(RecParamsLayout.pc), pc)
  mmio_write64(p + UInt64(RecParamsLayout.numberOfAux), count)
  for i in 0..<count { mmio_write64(p + UInt64(RecParamsLayout.aux) + 8 * i, aux + 0x1000 * i) }
}

func allOK(_ count: UInt64, _ call: (UInt64) -> UInt64) -> Bool {
  var ok = true
  for i in 0..<count where call(i) != 0 { ok = false }
  return ok
}

func runRealmLifecycleTests() {
  typealias M = LifecycleMemory
  let rd = M.rd
  section("REALM_CREATE")
  writeRealmParams(rttBase: M.rttBase, vmid: 1)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "REALM_CREATE with an undelegated RD: ERROR_INPUT")
  check(rmi(.granuleDelegate, rd).x0 == 0 && allOK(2) { i in rmi(.granuleDelegate, M.rttBase + i * 0x1000).x0 },
        "delegate RD and two root RTTs")
  expect(rmi(.realmCreate, rd, M.realmParams + 8), inputError, "params pointer unaligned: ERROR_INPUT")
  expect(rmi(.realmCreate, rd, M.rttBase), inputError, "params page delegated (realm PAS): ERROR_INPUT")
  expect(rmi(.realmCreate, rd, Board.mmioPA), inputError, "params pointer at MMIO: ERROR_INPUT")
  expect(rmi(.realmCreate, rd, Board.topOfRAM), inputError, "params pointer past the end of RAM: ERROR_INPUT")
  expect(rmi(.realmCreate, rd, Board.rmmBase), inputError, "params pointer into the RMM: ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, s2sz: 49)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "s2sz 49 (beyond FR0): ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, roots: 1)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "wrong number of root tables: ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, flags: RealmParamsLayout.flagSVE, sveLength: 16)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "SVE with sve_vl 16 (beyond the largest, 15): ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, sveLength: 1)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "sve_vl without flags.sve: ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, flags: RealmParamsLayout.flagPMU, pmuCounters: 32)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "PMU with 32 counters (beyond the CPU's): ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, pmuCounters: 1)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "pmu_num_ctrs without flags.pmu: ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, hash: 7)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "unknown hash algorithm: ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1, bps: 0)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "zero breakpoints: ERROR_INPUT")
  writeRealmParams(rttBase: rd, vmid: 1)
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "RD inside the RTT range: ERROR_INPUT")
  writeRealmParams(rttBase: M.rttBase, vmid: 1)
  expect(rmi(.realmCreate, rd, M.realmParams), .success, "REALM_CREATE (s2sz 40, start level 1, 2 roots)")
  expect(rmi(.realmCreate, rd, M.realmParams), inputError, "REALM_CREATE on an existing RD: ERROR_INPUT")
  check(testhost_probe_read(rd).esr != 0, "the RD is not readable from NS")
  expect(rmi(.granuleUndelegate, rd), inputError, "undelegate a live RD: ERROR_INPUT")
  expect(rmi(.granuleUndelegate, M.rttBase), inputError, "undelegate a live root RTT: ERROR_INPUT")
  expectValue(rmi(.recAuxCount, rd).x1, 2, "REC_AUX_COUNT is 2")
  expect(rmi(.recAuxCount, M.rttBase), inputError, "REC_AUX_COUNT of a non-RD: ERROR_INPUT")

  section("RTT_CREATE / READ_ENTRY")
  let t = M.tables
  check(allOK(8) { i in rmi(.granuleDelegate, t + i * 0x1000).x0 }, "delegate 8 RTT granules")
  expect(rmi(.rttCreate, rd, t, 0, 3), RMIStatus(.errorRTT, index: 1), "L3 table without an L2: ERROR_RTT index 1")
  expect(rmi(.rttCreate, rd, t, 0, 1), inputError, "RTT at the start level: ERROR_INPUT")
  expect(rmi(.rttCreate, rd, t, 0x1000, 2), inputError, "RTT IPA not aligned to its parent entry: ERROR_INPUT")
  expect(rmi(.rttCreate, rd, t, 1 << 40, 2), inputError, "RTT IPA beyond s2sz: ERROR_INPUT")
  expect(rmi(.rttCreate, rd, Board.testGranules, 0, 2), inputError, "RTT granule not delegated: ERROR_INPUT")
  expect(rmi(.rttCreate, rd, t, 0, 2), .success, "RTT_CREATE level 2 at IPA 0")
  expect(rmi(.rttCreate, rd, t + 0x1000, 0, 2), RMIStatus(.errorRTT, index: 1), "RTT_CREATE where a table exists: ERROR_RTT 1")
  expect(rmi(.rttCreate, rd, t + 0x1000, 0, 3), .success, "RTT_CREATE level 3 at IPA 0")
  expect(rmi(.rttCreate, rd, t + 0x2000, 0x20_0000, 3), .success, "RTT_CREATE level 3 at IPA 2 MiB")
  expect(rmi(.rttCreate, rd, t + 0x3000, 0x40_0000, 3), .success, "RTT_CREATE level 3 at IPA 4 MiB (to be folded)")
  let root = rmi(.rttReadEntry, rd, 0, 1)
  check(root.x0 == 0 && root.x1 == 1 && root.x2 == RTTEntryState.table.rawValue && root.x3 == t,
        "READ_ENTRY at level 1: TABLE pointing at the L2 table")
  let leaf = rmi(.rttReadEntry, rd, 0x3000, 3)
  check(leaf.x0 == 0 && leaf.x1 == 3 && leaf.x2 == 0 && leaf.x4 == RIPAS.empty.rawValue, "READ_ENTRY: UNASSIGNED, RIPAS EMPTY")
  expect(rmi(.rttReadEntry, rd, 0x3008, 3), inputError, "READ_ENTRY unaligned IPA: ERROR_INPUT")
  expect(rmi(.rttReadEntry, rd, 0, 0), inputError, "READ_ENTRY above the start level: ERROR_INPUT")
  let shallow = rmi(.rttReadEntry, rd, 0x60_0000, 3)
  check(shallow.x0 == 0 && shallow.x1 == 2, "READ_ENTRY stops at the deepest table (level 2)")

  section("RTT_INIT_RIPAS / DATA_CREATE")
  expect(rmi(.rttInitRIPAS, rd, 0x2000, 0x1000), inputError, "INIT_RIPAS top below base: ERROR_INPUT")
  expect(rmi(.rttInitRIPAS, rd, 0, M.unprotected + 0x1000), inputError, "INIT_RIPAS into the unprotected half: ERROR_INPUT")
  let init1 = rmi(.rttInitRIPAS, rd, 0, 0x60_0000)
  check(init1.x0 == 0 && init1.x1 == 0x20_0000, "INIT_RIPAS stops at the end of the first L3 table")
  let init2 = rmi(.rttInitRIPAS, rd, init1.x1, 0x60_0000)
  check(init2.x0 == 0 && init2.x1 == 0x40_0000, "INIT_RIPAS continues over the second L3 table")
  let init3 = rmi(.rttInitRIPAS, rd, init2.x1, 0x60_0000)
  check(init3.x0 == 0 && init3.x1 == 0x60_0000, "INIT_RIPAS over the third L3 table")
  expectValue(rmi(.rttReadEntry, rd, 0x20_1000, 3).x4, RIPAS.ram.rawValue, "RIPAS RAM after INIT_RIPAS")
  let d = M.data
  check(allOK(4) { i in rmi(.granuleDelegate, d + i * 0x1000).x0 }, "delegate 4 DATA granules")
  fillPage(M.source) { i in UInt64(i) | 0xDA7A_0000_0000_0000 }
  expect(rmi(.dataCreate, rd, d, 0x1000, d + 0x1000, 1), inputError, "DATA_CREATE source delegated: ERROR_INPUT")
  expect(rmi(.dataCreate, rd, d, 0x1000, Board.securePA, 1), inputError, "DATA_CREATE source in secure memory: ERROR_INPUT")
  expect(rmi(.dataCreate, rd, d, 0x1000, Board.topOfRAM, 1), inputError, "DATA_CREATE source past RAM: ERROR_INPUT")
  expect(rmi(.dataCreate, rd, d, M.unprotected, M.source, 1), inputError, "DATA_CREATE at an unprotected IPA: ERROR_INPUT")
  expect(rmi(.dataCreate, rd, d, 0x60_0000, M.source, 1), RMIStatus(.errorRTT, index: 2), "DATA_CREATE without an L3 table: ERROR_RTT 2")
  expect(rmi(.dataCreate, rd, Board.testGranules, 0x1000, M.source, 1), inputError, "DATA_CREATE into an NS granule: ERROR_INPUT")
  // Measuring runs the RMM's SHA-256 on the CPU's vector registers: the host's SVE
  // state, at the largest vector length, must not change.
  let vectorBytes = testhost_fp_sve_setup(15)
  fillSVEPattern(vectorBytes)
  expect(rmi(.dataCreate, rd, d, 0x1000, M.source, 1), .success, "DATA_CREATE measured at IPA 0x1000")
  if vectorBytes != 0 {
    check(sveStateIntact(vectorBytes, skippingV0V17: false),
          "the host's SVE state at the largest vector length is intact after a measured DATA_CREATE")
  }
  expect(rmi(.dataCreate, rd, d + 0x1000, 0x1000, M.source, 1), RMIStatus(.errorRTT, index: 3), "DATA_CREATE on an assigned entry: ERROR_RTT 3")
  expect(rmi(.dataCreate, rd, d + 0x1000, 0x2000, M.source, ~UInt64(1)), .success,
         "DATA_CREATE unmeasured at IPA 0x2000 (SBZ flag bits ignored)")
  expect(rmi(.dataCreate, rd, d + 0x2000, 0x20_0000, M.source, 1), .success, "DATA_CREATE in the second L3 table")
  check(testhost_probe_read(d).esr >> 26 == 0x25, "realm data is not readable from NS")
  let assigned = rmi(.rttReadEntry, rd, 0x1000, 3)
  check(assigned.x0 == 0 && assigned.x2 == RTTEntryState.assigned.rawValue && assigned.x3 == d && assigned.x4 == RIPAS.ram.rawValue,
        "READ_ENTRY: ASSIGNED, the DATA granule, RIPAS RAM")

  section("RTT_FOLD")
  let block = M.block
  check(allOK(512) { i in rmi(.granuleDelegate, block + i * 0x1000).x0 }, "delegate 512 contiguous granules (2 MiB aligned)")
  check(allOK(512) { i in rmi(.dataCreate, rd, block + i * 0x1000, 0x40_0000 + i * 0x1000, M.source, 0).x0 },
        "DATA_CREATE 512 pages into the third L3 table")
  let folded = rmi(.rttFold, rd, 0x40_0000, 3)
  check(folded.x0 == 0 && folded.x1 == t + 0x3000, "RTT_FOLD returns the folded table")
  let blockEntry = rmi(.rttReadEntry, rd, 0x40_0000, 3)
  check(blockEntry.x0 == 0 && blockEntry.x1 == 2 && blockEntry.x2 == 1 && blockEntry.x3 == block, "READ_ENTRY: a 2 MiB ASSIGNED block")
  expect(rmi(.rttFold, rd, 0, 3), RMIStatus(.errorRTT, index: 3), "RTT_FOLD of a mixed table: ERROR_RTT 3")
  expect(rmi(.dataDestroy, rd, 0x40_0000), RMIStatus(.errorRTT, index: 2), "DATA_DESTROY inside a block: ERROR_RTT 2")

  section("RTT_MAP_UNPROTECTED / UNMAP")
  let ns = M.unprotected
  expect(rmi(.rttCreate, rd, t + 0x4000, ns, 2), .success, "RTT_CREATE level 2 in the unprotected half")
  expect(rmi(.rttCreate, rd, t + 0x5000, ns, 3), .success, "RTT_CREATE level 3 in the unprotected half")
  let desc: UInt64 = M.source | (0b101 << 2) | (0b11 << 6)
  expect(rmi(.rttMapUnprotected, rd, 0x1000, 3, desc), inputError, "MAP_UNPROTECTED at a protected IPA: ERROR_INPUT")
  expect(rmi(.rttMapUnprotected, rd, ns, 3, desc | 1), inputError, "MAP_UNPROTECTED with the valid bit set: ERROR_INPUT")
  expect(rmi(.rttMapUnprotected, rd, ns, 3, desc), .success, "MAP_UNPROTECTED a host page")
  let nsEntry = rmi(.rttReadEntry, rd, ns, 3)
  check(nsEntry.x0 == 0 && nsEntry.x2 == 1 && nsEntry.x3 == desc, "READ_ENTRY returns the host's descriptor")
  expect(rmi(.rttMapUnprotected, rd, ns, 3, desc), RMIStatus(.errorRTT, index: 3), "MAP_UNPROTECTED twice: ERROR_RTT 3")
  let unmapped = rmi(.rttUnmapUnprotected, rd, ns, 3)
  check(unmapped.x0 == 0 && unmapped.x1 == ns + 0x20_0000, "UNMAP_UNPROTECTED returns top = end of the table")

  section("REC_CREATE / REALM_ACTIVATE")
  let recs = M.recs
  check(allOK(9) { i in rmi(.granuleDelegate, recs + i * 0x1000).x0 }, "delegate 3 RECs and 6 aux granules")
  writeRECParams(mpidr: 1, runnable: true, pc: 0x1000, aux: recs + 0x2000)
  expect(rmi(.recCreate, rd, recs, M.recParams), inputError, "REC_CREATE out of MPIDR order: ERROR_INPUT")
  writeRECParams(mpidr: 0, runnable: true, pc: 0x1000, aux: recs)
  expect(rmi(.recCreate, rd, recs, M.recParams), inputError, "REC_CREATE with the REC as its own aux: ERROR_INPUT")
  writeRECParams(mpidr: 0, runnable: true, pc: 0x1000, aux: recs + 0x2000)
  expect(rmi(.recCreate, rd, recs, M.recParams), .success, "REC_CREATE REC 0 (runnable)")
  writeRECParams(mpidr: 1, runnable: false, pc: 0x1000, aux: recs + 0x4000)
  expect(rmi(.recCreate, rd, recs + 0x1000, M.recParams), .success, "REC_CREATE REC 1 (not runnable)")
  expect(rmi(.realmDestroy, rd), RMIStatus(.errorRealm), "REALM_DESTROY with RECs: ERROR_REALM")
  expect(rmi(.realmActivate, rd), .success, "REALM_ACTIVATE")
  expect(rmi(.realmActivate, rd), RMIStatus(.errorRealm), "REALM_ACTIVATE twice: ERROR_REALM")
  expect(rmi(.dataCreate, rd, d + 0x3000, 0x3000, M.source, 1), RMIStatus(.errorRealm), "DATA_CREATE after activation: ERROR_REALM")
  expect(rmi(.rttInitRIPAS, rd, 0x3000, 0x4000), RMIStatus(.errorRealm), "INIT_RIPAS after activation: ERROR_REALM")
  writeRECParams(mpidr: 2, runnable: true, pc: 0, aux: recs + 0x7000)
  expect(rmi(.recCreate, rd, recs + 0x6000, M.recParams), RMIStatus(.errorRealm), "REC_CREATE after activation: ERROR_REALM")
  expect(rmi(.dataCreateUnknown, rd, d + 0x3000, 0x3000), .success, "DATA_CREATE_UNKNOWN after activation")

  section("teardown")
  expect(rmi(.recDestroy, recs), .success, "REC_DESTROY REC 0")
  expect(rmi(.recDestroy, recs), inputError, "REC_DESTROY twice: ERROR_INPUT")
  expect(rmi(.recDestroy, recs + 0x1000), .success, "REC_DESTROY REC 1")
  expect(rmi(.rttDestroy, rd, 0, 3), RMIStatus(.errorRTT, index: 3), "RTT_DESTROY of a table with DATA: ERROR_RTT 3")
  expect(rmi(.realmDestroy, rd), RMIStatus(.errorRealm), "REALM_DESTROY with live tables: ERROR_REALM")
  let destroyed = rmi(.dataDestroy, rd, 0x1000)
  check(destroyed.x0 == 0 && destroyed.x1 == d && destroyed.x2 == 0x2000, "DATA_DESTROY returns the granule and the next live IPA")
  expectValue(rmi(.rttReadEntry, rd, 0x1000, 3).x4, RIPAS.destroyed.rawValue, "RIPAS DESTROYED after DATA_DESTROY")
  check(rmi(.dataDestroy, rd, 0x2000).x0 == 0 && rmi(.dataDestroy, rd, 0x3000).x0 == 0 && rmi(.dataDestroy, rd, 0x20_0000).x0 == 0,
        "DATA_DESTROY the other pages")
  expect(rmi(.rttCreate, rd, t + 0x3000, 0x40_0000, 3), .success, "RTT_CREATE re-splits the 2 MiB block")
  let split = rmi(.rttReadEntry, rd, 0x40_5000, 3)
  check(split.x0 == 0 && split.x1 == 3 && split.x3 == block + 0x5000, "the split table maps the block's pages")
  check(allOK(512) { i in rmi(.dataDestroy, rd, 0x40_0000 + i * 0x1000).x0 }, "DATA_DESTROY the 512 block pages")
  check(rmi(.rttDestroy, rd, 0, 3).x0 == 0 && rmi(.rttDestroy, rd, 0x20_0000, 3).x0 == 0
          && rmi(.rttDestroy, rd, 0x40_0000, 3).x0 == 0, "RTT_DESTROY the three protected L3 tables")
  let l2gone = rmi(.rttDestroy, rd, 0, 2)
  check(l2gone.x0 == 0 && l2gone.x1 == t, "RTT_DESTROY the protected L2 table")
  check(rmi(.rttDestroy, rd, ns, 3).x0 == 0 && rmi(.rttDestroy, rd, ns, 2).x0 == 0, "RTT_DESTROY the unprotected tables")
  expect(rmi(.realmDestroy, rd), .success, "REALM_DESTROY")
  expect(rmi(.realmDestroy, rd), inputError, "REALM_DESTROY twice: ERROR_INPUT")

  var allBack = true
  var allZero = true
  func giveBack(_ base: UInt64, _ count: UInt64) {
    for i in 0..<count {
      let pa = base + i * 0x1000
      if rmi(.granuleUndelegate, pa).x0 != 0 { allBack = false }
      let probe = testhost_probe_read(pa)
      if probe.esr != 0 || probe.value != 0 || mmio_read64(pa + 0xFF8) != 0 { allZero = false }
    }
  }
  giveBack(rd, 1)
  giveBack(M.rttBase, 2)
  giveBack(t, 8)
  giveBack(d, 4)
  giveBack(recs, 9)
  giveBack(block, 512)
  check(allBack, "every granule the realm used is UNDELEGATED again")
  check(allZero, "and readable from NS, scrubbed to zero")
}

// Against a test-hooks build of the RMM: a deliberate fault inside the RMM is
// reported on the console and contained. The call and every later call fail with
// SMC_UNKNOWN; nothing hangs.

import AArch64Shim
import RMMABI
import RMMCore

func runCrashContainmentTests() {
  if RunConfiguration.argument(0) == 3 { return runCorruptionTests() }
  section("crash containment (RMM built with RMM_TEST_HOOKS)")
  expect(rmi(.version, rmiABIVersion.encoded), .success, "RMI_VERSION before the fault")
  // 1: unmapped read, 2: stack overflow, 5: a store through a read-only gate mapping
  let hook = RunConfiguration.argument(0) == 2 ? UInt64(2) : RunConfiguration.argument(0) == 5 ? 5 : 1
  var table: UInt64 = 0
  if hook == 5 {  // an RTT to map for reading
    typealias M = LifecycleMemory
    var ok = rmi(.granuleDelegate, M.rd).x0 == 0
    for i in 0..<UInt64(2) { ok = ok && rmi(.granuleDelegate, M.rttBase + i * 0x1000).x0 == 0 }
    ok = ok && rmi(.granuleDelegate, M.tables).x0 == 0
    writeRealmParams(rttBase: M.rttBase, vmid: 1)
    ok = ok && rmi(.realmCreate, M.rd, M.realmParams).x0 == 0 && rmi(.rttCreate, M.rd, M.tables, 0, 2).x0 == 0
    check(ok, "a realm with an RTT")
    table = M.tables
  }
  let crashed = smc(0xC400_018E, hook, table)
  expectValue(crashed.x0, smcUnknown, "the faulting call returns SMC_UNKNOWN instead of hanging")
  expectValue(rmi(.version, rmiABIVersion.encoded).x0, smcUnknown, "a halted RMM answers RMI_VERSION with SMC_UNKNOWN")
  expectValue(rmi(.granuleDelegate, Board.testGranules).x0, smcUnknown, "a halted RMM refuses to touch granules")
  check(testhost_probe_read(Board.testGranules).esr == 0, "the granule stayed NS")
}

/// Against a test-hooks build: the RMM attempts four accesses its policy forbids; each
/// is refused, alerted and counted, the realm's data is untouched, and the RMM serves on.
func runForbiddenAccessTests() {
  section("forbidden accesses (RMM built with RMM_TEST_HOOKS)")
  typealias M = LifecycleMemory
  let rd = M.rd, t = M.tables, d = M.data
  var ok = rmi(.granuleDelegate, rd).x0 == 0
  for i in 0..<UInt64(2) { ok = ok && rmi(.granuleDelegate, M.rttBase + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(2) { ok = ok && rmi(.granuleDelegate, t + i * 0x1000).x0 == 0 }
  ok = ok && rmi(.granuleDelegate, d).x0 == 0
  writeRealmParams(rttBase: M.rttBase, vmid: 1)
  fillPage(M.source) { i in UInt64(i) | 0x5EC2_E700_0000_0000 }
  ok = ok && rmi(.realmCreate, rd, M.realmParams).x0 == 0 && rmi(.rttCreate, rd, t, 0, 2).x0 == 0
    && rmi(.rttCreate, rd, t + 0x1000, 0, 3).x0 == 0 && rmi(.dataCreate, rd, d, 0x1000, M.source, 0).x0 == 0
  check(ok, "a realm with an RTT and a DATA granule")
  let before = smc(AuditInterface.fid, AuditInterface.statistics).x1
  _ = smc(0xC400_018E, 3, d, t + 0x1000)
  let after = smc(AuditInterface.fid, AuditInterface.statistics).x1
  expectValue(after - before, 4, "four forbidden accesses refused and counted (one out of its declared bytes)")
  expect(rmi(.version, rmiABIVersion.encoded), .success, "the RMM keeps serving")
  let entry = rmi(.rttReadEntry, rd, 0x1000, 3)
  check(entry.x0 == 0 && entry.x3 == d, "the RTT the hook tried to overwrite is intact")
  var clean = rmi(.dataDestroy, rd, 0x1000).x0 == 0 && rmi(.rttDestroy, rd, 0, 3).x0 == 0
    && rmi(.rttDestroy, rd, 0, 2).x0 == 0 && rmi(.realmDestroy, rd).x0 == 0
  let all: InlineArray<6, UInt64> = [rd, M.rttBase, M.rttBase + 0x1000, t, t + 0x1000, d]
  for i in all.indices { clean = clean && rmi(.granuleUndelegate, all[i]).x0 == 0 }
  check(clean, "teardown")
  AuditCollector.drainAndPrint()
  AuditCollector.printStatistics()
}

/// Against a test-hooks build: an RTT entry the RMM never wrote (memory corruption,
/// made by the hook) is found by the next walk; the RMM raises an alert and stops, as
/// after a crash, instead of answering the host with an error code as if the host had
/// erred. Every later call fails with SMC_UNKNOWN.
func runCorruptionTests() {
  section("corrupt RMM state (RMM built with RMM_TEST_HOOKS)")
  typealias M = LifecycleMemory
  let rd = M.rd, t = M.tables
  var ok = rmi(.granuleDelegate, rd).x0 == 0
  for i in 0..<UInt64(2) { ok = ok && rmi(.granuleDelegate, M.rttBase + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(2) { ok = ok && rmi(.granuleDelegate, t + i * 0x1000).x0 == 0 }
  writeRealmParams(rttBase: M.rttBase, vmid: 1)
  ok = ok && rmi(.realmCreate, rd, M.realmParams).x0 == 0 && rmi(.rttCreate, rd, t, 0, 2).x0 == 0
    && rmi(.rttCreate, rd, t + 0x1000, 0, 3).x0 == 0
  check(ok, "a realm with an L3 table at IPA 0")
  check(rmi(.rttReadEntry, rd, 0x1000, 3).x0 == 0, "RTT_READ_ENTRY before: SUCCESS")
  _ = smc(0xC400_018E, 4, t + 0x1000, 1, 0x1)  // entry 1: valid, but no page descriptor
  expectValue(rmi(.rttReadEntry, rd, 0x1000, 3).x0, smcUnknown, "the walk over the corrupt entry halts the RMM")
  expectValue(rmi(.version, rmiABIVersion.encoded).x0, smcUnknown, "a halted RMM answers RMI_VERSION with SMC_UNKNOWN")
}

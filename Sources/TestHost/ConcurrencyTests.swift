// Two CPUs issue RMI calls at the same time against one realm (distinct subtrees of
// the same root table, so the RD lock and the hand-over-hand RTT locks are both
// contended) and race to delegate the same granules. Afterwards the accounting must
// hold: every call that had to succeed did, exactly one delegation per granule won,
// and the realm tears down completely.

import AArch64Shim
import RMMABI
import RMMCore

enum ConcurrencyMemory {
  static let rd = Board.testGranules + 0x0400_0000
  static let rttBase = rd + 0x2000
  static let tables = rd + 0x10000     // 2 x L2, 8 x L3 for each CPU
  static let data = rd + 0x30000
  static let raced = rd + 0x40000      // 64 granules both CPUs try to delegate
  static let iterations: UInt64 = 100
}

nonisolated(unsafe) var secondaryFailures: UInt64 = 0
nonisolated(unsafe) var secondaryDelegations: UInt64 = 0
nonisolated(unsafe) var secondaryFinished: UInt64 = 0
nonisolated(unsafe) var startFlag: UInt64 = 0
nonisolated(unsafe) var secondaryStaged: UInt64 = 0

/// One side of the contention: create and destroy L3 tables (and DATA in them) under
/// the L2 table at `l2IPA`, using the RTT granules `tables`.
func churn(l2IPA: UInt64, tables: UInt64, data: UInt64) -> UInt64 {
  typealias C = ConcurrencyMemory
  var failures: UInt64 = 0
  for i in 0..<C.iterations {
    let ipa = l2IPA + (i % 8) * 0x20_0000
    let table = tables + (i % 8) * 0x1000
    failures += rmi(.rttCreate, C.rd, table, ipa, 3).x0 == 0 ? 0 : 1
    failures += rmi(.dataCreateUnknown, C.rd, data, ipa + 0x1000).x0 == 0 ? 0 : 1
    failures += rmi(.dataDestroy, C.rd, ipa + 0x1000).x0 == 0 ? 0 : 1
    failures += rmi(.rttDestroy, C.rd, ipa, 3).x0 == 0 ? 0 : 1
  }
  return failures
}

func raceDelegations() -> UInt64 {
  var won: UInt64 = 0
  for i in 0..<UInt64(64) where rmi(.granuleDelegate, ConcurrencyMemory.raced + i * 0x1000).x0 == 0 { won += 1 }
  return won
}

func runSecondaryConcurrencyTask() {
  typealias C = ConcurrencyMemory
  while mmio_read64(sharedAddress(&startFlag)) == 0 {}
  mmio_write64(sharedAddress(&secondaryFailures), churn(l2IPA: 0x4000_0000, tables: C.tables + 0x9000, data: C.data + 0x1000))
  mmio_write64(sharedAddress(&secondaryDelegations), raceDelegations())
  AuditCollector.drainToStaging()
  mmio_write64(sharedAddress(&secondaryStaged), AuditCollector.stagedPages[1])
  dsb_sy()
  mmio_write64(sharedAddress(&secondaryFinished), 1)
  dsb_sy()
}

func runConcurrencyTests() {
  typealias C = ConcurrencyMemory
  section("two CPUs on one realm")
  var setupOK = rmi(.granuleDelegate, C.rd).x0 == 0
  for i in 0..<UInt64(2) { setupOK = setupOK && rmi(.granuleDelegate, C.rttBase + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(20) { setupOK = setupOK && rmi(.granuleDelegate, C.tables + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(2) { setupOK = setupOK && rmi(.granuleDelegate, C.data + i * 0x1000).x0 == 0 }
  writeRealmParams(rttBase: C.rttBase, vmid: 3)
  setupOK = setupOK && rmi(.realmCreate, C.rd, LifecycleMemory.realmParams).x0 == 0
  setupOK = setupOK && rmi(.rttCreate, C.rd, C.tables + 0x8000, 0, 2).x0 == 0
  setupOK = setupOK && rmi(.rttCreate, C.rd, C.tables + 0x11000, 0x4000_0000, 2).x0 == 0
  check(setupOK, "a realm with two L2 tables, one per CPU")

  mmio_write64(sharedAddress(&secondaryTask), 1)
  dsb_sy()
  AuditCollector.deferred = true  // no console output while two CPUs (and EL3) may print
  let on = smc(PSCIFunction.cpuOn.smc64, 1, testhost_secondary_entry_address(), 1)
  check(on.x0 == 0, "PSCI CPU_ON(1) for the concurrent half")
  mmio_write64(sharedAddress(&startFlag), 1)
  dsb_sy()
  let primaryFailures = churn(l2IPA: 0, tables: C.tables, data: C.data)
  let primaryWon = raceDelegations()
  let finished = wait(upTo: 20_000_000_000) { mmio_read64(sharedAddress(&secondaryFinished)) != 0 }
  AuditCollector.drainToStaging()
  AuditCollector.deferred = false
  check(finished, "CPU 1 finished")
  AuditCollector.printStaged(cpu: 0, pages: AuditCollector.stagedPages[0])
  AuditCollector.printStaged(cpu: 1, pages: mmio_read64(sharedAddress(&secondaryStaged)))
  expectValue(primaryFailures, 0, "CPU 0: 400 RTT/DATA calls under contention, all succeed")
  expectValue(mmio_read64(sharedAddress(&secondaryFailures)), 0, "CPU 1: 400 RTT/DATA calls under contention, all succeed")
  expectValue(primaryWon + mmio_read64(sharedAddress(&secondaryDelegations)), 64,
              "64 granules raced for: exactly one delegation of each succeeded")

  var tornDown = rmi(.rttDestroy, C.rd, 0, 2).x0 == 0 && rmi(.rttDestroy, C.rd, 0x4000_0000, 2).x0 == 0
  tornDown = tornDown && rmi(.realmDestroy, C.rd).x0 == 0
  var released = rmi(.granuleUndelegate, C.rd).x0 == 0
  for i in 0..<UInt64(2) { released = released && rmi(.granuleUndelegate, C.rttBase + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(20) { released = released && rmi(.granuleUndelegate, C.tables + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(2) { released = released && rmi(.granuleUndelegate, C.data + i * 0x1000).x0 == 0 }
  for i in 0..<UInt64(64) { released = released && rmi(.granuleUndelegate, C.raced + i * 0x1000).x0 == 0 }
  check(tornDown, "the realm tears down after the contention")
  check(released, "every granule undelegates: the accounting held")
}

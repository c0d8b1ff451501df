// SMP stress on shared state, after the per-CPU fuzzing (run mode 5 with 2-4 CPUs):
// every CPU races the others to delegate and undelegate the same 16 granules; then,
// in one shared realm, even CPUs REC_ENTER the same REC (its code exits at once on an
// unprotected access, so entries overlap) while odd CPUs create and destroy RTTs in
// the same L2 table the REC runs under. Collisions must get the spec's errors
// (ERROR_INPUT for a granule in the wrong state, ERROR_REC for a REC running
// elsewhere, ERROR_RTT for a table that is or is not there), no CPU may hang, and the
// final accounting must hold: per granule, successful delegations minus undelegations
// equal its final state; RTTs created minus destroyed equal the tables left; every
// granule undelegates at the end.

import AArch64Shim
import RMMABI
import RMMCore

enum StressMemory {
  static let base = Board.testGranules + 0x06A0_0000
  static let rd = base, root = base + 0x1000, l2 = base + 0x2000, l3 = base + 0x3000
  static let data = base + 0x4000, rec = base + 0x5000, aux = base + 0x6000  // 2 aux
  static let params = base + 0x8000, source = base + 0x9000                  // NS
  static func runPage(_ cpu: UInt64) -> UInt64 { base + 0x1_0000 + cpu * 0x1000 }
  static let raced = base + 0x2_0000, racedCount: UInt64 = 16
  static func table(_ cpu: UInt64, _ k: UInt64) -> UInt64 { base + 0x3_0000 + cpu * 0x4000 + k * 0x1000 }
  static let churnSlots: UInt64 = 4   // L3 tables at 2 MiB * (1...4), under the REC's L2
  /// Per-CPU counters.
  static func counter(_ cpu: UInt64, _ field: UInt64) -> UInt64 { base + 0x4_0000 + cpu * 0x1000 + field * 8 }
  static let done: UInt64 = 0, entered: UInt64 = 1, busy: UInt64 = 2, created: UInt64 = 3, destroyed: UInt64 = 4,
             unexpected: UInt64 = 5, go: UInt64 = 6, arrived: UInt64 = 7, cpus: UInt64 = 8
  static func delegated(_ g: UInt64) -> UInt64 { 0x20 + g }
  static func undelegated(_ g: UInt64) -> UInt64 { 0x40 + g }
  static let rounds: UInt64 = 1500
  /// Unprotected IPA (s2sz 39) the REC's code loads from: every entry exits at once.
  static let unprotected: UInt64 = 1 << 38
}

/// One CPU's share of the stress; returns when its rounds are done.
func stressWork(cpu: UInt64, seed: UInt64) {
  typealias M = StressMemory
  var random = FuzzRandom(seed: seed &+ 0x5151 &* (cpu + 1))
  func bump(_ field: UInt64) { mmio_write64(M.counter(cpu, field), mmio_read64(M.counter(cpu, field)) + 1) }
  // Part 1: everyone on the same granules.
  for _ in 0..<M.rounds {
    let g = random.below(M.racedCount)
    let pa = M.raced + g * 0x1000
    if random.percent(50) {
      let x0 = rmi(.granuleDelegate, pa).x0
      if x0 == 0 { bump(M.delegated(g)) } else if x0 != inputError.encoded { bump(M.unexpected) }
    } else {
      let x0 = rmi(.granuleUndelegate, pa).x0
      if x0 == 0 { bump(M.undelegated(g)) } else if x0 != inputError.encoded { bump(M.unexpected) }
    }
  }
  // Part 2: one realm; even CPUs run its REC, odd CPUs churn its tables. All CPUs
  // start it together (the fuzzing before may end at different times).
  mmio_write64(M.counter(cpu, M.arrived), 1)
  dsb_sy()
  while mmio_read64(M.counter(0, M.go)) == 0 {}
  let cpus = mmio_read64(M.counter(0, M.cpus))
  var all = false
  while !all {
    all = true
    for c in 0..<cpus where mmio_read64(M.counter(c, M.arrived)) == 0 { all = false }
  }
  if cpu % 2 == 0 {
    let run = M.runPage(cpu)
    mmio_write64(run + UInt64(RecRunLayout.enterFlags), 0)
    for _ in 0..<M.rounds {
      let x0 = rmi(.recEnter, M.rec, run).x0
      if x0 == 0 {
        let reason = mmio_read64(run + UInt64(RecRunLayout.exitReason)) & 0xFF
        let ec = mmio_read64(run + UInt64(RecRunLayout.exitESR)) >> 26
        if reason == UInt64(RecExitReason.sync.rawValue) && ec == 0x24 { bump(M.entered) } else { bump(M.unexpected) }
      } else if x0 == RMIStatus(.errorREC).encoded {
        bump(M.busy)
      } else {
        bump(M.unexpected)
      }
    }
  } else {
    for _ in 0..<M.rounds {
      let slot = 1 + random.below(M.churnSlots)
      let ipa = slot << 21
      if random.percent(50) {
        let table = M.table(cpu, random.below(4))
        let x0 = rmi(.rttCreate, M.rd, table, ipa, 3).x0
        // Taken slot: ERROR_RTT at level 2; our granule already a table: ERROR_INPUT.
        if x0 == 0 { bump(M.created) } else if x0 != RMIStatus(.errorRTT, index: 2).encoded && x0 != inputError.encoded {
          bump(M.unexpected)
        }
      } else {
        let x0 = rmi(.rttDestroy, M.rd, ipa, 3).x0
        if x0 == 0 { bump(M.destroyed) } else if x0 != RMIStatus(.errorRTT, index: 2).encoded { bump(M.unexpected) }
      }
    }
  }
  dsb_sy()
  mmio_write64(M.counter(cpu, M.done), 1)
  dsb_sy()
}

/// Zeroes every CPU's counters (before any CPU can start).
func resetStressCounters() {
  for cpu in 0..<FuzzShared.maxCPUs {
    for field in 0..<UInt64(0x60) { mmio_write64(StressMemory.counter(cpu, field), 0) }
  }
}

/// CPU 0: builds the shared realm, releases the others into part 2, then checks the
/// accounting and tears everything down.
func runSMPStress(cpus: UInt64, seed: UInt64) {
  typealias M = StressMemory
  section("SMP stress: shared granules, one REC entered from several CPUs, RTT churn")
  // The realm: one DATA page of `ldr x1, [x0]` (x0 = an unprotected IPA), REC at pc 0.
  var ok = true
  let realmGranules: InlineArray<8, UInt64> = [M.rd, M.root, M.l2, M.l3, M.data, M.rec, M.aux, M.aux + 0x1000]
  for i in 0..<8 { ok = ok && rmi(.granuleDelegate, realmGranules[i]).x0 == 0 }
  for cpu in 0..<cpus { for k in 0..<UInt64(4) { ok = ok && rmi(.granuleDelegate, M.table(cpu, k)).x0 == 0 } }
  fillPage(M.params) { _ in 0 }
  mmio_write64(M.params + UInt64(RealmParamsLayout.s2sz), 39)
  mmio_write64(M.params + UInt64(RealmParamsLayout.numberOfBreakpoints), 1)
  mmio_write64(M.params + UInt64(RealmParamsLayout.numberOfWatchpoints), 1)
  mmio_write64(M.params + UInt64(RealmParamsLayout.vmid), 250)
  mmio_write64(M.params + UInt64(RealmParamsLayout.rttBase), M.root)
  mmio_write64(M.params + UInt64(RealmParamsLayout.rttLevelStart), 1)
  mmio_write64(M.params + UInt64(RealmParamsLayout.rttNumStart), 1)
  ok = ok && rmi(.realmCreate, M.rd, M.params).x0 == 0
  ok = ok && rmi(.rttCreate, M.rd, M.l2, 0, 2).x0 == 0 && rmi(.rttCreate, M.rd, M.l3, 0, 3).x0 == 0
  fillPage(M.source) { _ in 0xF940_0001_F940_0001 }  // ldr x1, [x0] everywhere, vectors included
  ok = ok && rmi(.dataCreate, M.rd, M.data, 0, M.source, 0).x0 == 0
  fillPage(M.params) { _ in 0 }
  mmio_write64(M.params + UInt64(RecParamsLayout.flags), 1)
  mmio_write64(M.params + UInt64(RecParamsLayout.gprs), M.unprotected)
  mmio_write64(M.params + UInt64(RecParamsLayout.numberOfAux), 2)
  mmio_write64(M.params + UInt64(RecParamsLayout.aux), M.aux)
  mmio_write64(M.params + UInt64(RecParamsLayout.aux) + 8, M.aux + 0x1000)
  ok = ok && rmi(.recCreate, M.rd, M.rec, M.params).x0 == 0
  ok = ok && rmi(.realmActivate, M.rd).x0 == 0
  check(ok, "stress: the shared realm (one REC, code that exits at once) is built")

  mmio_write64(M.counter(0, M.cpus), cpus)
  mmio_write64(M.counter(0, M.go), 1)  // the others may start part 2
  dsb_sy()
  stressWork(cpu: 0, seed: seed)
  let finished = wait(upTo: 600_000_000_000) {
    var all = true
    for cpu in 0..<cpus where mmio_read64(StressMemory.counter(cpu, StressMemory.done)) == 0 { all = false }
    return all
  }
  check(finished, "stress: every CPU finished (no deadlock)")

  var unexpected: UInt64 = 0, entered: UInt64 = 0, busy: UInt64 = 0, created: UInt64 = 0, destroyed: UInt64 = 0
  for cpu in 0..<cpus {
    unexpected += mmio_read64(M.counter(cpu, M.unexpected))
    entered += mmio_read64(M.counter(cpu, M.entered))
    busy += mmio_read64(M.counter(cpu, M.busy))
    created += mmio_read64(M.counter(cpu, M.created))
    destroyed += mmio_read64(M.counter(cpu, M.destroyed))
  }
  // Granule race: per granule, delegations minus undelegations is its final state.
  var racesHold = true
  var raceSuccesses: UInt64 = 0
  for g in 0..<M.racedCount {
    var delegations: UInt64 = 0, undelegations: UInt64 = 0
    for cpu in 0..<cpus {
      delegations += mmio_read64(M.counter(cpu, M.delegated(g)))
      undelegations += mmio_read64(M.counter(cpu, M.undelegated(g)))
    }
    raceSuccesses += delegations + undelegations
    let pa = M.raced + g * 0x1000
    let isDelegated = testhost_probe_read(pa).esr != 0
    if delegations &- undelegations != (isDelegated ? 1 : 0) { racesHold = false }
    if isDelegated && rmi(.granuleUndelegate, pa).x0 != 0 { racesHold = false }
  }
  check(racesHold, "stress: per raced granule, delegations - undelegations = its final state")
  // RTT churn: tables created minus destroyed are the tables left.
  var tablesLeft: UInt64 = 0
  for slot in 1...M.churnSlots {
    let r = rmi(.rttReadEntry, M.rd, slot << 21, 3)
    if r.x0 == 0 && r.x1 == 3 {
      tablesLeft += 1
      _ = rmi(.rttDestroy, M.rd, slot << 21, 3)
    }
  }
  expectValue(created &- destroyed, tablesLeft, "stress: RTTs created - destroyed = tables left")
  expectValue(unexpected, 0, "stress: every collision got the spec's error (INPUT / REC / RTT level 2)")
  check(entered > 0 && entered + busy == M.rounds * ((cpus + 1) / 2),
        "stress: every REC_ENTER either ran the REC or found it running elsewhere (ERROR_REC)")
  console.write("STRESS ")
  console.decimal(cpus)
  console.write(" CPUs: ")
  console.decimal(raceSuccesses)
  console.write(" raced (un)delegations won, ")
  console.decimal(entered)
  console.write(" REC entries, ")
  console.decimal(busy)
  console.write(" ERROR_REC collisions, ")
  console.decimal(created)
  console.write(" RTTs created / ")
  console.decimal(destroyed)
  console.write(" destroyed\n")

  // Teardown: every granule back to NS.
  var clean = rmi(.recDestroy, M.rec).x0 == 0
  clean = clean && rmi(.dataDestroy, M.rd, 0).x0 == 0
  clean = clean && rmi(.rttDestroy, M.rd, 0, 3).x0 == 0 && rmi(.rttDestroy, M.rd, 0, 2).x0 == 0
  clean = clean && rmi(.realmDestroy, M.rd).x0 == 0
  for i in 0..<8 { clean = clean && rmi(.granuleUndelegate, realmGranules[i]).x0 == 0 }
  for cpu in 0..<cpus { for k in 0..<UInt64(4) { clean = clean && rmi(.granuleUndelegate, M.table(cpu, k)).x0 == 0 } }
  check(clean, "stress: the realm tears down and every granule undelegates")
}

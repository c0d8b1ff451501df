// Guest-instruction benchmarks. Run under QEMU -icount shift=0, where the counter
// advances by one tick per instruction executed, so a tick delta is an instruction
// count (including EL3's and the RMM's instructions, which is the point).

import AArch64Shim
import RMMABI
import RMMCore

func report(_ name: StaticString, _ ticks: UInt64, _ iterations: UInt64) {
  console.write("BENCH ")
  console.write(name)
  console.write(" ")
  console.decimal(ticks / iterations)
  console.newline()
}

/// Instructions spent in `call`, measured around it alone.
@inline(__always) func measure(_ total: inout UInt64, _ call: () -> UInt64) -> UInt64 {
  let start = counter()
  let status = call()
  total &+= counter() &- start
  return status
}

/// Which benchmarks run (run configuration argument 0; 0 = all), so that
/// scripts/profile can trace one path alone.
enum BenchmarkSelection {
  static let rmiVersion: UInt64 = 1 << 0
  static let delegation: UInt64 = 1 << 1
  static let realmCommands: UInt64 = 1 << 2
  static let realmExecution: UInt64 = 1 << 3
  /// Realm execution without the attestation token (17 M instructions of signing).
  static let skipAttestation: UInt64 = 1 << 4
  static var chosen: UInt64 {
    let selection = RunConfiguration.argument(0)
    return selection == 0 ? rmiVersion | delegation | realmCommands | realmExecution : selection
  }
  /// Iterations of each measured loop (run configuration argument 1; 0 = the default):
  /// scripts/profile runs two counts and takes the difference, which leaves out boot
  /// and set-up.
  static func iterations(_ standard: UInt64) -> UInt64 {
    let chosen = RunConfiguration.argument(1)
    return chosen == 0 ? standard : chosen
  }
}

func runBenchmarks() {
  let iterations = BenchmarkSelection.iterations(1000)
  var failures: UInt64 = 0
  let chosen = BenchmarkSelection.chosen
  _ = rmi(.version, rmiABIVersion.encoded)
  var start = counter()
  if chosen & BenchmarkSelection.rmiVersion != 0 {
    for _ in 0..<iterations { _ = rmi(.version, rmiABIVersion.encoded) }
    report("rmi_version", counter() &- start, iterations)
  }

  if chosen & BenchmarkSelection.delegation != 0 {
    start = counter()
    for i in 0..<iterations {
      let pa = Board.testGranules + 0x20_0000 + i * 0x1000
      failures |= rmi(.granuleDelegate, pa).x0
      failures |= rmi(.granuleUndelegate, pa).x0
    }
    report("granule_delegate_undelegate", counter() &- start, iterations)
  }

  // Realm lifecycle (the RMM is the only difference to the TRP; TRP answers SMC_UNKNOWN).
  if rmi(.features, 0).x0 == 0 {
    if chosen & BenchmarkSelection.realmCommands != 0 { failures |= benchmarkRealmCommands() }
    if chosen & BenchmarkSelection.realmExecution != 0 { failures |= benchmarkRealmExecution() }
    // The audit interface is this RMM's own (TRP answers SMC_UNKNOWN); not in a profile run.
    if RunConfiguration.argument(0) == 0 { failures |= benchmarkAudit() }
  }
  console.write("BENCH failures ")
  console.decimal(failures == 0 ? 0 : 1)
  console.newline()
}

func benchmarkRealmCommands() -> UInt64 {
  typealias M = LifecycleMemory
  var failures: UInt64 = 0
  let rd = M.rd
  failures |= rmi(.granuleDelegate, rd).x0 | rmi(.granuleDelegate, M.rttBase).x0 | rmi(.granuleDelegate, M.rttBase + 0x1000).x0
  writeRealmParams(rttBase: M.rttBase, vmid: 9)
  let rounds = BenchmarkSelection.iterations(100)
  var createDestroy: UInt64 = 0
  for _ in 0..<rounds {
    failures |= measure(&createDestroy) { rmi(.realmCreate, rd, M.realmParams).x0 }
    failures |= measure(&createDestroy) { rmi(.realmDestroy, rd).x0 }
  }
  report("realm_create_destroy", createDestroy, rounds)

  failures |= rmi(.realmCreate, rd, M.realmParams).x0
  let t = M.tables
  failures |= rmi(.granuleDelegate, t).x0 | rmi(.granuleDelegate, t + 0x1000).x0
  var rttCreate: UInt64 = 0
  var rttDestroy: UInt64 = 0
  failures |= rmi(.rttCreate, rd, t, 0, 2).x0
  for _ in 0..<rounds {
    failures |= measure(&rttCreate) { rmi(.rttCreate, rd, t + 0x1000, 0, 3).x0 }
    failures |= measure(&rttDestroy) { rmi(.rttDestroy, rd, 0, 3).x0 }
  }
  report("rtt_create_level3", rttCreate, rounds)
  report("rtt_destroy_level3", rttDestroy, rounds)

  failures |= rmi(.rttCreate, rd, t + 0x1000, 0, 3).x0
  let d = M.data
  failures |= rmi(.granuleDelegate, d).x0
  fillPage(M.source) { i in UInt64(i) &* 0x9E37_79B9 }
  var measured: UInt64 = 0
  var unmeasured: UInt64 = 0
  var destroy: UInt64 = 0
  for _ in 0..<rounds {
    failures |= measure(&measured) { rmi(.dataCreate, rd, d, 0x1000, M.source, 1).x0 }
    failures |= measure(&destroy) { rmi(.dataDestroy, rd, 0x1000).x0 }
    failures |= measure(&unmeasured) { rmi(.dataCreate, rd, d, 0x1000, M.source, 0).x0 }
    failures |= measure(&destroy) { rmi(.dataDestroy, rd, 0x1000).x0 }
  }
  report("data_create_measured_4k", measured, rounds)
  report("data_create_unmeasured_4k", unmeasured, rounds)
  report("data_destroy", destroy, 2 * rounds)
  report("sha256_4k_in_rmm", measured &- unmeasured, rounds)

  // Leave nothing behind.
  failures |= rmi(.rttDestroy, rd, 0, 3).x0 | rmi(.rttDestroy, rd, 0, 2).x0 | rmi(.realmDestroy, rd).x0
  let granules: InlineArray<6, UInt64> = [rd, M.rttBase, M.rttBase + 0x1000, t, t + 0x1000, d]
  for i in granules.indices { failures |= rmi(.granuleUndelegate, granules[i]).x0 }
  return failures
}

func benchmarkRealmExecution() -> UInt64 {
  var runner = RealmRunner()
  runner.benchmark = true
  var failures: UInt64 = runner.build() ? 0 : 1
  failures |= rmi(.realmActivate, RealmRunMemory.rd).x0
  fillPage(RealmRunMemory.run) { _ in 0 }
  if !runner.run(RealmRunMemory.recs) { failures |= 1 }
  report("rec_enter_host_call_round_trip", runner.hostCallTicks, max(runner.hostCallRoundTrips, 1))
  report("rsi_version_in_realm", runner.rsiVersionInRealm, 1)
  if BenchmarkSelection.chosen & BenchmarkSelection.skipAttestation == 0 {
    report("attestation_token_init_continue", runner.attestationInRealm, 1)
    if runner.attestationInRealm == 0 { failures |= 1 }
  }
  if !runner.tearDown() { failures |= 1 }
  // The same round trip in realms with SVE (its Z, P and FFR saved and loaded through
  // the gate at every REC_ENTER) and with a PMU (its counters switched).
  if RunConfiguration.argument(0) == 0 {
    failures |= benchmarkFeatureRoundTrip(sve: 3, pmu: nil)
    failures |= benchmarkFeatureRoundTrip(sve: 15, pmu: nil)
    failures |= benchmarkFeatureRoundTrip(sve: nil, pmu: RMIFeatureRegister0(rawValue: rmi(.features, 0).x1).pmuCounters)
  }
  return failures
}

func benchmarkFeatureRoundTrip(sve: UInt64?, pmu: UInt64?) -> UInt64 {
  var runner = RealmRunner()
  runner.benchmark = true
  runner.sveLength = sve
  runner.pmuCounters = pmu
  var failures: UInt64 = runner.build() ? 0 : 1
  failures |= rmi(.realmActivate, RealmRunMemory.rd).x0
  fillPage(RealmRunMemory.run) { _ in 0 }
  if !runner.run(RealmRunMemory.recs) { failures |= 1 }
  let perTrip = runner.hostCallTicks
  let trips = max(runner.hostCallRoundTrips, 1)
  switch (sve, pmu) {
  case (3?, _): report("rec_enter_host_call_round_trip_sve512", perTrip, trips)
  case (15?, _): report("rec_enter_host_call_round_trip_sve2048", perTrip, trips)
  default: report("rec_enter_host_call_round_trip_pmu", perTrip, trips)
  }
  if !runner.tearDown() { failures |= 1 }
  return failures
}

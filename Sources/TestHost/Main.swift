// Entry of the NS test payload. What it does is chosen by the run configuration
// page QEMU's loader writes before reset (see RunConfiguration); without one it
// runs the integration tests.

import AArch64Shim
import RMMABI
import RMMCore

/// A page at Board.runConfigurationPA: magic, mode, then mode arguments.
enum RunConfiguration {
  static let magic: UInt64 = 0x5354_534F_484D_4D52  // "RMMHOSTS"
  enum Mode: UInt64 {
    case tests = 0
    case benchmark = 1
    case demo = 2
    /// Against an RMM built with RMM_TEST_HOOKS: an RMM crash is contained.
    case crashContainment = 3
    /// Against an RMM built with RMM_TEST_HOOKS: forbidden accesses are refused.
    case forbiddenAccesses = 4
    /// RMI fuzzing (Fuzzer.swift): arguments seed, calls per CPU, CPUs.
    case fuzz = 5
    /// Boot a Linux kernel as a realm (LinuxRealm.swift): arguments kernel PA, size,
    /// initramfs PA, size, flags, RAM bytes; the command line at +0x800.
    case linux = 6
  }
  static var mode: Mode {
    guard mmio_read64(Board.runConfigurationPA) == magic else { return .tests }
    return Mode(rawValue: mmio_read64(Board.runConfigurationPA + 8)) ?? .tests
  }
  static func argument(_ index: UInt64) -> UInt64 { mmio_read64(Board.runConfigurationPA + 16 + 8 * index) }
}

@_cdecl("testhost_main")
public func testhostMain() {
  console.write("\nTESTHOST: NS-EL2 test payload (Embedded Swift)\n")
  switch RunConfiguration.mode {
  case .tests:
    AuditCollector.enabled = true
    runFoundationTests()
    runRealmLifecycleTests()
    runConcurrencyTests()
    runRealmExecutionTests()
    runFeatureRealmTests()
    runLPA2Tests()
    runCheckpointTests()
    AuditCollector.printCheckpoint(nonce: 0x5357_4946_5452_4D4D)
    AuditCollector.printStatistics()
    console.write("TESTHOST: ")
    console.decimal(passed)
    console.write(" passed, ")
    console.decimal(failed)
    console.write(" failed\n")
  case .benchmark:
    runBenchmarks()
  case .crashContainment:
    runCrashContainmentTests()
    console.write("TESTHOST: ")
    console.decimal(passed)
    console.write(" passed, ")
    console.decimal(failed)
    console.write(" failed\n")
  case .forbiddenAccesses:
    runForbiddenAccessTests()
    console.write("TESTHOST: ")
    console.decimal(passed)
    console.write(" passed, ")
    console.decimal(failed)
    console.write(" failed\n")
  case .fuzz:
    runFuzzer(seed: RunConfiguration.argument(0), calls: max(RunConfiguration.argument(1), 1),
              cpus: min(max(RunConfiguration.argument(2), 1), FuzzShared.maxCPUs))
    console.write("TESTHOST: ")
    console.decimal(passed)
    console.write(" passed, ")
    console.decimal(failed)
    console.write(" failed\n")
  case .linux:
    runLinuxRealm()
  case .demo:
    runFoundationTests()
    runRealmLifecycleTests()
    runRealmExecutionTests()
    console.write("TESTHOST: ")
    console.decimal(passed)
    console.write(" passed, ")
    console.decimal(failed)
    console.write(" failed\n")
  }
}

@_cdecl("testhost_exception")
public func testhostException(_ vector: UInt64, _ esr: UInt64, _ elr: UInt64, _ far: UInt64) {
  console.write("TESTHOST: UNEXPECTED EXCEPTION vector ")
  console.decimal(vector)
  console.write(" ESR ")
  console.hex(esr)
  console.write(" ELR ")
  console.hex(elr)
  console.write(" FAR ")
  console.hex(far)
  console.write("\nTESTHOST: 0 passed, 1 failed\n")
  _ = smc(PSCIFunction.systemOff.rawValue)
}

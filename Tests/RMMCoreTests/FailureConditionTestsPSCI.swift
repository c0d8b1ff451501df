// PSCI calls a realm makes (spec chapter B6) on the host: failure conditions answered by
// the RMM without a REC exit, and the exits and state changes of the successful calls
// (docs/spec-notes/psci-failure-conditions.md).

import XCTest
import RMMABI
@testable import RMMCore

final class FailureConditionPSCITests: XCTestCase {
  func psciExit(_ n: RunFixture) -> [UInt64] {
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.psci.rawValue), "RMI_EXIT_PSCI")
    return (0..<4).map { n.exitField(RecRunLayout.exitGPRs + 8 * $0) }
  }

  // ---- PSCI_VERSION ----

  func testPsciVersion_success() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([PSCIFunction.version.rawValue], unchanged: true)[0], 0x1_0001, "1.1")
  }

  // ---- PSCI_FEATURES ----

  func testPsciFeatures_func_ok() {
    let n = RunFixture()
    let supported: [UInt64] = [
      PSCIFunction.version.rawValue, PSCIFunction.cpuSuspend.rawValue, PSCIFunction.cpuSuspend.smc64,
      PSCIFunction.cpuOff.rawValue, PSCIFunction.cpuOn.rawValue, PSCIFunction.cpuOn.smc64,
      PSCIFunction.affinityInfo.rawValue, PSCIFunction.affinityInfo.smc64, PSCIFunction.systemOff.rawValue,
      PSCIFunction.systemReset.rawValue, PSCIFunction.features.rawValue,
    ]
    for fid in supported {
      XCTAssertEqual(n.realmCall([PSCIFunction.features.rawValue, fid], unchanged: true)[0], psci(.success), String(fid, radix: 16))
    }
  }

  func testPsciFeatures_func_not_ok() {
    let n = RunFixture()
    // MIGRATE, MIGRATE_INFO_TYPE, SYSTEM_RESET2, an SMC64 form that does not exist, RSI_VERSION.
    for fid: UInt64 in [0x8400_0005, 0x8400_0006, 0x8400_0012, 0xC400_0000, 0xC400_0008, RSICommand.version.rawValue] {
      XCTAssertEqual(n.realmCall([PSCIFunction.features.rawValue, fid], unchanged: true)[0], psci(.notSupported),
                     String(fid, radix: 16))
    }
  }

  func testPsci_unlisted_function_not_supported() {
    let n = RunFixture()
    for fid: UInt64 in [0x8400_0005, 0xC400_0005, 0x8400_000E] {
      XCTAssertEqual(n.realmCall([fid, 1, 2, 3], unchanged: true)[0], psci(.notSupported), String(fid, radix: 16))
    }
  }

  // ---- PSCI_CPU_SUSPEND ----

  func testPsciCpuSuspend_success() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuSuspend.smc64, 2, 0x4000, 0x55])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(psciExit(n), [PSCIFunction.cpuSuspend.smc64, 2, 0x4000, 0x55], "FID and arguments")
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.psciTarget), 0, "no PSCI_COMPLETE needed")
    n.script(.irq)
    XCTAssertEqual(n.enter(), success, "the REC can be entered again at once")
    XCTAssertEqual(n.gpr(n.rec0, 0), psci(.success), "returns SUCCESS to the caller")
    XCTAssertEqual(n.pc(n.rec0), 0x1004, "past the SMC")
  }

  // ---- PSCI_CPU_OFF ----

  func testPsciCpuOff_success() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOff.rawValue, 0x11, 0x22, 0x33])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(psciExit(n), [PSCIFunction.cpuOff.rawValue, 0, 0, 0], "FID only")
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.flags) & RECLayout.flagRunnable, 0, "NOT_RUNNABLE")
    n.f.h.expectFailure(status(.errorREC), "REC_ENTER of the switched-off REC") { n.env.call(.recEnter, n.rec0, n.run) }
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, errorInput, "nothing to complete")
  }

  // ---- PSCI_CPU_ON ----

  func testPsciCpuOn_entry() {
    let n = RunFixture()
    let before = n.f.h.env.memory.page(n.rec1)
    XCTAssertEqual(n.realmCall([PSCIFunction.cpuOn.smc64, 1, (1 << 39) + 0x1000, 0], unchanged: true)[0], psci(.invalidAddress),
                   "entry point unprotected")
    XCTAssertEqual(n.realmCall([PSCIFunction.cpuOn.smc64, 1, 1 << 40, 0], unchanged: true)[0], psci(.invalidAddress),
                   "entry point beyond the IPA space")
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.psciTarget), 0, "nothing pending")
    XCTAssertEqual(n.f.h.env.memory.page(n.rec1), before, "target untouched")
  }

  func testPsciCpuOn_mpidr() {
    let n = RunFixture()
    for target: UInt64 in [2, 0x100, 0x10, 1 << 32] {
      XCTAssertEqual(n.realmCall([PSCIFunction.cpuOn.smc64, target, 0x3000, 0], unchanged: true)[0], psci(.invalidParameters),
                     "MPIDR \(String(target, radix: 16))")
    }
    XCTAssertEqual(n.realmCall([PSCIFunction.cpuOn.rawValue, 7, 0x3000, 0], unchanged: true)[0], psci(.invalidParameters), "SMC32")
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.psciTarget), 0, "nothing pending")
  }

  func testPsciCpuOn_runnable() {
    // Another REC that is RUNNABLE: ALREADY_ON (through the host's PSCI_COMPLETE).
    let n = RunFixture()
    n.f.h.poke(n.rec1, RECLayout.flags, RECLayout.flagRunnable)
    let before = n.f.h.env.memory.page(n.rec1)
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.smc64, 1, 0x3000, 0])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), psci(.alreadyOn))
    XCTAssertEqual(n.f.h.env.memory.page(n.rec1), before, "target untouched")
  }

  /// runnable, the caller itself: it is running, so ALREADY_ON, answered by the RMM
  /// (no REC exit: the host could not complete it, PSCI_COMPLETE `alias`).
  func testPsciCpuOn_runnable_caller_itself() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([PSCIFunction.cpuOn.smc64, 0, 0x3000, 0], unchanged: true)[0], psci(.alreadyOn))
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.psciTarget), 0, "nothing pending")
  }

  func testPsciCpuOn_success() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.rawValue, 1, 0x3000, 0x1_0000_0042])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(psciExit(n)[0...1], [PSCIFunction.cpuOn.rawValue, 1], "FID, target MPIDR")
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    XCTAssertEqual(n.pc(n.rec1), 0x3000, "entry: target pc")
    XCTAssertEqual(n.f.h.peek(n.rec1, RECLayout.flags) & RECLayout.flagRunnable, RECLayout.flagRunnable, "runnable")
    n.script(.irq)
    XCTAssertEqual(n.enter(n.rec1), success, "the target can be entered")
  }

  // ---- PSCI_AFFINITY_INFO ----

  func testPsciAffinityInfo_target_bound() {
    let n = RunFixture()
    for level: UInt64 in [1, 2, 3] {
      XCTAssertEqual(n.realmCall([PSCIFunction.affinityInfo.smc64, 1, level], unchanged: true)[0], psci(.invalidParameters),
                     "lowest level \(level)")
    }
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.psciTarget), 0, "nothing pending")
  }

  func testPsciAffinityInfo_target_match() {
    let n = RunFixture()
    for target: UInt64 in [2, 0x200, 0xF] {
      XCTAssertEqual(n.realmCall([PSCIFunction.affinityInfo.smc64, target, 0], unchanged: true)[0], psci(.invalidParameters),
                     "MPIDR \(String(target, radix: 16))")
    }
  }

  func testPsciAffinityInfo_success() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.affinityInfo.rawValue, 1, 0])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(psciExit(n)[0...1], [PSCIFunction.affinityInfo.rawValue, 1])
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), 1, "not_runnable: PSCI_OFF")
    n.f.h.poke(n.rec1, RECLayout.flags, RECLayout.flagRunnable)
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.affinityInfo.smc64, 1, 0])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), psci(.success), "runnable: PSCI_SUCCESS (ON)")
  }

  // ---- PSCI_SYSTEM_OFF / PSCI_SYSTEM_RESET ----

  func testPsciSystemOff_success() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.systemOff.rawValue, 5, 6, 7])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(psciExit(n), [PSCIFunction.systemOff.rawValue, 0, 0, 0])
    XCTAssertEqual(n.f.h.realm().state, .systemOff, "realm.state == REALM_SYSTEM_OFF")
    n.f.h.expectFailure(status(.errorRealm, 1), "REC 0") { n.env.call(.recEnter, n.rec0, n.run) }
    XCTAssertEqual(n.env.call(.realmActivate, n.f.h.rd).x0, status(.errorRealm, 0))
  }

  func testPsciSystemReset_success() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.systemReset.rawValue])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(psciExit(n), [PSCIFunction.systemReset.rawValue, 0, 0, 0])
    XCTAssertEqual(n.f.h.realm().state, .systemOff, "realm.state == REALM_SYSTEM_OFF")
    n.f.h.expectFailure(status(.errorRealm, 1), "REC 1") { n.env.call(.recEnter, n.rec1, n.run) }
  }

  // ---- the HVC conduit ----

  func testPsci_hvc_conduit_is_undefined() {
    let n = RunFixture()
    n.script(.sync, esr: 0x16 << 26 | 1 << 25, registers: [PSCIFunction.version.rawValue])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    let esrEL1 = n.f.h.peek(n.rec0, RECLayout.el1 + 8 * RECSystemRegisters.esrEL1)
    XCTAssertEqual(esrEL1 >> 26, 0, "Unknown exception taken to the realm")
    XCTAssertEqual(n.gpr(n.rec0, 0), PSCIFunction.version.rawValue, "no PSCI result")
  }
}

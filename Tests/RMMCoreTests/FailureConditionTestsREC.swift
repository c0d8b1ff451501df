// Failure and success conditions of RMI_REC_ENTER and RMI_PSCI_COMPLETE that no other
// test covered (docs/spec-notes/rmi-failure-conditions.md).

import XCTest
import RMMABI
@testable import RMMCore

final class FailureConditionRECEnterTests: XCTestCase {
  func testRecEnter_run_bound() {
    let n = RunFixture()
    n.f.h.expectFailure(errorInput, "run outside DRAM") { n.env.call(.recEnter, n.rec0, BadPA.notDelegable) }
    n.f.h.expectFailure(errorInput, "run >= 2^48") { n.env.call(.recEnter, n.rec0, BadPA.above48Bits) }
  }

  func testRecEnter_run_pas() {
    let n = RunFixture()
    n.f.h.expectFailure(errorInput, "run is the RD") { n.env.call(.recEnter, n.rec0, n.f.h.rd) }
    // A4.2.2: a GPF on the RMM's access to `enter` is ERROR_INPUT as well.
    n.env.memory.faulting = [n.run]
    n.f.h.expectFailure(errorInput, "run read takes a GPF") { n.env.call(.recEnter, n.rec0, n.run) }
  }

  func testRecEnter_rec_align() {
    let n = RunFixture()
    n.f.h.expectFailure(errorInput, "rec + 8") { n.env.call(.recEnter, BadPA.unaligned(n.rec0), n.run) }
  }

  func testRecEnter_rec_bound() {
    let n = RunFixture()
    n.f.h.expectFailure(errorInput, "rec outside DRAM") { n.env.call(.recEnter, BadPA.notDelegable, n.run) }
  }

  func testRecEnter_rec_gran_state() {
    let n = RunFixture()
    n.f.h.expectFailure(errorInput, "rec is the RD") { n.env.call(.recEnter, n.f.h.rd, n.run) }
    let delegated = n.f.h.allocateDelegatedCopy()
    n.f.h.expectFailure(errorInput, "rec is DELEGATED") { n.env.call(.recEnter, delegated, n.run) }
  }

  func testRecEnter_realm_new() {
    let n = RunFixture(activate: false)
    n.f.h.expectFailure(status(.errorRealm, 0), "REALM_NEW") { n.env.call(.recEnter, n.rec0, n.run) }
  }

  func testRecEnter_system_off() {
    let n = RunFixture()
    n.f.h.poke(n.f.h.rd, RDLayout.state, UInt64(RealmState.systemOff.rawValue))
    n.f.h.expectFailure(status(.errorRealm, 1), "REALM_SYSTEM_OFF") { n.env.call(.recEnter, n.rec0, n.run) }
  }

  func testRecEnter_rec_state() {
    let n = RunFixture()
    n.f.h.markRunning(n.rec0)
    n.f.h.expectFailure(status(.errorREC), "REC_RUNNING") { n.env.call(.recEnter, n.rec0, n.run) }
  }

  func testRecEnter_rec_runnable() {
    let n = RunFixture()
    n.f.h.expectFailure(status(.errorREC), "NOT_RUNNABLE") { n.env.call(.recEnter, n.rec1, n.run) }
  }

  func testRecEnter_rec_mmio() {
    let n = RunFixture()
    n.withEnterFlags(RecRunLayout.flagEmulatedMMIO) {
      n.f.h.expectFailure(status(.errorREC), "EMUL_MMIO, first entry") { n.env.call(.recEnter, n.rec0, n.run) }
    }
    // An emulatable abort, then an entry that re-executes it (no EMUL_MMIO) and an IRQ
    // exit: emulatable_abort is NOT_EMULATABLE_ABORT again, EMUL_MMIO is refused.
    let ipa: UInt64 = (1 << 39) + 0x1000
    n.script(.sync, esr: 0x24 << 26 | 1 << 25 | 1 << 24 | 2 << 22 | 7 << 16 | 0x07, far: 0x1000, hpfar: (ipa >> 12) << 4)
    XCTAssertEqual(n.enter(), success)
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    n.withEnterFlags(RecRunLayout.flagEmulatedMMIO) {
      n.f.h.expectFailure(status(.errorREC), "EMUL_MMIO after an IRQ exit") { n.env.call(.recEnter, n.rec0, n.run) }
    }
  }

  func testRecEnter_rec_gicv3() {
    let n = RunFixture()
    n.setEnter(RecRunLayout.enterGICv3HCR, 1 << 0)  // En: the RMM's
    n.f.h.expectFailure(status(.errorREC), "ICH_HCR.En") { n.env.call(.recEnter, n.rec0, n.run) }
    n.setEnter(RecRunLayout.enterGICv3HCR, 0)
    n.setEnter(RecRunLayout.enterGICv3LRs + 8 * 3, 1 << 61)
    n.f.h.expectFailure(status(.errorREC), "HW list register") { n.env.call(.recEnter, n.rec0, n.run) }
    n.setEnter(RecRunLayout.enterGICv3LRs + 8 * 3, 0)
    n.setEnter(RecRunLayout.enterGICv3LRs + 8 * 15, 1)
    n.f.h.expectFailure(status(.errorREC), "LR 15 beyond the 4 implemented") { n.env.call(.recEnter, n.rec0, n.run) }
  }

  func testRecEnter_rec_psci() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.affinityInfo.smc64, 1, 0])
    XCTAssertEqual(n.enter(), success)
    n.f.h.expectFailure(status(.errorREC), "AFFINITY_INFO pending") { n.env.call(.recEnter, n.rec0, n.run) }
  }

  func testRecEnter_success_inject_sea() {
    let n = RunFixture()
    let ipa: UInt64 = (1 << 39) + 0x3000
    // ISV = 0 at an unprotected IPA: a non-emulatable abort.
    n.script(.sync, esr: 0x24 << 26 | 1 << 25 | 0x07, far: 0xFFFF_0000_0000_3010, hpfar: (ipa >> 12) << 4)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue))
    let pc = n.pc(n.rec0)
    n.withEnterFlags(RecRunLayout.flagInjectSEA) { XCTAssertEqual(n.enter(), success) }
    let el1 = n.env.memory.page(n.rec0)
    let esr = el1[(RECLayout.el1 + 8 * RECSystemRegisters.esrEL1) / 8]
    XCTAssertEqual(esr >> 26, 0x25, "SEA taken to the realm: data abort, same EL")
    XCTAssertEqual(esr & 0x3F, 0x10, "synchronous external abort")
    XCTAssertEqual(el1[(RECLayout.el1 + 8 * RECSystemRegisters.elrEL1) / 8], pc, "at the faulting instruction")
  }

  func testRecEnter_success_host_call_exit_fields() {
    let n = RunFixture()
    let data = n.f.h.allocateDelegatedCopy()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0, success)
    var page = [UInt64](repeating: 0, count: 512)
    page[0x100 / 8] = 0x1_2345  // imm is 16 bits
    for i in 0..<31 { page[(0x108 + 8 * i) / 8] = 0xA0 + UInt64(i) }
    n.env.memory.setPage(data, page)
    n.script(.sync, esr: RunFixture.smc, far: 0x55, hpfar: 0x66, registers: [RSICommand.hostCall.rawValue, 0x2100, 0xBAD])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.hostCall.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitImm), 0x2345, "imm")
    XCTAssertEqual((0..<31).map { n.exitField(RecRunLayout.exitGPRs + 8 * $0) }, (0..<31).map { 0xA0 + UInt64($0) }, "gprs[0..30]")
    XCTAssertEqual([n.exitField(RecRunLayout.exitESR), n.exitField(RecRunLayout.exitFAR), n.exitField(RecRunLayout.exitHPFAR),
                    n.exitField(RecRunLayout.exitRIPASBase), n.exitField(RecRunLayout.exitRIPASTop),
                    n.exitField(RecRunLayout.exitRIPASValue)], [0, 0, 0, 0, 0, 0], "every other field zero")
  }

  func testRecEnter_success_psci_exit_fields() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuSuspend.smc64, 0x1_0000_0001, 0x4000, 0x77, 0x99])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.psci.rawValue))
    XCTAssertEqual((0..<5).map { n.exitField(RecRunLayout.exitGPRs + 8 * $0) },
                   [PSCIFunction.cpuSuspend.smc64, 0x1_0000_0001, 0x4000, 0x77, 0], "FID, three arguments, nothing more")
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0)
  }

  /// A4.2.2 / A4.3.3: a fault on the RMM's write of `exit` (the run page delegated after
  /// `enter` was read) is RMI_ERROR_INPUT; the REC ran, and is not left REC_RUNNING.
  func testRecEnter_run_pas_exit_write_fault() {
    let n = RunFixture()
    n.env.memory.writeFaulting = [n.run]
    let exitBefore = Array(n.env.memory.page(n.run)[(RecRunLayout.exit / 8)...])
    n.script(.irq)
    XCTAssertEqual(n.enter(), errorInput, "GPF writing exit")
    XCTAssertEqual(n.env.cpu.state.entries.count, 1, "enter was read and the REC entered")
    XCTAssertTrue(n.env.memory.accesses.contains { $0.pa == n.run && $0.intent.purpose == .recRunExit && $0.allowed },
                  "the exit write was attempted")
    XCTAssertEqual(Array(n.env.memory.page(n.run)[(RecRunLayout.exit / 8)...]), exitBefore, "exit not written")
    XCTAssertEqual(n.env.granules.storage.peek(n.env.granules.index(of: n.rec0)!).refcount, 0, "not REC_RUNNING")
    XCTAssertFalse(n.env.granules.storage.anyLocked)
    n.env.memory.writeFaulting = []
    n.script(.irq)
    XCTAssertEqual(n.enter(), success, "the REC can be entered again")
  }

  /// exit.gicv3_* and exit.cnt* (B4.4.17, A4.3.1): the REC's GIC and timer state as the
  /// CPU's save reported it, whatever the exit, and not the host's `enter` values.
  func testRecEnter_success_gic_and_timer_exit_fields() {
    let n = RunFixture()
    var saved = FakeSavedState()
    saved.gicHCR = 0x0800_4006
    saved.gicLRs = InlineArray { i in 0x4000_0000_0000_0000 | 0xA0 + UInt64(i) }
    saved.gicMISR = 0x5
    saved.gicVMCR = 0x00F0_0003
    saved.cntvCTL = 0x5
    saved.cntvCVAL = 0x1234_5678_9ABC
    saved.cntpCTL = 0x1
    saved.cntpCVAL = 0xFEDC_BA98_7654
    n.env.cpu.state.saved = saved
    n.setEnter(RecRunLayout.enterGICv3HCR, 1 << 1)         // UIE: valid, and not what save reports
    n.setEnter(RecRunLayout.enterGICv3LRs, 0x5000_0000_0000_0042)
    func check(_ what: String) {
      XCTAssertEqual(n.exitField(RecRunLayout.exitGICv3HCR), saved.gicHCR, "\(what): gicv3_hcr")
      XCTAssertEqual((0..<16).map { n.exitField(RecRunLayout.exitGICv3LRs + 8 * $0) },
                     (0..<16).map { 0x4000_0000_0000_0000 | 0xA0 + UInt64($0) }, "\(what): gicv3_lrs")
      XCTAssertEqual(n.exitField(RecRunLayout.exitGICv3MISR), saved.gicMISR, "\(what): gicv3_misr")
      XCTAssertEqual(n.exitField(RecRunLayout.exitGICv3VMCR), saved.gicVMCR, "\(what): gicv3_vmcr")
      XCTAssertEqual([n.exitField(RecRunLayout.exitCNTVCTL), n.exitField(RecRunLayout.exitCNTVCVAL),
                      n.exitField(RecRunLayout.exitCNTPCTL), n.exitField(RecRunLayout.exitCNTPCVAL)],
                     [saved.cntvCTL, saved.cntvCVAL, saved.cntpCTL, saved.cntpCVAL], "\(what): cntv_ctl/cval, cntp_ctl/cval")
    }
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue))
    check("IRQ exit")
    // A host call (an exit the RMM builds from the realm's registers).
    let data = n.f.h.allocateDelegatedCopy()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0, success)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 0x2000])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.hostCall.rawValue))
    check("host call exit")
    // An interrupt for the host while the RMM served an RSI call inside REC_ENTER (the
    // exit is rebuilt as IRQ; the GIC and timer state still come from save).
    n.script(.irq)
    XCTAssertEqual(n.enter(), success, "host call completed")
    n.env.cpu.state.interruptPending = true
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.version.rawValue, 0x1_0000])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue))
    check("IRQ after an RSI call")
  }
}

final class FailureConditionPSCICompleteTests: XCTestCase {
  /// RunFixture plus REC 2 (MPIDR 2, not runnable), ACTIVE, with REC 0's CPU_ON or
  /// AFFINITY_INFO for `target` pending.
  func fixture(_ function: PSCIFunction = .cpuOn, target: UInt64 = 1) -> (RunFixture, UInt64) {
    var n = RunFixture(activate: false)
    let rec2 = n.f.h.allocateDelegated()
    n.f.h.writeRECParams(flags: 0, mpidr: 2, aux: [n.f.h.allocateDelegated(), n.f.h.allocateDelegated()])
    precondition(n.env.call(.recCreate, n.f.h.rd, rec2, n.f.h.recParamsPA).x0 == success)
    precondition(n.env.call(.realmActivate, n.f.h.rd).x0 == success)
    let args: [UInt64] = function == .cpuOn ? [function.smc64, target, 0x3000, 0x99] : [function.smc64, target, 0]
    n.script(.sync, esr: RunFixture.smc, registers: args)
    precondition(n.enter() == success && n.exitField(RecRunLayout.exitReason) == UInt64(RecExitReason.psci.rawValue))
    return (n, rec2)
  }

  func complete(_ n: RunFixture, _ caller: UInt64, _ target: UInt64, _ status: UInt64 = 0) -> RMIResult {
    n.env.call(.psciComplete, caller, target, status)
  }

  func testPsciComplete_alias() {
    let (n, _) = fixture()
    n.f.h.expectFailure(errorInput, "calling == target") { complete(n, n.rec0, n.rec0) }
  }

  func testPsciComplete_calling_align() {
    let (n, _) = fixture()
    n.f.h.expectFailure(errorInput, "calling + 8") { complete(n, BadPA.unaligned(n.rec0), n.rec1) }
  }

  func testPsciComplete_calling_bound() {
    let (n, _) = fixture()
    n.f.h.expectFailure(errorInput, "calling outside DRAM") { complete(n, BadPA.notDelegable, n.rec1) }
  }

  func testPsciComplete_calling_state() {
    let (n, _) = fixture()
    n.f.h.expectFailure(errorInput, "calling is the RD") { complete(n, n.f.h.rd, n.rec1) }
  }

  func testPsciComplete_target_align() {
    let (n, _) = fixture()
    n.f.h.expectFailure(errorInput, "target + 8") { complete(n, n.rec0, BadPA.unaligned(n.rec1)) }
  }

  func testPsciComplete_target_bound() {
    let (n, _) = fixture()
    n.f.h.expectFailure(errorInput, "target outside DRAM") { complete(n, n.rec0, BadPA.notDelegable) }
  }

  func testPsciComplete_target_state() {
    let (n, _) = fixture()
    n.f.h.expectFailure(errorInput, "target is the RD") { complete(n, n.rec0, n.f.h.rd) }
    let delegated = n.f.h.allocateDelegatedCopy()
    n.f.h.expectFailure(errorInput, "target is a DELEGATED granule") { complete(n, n.rec0, delegated) }
  }

  func testPsciComplete_pending() {
    let (n, rec2) = fixture()
    n.f.h.expectFailure(errorInput, "REC 2 has nothing pending") { complete(n, rec2, n.rec1) }
  }

  func testPsciComplete_owner() {
    var (n, _) = fixture()
    // Another realm with its own REC 0 and REC 1 (MPIDR 1, the one REC 0 asked for).
    let rd2 = n.f.h.createSecondRealm()
    var foreign: [UInt64] = []
    for mpidr: UInt64 in [0, 1] {
      let rec = n.f.h.allocateDelegated()
      n.f.h.writeRECParams(flags: 0, mpidr: mpidr, aux: [n.f.h.allocateDelegated(), n.f.h.allocateDelegated()])
      XCTAssertEqual(n.env.call(.recCreate, rd2, rec, n.f.h.recParamsPA).x0, success)
      foreign.append(rec)
    }
    n.f.h.expectFailure(errorInput, "target owned by another realm") { complete(n, n.rec0, foreign[1]) }
  }

  func testPsciComplete_target() {
    let (n, rec2) = fixture(target: 1)
    n.f.h.expectFailure(errorInput, "REC 2 is not MPIDR 1") { complete(n, n.rec0, rec2) }
  }

  func testPsciComplete_status() {
    let (n, _) = fixture()
    for s in [psci(.notSupported), psci(.invalidParameters), psci(.alreadyOn), psci(.internalFailure), 1, 0x1_0000_0000] {
      n.f.h.expectFailure(errorInput, "CPU_ON status \(Int64(bitPattern: s))") { complete(n, n.rec0, n.rec1, s) }
    }
    let (a, _) = fixture(.affinityInfo)
    a.f.h.expectFailure(errorInput, "AFFINITY_INFO cannot be DENIED") { complete(a, a.rec0, a.rec1, psci(.denied)) }
  }

  func testPsciComplete_success_on() {
    let (n, _) = fixture()
    for i in 0..<31 { n.f.h.poke(n.rec1, RECLayout.context + 8 * i, 0xDEAD_0000 + UInt64(i)) }  // stale registers
    XCTAssertEqual(complete(n, n.rec0, n.rec1).x0, success)
    XCTAssertEqual(n.gprs(n.rec1, 31), [0x99] + [UInt64](repeating: 0, count: 30), "target x0 = context_id, x1..x30 zero")
    XCTAssertEqual(n.pc(n.rec1), 0x3000, "target pc = entry point")
    XCTAssertEqual(n.f.h.peek(n.rec1, RECLayout.flags) & RECLayout.flagRunnable, RECLayout.flagRunnable, "RUNNABLE")
    XCTAssertEqual(n.gpr(n.rec0, 0), psci(.success), "caller x0 = PSCI_SUCCESS")
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.psciTarget), 0, "psci_pending: NO_PSCI_REQUEST_PENDING")
    n.f.h.expectFailure(errorInput, "nothing pending any more") { complete(n, n.rec0, n.rec1) }
  }

  func testPsciComplete_success_on_already() {
    // REC 1 runnable (after a first CPU_ON), CPU_ON again.
    let (n, _) = fixture()
    XCTAssertEqual(complete(n, n.rec0, n.rec1).x0, success)
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.smc64, 1, 0x5000, 0])
    XCTAssertEqual(n.enter(), success)
    let pc1 = n.pc(n.rec1)
    XCTAssertEqual(complete(n, n.rec0, n.rec1).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), psci(.alreadyOn), "caller x0 = PSCI_ALREADY_ON")
    XCTAssertEqual(n.pc(n.rec1), pc1, "target untouched")
  }

  func testPsciComplete_success_denied() {
    let (n, _) = fixture()
    XCTAssertEqual(complete(n, n.rec0, n.rec1, psci(.denied)).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), psci(.denied), "caller x0 = the host's status")
    XCTAssertEqual(n.f.h.peek(n.rec1, RECLayout.flags) & RECLayout.flagRunnable, 0, "target still not runnable")
  }

  func testPsciComplete_success_affinity() {
    let (n, _) = fixture(.affinityInfo)
    XCTAssertEqual(complete(n, n.rec0, n.rec1).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), 1, "affinity_off: PSCI_OFF")
    // REC 1 made runnable by a CPU_ON, then AFFINITY_INFO again.
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.smc64, 1, 0x3000, 0])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(complete(n, n.rec0, n.rec1).x0, success)
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.affinityInfo.smc64, 1, 0])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(complete(n, n.rec0, n.rec1).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), 0, "affinity_on: PSCI_SUCCESS (ON)")
  }
}

extension RealmHarness {
  /// `allocateDelegated` for call sites that only have a copy of the harness (the
  /// granule is taken from the top of bank 0, which the fixtures never reach).
  func allocateDelegatedCopy() -> UInt64 {
    var i: UInt64 = 2047
    while state(Self.granule(i)) != .undelegated { i -= 1 }
    delegate(Self.granule(i))
    return Self.granule(i)
  }
}

import XCTest
import RMMABI
@testable import RMMCore

/// An ACTIVE realm with two RECs (REC 1 not runnable) and a run page.
struct RunFixture {
  var f = RTTFixture()
  var rec0: UInt64 = 0
  var rec1: UInt64 = 0
  let run = RealmHarness.granule(3)

  init(activate: Bool = true) {
    _ = f.createTable(0, 2)
    _ = f.createTable(0, 3)
    precondition(f.call(.rttInitRIPAS, 0, 0x20_0000).x0 == success)
    rec0 = f.h.allocateDelegated()
    f.h.writeRECParams(mpidr: 0, pc: 0x1000, aux: [f.h.allocateDelegated(), f.h.allocateDelegated()])
    precondition(f.h.env.call(.recCreate, f.h.rd, rec0, f.h.recParamsPA).x0 == success)
    rec1 = f.h.allocateDelegated()
    f.h.writeRECParams(flags: 0, mpidr: 1, aux: [f.h.allocateDelegated(), f.h.allocateDelegated()])
    precondition(f.h.env.call(.recCreate, f.h.rd, rec1, f.h.recParamsPA).x0 == success)
    if activate { precondition(f.h.env.call(.realmActivate, f.h.rd).x0 == success) }
  }

  var env: FakeEnvironment { f.h.env }
  func enter(_ rec: UInt64? = nil) -> UInt64 { env.call(.recEnter, rec ?? rec0, run).x0 }
  func exitField(_ absolute: Int) -> UInt64 { env.memory.page(run)[absolute / 8] }
  func setEnter(_ absolute: Int, _ value: UInt64) {
    var page = env.memory.page(run)
    page[absolute / 8] = value
    env.memory.setPage(run, page)
  }
  func gpr(_ rec: UInt64, _ n: Int) -> UInt64 { env.memory.page(rec)[(RECLayout.context + 8 * n) / 8] }
  func pc(_ rec: UInt64) -> UInt64 { env.memory.page(rec)[(RECLayout.context + RECContextLayout.elr) / 8] }

  /// Queues an exit; `registers` are the realm's x0..x10 at that point.
  func script(_ kind: RealmExitSyndrome.Kind, esr: UInt64 = 0, far: UInt64 = 0, hpfar: UInt64 = 0,
              registers: [UInt64] = []) {
    env.cpu.state.script.append(({ page in
      for (i, v) in registers.enumerated() { page[(RECLayout.context + 8 * i) / 8] = v }
    }, RealmExitSyndrome(kind: kind, esr: esr, far: far, hpfar: hpfar)))
  }

  static let smc: UInt64 = 0x17 << 26 | 1 << 25
}

final class RECEnterTests: XCTestCase {
  func testEntryRefusals() {
    var n = RunFixture(activate: false)
    XCTAssertEqual(n.enter(), status(.errorRealm, 0), "realm NEW")
    XCTAssertEqual(n.f.h.env.call(.realmActivate, n.f.h.rd).x0, success)
    XCTAssertEqual(n.enter(n.rec1), status(.errorREC), "REC not runnable")
    XCTAssertEqual(n.env.call(.recEnter, n.rec0, n.run + 8).x0, errorInput, "run page unaligned")
    XCTAssertEqual(n.env.call(.recEnter, n.rec0, n.rec1).x0, errorInput, "run page is a REC")
    XCTAssertEqual(n.env.call(.recEnter, n.f.h.rd, n.run).x0, errorInput, "not a REC")
    n.setEnter(RecRunLayout.enterFlags, RecRunLayout.flagEmulatedMMIO)
    XCTAssertEqual(n.enter(), status(.errorREC), "EMUL_MMIO without an MMIO exit")
    n.setEnter(RecRunLayout.enterFlags, 0)
    n.setEnter(RecRunLayout.enterGICv3HCR, 1 << 10)
    XCTAssertEqual(n.enter(), status(.errorREC), "ICH_HCR.TC")
    n.setEnter(RecRunLayout.enterGICv3HCR, 0)
    n.setEnter(RecRunLayout.enterGICv3LRs, 1 << 61)
    XCTAssertEqual(n.enter(), status(.errorREC), "hardware list register")
    n.setEnter(RecRunLayout.enterGICv3LRs, 0)
    n.setEnter(RecRunLayout.enterGICv3LRs + 8 * 5, 1)
    XCTAssertEqual(n.enter(), status(.errorREC), "list register beyond those implemented")
    n.setEnter(RecRunLayout.enterGICv3LRs + 8 * 5, 0)
    XCTAssertTrue(n.env.cpu.state.entries.isEmpty, "nothing was entered")
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue))
    XCTAssertEqual(n.env.granules.storage.peek(n.env.granules.index(of: n.rec0)!).refcount, 0, "not running any more")
  }

  /// Asynchronous exits: IRQ and FIQ carry no syndrome; an SError reports only the
  /// architected syndrome fields (or, with IDS, nothing but IDS).
  func testInterruptAndSErrorExits() {
    let n = RunFixture()
    n.script(.fiq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.fiq.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0)
    // SError, architected syndrome: EC 0x2F, IL, IESB, AET = 0b010, EA, DFSC 0x11; bits 14-23 junk.
    let architected: UInt64 = 0x2F << 26 | 1 << 25 | 1 << 13 | 2 << 10 | 1 << 9 | 0x11 | 0xFF << 14
    n.script(.serror, esr: architected)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.serror.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x2F << 26 | 2 << 10 | 1 << 9 | 0x11, "EC, AET, EA, DFSC only (A4.3.9)")
    // SError with an IMPLEMENTATION DEFINED syndrome: only EC and IDS.
    n.script(.serror, esr: 0x2F << 26 | 1 << 25 | 1 << 24 | 0xABCDEF)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x2F << 26 | 1 << 24)
    XCTAssertEqual(n.exitField(RecRunLayout.exitFAR), 0, "no fault address for asynchronous exits")
  }

  func testMMIOExitIsSanitised() {
    let n = RunFixture()
    let ipa: UInt64 = (1 << 39) + 0x1234
    // STR w5, [x?] at the unprotected IPA: ISV, SAS = word, SRT = 5, WnR.
    let esr: UInt64 = 0x24 << 26 | 1 << 25 | 1 << 24 | 2 << 22 | 5 << 16 | 1 << 6 | 0x07
    n.script(.sync, esr: esr, far: 0xFFFF_0000_0000_1234, hpfar: (ipa >> 12) << 4,
             registers: [0, 0, 0, 0, 0, 0xAAAA_BBBB_CCCC_DDDD])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), 0)
    let exitESR = n.exitField(RecRunLayout.exitESR)
    XCTAssertEqual((exitESR >> 16) & 0x1F, 0, "SRT hidden")
    XCTAssertEqual(exitESR & (1 << 24 | 1 << 6 | 0x3F), 1 << 24 | 1 << 6 | 0x07, "ISV, WnR, DFSC kept")
    XCTAssertEqual(exitESR & ESR.il, 0, "IL hidden on an emulatable abort (A4.3.4.3)")
    XCTAssertEqual(exitESR, 0x24 << 26 | 1 << 24 | 2 << 22 | 1 << 6 | 0x07, "exactly EC, ISV, SAS, WnR, DFSC")
    XCTAssertEqual(n.exitField(RecRunLayout.exitFAR), 0x234, "FAR: page offset only")
    XCTAssertEqual(n.exitField(RecRunLayout.exitHPFAR), (ipa >> 12) << 4)
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs), 0xCCCC_DDDD, "the written value, truncated to the access size")
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs + 8), 0, "no other register leaks")
    // Emulation done: the PC moves past the store.
    let pcBefore = n.pc(n.rec0)
    n.setEnter(RecRunLayout.enterFlags, RecRunLayout.flagEmulatedMMIO)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.pc(n.rec0), pcBefore + 4)
  }

  func testMMIOReadCompletes() {
    let n = RunFixture()
    let ipa: UInt64 = (1 << 39) + 0x1000
    let esr: UInt64 = 0x24 << 26 | 1 << 25 | 1 << 24 | 2 << 22 | 7 << 16 | 0x07  // LDR w7
    n.script(.sync, esr: esr, far: 0x1000, hpfar: (ipa >> 12) << 4)
    XCTAssertEqual(n.enter(), success)
    n.setEnter(RecRunLayout.enterFlags, RecRunLayout.flagEmulatedMMIO)
    n.setEnter(RecRunLayout.enterGPRs, 0x1_2345_6789)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.gpr(n.rec0, 7), 0x2345_6789, "the host's value, truncated to the word read")
  }

  func testProtectedAbortsAndSEA() {
    let n = RunFixture()
    // RAM but unpopulated: the host sees the class and status only.
    n.script(.sync, esr: 0x24 << 26 | 1 << 25 | 1 << 24 | 5 << 16 | 1 << 6 | 0x07, far: 0x5678, hpfar: (0x5000 >> 12) << 4)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x24 << 26 | 0x07, "no IL, ISV, WnR or SRT")
    XCTAssertEqual(n.exitField(RecRunLayout.exitFAR), 0, "no address for protected aborts")
    XCTAssertEqual(n.enter(), success)  // re-executes
  }

  func testRSIVersionAndHostCall() {
    var n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.version.rawValue, 0x1_0000])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual([n.gpr(n.rec0, 0), n.gpr(n.rec0, 1), n.gpr(n.rec0, 2)], [0, 0x1_0000, 0x1_0000])
    XCTAssertEqual(n.pc(n.rec0), 0x1004, "past the SMC")
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue))
    // Host call: the structure in a DATA page at IPA 0x2000.
    let data = n.f.h.allocateDelegated()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0, success)
    var page = n.env.memory.page(data)
    page[0x100 / 8] = 0x77  // imm
    page[0x108 / 8] = 0x1111
    n.env.memory.setPage(data, page)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 0x2100])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.hostCall.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitImm), 0x77)
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs), 0x1111)
    n.setEnter(RecRunLayout.enterGPRs, 0x2222)
    n.setEnter(RecRunLayout.enterFlags, RecRunLayout.flagEmulatedMMIO)
    XCTAssertEqual(n.enter(), status(.errorREC), "EMUL_MMIO after a host call")
    n.setEnter(RecRunLayout.enterFlags, 0)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.env.memory.page(data)[0x108 / 8], 0x2222, "the host's result written back")
    XCTAssertEqual(n.gpr(n.rec0, 0), 0)
    // Host call at a misaligned or unprotected IPA: RSI_ERROR_INPUT.
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 0x2108])
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 1 << 39])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.gpr(n.rec0, 0), RSIStatus.errorInput.rawValue)
    let dataReads = n.env.memory.accesses.filter { $0.intent.expectedState == .data && $0.intent.direction == .read }
    XCTAssertEqual(dataReads.map(\.intent.purpose), [.rsiHostCallRead], "the only read of realm data is RsiHostCall")
  }

  func testPSCICPUOnAndSystemOff() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.smc64, 1, 0x3000, 0x99])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.psci.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs + 8), 1, "target MPIDR")
    XCTAssertEqual(n.enter(), status(.errorREC), "REC_ENTER while CPU_ON is pending")
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec0, 0).x0, errorInput, "wrong target")
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 1).x0, errorInput, "not a PSCI status")
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), 0, "CPU_ON: SUCCESS")
    XCTAssertEqual(n.pc(n.rec1), 0x3000)
    XCTAssertEqual(n.gpr(n.rec1, 0), 0x99)
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, errorInput, "nothing pending")
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.systemOff.rawValue])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.enter(), status(.errorRealm, 1), "SYSTEM_OFF")
    XCTAssertEqual(n.enter(n.rec1), status(.errorRealm, 1))
  }
}

import XCTest
import RMMABI
@testable import RMMCore

/// Deviations that independent hosts (TF-A's realm tests, Arm's ACS, a third-party
/// conformance host) found, each pinned to the spec rule it broke (DEN0137 1.0-rel0).
final class ConformanceTests: XCTestCase {
  static let emptyIPA: UInt64 = 0x30_0000      // RIPAS EMPTY (never initialised)
  static let unpopulatedIPA: UInt64 = 0x5000   // RIPAS RAM, no DATA
  static let unprotectedIPA: UInt64 = 1 << 39

  func el1(_ n: RunFixture, _ register: Int) -> UInt64 {
    n.env.gate.memory.page(n.rec0)[(RECLayout.el1 + 8 * register) / 8]
  }

  // ---- exit.esr (A4.3.4) ------------------------------------------------------------

  func testNonEmulatableUnprotectedAbortKeepsILAndNothingElse() {
    let n = RunFixture()
    // ISV = 0 (e.g. LDP), IL = 1, WnR, SET = 2, FnV, EA, DFSC 0x07, and junk in SRT.
    let esr: UInt64 = 0x24 << 26 | 1 << 25 | 9 << 16 | 2 << 11 | 1 << 10 | 1 << 9 | 1 << 6 | 0x07
    n.script(.sync, esr: esr, far: 0x1234, hpfar: (Self.unprotectedIPA >> 12) << 4)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x24 << 26 | 1 << 25 | 2 << 11 | 1 << 10 | 1 << 9 | 0x07,
                   "EC, IL, SET, FnV, EA, DFSC (A4.3.4.3); WnR only for emulatable aborts")
    XCTAssertEqual(n.exitField(RecRunLayout.exitFAR), 0, "FAR only for emulatable aborts")
  }

  func testProtectedInstructionAbortExit() {
    let n = RunFixture()
    let esr: UInt64 = 0x20 << 26 | 1 << 25 | 2 << 11 | 1 << 10 | 1 << 9 | 0x07
    n.script(.sync, esr: esr, far: Self.unpopulatedIPA + 0x10, hpfar: (Self.unpopulatedIPA >> 12) << 4)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x20 << 26 | 2 << 11 | 1 << 9 | 0x07,
                   "EC, SET, EA, IFSC only (A4.3.4.2)")
    XCTAssertEqual(n.exitField(RecRunLayout.exitHPFAR), (Self.unpopulatedIPA >> 12) << 4)
  }

  func testWFxExitReportsECAndTIOnly() {
    let n = RunFixture()
    n.setEnter(RecRunLayout.enterFlags, RecRunLayout.flagTrapWFI)
    n.script(.sync, esr: 0x01 << 26 | 1 << 25 | 1 << 24 | 0xE << 20 | 0x0)  // WFI, CV/COND set
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x01 << 26, "EC and TI only (A4.3.4.1)")
    // WFIT x5: TI = 0b10, RV, RN = 5: the timeout goes to the host in gprs[0].
    n.script(.sync, esr: 0x01 << 26 | 1 << 25 | 5 << 5 | 1 << 2 | 0x2,
             registers: [0, 0, 0, 0, 0, 0x1234_5678])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x01 << 26 | 0x2)
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs), 0x1234_5678, "WFIT's timeout value")
  }

  // ---- SEAs the RMM injects (A5.2.3, A5.2.6, A5.2.7) ---------------------------------

  func testInstructionFetchFromEmptyGetsAnInstructionAbort() {
    let n = RunFixture()
    let pcBefore = n.pc(n.rec0)
    n.script(.sync, esr: 0x20 << 26 | 1 << 25 | 0x06, far: Self.emptyIPA, hpfar: (Self.emptyIPA >> 12) << 4)
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue), "no exit for the fetch")
    XCTAssertEqual(el1(n, RECSystemRegisters.esrEL1), 0x21 << 26 | 1 << 25 | 1 << 9 | 0x10,
                   "instruction abort, same EL, IL, EA = 1, IFSC synchronous external abort")
    XCTAssertEqual(el1(n, RECSystemRegisters.farEL1), Self.emptyIPA)
    XCTAssertEqual(el1(n, RECSystemRegisters.elrEL1), pcBefore)
  }

  func testInstructionFetchFromUnprotectedGetsAnInstructionAbort() {
    let n = RunFixture()
    n.script(.sync, esr: 0x20 << 26 | 1 << 25 | 0x07, far: 0x8000, hpfar: (Self.unprotectedIPA >> 12) << 4)
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue))
    XCTAssertEqual(el1(n, RECSystemRegisters.esrEL1) >> 26, 0x21)
  }

  func testDataAccessToEmptyGetsADataAbortWithEA() {
    let n = RunFixture()
    n.script(.sync, esr: 0x24 << 26 | 1 << 25 | 0x06, far: Self.emptyIPA + 8, hpfar: (Self.emptyIPA >> 12) << 4)
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(el1(n, RECSystemRegisters.esrEL1), 0x25 << 26 | 1 << 25 | 1 << 9 | 0x10)
    XCTAssertEqual(el1(n, RECSystemRegisters.farEL1), Self.emptyIPA + 8)
  }

  // ---- emulated loads (A4.4) ------------------------------------------------------------

  func testEmulatedLoadsAreSignExtendedByTheRMM() {
    for (sas, sse, sf, host, expected) in [
      (UInt64(0), true, true, UInt64(0xFFFF_FFFF_FFFF_FF80), UInt64(0xFFFF_FFFF_FFFF_FF80)),  // LDRSB x
      (0, true, false, 0x80, 0xFFFF_FF80),                                                  // LDRSB w
      (1, true, true, 0x1234_8001, 0xFFFF_FFFF_FFFF_8001),                                  // LDRSH x
      (2, true, true, 0x8000_0000, 0xFFFF_FFFF_8000_0000),                                  // LDRSW
      (1, false, false, 0xFFFF_8001, 0x8001),                                               // LDRH
      (3, false, true, 0xDEAD_BEEF_0000_0001, 0xDEAD_BEEF_0000_0001),                       // LDR x
    ] {
      let n = RunFixture()
      let ipa = Self.unprotectedIPA + 0x40
      let esr: UInt64 = 0x24 << 26 | 1 << 25 | 1 << 24 | sas << 22 | (sse ? 1 << 21 : 0) | 3 << 16
        | (sf ? 1 << 15 : 0) | 0x07
      n.script(.sync, esr: esr, far: 0x40, hpfar: (ipa >> 12) << 4)
      XCTAssertEqual(n.enter(), success)
      XCTAssertEqual(n.exitField(RecRunLayout.exitESR) & (ESR.sse | 0x1F << 16), 0, "SSE and SRT hidden")
      n.setEnter(RecRunLayout.enterFlags, RecRunLayout.flagEmulatedMMIO)
      n.setEnter(RecRunLayout.enterGPRs, host)
      XCTAssertEqual(n.enter(), success)
      XCTAssertEqual(n.gpr(n.rec0, 3), expected, "SAS \(sas) SSE \(sse) SF \(sf)")
    }
  }

  // ---- PSCI (B6.3.1, B6.3.3, B4.3.7) -------------------------------------------------

  func testAffinityInfoAnsweredByTheRMM() {
    let n = RunFixture()
    let affinity = PSCIFunction.affinityInfo.smc64
    let invalid = UInt64(bitPattern: PSCIStatus.invalidParameters.rawValue)
    n.script(.sync, esr: RunFixture.smc, registers: [affinity, 0, 0])   // itself
    n.script(.sync, esr: RunFixture.smc, registers: [affinity, 5, 0])   // no REC 5
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue), "no PSCI exit")
    XCTAssertEqual(n.gpr(n.rec0, 0), invalid, "missing REC: INVALID_PARAMETERS")
    n.script(.sync, esr: RunFixture.smc, registers: [affinity, 0, 0])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.gpr(n.rec0, 0), 0, "the caller itself: ON")
    n.script(.sync, esr: RunFixture.smc, registers: [affinity, 1, 1])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.gpr(n.rec0, 0), invalid, "lowest affinity level 1: INVALID_PARAMETERS")
    n.script(.sync, esr: RunFixture.smc, registers: [affinity, 1, 0])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.psci.rawValue), "another REC: the host")
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs), affinity)
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs + 8), 1)
  }

  func testPSCICompleteStatusMustBePermitted() {
    let denied = UInt64(bitPattern: PSCIStatus.denied.rawValue)
    // AFFINITY_INFO cannot be denied.
    var n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.affinityInfo.smc64, 1, 0])
    XCTAssertEqual(n.enter(), success)
    var before = n.f.h.snapshot()
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, denied).x0, errorInput, "AFFINITY_INFO denied")
    XCTAssertEqual(n.f.h.snapshot(), before, "nothing changed")
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), 1, "REC 1 is off: OFF")
    XCTAssertEqual([n.gpr(n.rec0, 1), n.gpr(n.rec0, 2), n.gpr(n.rec0, 3)], [0, 0, 0], "args: x1-x3 zero")

    // CPU_ON of a REC that is off may be denied; the target stays off.
    n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.smc64, 1, 0x3000, 0x99])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 7).x0, errorInput, "not a permitted status")
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, denied).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), denied)
    XCTAssertEqual([n.gpr(n.rec0, 1), n.gpr(n.rec0, 2), n.gpr(n.rec0, 3)], [0, 0, 0], "args: x1-x3 zero")
    XCTAssertEqual(n.enter(n.rec1), status(.errorREC), "the denied target is still not runnable")

    // CPU_ON of a REC that is already on may not be denied.
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.smc64, 1, 0x3000, 0x99])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    n.script(.sync, esr: RunFixture.smc, registers: [PSCIFunction.cpuOn.smc64, 1, 0x3000, 0x99])
    XCTAssertEqual(n.enter(), success)
    before = n.f.h.snapshot()
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, denied).x0, errorInput, "target on: DENIED refused")
    XCTAssertEqual(n.f.h.snapshot(), before, "nothing changed")
    XCTAssertEqual(n.env.call(.psciComplete, n.rec0, n.rec1, 0).x0, success)
    XCTAssertEqual(n.gpr(n.rec0, 0), UInt64(bitPattern: PSCIStatus.alreadyOn.rawValue), "ALREADY_ON")
  }

  // ---- RSI -------------------------------------------------------------------------

  func testRealmConfigReturnsTheRPV() {
    var n = RunFixture()
    let data = n.f.h.allocateDelegated()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0, success)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.realmConfig.rawValue, 0x2000])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.gpr(n.rec0, 0), RSIStatus.success.rawValue)
    let page = n.env.gate.memory.page(data)
    XCTAssertEqual(page[RSIRealmConfigLayout.ipaWidth / 8], 40)
    let rpv = (0..<8).map { page[RSIRealmConfigLayout.personalizationValue / 8 + $0] }
    XCTAssertEqual(rpv, RealmHarness.RealmConfig().rpv, "rpv[64] at 0x200: the RPV of REALM_CREATE")
  }

  func testIPAStateGetRefusesAnUnalignedEnd() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.ipaStateGet.rawValue, 0x1000, 0x2008])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.gpr(n.rec0, 0), RSIStatus.errorInput.rawValue, "end not granule aligned")
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.ipaStateGet.rawValue, 0x1000, 0x3000])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual([n.gpr(n.rec0, 0), n.gpr(n.rec0, 1), n.gpr(n.rec0, 2)], [0, 0x3000, RIPAS.ram.rawValue])
  }

  // ---- SBZ fields (B2, B4.4.13, B4.4.15; docs/spec-notes/sbz-fields.md) -------------

  func testSBZBitsOfRECEnterFlagsAreIgnored() {
    let n = RunFixture()
    n.setEnter(RecRunLayout.enterFlags, ~UInt64(0x1F))  // every reserved bit, no defined flag
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue))
    // A defined flag still means what it says with junk beside it.
    n.setEnter(RecRunLayout.enterFlags, ~UInt64(0x1F) | RecRunLayout.flagEmulatedMMIO)
    XCTAssertEqual(n.enter(), status(.errorREC), "EMUL_MMIO without an MMIO exit")
  }

  func testSBZBitsOfRECCreateFlagsAreIgnoredAndNotMeasured() {
    func created(flags: UInt64) -> (UInt64, RealmHarness) {
      var h = RealmHarness()
      precondition(h.createRealm() == success)
      let rec = h.allocateDelegated()
      h.writeRECParams(flags: flags, mpidr: 0, aux: [h.allocateDelegated(), h.allocateDelegated()])
      return (h.env.call(.recCreate, h.rd, rec, h.recParamsPA).x0, h)
    }
    let (plainStatus, plain) = created(flags: 1)
    let (junkStatus, junk) = created(flags: ~UInt64(0))
    XCTAssertEqual(plainStatus, success)
    XCTAssertEqual(junkStatus, success, "bits 63:1 SBZ: not refused")
    XCTAssertEqual(bytes(of: junk.realm().rim), bytes(of: plain.realm().rim), "RIM measures flags.runnable only")
  }
}

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
    n.env.memory.page(n.rec0)[(RECLayout.el1 + 8 * register) / 8]
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
    let page = n.env.memory.page(data)
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
  // ---- ID registers and trapped system registers (HCR_EL2.TID3, MDCR_EL2) -----------

  /// ESR_EL2 of a trapped MRS (read) or MSR (write) of (op0, op1, CRn, CRm, op2) with Rt.
  static func sysreg(_ op0: UInt64, _ op1: UInt64, _ crn: UInt64, _ crm: UInt64, _ op2: UInt64, rt: UInt64,
                     read: Bool) -> UInt64 {
    0x18 << 26 | 1 << 25 | op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | rt << 5 | crm << 1 | (read ? 1 : 0)
  }

  /// Runs one trapped access and returns (x3 afterwards, whether the PC moved past it,
  /// ESR_EL1 if an exception was injected).
  func trap(_ esr: UInt64, x3: UInt64 = 0xDEAD) -> (UInt64, Bool, UInt64) {
    let n = RunFixture()
    let pc = n.pc(n.rec0)
    n.script(.sync, esr: esr, registers: [0, 0, 0, x3])
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue), "no exit for a sysreg trap")
    let esr1 = el1(n, RECSystemRegisters.esrEL1)
    return (n.gpr(n.rec0, 3), n.pc(n.rec0) == pc + 4, esr1)
  }

  func testIDRegistersShowOnlyWhatTheRealmHas() {
    func field(_ v: UInt64, _ shift: UInt64) -> UInt64 { (v >> shift) & 0xF }
    let (pfr0, moved, _) = trap(Self.sysreg(3, 0, 0, 4, 0, rt: 3, read: true))
    XCTAssertTrue(moved, "the MRS completes")
    XCTAssertEqual(field(pfr0, 0), 1, "EL0: AArch64 only")
    XCTAssertEqual(field(pfr0, 4), 1, "EL1: AArch64 only")
    XCTAssertEqual(field(pfr0, 16), 1, "FP")
    XCTAssertEqual(field(pfr0, 24), 1, "GICv3 system registers")
    for (shift, name) in [(UInt64(28), "RAS"), (32, "SVE"), (36, "SEL2"), (40, "MPAM"), (44, "AMU"), (52, "RME")] {
      XCTAssertEqual(field(pfr0, shift), 0, "PFR0.\(name) hidden")
    }
    let (pfr1, _, _) = trap(Self.sysreg(3, 0, 0, 4, 1, rt: 3, read: true))
    XCTAssertEqual(field(pfr1, 0), 1, "BT kept")
    for (shift, name) in [(UInt64(8), "MTE"), (24, "SME"), (36, "NMI"), (44, "GCS")] {
      XCTAssertEqual(field(pfr1, shift), 0, "PFR1.\(name) hidden")
    }
    XCTAssertEqual(trap(Self.sysreg(3, 0, 0, 4, 4, rt: 3, read: true)).0, 0, "ID_AA64ZFR0_EL1: no SVE")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 0, 4, 5, rt: 3, read: true)).0, 0, "ID_AA64SMFR0_EL1: no SME")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 0, 5, 1, rt: 3, read: true)).0, 0, "ID_AA64DFR1_EL1")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 0, 7, 3, rt: 3, read: true)).0, 0, "ID_AA64MMFR3_EL1: TCR2/SCTLR2/PIE/POE hidden")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 0, 1, 0, rt: 3, read: true)).0, 0, "AArch32 ID_PFR0_EL1: no AArch32")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 0, 6, 0, rt: 3, read: true)).0, 0x1111_1111_1111_1111, "ISAR0: instructions only")
    // The default realm asked for 2 breakpoints and 2 watchpoints.
    let (dfr0, _, _) = trap(Self.sysreg(3, 0, 0, 5, 0, rt: 3, read: true))
    XCTAssertEqual(field(dfr0, 12), 1, "BRPs = breakpoints - 1")
    XCTAssertEqual(field(dfr0, 20), 1, "WRPs = watchpoints - 1")
    XCTAssertEqual(field(dfr0, 28), 1, "CTX_CMPs <= BRPs")
    XCTAssertEqual(field(dfr0, 0), 9, "DebugVer kept")
    for (shift, name) in [(UInt64(4), "TraceVer"), (8, "PMUVer"), (32, "PMSVer"), (44, "TraceBuffer"), (52, "BRBE")] {
      XCTAssertEqual(field(dfr0, shift), 0, "DFR0.\(name) hidden")
    }
  }

  func testDFR0FollowsTheRealmsBreakpointsAndWatchpoints() {
    var hardware = HardwareIDRegisters()
    hardware.dfr0 = 0x0000_0000_3035_5006  // 6 breakpoints (4 context-aware), 4 watchpoints
    let encoding = SystemRegisterEncoding(op0: 3, op1: 0, crn: 0, crm: 5, op2: 0)
    let one = IDRegisterView.realmValue(encoding, hardware: hardware, realm: RealmFeatures(breakpoints: 1, watchpoints: 3))!
    XCTAssertEqual((one >> 12) & 0xF, 0)
    XCTAssertEqual((one >> 20) & 0xF, 2)
    XCTAssertEqual((one >> 28) & 0xF, 0, "CTX_CMPs cut to BRPs")
    let six = IDRegisterView.realmValue(encoding, hardware: hardware, realm: RealmFeatures(breakpoints: 6, watchpoints: 4))!
    XCTAssertEqual((six >> 12) & 0xF, 5)
    XCTAssertEqual((six >> 28) & 0xF, 3, "CTX_CMPs kept when below BRPs")
    XCTAssertNil(IDRegisterView.realmValue(SystemRegisterEncoding(op0: 3, op1: 3, crn: 9, crm: 12, op2: 0),
                                           hardware: hardware, realm: RealmFeatures()), "PMCR_EL0 is no ID register")
  }

  func testHiddenSystemRegistersAreUndefined() {
    let undefined: UInt64 = 1 << 25  // EC 0, IL
    let (x3, moved, esr) = trap(Self.sysreg(3, 0, 0, 4, 0, rt: 3, read: false))
    XCTAssertEqual(esr, undefined, "MSR to an ID register: Undefined")
    XCTAssertFalse(moved)
    XCTAssertEqual(x3, 0xDEAD)
    XCTAssertEqual(trap(Self.sysreg(3, 3, 9, 12, 0, rt: 3, read: true)).2, undefined, "PMCR_EL0: no PMU")
    XCTAssertEqual(trap(Self.sysreg(3, 3, 13, 2, 0, rt: 3, read: true)).2, undefined, "AMCR_EL0: no AMU")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 9, 10, 0, rt: 3, read: true)).2, undefined, "PMSCR_EL1: no SPE")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 1, 2, 0, rt: 3, read: true)).2, undefined, "ZCR_EL1: no SVE")
  }

  /// What a Linux guest needs of the GIC CPU interface: its SGIs (IPIs, irq_work's
  /// self-IPI) and cross-REC deactivation reach the host as a sync exit with the
  /// register's encoding and the value in gprs[0]; the RMM moves the realm past the MSR.
  func testGICSGIWritesExitToTheHost() {
    for (op2, name) in [(UInt64(5), "ICC_SGI1R_EL1"), (6, "ICC_ASGI1R_EL1"), (7, "ICC_SGI0R_EL1"), (1, "ICC_DIR_EL1")] {
      let n = RunFixture()
      let pc = n.pc(n.rec0)
      let esr = Self.sysreg(3, 0, 12, 11, op2, rt: 3, read: false)
      n.script(.sync, esr: esr, registers: [0, 0, 0, 0x0100_0000_0001_0005])
      XCTAssertEqual(n.enter(), success)
      XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue), "\(name): exits")
      XCTAssertEqual(n.exitField(RecRunLayout.exitESR), esr & ~(0x1F << 5), "\(name): the encoding, Rt hidden")
      XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs), 0x0100_0000_0001_0005, "\(name): the value in gprs[0]")
      XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs + 8), 0, "\(name): nothing else of the realm's registers")
      XCTAssertEqual(n.pc(n.rec0), pc + 4, "\(name): the realm continues after the MSR")
    }
    // XZR as the operand: the value is 0.
    let n = RunFixture()
    n.script(.sync, esr: Self.sysreg(3, 0, 12, 11, 5, rt: 31, read: false), registers: [7, 7, 7, 7])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitGPRs), 0)
    // A read of one of them (write-only registers) and its neighbours stay Undefined.
    let undefined: UInt64 = 1 << 25
    XCTAssertEqual(trap(Self.sysreg(3, 0, 12, 11, 5, rt: 3, read: true)).2, undefined, "MRS of ICC_SGI1R_EL1")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 12, 11, 3, rt: 3, read: false)).2, undefined, "ICC_RPR_EL1 encoding, op2 3")
    XCTAssertEqual(trap(Self.sysreg(3, 0, 12, 12, 5, rt: 3, read: false)).2, undefined, "CRm 12 is no SGI register")
  }

  func testIDRegistersHideWhatNeedsEL2Enables() {
    func field(_ v: UInt64, _ shift: UInt64) -> UInt64 { (v >> shift) & 0xF }
    let isar1 = trap(Self.sysreg(3, 0, 0, 6, 1, rt: 3, read: true)).0
    XCTAssertEqual(field(isar1, 60), 0, "ISAR1.LS64 hidden")
    XCTAssertEqual(field(isar1, 4), 1, "ISAR1.APA kept: the PAuth keys are switched")
    let isar2 = trap(Self.sysreg(3, 0, 0, 6, 2, rt: 3, read: true)).0
    XCTAssertEqual(field(isar2, 16), 0, "ISAR2.MOPS hidden: HCRX_EL2.MSCEn is not set for realms")
    XCTAssertEqual(field(isar2, 32), 0, "ISAR2.SYSREG_128 hidden")
    XCTAssertEqual(field(isar2, 36), 0, "ISAR2.SYSINSTR_128 hidden")
    XCTAssertEqual(field(isar2, 0), 1, "ISAR2.WFxT kept")
  }

  func testAssertedTimersAreMaskedAtTheNextEntry() {
    typealias T = RECSystemRegisters
    XCTAssertEqual(T.entryTimerMasks(cntvCTL: 0b101, cntpCTL: 0), T.cnthctlVirtualMask, "enabled, condition met, unmasked")
    XCTAssertEqual(T.entryTimerMasks(cntvCTL: 0, cntpCTL: 0b101), T.cnthctlPhysicalMask)
    XCTAssertEqual(T.entryTimerMasks(cntvCTL: 0b101, cntpCTL: 0b101), T.cnthctlVirtualMask | T.cnthctlPhysicalMask)
    XCTAssertEqual(T.entryTimerMasks(cntvCTL: 0b111, cntpCTL: 0b111), 0, "IMASK: the realm masked it itself")
    XCTAssertEqual(T.entryTimerMasks(cntvCTL: 0b001, cntpCTL: 0b001), 0, "not yet expired")
    XCTAssertEqual(T.entryTimerMasks(cntvCTL: 0b100, cntpCTL: 0b100), 0, "disabled")
    XCTAssertEqual(T.cnthctlVirtualMask, 1 << 18, "CNTHCTL_EL2.CNTVMASK")
    XCTAssertEqual(T.cnthctlPhysicalMask, 1 << 19, "CNTHCTL_EL2.CNTPMASK")
  }

  func testSelfHostedDebugRegistersReadZeroAndIgnoreWrites() {
    let (value, moved, esr) = trap(Self.sysreg(2, 0, 0, 0, 4, rt: 3, read: true))  // DBGBVR0_EL1
    XCTAssertEqual(value, 0)
    XCTAssertTrue(moved)
    XCTAssertEqual(esr, 0, "no exception")
    let (kept, movedWrite, esrWrite) = trap(Self.sysreg(2, 0, 0, 2, 2, rt: 3, read: false), x3: 0x8000)  // MDSCR_EL1
    XCTAssertEqual(kept, 0x8000, "the register operand is untouched")
    XCTAssertTrue(movedWrite)
    XCTAssertEqual(esrWrite, 0)
  }
}

// Integration checks of the foundation: version, features, delegation with every
// bad input, GPT effects seen from NS, unknown FIDs, RMI from a second CPU.

import AArch64Shim
import RMMABI
import RMMCore

func runFoundationTests() {
  section("RMI_VERSION")
  let v10 = rmi(.version, rmiABIVersion.encoded, 0, 0, 0xABCD)
  expect(v10, .success, "RMI_VERSION(1.0) succeeds")
  expectValue(v10.x1, 0x1_0000, "RMI_VERSION lower revision is 1.0")
  expectValue(v10.x2, 0x1_0000, "RMI_VERSION higher revision is 1.0")
  expectValue(v10.x4, 0xABCD, "x4 preserved across an RMI call (SMCCC)")
  let unimplemented: InlineArray<4, UInt64> = [0x2_0000, 0x1_0001, 0x0, 0xFFFF_FFFF_FFFF_FFFF]
  for i in unimplemented.indices {
    let r = rmi(.version, unimplemented[i])
    check(r.x0 == inputError.encoded && r.x1 == 0x1_0000 && r.x2 == 0x1_0000,
          "RMI_VERSION of an unimplemented revision: ERROR_INPUT, still reports 1.0..1.0")
  }
  let sve = smc(RMICommand.version.rawValue | smcSVEHintBit, rmiABIVersion.encoded)
  expect(sve, .success, "RMI FID with the SVE hint bit (16) set is served")

  section("RMI_FEATURES")
  let f0 = rmi(.features, 0)
  expect(f0, .success, "RMI_FEATURES(0) succeeds")
  let fr0 = RMIFeatureRegister0(rawValue: f0.x1)
  check(fr0.lpa2 ? fr0.s2sz == 52 : fr0.s2sz >= 32 && fr0.s2sz <= 48, "feature register 0: S2SZ 52 with LPA2, else 32..48 bits")
  check(fr0.pmuEnabled == false || fr0.pmuCounters == (read_pmcr_el0() >> 11) & 0x1F,
        "feature register 0: PMU_NUM_CTRS is the CPU's PMCR_EL0.N")
  #if BOARD_QEMU
  // QEMU -cpu max: FEAT_LPA2 with a 52-bit PARange, SVE up to 2048 bits, PMUv3.
  check(fr0.lpa2, "feature register 0: LPA2 on QEMU -cpu max (FEAT_LPA2, 52-bit PARange)")
  check(fr0.sveEnabled && fr0.sveVectorLength == 15, "feature register 0: SVE, largest vector length 2048 bits (SVE_VL 15)")
  check(fr0.pmuEnabled && fr0.pmuCounters >= 1, "feature register 0: PMU with event counters")
  #endif
  check(f0.x1 >> 42 == 0, "feature register 0: reserved bits [63:42] are zero")
  let f1 = rmi(.features, 1)
  check(f1.x0 == 0 && f1.x1 == 0, "RMI_FEATURES(1) succeeds and reads as zero")

  section("RMI_GRANULE_DELEGATE / UNDELEGATE")
  let granule = Board.testGranules
  // Leave a pattern: after the round trip the granule must read back as zero.
  mmio_write64(granule, 0x5A5A_5A5A_5A5A_5A5A)
  mmio_write64(granule + 0xFF8, 0xA5A5_A5A5_A5A5_A5A5)
  check(testhost_probe_read(granule).esr == 0, "NS can read an undelegated granule")
  expect(rmi(.granuleDelegate, granule), .success, "delegate an NS granule")
  let fault = testhost_probe_read(granule)
  check(fault.esr >> 26 == 0x25 && fault.esr & 0x3F == 0x28,
        "NS read of a delegated granule takes a granule-protection fault (EC 0x25, DFSC 0x28)")
  expect(rmi(.granuleDelegate, granule), inputError, "double delegate: ERROR_INPUT")
  expect(rmi(.granuleUndelegate, granule), .success, "undelegate")
  let back = testhost_probe_read(granule)
  check(back.esr == 0 && back.value == 0, "undelegated granule is readable from NS again and reads zero")
  check(mmio_read64(granule + 0xFF8) == 0, "undelegated granule is scrubbed to its last word")
  expect(rmi(.granuleUndelegate, granule), inputError, "undelegate an undelegated granule: ERROR_INPUT")

  expect(rmi(.granuleDelegate, granule + 8), inputError, "delegate unaligned PA: ERROR_INPUT")
  expect(rmi(.granuleDelegate, granule + 0x800), inputError, "delegate half-page PA: ERROR_INPUT")
  expect(rmi(.granuleDelegate, Board.securePA), inputError, "delegate secure/root memory: ERROR_INPUT")
  expect(rmi(.granuleDelegate, Board.mmioPA), inputError, "delegate MMIO: ERROR_INPUT")
  expect(rmi(.granuleDelegate, Board.beyondDRAM), inputError, "delegate beyond the DRAM banks: ERROR_INPUT")
  expect(rmi(.granuleDelegate, 0xFFFF_FFFF_FFFF_F000), inputError, "delegate top of the address space: ERROR_INPUT")
  expect(rmi(.granuleDelegate, Board.rmmBase), inputError, "delegate the RMM image: ERROR_INPUT")
  expect(rmi(.granuleDelegate, Board.sharedPage), inputError, "delegate the EL3-RMM shared page: ERROR_INPUT")
  expect(rmi(.granuleUndelegate, Board.rmmBase), inputError, "undelegate the RMM image: ERROR_INPUT")
  expect(rmi(.granuleUndelegate, Board.rmmBase + 0x4000), inputError, "undelegate RMM data: ERROR_INPUT")
  expect(rmi(.granuleUndelegate, granule + 8), inputError, "undelegate unaligned PA: ERROR_INPUT")
  expect(rmi(.granuleUndelegate, Board.beyondDRAM), inputError, "undelegate beyond DRAM: ERROR_INPUT")
  check(testhost_probe_read(Board.rmmBase).esr != 0, "the RMM image stays inaccessible to NS")

  // Many granules at once, then all back.
  var delegatedOK = true
  for i in 0..<UInt64(64) { delegatedOK = delegatedOK && rmi(.granuleDelegate, granule + (i + 1) * 0x1000).x0 == 0 }
  check(delegatedOK, "delegate 64 consecutive granules")
  var undelegatedOK = true
  for i in 0..<UInt64(64) { undelegatedOK = undelegatedOK && rmi(.granuleUndelegate, granule + (i + 1) * 0x1000).x0 == 0 }
  check(undelegatedOK, "undelegate the 64 granules")

  section("unknown function IDs")
  let unused: InlineArray<5, UInt64> = [0xC400_0156, 0xC400_0160, 0xC400_0163, 0xC400_0170, 0xC400_018E]
  for i in unused.indices {
    expectValue(smc(unused[i]).x0, smcUnknown, "unused RMI FID returns SMC_UNKNOWN")
  }

  section("second CPU")
  runSecondCPUTests()
}

// ---- secondary CPU ------------------------------------------------------------
nonisolated(unsafe) var secondaryVersionStatus: UInt64 = 0xFFFF
nonisolated(unsafe) var secondaryDelegateStatus: UInt64 = 0xFFFF
nonisolated(unsafe) var secondaryDone: UInt64 = 0

/// What a secondary CPU runs when it is switched on (0: the foundation check,
/// 1: the concurrency test, 2: the fuzzer, 3: one REC_ENTER for the realm runner,
/// 4: vCPU 1 of the Linux realm).
nonisolated(unsafe) var secondaryTask: UInt64 = 0

func sharedAddress(_ variable: UnsafeMutablePointer<UInt64>) -> UInt64 { UInt64(UInt(bitPattern: variable)) }

@_cdecl("testhost_secondary")
public func testhostSecondary(_ cpu: UInt64) {
  switch mmio_read64(sharedAddress(&secondaryTask)) {
  case 1:
    runSecondaryConcurrencyTask()
    return
  case 2:
    runSecondaryFuzzer(cpu: cpu)
    return
  case 3:
    runSecondaryRECEntry()
    return
  case 4:
    runSecondaryVCPU()
    return
  default:
    break
  }
  secondaryVersionStatus = rmi(.version, rmiABIVersion.encoded).x0
  let pa = Board.testGranules + 0x10_0000 + cpu * 0x1000
  secondaryDelegateStatus = rmi(.granuleDelegate, pa).x0 | rmi(.granuleUndelegate, pa).x0
  dsb_sy()
  mmio_write64(UInt64(UInt(bitPattern: withUnsafeMutablePointer(to: &secondaryDone) { $0 })), 1)
  dsb_sy()
  sev()
}

func runSecondCPUTests() {
  let on = smc(PSCIFunction.cpuOn.smc64, 1, testhost_secondary_entry_address(), 1)
  check(on.x0 == 0, "PSCI CPU_ON(1) succeeds (the RMM warm-boots on CPU 1)")
  guard on.x0 == 0 else { return }
  let done = wait(upTo: 2_000_000_000) {
    mmio_read64(UInt64(UInt(bitPattern: withUnsafeMutablePointer(to: &secondaryDone) { $0 }))) != 0
  }
  check(done, "CPU 1 reports back within 2 s")
  expectValue(secondaryVersionStatus, 0, "RMI_VERSION from CPU 1 succeeds")
  expectValue(secondaryDelegateStatus, 0, "DELEGATE + UNDELEGATE from CPU 1 succeed")
}

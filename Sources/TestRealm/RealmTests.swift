// The realm's checks of measurements, memory (RIPAS, host-emulated MMIO, pages the
// host populates on demand), injected exceptions and PSCI.

import AArch64Shim
import RMMABI
import RMMCore

func runMeasurementTests() {
  let rim = rsi(.measurementRead, 0)
  check(rim.x0 == rsiSuccess && (rim.x1 | rim.x2 | rim.x3 | rim.x4) != 0, "RSI_MEASUREMENT_READ(0): the RIM")
  check(rim.x5 | rim.x6 | rim.x7 | rim.x8 == 0, "RIM (SHA-256) is zero-padded to 64 bytes")
  check(rsi(.measurementRead, 5).x0 == rsiInput, "RSI_MEASUREMENT_READ(5): ERROR_INPUT")
  let rem0 = rsi(.measurementRead, 1)
  check(rem0.x0 == rsiSuccess && (rem0.x1 | rem0.x2 | rem0.x3 | rem0.x4) == 0, "REM 1 starts at zero")
  // REM1 := SHA-256(REM1 || value[0:size]), checked with the realm's own SHA-256.
  let value: InlineArray<8, UInt64> = [1, 2, 3, 4, 5, 6, 7, 0xFFFF_FFFF_FFFF_FFFF]
  check(rsi(.measurementExtend, 1, 40, value[0], value[1], value[2], value[3], value[4], value[5], value[6], value[7]).x0
          == rsiSuccess, "RSI_MEASUREMENT_EXTEND(1, 40 bytes)")
  var expected = SHA256()
  for _ in 0..<4 { expected.update64LE(0) }
  for i in 0..<5 { expected.update64LE(value[i]) }
  let digest = expected.finalize()
  let rem1 = rsi(.measurementRead, 1)
  check(rem1.x1 == digest.words[0] && rem1.x2 == digest.words[1] && rem1.x3 == digest.words[2]
          && rem1.x4 == digest.words[3] && rem1.x5 == 0, "REM 1 = SHA-256(REM 1 || value)")
  check(rsi(.measurementExtend, 0, 8, 1).x0 == rsiInput, "RSI_MEASUREMENT_EXTEND of the RIM: ERROR_INPUT")
  check(rsi(.measurementExtend, 5, 8, 1).x0 == rsiInput, "RSI_MEASUREMENT_EXTEND(5): ERROR_INPUT")
  check(rsi(.measurementExtend, 2, 65, 1).x0 == rsiInput, "RSI_MEASUREMENT_EXTEND of 65 bytes: ERROR_INPUT")
  check(rsi(.measurementRead, 0).x1 == rim.x1, "the RIM did not change after activation")
}

func runMemoryTests() {
  // IPA_STATE_GET.
  let ram = rsi(.ipaStateGet, 0, 0x1000)
  check(ram.x0 == rsiSuccess && ram.x1 == 0x1000 && ram.x2 == RIPAS.ram.rawValue, "RSI_IPA_STATE_GET: RAM")
  let wide = rsi(.ipaStateGet, 0, 0x20_0000)
  check(wide.x0 == rsiSuccess && wide.x1 == 0x20_0000 && wide.x2 == RIPAS.ram.rawValue,
        "RSI_IPA_STATE_GET over 2 MiB: one RAM region")
  check(rsi(.ipaStateGet, 0x1008, 0x2000).x0 == rsiInput, "RSI_IPA_STATE_GET unaligned: ERROR_INPUT")
  check(rsi(.ipaStateGet, 0x1000, 0x2008).x0 == rsiInput, "RSI_IPA_STATE_GET with an unaligned end: ERROR_INPUT")
  check(rsi(.ipaStateGet, 0x2000, 0x1000).x0 == rsiInput, "RSI_IPA_STATE_GET end below base: ERROR_INPUT")
  check(rsi(.ipaStateGet, 0, RealmLayout.mmio).x0 == rsiInput, "RSI_IPA_STATE_GET into the unprotected half: ERROR_INPUT")

  // IPA_STATE_SET: the host accepts (RTT_SET_RIPAS) or rejects.
  let base = RealmLayout.ripasTest
  let set = rsi(.ipaStateSet, base, base + 0x2000, RIPAS.empty.rawValue, 0)
  check(set.x0 == rsiSuccess && set.x1 == base + 0x2000 && set.x2 == RSIResponse.accept,
        "RSI_IPA_STATE_SET to EMPTY: accepted, whole range")
  let empty = rsi(.ipaStateGet, base, base + 0x2000)
  check(empty.x1 == base + 0x2000 && empty.x2 == RIPAS.empty.rawValue, "RSI_IPA_STATE_GET: EMPTY now")
  let sea = realmProbe(base)
  check(sea >> 26 == 0x25 && sea & 0x3F == 0x10 && sea & (1 << 9) != 0,
        "an access to RIPAS EMPTY takes a synchronous external abort (EA = 1)")
  let fetch = realmTryExec(base + 0x40)
  check(fetch >> 26 == 0x21 && fetch & 0x3F == 0x10 && fetch & (1 << 9) != 0 && realmTrapFAR() == base + 0x40,
        "an instruction fetch from RIPAS EMPTY takes an instruction abort SEA (EC 0x21, EA, FAR)")
  let back = rsi(.ipaStateSet, base, base + 0x2000, RIPAS.ram.rawValue, 0)
  check(back.x0 == rsiSuccess && back.x2 == RSIResponse.accept, "RSI_IPA_STATE_SET back to RAM")
  // The host may refuse a change to RAM (and only that: A5.4).
  let rejected = rsi(.ipaStateSet, RealmLayout.rejected, RealmLayout.rejected + 0x1000, RIPAS.ram.rawValue, 0)
  check(rejected.x0 == rsiSuccess && rejected.x1 == RealmLayout.rejected && rejected.x2 == RSIResponse.reject,
        "RSI_IPA_STATE_SET to RAM rejected by the host: x1 = base, RSI_REJECT")
  let notRejectable = rsi(.ipaStateSet, RealmLayout.rejected, RealmLayout.rejected + 0x1000, RIPAS.empty.rawValue, 0)
  check(notRejectable.x0 == rsiSuccess && notRejectable.x2 == RSIResponse.accept,
        "RSI_IPA_STATE_SET to EMPTY: a host REJECT is not reported (only RAM requests can be refused)")
  check(rsi(.ipaStateSet, base + 8, base + 0x1000, 0, 0).x0 == rsiInput, "RSI_IPA_STATE_SET unaligned: ERROR_INPUT")
  check(rsi(.ipaStateSet, base, base, 0, 0).x0 == rsiInput, "RSI_IPA_STATE_SET empty range: ERROR_INPUT")
  check(rsi(.ipaStateSet, base, base + 0x1000, 2, 0).x0 == rsiInput, "RSI_IPA_STATE_SET to DESTROYED: ERROR_INPUT")
  check(rsi(.ipaStateSet, base, base + 0x1000, 1, 2).x0 == rsiInput, "RSI_IPA_STATE_SET reserved flag: ERROR_INPUT")
  check(rsi(.ipaStateSet, base, RealmLayout.mmio, 1, 0).x0 == rsiInput, "RSI_IPA_STATE_SET into the unprotected half: ERROR_INPUT")

  // A RAM page the host has not populated: the access exits, the host populates it.
  let fresh = realmProbe(RealmLayout.unpopulated + 0x10)
  check(fresh == 0, "an unpopulated RAM page is populated by the host on first access")

  // Host-emulated MMIO in the unprotected half.
  check(mmio_read32_realm(RealmLayout.mmio) == 0x1234_5678, "an MMIO read is emulated by the host")
  mmio_write32_realm(RealmLayout.mmio + 4, 0xCAFE_F00D)
  check(hostCall(HostCallCode.echo, first: 41, text: "") == 42, "RSI_HOST_CALL returns the host's results")
  check(rsi(.hostCall, realmHostCallAddress() + 8).x0 == rsiInput, "RSI_HOST_CALL misaligned: ERROR_INPUT")
  check(rsi(.hostCall, RealmLayout.mmio & ~0xFFF).x0 == rsiInput, "RSI_HOST_CALL unprotected: ERROR_INPUT")
}

@inline(never) func mmio_read32_realm(_ address: UInt64) -> UInt32 {
  UnsafePointer<UInt32>(bitPattern: UInt(address))!.pointee
}
@inline(never) func mmio_write32_realm(_ address: UInt64, _ value: UInt32) {
  UnsafeMutablePointer<UInt32>(bitPattern: UInt(address))!.pointee = value
}

@_silgen_name("realm_fp_set") func realmFPSet(_ value: UInt64)
@_silgen_name("realm_fp_get") func realmFPGet() -> UInt64

func runFPTests() {
  // The realm's FP/SIMD registers survive exits to the host (which uses its own).
  realmFPSet(0x5245_414C_4D46_5021)
  _ = hostCall(HostCallCode.echo, first: 1, text: "")
  check(realmFPGet() == 0x5245_414C_4D46_5021, "the realm's FP/SIMD registers survive an exit to the host")
  _ = rsi(.version, rsiABIVersion.encoded)
  check(realmFPGet() == 0x5245_414C_4D46_5021, "and an RSI call the RMM serves itself")
}

func runExceptionTests() {
  let undefined = realmHVC()
  check(undefined >> 26 == 0, "HVC from the realm: an Undefined exception is injected")
  // The host arms a physical timer; the busy loop below is interrupted by it.
  _ = hostCall(HostCallCode.armTimer, text: "")
  var spin: UInt64 = 0
  for i in 0..<UInt64(2_000_000) { spin &+= i }
  check(spin != 0, "the realm continues after a physical interrupt exit")
}

@_silgen_name("realm_wfi") func realmWFI()
@_silgen_name("realm_wfe") func realmWFE()

/// Exits the host asks for on entry: WFI/WFE trapping, and an SEA injected in place
/// of an MMIO emulation.
func runHostRequestedExitTests() {
  _ = hostCall(HostCallCode.trapWFx, text: "")
  realmWFI()   // the host counts the WFI and WFE exits and checks their syndromes
  // WFE with TWE set: QEMU implements WFE as a yield and never traps it, so the host
  // can only check that nothing else comes of it (on hardware the second one traps:
  // the ERET into the realm set the event register, the first WFE consumes it).
  realmWFE()
  realmWFE()
  check(true, "the realm continues after trapped WFI and WFE")
  let injected = realmProbe(RealmLayout.mmio + 0x800)  // the host answers with an SEA
  check(injected >> 26 == 0x25 && injected & 0x3F == 0x10,
        "an MMIO access the host refuses takes the SEA the host injected")
  // SMC32 forms of PSCI functions with an SMC64 form.
  check(rsi(PSCIFunction.affinityInfo.rawValue, 5, 0).x0 == UInt64(bitPattern: PSCIStatus.invalidParameters.rawValue),
        "AFFINITY_INFO (SMC32) for a REC that does not exist: INVALID_PARAMETERS")
}

func runPSCITests() {
  let success: UInt64 = 0
  func psci(_ s: PSCIStatus) -> UInt64 { UInt64(bitPattern: s.rawValue) }
  check(rsi(PSCIFunction.cpuOn.smc64, 0, realmSecondaryEntryAddress(), 0).x0 == psci(.alreadyOn), "CPU_ON to itself: ALREADY_ON")
  check(rsi(PSCIFunction.cpuOn.smc64, 5, realmSecondaryEntryAddress(), 0).x0 == psci(.invalidParameters),
        "CPU_ON to a REC that does not exist: INVALID_PARAMETERS")
  check(rsi(PSCIFunction.cpuOn.smc64, 1, RealmLayout.mmio, 0).x0 == psci(.invalidAddress),
        "CPU_ON with an entry point outside the protected range: INVALID_ADDRESS")
  check(rsi(PSCIFunction.affinityInfo.smc64, 1, 0).x0 == 1, "AFFINITY_INFO(REC 1) = OFF before CPU_ON")
  check(rsi(PSCIFunction.cpuOn.smc64, 1, realmSecondaryEntryAddress(), 0xC0FFEE).x0 == success, "CPU_ON(REC 1)")
  check(rsi(PSCIFunction.affinityInfo.smc64, 1, 0).x0 == 0, "AFFINITY_INFO(REC 1) = ON after CPU_ON")
  check(rsi(PSCIFunction.affinityInfo.smc64, 1, 1).x0 == psci(.invalidParameters), "AFFINITY_INFO level 1: INVALID_PARAMETERS")
  check(rsi(PSCIFunction.cpuOn.smc64, 1, realmSecondaryEntryAddress(), 0).x0 == psci(.alreadyOn), "CPU_ON(REC 1) again: ALREADY_ON")
  check(rsi(PSCIFunction.cpuSuspend.smc64, 0, 0, 0).x0 == success, "CPU_SUSPEND returns SUCCESS")
  // The host ran REC 1 meanwhile; it said hello and switched itself off.
  check(rsi(PSCIFunction.affinityInfo.smc64, 1, 0).x0 == 1, "AFFINITY_INFO(REC 1) = OFF after its CPU_OFF")
}

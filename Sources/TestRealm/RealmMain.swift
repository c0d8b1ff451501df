// The realm test payload: calls every RSI command and PSCI function, good and bad
// arguments, and reports each result to the host over RSI_HOST_CALL.

import AArch64Shim
import RMMABI
import RMMCore

@_silgen_name("realm_probe")
func realmProbe(_ address: UInt64) -> UInt64
@_silgen_name("realm_hvc")
func realmHVC() -> UInt64
@_silgen_name("realm_config_address")
func realmConfigAddress() -> UInt64
@_silgen_name("realm_secondary_entry_address")
func realmSecondaryEntryAddress() -> UInt64

let rsiSuccess = RSIStatus.success.rawValue
let rsiInput = RSIStatus.errorInput.rawValue

/// Fixed IPAs of the test (TestHost/RealmRunner.swift populates and serves them).
enum RealmLayout {
  static let unpopulated: UInt64 = 0x9_0000       // RIPAS RAM, no DATA until the host faults it in
  static let ripasTest: UInt64 = 0xA_0000         // 2 pages whose RIPAS the tests change
  static let rejected: UInt64 = 0xB_0000          // the host rejects RIPAS changes here
  static let ipaWidth: UInt64 = 40
  static let mmio: UInt64 = (1 << 39) + 0x1000    // unprotected: emulated by the host
  /// What the host's REALM_CREATE gave this realm (TestHost/RealmLifecycleTests.swift).
  static let personalizationValue: UInt64 = 0x5357_4946_5452_4D4D
  static let breakpoints: UInt64 = 1
  static let watchpoints: UInt64 = 1
}

@_cdecl("realm_main")
public func realmMain(_ x0: UInt64, _ x1: UInt64, _ x2: UInt64, _ x3: UInt64, _ x4: UInt64) {
  if x2 == 1 {
    runBenchmark(attestation: x3 == 0, rounds: x4 == 0 ? 1000 : x4)
    return
  }
  if x2 == 2 {
    runFeatureRealm(sve: x3, pmu: x4)
    return
  }
  if x2 == 3 {
    runLPA2Touch(address: x3, expected: x4)
    return
  }
  say("hello from REC 0 at R-EL1 (Embedded Swift)")
  check(x0 == 0x1111 && x1 == 0x2222, "REC 0 starts with x0/x1 from RmiRecParams")

  // RSI_VERSION / FEATURES / SMCCC / PSCI versions.
  let version = rsi(.version, rsiABIVersion.encoded)
  check(version.x0 == rsiSuccess && version.x1 == 0x1_0000 && version.x2 == 0x1_0000, "RSI_VERSION(1.0)")
  let v2 = rsi(.version, 0x2_0000)
  check(v2.x0 == rsiInput && v2.x1 == 0x1_0000 && v2.x2 == 0x1_0000, "RSI_VERSION(2.0): ERROR_INPUT, 1.0 implemented")
  let features = rsi(.features, 0)
  check(features.x0 == rsiSuccess && features.x1 == 0, "RSI_FEATURES(0) = 0")
  check(rsi(SMCCCFunction.version.rawValue).x0 == 0x1_0002, "SMCCC_VERSION = 1.2")
  check(rsi(PSCIFunction.version.rawValue).x0 == 0x1_0001, "PSCI_VERSION = 1.1")
  check(rsi(PSCIFunction.features.rawValue, PSCIFunction.systemOff.rawValue).x0 == 0, "PSCI_FEATURES(SYSTEM_OFF) = 0")
  check(rsi(PSCIFunction.features.rawValue, PSCIFunction.cpuOn.smc64).x0 == 0, "PSCI_FEATURES(CPU_ON64) = 0")
  check(rsi(PSCIFunction.features.rawValue, 0x8400_00FF).x0 == smcUnknown, "PSCI_FEATURES(unknown) = NOT_SUPPORTED")
  check(rsi(PSCIFunction.affinityInfo.smc64, 0, 0).x0 == 0, "AFFINITY_INFO on itself: ON, answered by the RMM")
  check(rsi(0xC400_01A0).x0 == smcUnknown, "an unknown RSI FID returns SMC_UNKNOWN")
  check(rsi(0xC200_0000).x0 == smcUnknown, "a non-RSI SMC returns SMC_UNKNOWN")

  // RSI_REALM_CONFIG.
  let config = realmConfigAddress()
  check(rsi(.realmConfig, config).x0 == rsiSuccess, "RSI_REALM_CONFIG")
  let configPage = UnsafePointer<UInt64>(bitPattern: UInt(config))!
  check(configPage[0] == RealmLayout.ipaWidth && configPage[1] == 0, "RsiRealmConfig: ipa_width 40, SHA-256")
  var rpvMatches = configPage[RSIRealmConfigLayout.personalizationValue / 8] == RealmLayout.personalizationValue
  for i in 1..<8 where configPage[RSIRealmConfigLayout.personalizationValue / 8 + i] != 0 { rpvMatches = false }
  check(rpvMatches, "RsiRealmConfig: rpv at 0x200 is the RPV of REALM_CREATE")
  check(rsi(.realmConfig, config + 8).x0 == rsiInput, "RSI_REALM_CONFIG unaligned: ERROR_INPUT")
  check(rsi(.realmConfig, RealmLayout.mmio & ~0xFFF).x0 == rsiInput, "RSI_REALM_CONFIG unprotected: ERROR_INPUT")
  check(rsi(.realmConfig, 1 << 40).x0 == rsiInput, "RSI_REALM_CONFIG beyond the IPA space: ERROR_INPUT")

  runFeatureVisibilityTests()
  runMeasurementTests()
  runFPTests()
  runMemoryTests()
  runExceptionTests()
  runPSCITests()
  runHostRequestedExitTests()
  runInterruptTests()
  runAttestationTests()
  runRSIFuzz(seed: readCounter() | 1, count: 5000)

  say("REC 0 done: PSCI SYSTEM_OFF")
  _ = rsi(PSCIFunction.systemOff.rawValue)
  check(false, "SYSTEM_OFF returned")
}

/// Guest-instruction counts (QEMU -icount shift=0: the counter ticks once per instruction).
func runBenchmark(attestation: Bool, rounds: UInt64) {
  _ = rsi(.version, rsiABIVersion.encoded)
  let start = readCounter()
  for _ in 0..<rounds { _ = rsi(.version, rsiABIVersion.encoded) }
  let perCall = (readCounter() &- start) / rounds
  _ = hostCall(HostCallCode.benchResult, first: perCall, text: "")
  for _ in 0..<rounds { _ = hostCall(HostCallCode.benchTick, text: "") }
  guard attestation else {
    _ = rsi(PSCIFunction.systemOff.rawValue)
    return
  }
  // A whole attestation token: INIT, then CONTINUE (signing included) until SUCCESS.
  var idle: UInt64 = 0
  let attestStart = readCounter()
  let length = attestInit().x0 == rsiSuccess ? attestCollect(into: AttestationLayout.tokenA, piece: 4096, incompleteWithoutBytes: &idle) : 0
  let attestTicks = readCounter() &- attestStart
  _ = hostCall(HostCallCode.benchAttestation, first: length > 0 ? attestTicks : 0, text: "")
  _ = rsi(PSCIFunction.systemOff.rawValue)
}

func readCounter() -> UInt64 {
  isb()
  return read_cntvct_el0()
}

@_cdecl("realm_secondary")
public func realmSecondary(_ context: UInt64) {
  say("hello from REC 1, started by PSCI CPU_ON")
  check(context == 0xC0FFEE, "REC 1 starts with the CPU_ON context in x0")
  if realmHasPAuth() { check(realmPAuthKey() == 0, "REC 1 starts with its own (zero) pointer authentication keys") }
  _ = rsi(PSCIFunction.cpuOff.rawValue)
  check(false, "CPU_OFF returned")
}

@_cdecl("realm_exception")
public func realmException(_ vector: UInt64, _ esr: UInt64, _ elr: UInt64, _ far: UInt64) {
  _ = hostCall(HostCallCode.check, first: 0, text: "unexpected exception in the realm")
  _ = hostCall(HostCallCode.echo, first: esr, text: "ESR")
  _ = rsi(PSCIFunction.systemOff.rawValue)
}

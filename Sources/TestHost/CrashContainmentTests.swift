// Against a test-hooks build of the RMM: a deliberate fault inside the RMM is
// reported on the console and contained. The call and every later call fail with
// SMC_UNKNOWN; nothing hangs.

import AArch64Shim
import RMMABI
import RMMCore

func runCrashContainmentTests() {
  section("crash containment (RMM built with RMM_TEST_HOOKS)")
  expect(rmi(.version, rmiABIVersion.encoded), .success, "RMI_VERSION before the fault")
  let hook = RunConfiguration.argument(0) == 2 ? UInt64(2) : 1  // 1: unmapped read, 2: stack overflow
  let crashed = smc(0xC400_018E, hook)
  expectValue(crashed.x0, smcUnknown, "the faulting call returns SMC_UNKNOWN instead of hanging")
  expectValue(rmi(.version, rmiABIVersion.encoded).x0, smcUnknown, "a halted RMM answers RMI_VERSION with SMC_UNKNOWN")
  expectValue(rmi(.granuleDelegate, Board.testGranules).x0, smcUnknown, "a halted RMM refuses to touch granules")
  check(testhost_probe_read(Board.testGranules).esr == 0, "the granule stayed NS")
}

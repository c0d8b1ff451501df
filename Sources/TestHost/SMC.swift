// Calls from the NS host to the RMM (through EL3) and to EL3's PSCI.

import AArch64Shim
import RMMABI
import RMMCore

struct SMCResult: Equatable {
  var x0, x1, x2, x3, x4: UInt64
  var status: RMIStatus? { RMIStatus(encoded: x0) }
}

@inline(__always)
func smc(_ fid: UInt64, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0, _ a4: UInt64 = 0,
         _ a5: UInt64 = 0) -> SMCResult {
  let r = smc_call5(fid, a1, a2, a3, a4, a5)
  return SMCResult(x0: r.x0, x1: r.x1, x2: r.x2, x3: r.x3, x4: r.x4)
}

@inline(__always)
func rmi(_ command: RMICommand, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0, _ a4: UInt64 = 0,
         _ a5: UInt64 = 0) -> SMCResult {
  let result = smc(command.rawValue, a1, a2, a3, a4, a5)
  AuditCollector.tick()
  return result
}

func counter() -> UInt64 {
  isb()
  return read_cntpct_el0()
}

/// Waits for `condition` at most `ticks` counter ticks (CNTFRQ 1 GHz on QEMU).
func wait(upTo ticks: UInt64, until condition: () -> Bool) -> Bool {
  let start = counter()
  while !condition() {
    if counter() &- start > ticks { return false }
  }
  return true
}

// The RMM-EL3 interface calls the core needs, over SMC to TF-A's RMMD.

import AArch64Shim
import RMMABI
import RMMCore

struct TFAMonitor: EL3Monitor {
  func gtsiDelegate(_ pa: UInt64) -> EL3Status {
    status(smc_call(EL3Call.gtsiDelegate.rawValue, pa, 0, 0, 0).x0)
  }

  func gtsiUndelegate(_ pa: UInt64) -> EL3Status {
    status(smc_call(EL3Call.gtsiUndelegate.rawValue, pa, 0, 0, 0).x0)
  }

  private func status(_ x0: UInt64) -> EL3Status {
    EL3Status(rawValue: Int64(bitPattern: x0)) ?? .unknown
  }
}

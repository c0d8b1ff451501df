// The concrete machine behind the core's generic interfaces. Zero-sized: every
// property reads a global set up once at cold boot, so handing an environment to a
// handler costs nothing.

import RMMABI
import RMMCore

nonisolated(unsafe) var granuleTable = GranuleTable(storage: FirmwareDescriptors())
nonisolated(unsafe) var featureRegister0 = RMIFeatureRegister0(rawValue: 0)

struct FirmwareEnvironment: RMMEnvironment {
  /// Borrowed in place (`_read`): the table is a few hundred bytes, read on every
  /// granule lookup, and must not be copied out of the global each time.
  var granules: GranuleTable<FirmwareDescriptors> { _read { yield granuleTable } }
  var mapper: SlotMapper { SlotMapper() }
  var monitor: TFAMonitor { TFAMonitor() }
  var tlb: BroadcastStageTwoTLB { BroadcastStageTwoTLB() }
  var vmids: VMIDBitmap { VMIDBitmap() }
  var cpu: FirmwareRealmCPU { FirmwareRealmCPU() }
  var attestation: FirmwareAttestation { FirmwareAttestation() }
  var features: RMIFeatureRegister0 { featureRegister0 }

  /// A corrupt RMM structure: alert, then the crash path (the CPU stops serving and
  /// every further RMI call returns SMC_UNKNOWN).
  func halt(_ corruption: Corruption) -> Never {
    var out = Console()
    out.write("RMM ALERT: corrupt RMM state (")
    out.decimal(UInt64(corruption.rawValue))
    out.write("): halting\n")
    fatalError()
  }
}

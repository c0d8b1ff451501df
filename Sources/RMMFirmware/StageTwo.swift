// Stage-2 TLB maintenance and the VMID registry behind the core's protocols.

import AArch64Shim
import RMMCore

struct BroadcastStageTwoTLB: StageTwoTLB {
  func invalidate(vmid: UInt16, ipa: UInt64, level: Int) { tlbi_stage2_ipa(vmid, ipa) }
  func invalidateAll(vmid: UInt16) { tlbi_stage2_vmid(vmid) }
}

/// VMID width from ID_AA64MMFR1_EL1.VMIDBits: 0b0010 means 16 bits, else 8.
nonisolated(unsafe) var maximumVMID: UInt16 = 255

struct VMIDBitmap: VMIDRegistry {
  var maximum: UInt16 { maximumVMID }
  func reserve(_ vmid: UInt16) -> Bool { vmid_reserve(vmid) != 0 }
  func release(_ vmid: UInt16) { vmid_release(vmid) }
}

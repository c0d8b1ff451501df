// The granule descriptors in RMM memory (linker section in .bss), locked with LL/SC.

import AArch64Shim
import RMMCore

/// The bank list (GranuleBanks), beside the descriptors; set once at cold boot.
nonisolated(unsafe) var granuleBanks = GranuleBanks()

struct FirmwareDescriptors: GranuleDescriptorStorage {
  var banks: GranuleBanks { granuleBanks }
  func install(_ banks: GranuleBanks) { granuleBanks = banks }

  var count: Int { Int(rmm_granule_descriptor_count()) }

  func lock(_ index: Int) -> GranuleDescriptor {
    GranuleDescriptor(rawValue: granule_lock_acquire(rmm_granule_descriptors() + index))
  }

  func unlock(_ index: Int, storing descriptor: GranuleDescriptor) {
    granule_lock_release(rmm_granule_descriptors() + index, descriptor.rawValue)
  }

  func peek(_ index: Int) -> GranuleDescriptor {
    GranuleDescriptor(rawValue: granule_peek(rmm_granule_descriptors() + index)).unlocked
  }
}

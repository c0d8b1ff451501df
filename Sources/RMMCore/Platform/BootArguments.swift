// Validation of the registers EL3 passes to the RMM's cold boot.

import RMMABI

public enum BootArguments {
  /// Checks x0-x3 of a cold boot in the order the RMM-EL3 interface lists them.
  public static func validateColdBoot(cpu: UInt64, interfaceVersion: UInt64, cpuCount: UInt64,
                                      sharedPage: UInt64, supportedCPUs: UInt64) throws(BootStatus) {
    guard interfaceVersion >> 31 == 0,
          InterfaceVersion(encoded: interfaceVersion).major == rmmEL3InterfaceMajor else {
      throw .versionNotValid
    }
    guard cpuCount >= 1, cpuCount <= supportedCPUs else { throw .cpusOutOfRange }
    guard cpu < cpuCount else { throw .cpuIDOutOfRange }
    guard sharedPage != 0, isGranuleAligned(sharedPage) else { throw .invalidSharedBuffer }
  }

  /// A warm boot passes only the CPU index; x1-x3 are zero.
  public static func validateWarmBoot(cpu: UInt64, x1: UInt64, x2: UInt64, x3: UInt64,
                                      cpuCount: UInt64) throws(BootStatus) {
    guard cpu < cpuCount else { throw .cpuIDOutOfRange }
    guard x1 | x2 | x3 == 0 else { throw .unknown }
  }
}


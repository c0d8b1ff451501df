// Interface versions, encoded as (major << 16) | minor.

public struct InterfaceVersion: Equatable, Sendable {
  public var major: UInt16
  public var minor: UInt16
  @inlinable public init(major: UInt16, minor: UInt16) { self.major = major; self.minor = minor }
  @inlinable public init(encoded: UInt64) {
    major = UInt16(truncatingIfNeeded: (encoded >> 16) & 0x7FFF)
    minor = UInt16(truncatingIfNeeded: encoded & 0xFFFF)
  }
  @inlinable public var encoded: UInt64 { UInt64(major) << 16 | UInt64(minor) }
}

/// The RMI and RSI ABI this RMM implements: 1.0 (1.0-rel0), and only that.
public let rmiABIVersion = InterfaceVersion(major: 1, minor: 0)
public let rsiABIVersion = InterfaceVersion(major: 1, minor: 0)
/// RMM-EL3 interface major version this RMM speaks (TF-A 2.12.x reports 0.4).
public let rmmEL3InterfaceMajor: UInt16 = 0
/// Boot manifest version this RMM parses (TF-A 2.12.x writes 0.3).
public let bootManifestVersion = InterfaceVersion(major: 0, minor: 3)
/// PSCI and SMCCC versions reported to realms.
public let psciVersionForRealms = InterfaceVersion(major: 1, minor: 1)
public let smcccVersionForRealms = InterfaceVersion(major: 1, minor: 2)

// RMI_VERSION and RMI_FEATURES.

import RMMABI

public struct VersionAnswer: Equatable, Sendable {
  public var lower: UInt64
  public var higher: UInt64
  public var supported: Bool
  func check() throws(RMIError) { if !supported { throw .input } }
}

extension RMIDispatcher {
  /// Spec: succeeds only if the requested version is one this RMM implements; both
  /// outcomes report the lowest and highest implemented revision (here both 1.0).
  public func rmiVersion(requested: UInt64) -> VersionAnswer {
    let implemented = rmiABIVersion.encoded
    return VersionAnswer(lower: implemented, higher: implemented, supported: requested == implemented)
  }

  /// Feature register 0 describes what this RMM really supports; other indices read as zero.
  public func rmiFeatures(index: UInt64) -> UInt64 {
    index == 0 ? environment.features.rawValue : 0
  }
}

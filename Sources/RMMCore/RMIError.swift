// The typed error every RMI handler throws: exactly the status (and index) the host sees.

import RMMABI

public struct RMIError: Error, Equatable, Sendable {
  public var status: RMIStatus
  @inlinable public init(_ status: RMIStatus) { self.status = status }

  public static let input = RMIError(RMIStatus(.errorInput))
  @inlinable public static func realm(index: UInt8 = 0) -> RMIError { RMIError(RMIStatus(.errorRealm, index: index)) }
  public static let rec = RMIError(RMIStatus(.errorREC))
  /// RMI_ERROR_RTT carries the level at which the walk stopped.
  @inlinable public static func rtt(level: Int) -> RMIError {
    RMIError(RMIStatus(.errorRTT, index: UInt8(truncatingIfNeeded: level)))
  }
}

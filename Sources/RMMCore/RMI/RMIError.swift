// The typed error every RMI handler throws: exactly the status (and index) the host sees.

import RMMABI

public struct RMIError: Error, Equatable, Sendable {
  public var status: RMIStatus
  /// The `top` output that DATA_DESTROY, RTT_DESTROY and RTT_UNMAP_UNPROTECTED still
  /// report with RMI_ERROR_RTT (how far the host may skip).
  public var top: UInt64?
  @inlinable public init(_ status: RMIStatus, top: UInt64? = nil) {
    self.status = status
    self.top = top
  }

  /// The same error, carrying `top`.
  @inlinable public func with(top: UInt64) -> RMIError { RMIError(status, top: top) }

  public static let input = RMIError(RMIStatus(.errorInput))
  @inlinable public static func realm(index: UInt8 = 0) -> RMIError { RMIError(RMIStatus(.errorRealm, index: index)) }
  public static let rec = RMIError(RMIStatus(.errorREC))
  /// RMI_ERROR_RTT carries the level at which the walk stopped.
  @inlinable public static func rtt(level: Int) -> RMIError {
    RMIError(RMIStatus(.errorRTT, index: UInt8(truncatingIfNeeded: level)))
  }
}

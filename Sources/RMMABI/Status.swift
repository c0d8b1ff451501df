// RMI and RSI status codes and the packing of an RMI status with its index.

/// RMI status codes, RMM specification 1.0-rel0 (bits [7:0] of x0).
public enum RMIStatusCode: UInt8, Sendable {
  case success = 0
  case errorInput = 1
  case errorRealm = 2
  case errorREC = 3
  case errorRTT = 4
}

/// A complete RMI status: code plus index (bits [15:8]). For RMI_ERROR_RTT the
/// index is the level at which the table walk stopped.
public struct RMIStatus: Equatable, Sendable {
  public var code: RMIStatusCode
  public var index: UInt8

  @inlinable public init(_ code: RMIStatusCode, index: UInt8 = 0) {
    self.code = code
    self.index = index
  }

  public static let success = RMIStatus(.success)

  /// The value the host sees in x0.
  @inlinable public var encoded: UInt64 { UInt64(index) << 8 | UInt64(code.rawValue) }

  /// Decodes x0; nil for values that are not an RMI status (for example SMC_UNKNOWN).
  @inlinable public init?(encoded: UInt64) {
    guard encoded >> 16 == 0, let code = RMIStatusCode(rawValue: UInt8(encoded & 0xFF)) else {
      return nil
    }
    self.code = code
    self.index = UInt8(encoded >> 8)
  }
}

/// RSI status codes, RMM specification 1.0-rel0.
public enum RSIStatus: UInt64, Sendable {
  case success = 0
  case errorInput = 1
  case errorState = 2
  case incomplete = 3
  /// The command failed for an unknown or IMPLEMENTATION DEFINED reason (token
  /// generation in RSI_ATTESTATION_TOKEN_CONTINUE: B5.3.1 `unknown`).
  case errorUnknown = 4
}

/// PSCI return codes (DEN0022), as the 64-bit value in x0.
public enum PSCIStatus: Int64, Sendable {
  case success = 0
  case notSupported = -1
  case invalidParameters = -2
  case denied = -3
  case alreadyOn = -4
  case onPending = -5
  case internalFailure = -6
  case notPresent = -7
  case disabled = -8
  case invalidAddress = -9
}

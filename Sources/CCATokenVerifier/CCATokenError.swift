// Why a CCA token was rejected: one case per kind of failure, each with enough detail
// to act on when it is printed.

/// Which part of the token a failure is about.
public enum TokenPart: String, Sendable {
  case collection = "CCA token collection"
  case platformToken = "platform token"
  case realmToken = "realm token"
  case platformClaims = "platform claims"
  case realmClaims = "realm claims"
  case realmPublicKey = "realm public key (44237)"
  case auditCheckpoint = "audit checkpoint"
}

public enum CCATokenError: Error, Equatable, Sendable, CustomStringConvertible {
  case malformedCBOR(TokenPart, CBORError)
  case wrongTag(TokenPart, expected: UInt64, found: UInt64?)
  /// The CBOR is well formed but not shaped as this part must be.
  case malformedStructure(TokenPart, String)
  case missingEntry(TokenPart, key: UInt64)
  case unexpectedEntry(TokenPart, key: String)
  case wrongClaimType(TokenPart, key: UInt64, expected: String)
  case wrongClaimSize(TokenPart, key: UInt64, expected: Int, found: Int)
  case unsupportedAlgorithm(TokenPart, found: String)
  case wrongProfile(found: String)
  case unknownHashAlgorithm(key: UInt64, found: String)
  /// A RIM or REM whose size is not the digest size of the measurement algorithm.
  case measurementSizeMismatch(key: UInt64, index: Int?, hashAlgorithm: String, expected: Int, found: Int)
  case invalidPublicKey(String)
  case signatureInvalid
  /// The platform token's challenge is not SHA-256 of the realm public key claim.
  case bindingMismatch(platformChallenge: [UInt8], publicKeyHash: [UInt8])
  case challengeMismatch(expected: [UInt8], found: [UInt8])
  case initialMeasurementMismatch(expected: [UInt8], found: [UInt8])

  public var description: String {
    switch self {
    case .malformedCBOR(let part, let error):
      return "\(part.rawValue): \(error)"
    case .wrongTag(let part, let expected, let found):
      return "\(part.rawValue): expected CBOR tag \(expected), found " + (found.map { "tag \($0)" } ?? "no tag")
    case .malformedStructure(let part, let why):
      return "\(part.rawValue): \(why)"
    case .missingEntry(let part, let key):
      return "\(part.rawValue): missing \(claimLabel(part, key))"
    case .unexpectedEntry(let part, let key):
      return "\(part.rawValue): unexpected entry with key \(key)"
    case .wrongClaimType(let part, let key, let expected):
      return "\(part.rawValue): \(claimLabel(part, key)) is not \(expected)"
    case .wrongClaimSize(let part, let key, let expected, let found):
      return "\(part.rawValue): \(claimLabel(part, key)) is \(found) bytes, expected \(expected)"
    case .unsupportedAlgorithm(let part, let found):
      return "\(part.rawValue): signature algorithm \(found), expected ES384 (-35)"
    case .wrongProfile(let found):
      return "realm claims: profile is \"\(found)\", expected \"\(RealmClaims.expectedProfile)\""
    case .unknownHashAlgorithm(let key, let found):
      return "realm claims: \(claimLabel(.realmClaims, key)) is \"\(found)\", not a supported algorithm"
    case .measurementSizeMismatch(let key, let index, let algorithm, let expected, let found):
      let which = claimLabel(.realmClaims, key) + (index.map { " [\($0)]" } ?? "")
      return "realm claims: \(which) is \(found) bytes, but \(algorithm) digests are \(expected)"
    case .invalidPublicKey(let why):
      return "realm public key (44237): \(why)"
    case .signatureInvalid:
      return "realm token: the ES384 signature does not verify with the realm public key it carries"
    case .bindingMismatch(let challenge, let hash):
      return "binding: platform challenge \(hexString(challenge)) is not SHA-256 of the realm public key claim (\(hexString(hash)))"
    case .challengeMismatch(let expected, let found):
      return "realm challenge \(hexString(found)) is not the expected \(hexString(expected))"
    case .initialMeasurementMismatch(let expected, let found):
      return "realm initial measurement \(hexString(found)) is not the expected \(hexString(expected))"
    }
  }
}

/// "claim name (key)" for messages and printing.
func claimLabel(_ part: TokenPart, _ key: UInt64) -> String {
  let name: String?
  switch part {
  case .realmClaims: name = RealmClaims.claimName(key)
  case .platformClaims: name = PlatformClaims.claimName(key)
  default: name = nil
  }
  return name.map { "\($0) (\(key))" } ?? "entry \(key)"
}

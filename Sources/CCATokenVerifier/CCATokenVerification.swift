// The verification policy: when a CCA token from our RMM is accepted. The realm token
// must be signed (ES384) by the key it carries, that key must be the one the platform
// token vouches for (its challenge is SHA-256 of the key claim), and the claims must
// be those of RMM 1.0 with consistent sizes. The platform token's own signature is
// EL3's and cannot be checked here (on QEMU it is TF-A's fixed sample token), so it
// only has to be a well-formed ES384 COSE_Sign1.
import RMMABI

/// What the caller knows the token must say.
public struct CCATokenExpectations: Sendable {
  /// The challenge the realm passed to RSI_ATTEST_TOKEN_INIT.
  public var challenge: [UInt8]?
  /// The realm's initial measurement (RIM).
  public var initialMeasurement: [UInt8]?

  public init(challenge: [UInt8]? = nil, initialMeasurement: [UInt8]? = nil) {
    self.challenge = challenge
    self.initialMeasurement = initialMeasurement
  }
}

public enum CCATokenVerifier {
  /// Parses and verifies a CCA token; returns it parsed if every check passes.
  @discardableResult
  public static func verify(_ bytes: [UInt8], expecting expectations: CCATokenExpectations = .init())
    throws(CCATokenError) -> ParsedCCAToken
  {
    let token = try ParsedCCAToken(bytes)
    try verify(token, expecting: expectations)
    return token
  }

  /// The checks on an already parsed token, in order: message form, realm signature,
  /// realm claims, binding, then the caller's expectations.
  public static func verify(_ token: ParsedCCAToken, expecting expectations: CCATokenExpectations = .init())
    throws(CCATokenError)
  {
    try checkES384Form(token.platformToken, part: .platformToken)
    try checkES384Form(token.realmToken, part: .realmToken)

    let realm = token.realmClaims
    guard realm.publicKey.key.isValidSignature(token.realmToken.signature, for: token.realmToken.toBeSigned) else {
      throw .signatureInvalid
    }

    try checkRealmClaims(realm)

    guard let platformChallengeClaim = token.platformClaims[PlatformClaim.challenge] else {
      throw .missingEntry(.platformClaims, key: PlatformClaim.challenge)
    }
    guard let platformChallenge = platformChallengeClaim.bytesValue else {
      throw .wrongClaimType(.platformClaims, key: PlatformClaim.challenge, expected: "a byte string")
    }
    let publicKeyHash = SHA2.sha256(realm.publicKey.encoded)
    guard platformChallenge == publicKeyHash else {
      throw .bindingMismatch(platformChallenge: platformChallenge, publicKeyHash: publicKeyHash)
    }

    if let expected = expectations.challenge, expected != realm.challenge {
      throw .challengeMismatch(expected: expected, found: realm.challenge)
    }
    if let expected = expectations.initialMeasurement, expected != realm.initialMeasurement {
      throw .initialMeasurementMismatch(expected: expected, found: realm.initialMeasurement)
    }
  }

  /// Digest size of a measurement algorithm the realm token may name.
  public static func digestSize(ofHashAlgorithm name: String) -> Int? {
    switch name {
    case "\(RealmClaim.sha256Name)": return 32
    case "\(RealmClaim.sha512Name)": return 64
    default: return nil
    }
  }

  private static func checkES384Form(_ message: COSESign1, part: TokenPart) throws(CCATokenError) {
    guard message.algorithm == COSE.es384 else {
      let found = message.protectedHeader[CBORValue(COSE.algorithmLabel)]?.description ?? "none"
      throw .unsupportedAlgorithm(part, found: found)
    }
    guard message.signature.count == COSE.es384SignatureSize else {
      throw .malformedStructure(part, "signature is \(message.signature.count) bytes, expected \(COSE.es384SignatureSize)")
    }
  }

  private static func checkRealmClaims(_ realm: RealmClaims) throws(CCATokenError) {
    guard realm.profile == RealmClaims.expectedProfile else { throw .wrongProfile(found: realm.profile) }
    try checkSize(realm.challenge, key: RealmClaim.challenge, expected: rsiAttestationChallengeSize)
    // The personalization value is a 64-byte field of RMI_REALM_CREATE's parameters.
    try checkSize(realm.personalizationValue, key: RealmClaim.personalizationValue, expected: rsiAttestationChallengeSize)
    guard realm.publicKeyHashAlgorithm == "\(RealmClaim.publicKeyHashName)" else {
      throw .unknownHashAlgorithm(key: RealmClaim.publicKeyHashAlgorithmID, found: realm.publicKeyHashAlgorithm)
    }
    guard let digestSize = digestSize(ofHashAlgorithm: realm.hashAlgorithm) else {
      throw .unknownHashAlgorithm(key: RealmClaim.hashAlgorithmID, found: realm.hashAlgorithm)
    }
    guard realm.initialMeasurement.count == digestSize else {
      throw .measurementSizeMismatch(key: RealmClaim.initialMeasurement, index: nil, hashAlgorithm: realm.hashAlgorithm,
                                     expected: digestSize, found: realm.initialMeasurement.count)
    }
    guard realm.extensibleMeasurements.count == RealmClaim.extensibleMeasurementCount else {
      throw .malformedStructure(.realmClaims, "\(claimLabel(.realmClaims, RealmClaim.extensibleMeasurements)) has "
        + "\(realm.extensibleMeasurements.count) entries, expected \(RealmClaim.extensibleMeasurementCount)")
    }
    for (index, rem) in realm.extensibleMeasurements.enumerated() where rem.count != digestSize {
      throw .measurementSizeMismatch(key: RealmClaim.extensibleMeasurements, index: index,
                                     hashAlgorithm: realm.hashAlgorithm, expected: digestSize, found: rem.count)
    }
  }

  private static func checkSize(_ value: [UInt8], key: UInt64, expected: Int) throws(CCATokenError) {
    guard value.count == expected else {
      throw .wrongClaimSize(.realmClaims, key: key, expected: expected, found: value.count)
    }
  }
}

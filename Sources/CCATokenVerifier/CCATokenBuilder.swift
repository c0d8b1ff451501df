// Builds CCA tokens the way RMM 1.0 lays them out, signed with a key we hold: for the
// tests (good tokens and precisely broken ones) and `cca-token sample`, so that the
// verifiers can be exercised without a running RMM.
import RMMABI

public struct CCATokenBuilder {
  public var challenge = [UInt8](repeating: 0xc5, count: rsiAttestationChallengeSize)
  public var profile = RealmClaims.expectedProfile
  public var personalizationValue = [UInt8](repeating: 0, count: rsiAttestationChallengeSize)
  public var hashAlgorithm = "\(RealmClaim.sha256Name)"
  public var initialMeasurement = SHA2.sha256(Array("initial measurement".utf8))
  public var extensibleMeasurements = [[UInt8]](repeating: [UInt8](repeating: 0, count: 32),
                                                count: RealmClaim.extensibleMeasurementCount)
  public var publicKeyHashAlgorithm = "\(RealmClaim.publicKeyHashName)"
  /// A platform token to embed as is; nil builds one whose challenge binds the realm key.
  public var platformToken: [UInt8]?
  /// The challenge of the built platform token; nil means SHA-256 of the key claim.
  public var platformChallenge: [UInt8]?

  public let realmKey: ES384PrivateKey
  /// Signs the built platform token (nobody checks it, but it should look real).
  public let platformKey: ES384PrivateKey

  public init(realmKey: ES384PrivateKey, platformKey: ES384PrivateKey) {
    self.realmKey = realmKey
    self.platformKey = platformKey
  }

  /// The realm claims, in the order RMMABI lists them.
  public func realmClaimEntries() -> [CBORMapEntry] {
    [
      CBORMapEntry(.unsigned(RealmClaim.challenge), .bytes(challenge)),
      CBORMapEntry(.unsigned(RealmClaim.profile), .text(profile)),
      CBORMapEntry(.unsigned(RealmClaim.personalizationValue), .bytes(personalizationValue)),
      CBORMapEntry(.unsigned(RealmClaim.hashAlgorithmID), .text(hashAlgorithm)),
      CBORMapEntry(.unsigned(RealmClaim.publicKey), .bytes(RealmPublicKey(realmKey.publicKey).encoded)),
      CBORMapEntry(.unsigned(RealmClaim.initialMeasurement), .bytes(initialMeasurement)),
      CBORMapEntry(.unsigned(RealmClaim.extensibleMeasurements), .array(extensibleMeasurements.map { .bytes($0) })),
      CBORMapEntry(.unsigned(RealmClaim.publicKeyHashAlgorithmID), .text(publicKeyHashAlgorithm)),
    ]
  }

  /// A platform token in the shape of the CCA platform profile.
  public func platformClaimEntries() -> [CBORMapEntry] {
    let keyHash = SHA2.sha256(RealmPublicKey(realmKey.publicKey).encoded)
    let component = CBORValue.map([
      CBORMapEntry(.unsigned(PlatformSoftwareComponentKey.measurementType), .text("BL2")),
      CBORMapEntry(.unsigned(PlatformSoftwareComponentKey.measurementValue), .bytes(SHA2.sha256(Array("BL2".utf8)))),
      CBORMapEntry(.unsigned(PlatformSoftwareComponentKey.signerID), .bytes(SHA2.sha256(Array("signer".utf8)))),
      CBORMapEntry(.unsigned(PlatformSoftwareComponentKey.measurementDescription), .text("sha-256")),
    ])
    return [
      CBORMapEntry(.unsigned(PlatformClaim.profile), .text("tag:arm.com,2023:cca_platform#1.0.0")),
      CBORMapEntry(.unsigned(PlatformClaim.challenge), .bytes(platformChallenge ?? keyHash)),
      CBORMapEntry(.unsigned(PlatformClaim.implementationID), .bytes([UInt8](repeating: 0x1d, count: 32))),
      CBORMapEntry(.unsigned(PlatformClaim.instanceID), .bytes([0x01] + [UInt8](repeating: 0x1e, count: 32))),
      CBORMapEntry(.unsigned(PlatformClaim.platformConfig), .bytes([0xcf, 0xcf, 0xcf, 0xcf])),
      CBORMapEntry(.unsigned(PlatformClaim.securityLifecycle), .unsigned(0x3003)),
      CBORMapEntry(.unsigned(PlatformClaim.hashAlgorithmID), .text("sha-256")),
      CBORMapEntry(.unsigned(PlatformClaim.verificationService), .text("https://verifier.example/")),
      CBORMapEntry(.unsigned(PlatformClaim.softwareComponents), .array([component])),
    ]
  }

  public func build() throws(ES384Error) -> [UInt8] {
    try build(realmClaims: realmClaimEntries())
  }

  /// The token with the given realm claims (tests remove or replace some).
  public func build(realmClaims: [CBORMapEntry]) throws(ES384Error) -> [UInt8] {
    let realmToken = try Self.sign(payload: CBOREncoder.encode(.map(realmClaims)), with: realmKey)
    var platform = platformToken ?? []
    if platformToken == nil {
      platform = try Self.sign(payload: CBOREncoder.encode(.map(platformClaimEntries())), with: platformKey)
    }
    return CBOREncoder.encode(.tagged(CCAToken.collectionTag, .map([
      CBORMapEntry(.unsigned(CCAToken.platformTokenKey), .bytes(platform)),
      CBORMapEntry(.unsigned(CCAToken.realmTokenKey), .bytes(realmToken)),
    ])))
  }

  /// A tagged COSE_Sign1 with protected header {alg: ES384} and an empty unprotected one.
  public static func sign(payload: [UInt8], with key: ES384PrivateKey) throws(ES384Error) -> [UInt8] {
    let protectedHeader = CBOREncoder.encode(.map([CBORMapEntry(CBORValue(COSE.algorithmLabel), CBORValue(COSE.es384))]))
    let toBeSigned = CBOREncoder.encode(.array([
      .text("\(COSE.signature1Context)"), .bytes(protectedHeader), .bytes([]), .bytes(payload),
    ]))
    let signature = try key.sign(toBeSigned)
    return CBOREncoder.encode(.tagged(CCAToken.coseSign1Tag, .array([
      .bytes(protectedHeader), .map([]), .bytes(payload), .bytes(signature),
    ])))
  }
}

/// QEMU's test realm attestation key (TF-A's qemu platform hands it to the RMM): with
/// it, a built realm token binds to TF-A's sample platform token.
public enum QEMUTestRAK {
  public static let scalar = hexBytes("2011c7f03cee4325176e524f033c0ce1e21a76e6c1a4f0b839aa1df61e0e8a5c8a05740f9b69efa7eb1a4185bd117f68")!
  public static let x = hexBytes("76f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc23146b")!
  public static let y = hexBytes("28e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae")!

  public static func privateKey() throws(ES384Error) -> ES384PrivateKey {
    try ES384PrivateKey(scalar: scalar, x: x, y: y)
  }
}

/// Bytes from hex (either case, no separators); nil if malformed.
public func hexBytes(_ hex: String) -> [UInt8]? {
  let digits = Array(hex.utf8)
  guard digits.count % 2 == 0 else { return nil }
  func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
  var out: [UInt8] = []
  out.reserveCapacity(digits.count / 2)
  var i = 0
  while i < digits.count {
    guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
    out.append(high << 4 | low)
    i += 2
  }
  return out
}

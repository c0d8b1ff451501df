// The CCA token as data: the collection, its two COSE_Sign1 messages, and their claims.
// Parsing checks shape and types (a realm token without its claims cannot even be
// described); what values are acceptable is decided in CCATokenVerification.swift.
import RMMABI

/// A CCA token collection with both tokens parsed.
public struct ParsedCCAToken: Sendable {
  /// The tokens as the collection carries them (the COSE_Sign1 encodings).
  public let platformTokenBytes: [UInt8]
  public let realmTokenBytes: [UInt8]
  public let platformToken: COSESign1
  public let realmToken: COSESign1
  public let platformClaims: PlatformClaims
  public let realmClaims: RealmClaims

  public init(_ bytes: [UInt8]) throws(CCATokenError) {
    let collection: CBORValue
    do { collection = try CBORDecoder.decode(bytes) } catch { throw .malformedCBOR(.collection, error) }
    guard case .tagged(let tag, let content) = collection, tag == CCAToken.collectionTag else {
      throw .wrongTag(.collection, expected: CCAToken.collectionTag, found: collection.tag)
    }
    guard let entries = content.mapEntries else { throw .malformedStructure(.collection, "not a map") }
    for entry in entries where entry.key != .unsigned(CCAToken.platformTokenKey) && entry.key != .unsigned(CCAToken.realmTokenKey) {
      throw .unexpectedEntry(.collection, key: entry.key.description)
    }
    func token(_ key: UInt64) throws(CCATokenError) -> [UInt8] {
      guard let value = content[key] else { throw .missingEntry(.collection, key: key) }
      guard let bytes = value.bytesValue else { throw .malformedStructure(.collection, "entry \(key) is not a byte string") }
      return bytes
    }
    platformTokenBytes = try token(CCAToken.platformTokenKey)
    realmTokenBytes = try token(CCAToken.realmTokenKey)
    platformToken = try COSESign1(platformTokenBytes, part: .platformToken)
    realmToken = try COSESign1(realmTokenBytes, part: .realmToken)
    platformClaims = try PlatformClaims(payload: platformToken.payload)
    realmClaims = try RealmClaims(payload: realmToken.payload)
  }
}

/// A tagged COSE_Sign1 message (RFC 9052, section 4.2) with an attached payload.
public struct COSESign1: Sendable {
  /// The protected header as signed (a bstr-wrapped map), and decoded.
  public let protectedHeaderBytes: [UInt8]
  public let protectedHeader: CBORValue
  public let unprotectedHeader: CBORValue
  public let payload: [UInt8]
  public let signature: [UInt8]

  public init(_ bytes: [UInt8], part: TokenPart) throws(CCATokenError) {
    let message: CBORValue
    do { message = try CBORDecoder.decode(bytes) } catch { throw .malformedCBOR(part, error) }
    guard case .tagged(let tag, let content) = message, tag == CCAToken.coseSign1Tag else {
      throw .wrongTag(part, expected: CCAToken.coseSign1Tag, found: message.tag)
    }
    guard let fields = content.arrayValue, fields.count == 4 else {
      throw .malformedStructure(part, "COSE_Sign1 is not an array of 4")
    }
    guard let protectedBytes = fields[0].bytesValue else {
      throw .malformedStructure(part, "protected header is not a byte string")
    }
    let header: CBORValue
    do { header = try CBORDecoder.decode(protectedBytes) } catch { throw .malformedCBOR(part, error) }
    guard header.mapEntries != nil else { throw .malformedStructure(part, "protected header is not a map") }
    guard let unprotected = fields[1].mapEntries else { throw .malformedStructure(part, "unprotected header is not a map") }
    // A label in both headers would let the unsigned copy shadow the signed one.
    if unprotected.contains(where: { header[$0.key] != nil }) {
      throw .malformedStructure(part, "a header label appears in both the protected and unprotected headers")
    }
    // We understand no critical headers, so any would make the message unprocessable.
    if header[CBORValue(COSE.criticalHeadersLabel)] != nil {
      throw .malformedStructure(part, "critical headers (crit) are not supported")
    }
    guard let payload = fields[2].bytesValue else {
      throw .malformedStructure(part, "payload is not a byte string (detached payloads are not supported)")
    }
    guard let signature = fields[3].bytesValue else { throw .malformedStructure(part, "signature is not a byte string") }
    protectedHeaderBytes = protectedBytes
    protectedHeader = header
    unprotectedHeader = fields[1]
    self.payload = payload
    self.signature = signature
  }

  /// The `alg` of the protected header (the unprotected one cannot carry it: see init).
  public var algorithm: Int64? { protectedHeader[CBORValue(COSE.algorithmLabel)]?.int64Value }

  /// The bytes the signature covers: Sig_structure = ["Signature1", protected, h'', payload].
  public var toBeSigned: [UInt8] {
    CBOREncoder.encode(.array([
      .text("\(COSE.signature1Context)"), .bytes(protectedHeaderBytes), .bytes([]), .bytes(payload),
    ]))
  }
}

/// The realm token's claims, with the types RMM 1.0 gives them.
public struct RealmClaims: Sendable {
  public static let expectedProfile = "\(RealmClaim.profileValue)"

  public let challenge: [UInt8]
  public let profile: String
  public let personalizationValue: [UInt8]
  public let hashAlgorithm: String
  public let publicKey: RealmPublicKey
  public let initialMeasurement: [UInt8]
  public let extensibleMeasurements: [[UInt8]]
  public let publicKeyHashAlgorithm: String

  static let allKeys: [UInt64] = [
    RealmClaim.challenge, RealmClaim.profile, RealmClaim.personalizationValue, RealmClaim.hashAlgorithmID,
    RealmClaim.publicKey, RealmClaim.initialMeasurement, RealmClaim.extensibleMeasurements,
    RealmClaim.publicKeyHashAlgorithmID,
  ]

  public static func claimName(_ key: UInt64) -> String? {
    switch key {
    case RealmClaim.challenge: return "challenge"
    case RealmClaim.profile: return "profile"
    case RealmClaim.personalizationValue: return "personalization value"
    case RealmClaim.hashAlgorithmID: return "measurement hash algorithm"
    case RealmClaim.publicKey: return "public key"
    case RealmClaim.initialMeasurement: return "initial measurement (RIM)"
    case RealmClaim.extensibleMeasurements: return "extensible measurements (REMs)"
    case RealmClaim.publicKeyHashAlgorithmID: return "public key hash algorithm"
    default: return nil
    }
  }

  public init(payload: [UInt8]) throws(CCATokenError) {
    let claims: CBORValue
    do { claims = try CBORDecoder.decode(payload) } catch { throw .malformedCBOR(.realmClaims, error) }
    guard let entries = claims.mapEntries else { throw .malformedStructure(.realmClaims, "payload is not a map") }
    // RMM 1.0 defines exactly these claims; anything else means a producer bug.
    for entry in entries {
      guard let key = entry.key.unsignedValue, Self.allKeys.contains(key) else {
        throw .unexpectedEntry(.realmClaims, key: entry.key.description)
      }
    }
    func claim(_ key: UInt64) throws(CCATokenError) -> CBORValue {
      guard let value = claims[key] else { throw .missingEntry(.realmClaims, key: key) }
      return value
    }
    func bytes(_ key: UInt64) throws(CCATokenError) -> [UInt8] {
      guard let value = try claim(key).bytesValue else { throw .wrongClaimType(.realmClaims, key: key, expected: "a byte string") }
      return value
    }
    func text(_ key: UInt64) throws(CCATokenError) -> String {
      guard let value = try claim(key).textValue else { throw .wrongClaimType(.realmClaims, key: key, expected: "a text string") }
      return value
    }
    challenge = try bytes(RealmClaim.challenge)
    profile = try text(RealmClaim.profile)
    personalizationValue = try bytes(RealmClaim.personalizationValue)
    hashAlgorithm = try text(RealmClaim.hashAlgorithmID)
    publicKey = try RealmPublicKey(encoded: try bytes(RealmClaim.publicKey))
    initialMeasurement = try bytes(RealmClaim.initialMeasurement)
    let remKey = RealmClaim.extensibleMeasurements
    guard let rems = try claim(remKey).arrayValue else {
      throw .wrongClaimType(.realmClaims, key: remKey, expected: "an array of byte strings")
    }
    var measurements: [[UInt8]] = []
    for rem in rems {
      guard let bytes = rem.bytesValue else { throw .wrongClaimType(.realmClaims, key: remKey, expected: "an array of byte strings") }
      measurements.append(bytes)
    }
    extensibleMeasurements = measurements
    publicKeyHashAlgorithm = try text(RealmClaim.publicKeyHashAlgorithmID)
  }
}

/// The realm attestation key as claim 44237 carries it: a CBOR COSE_Key (EC2, P-384).
public struct RealmPublicKey: Sendable {
  /// The claim's bytes: what the platform token's challenge hashes.
  public let encoded: [UInt8]
  public let key: ES384PublicKey

  public init(encoded: [UInt8]) throws(CCATokenError) {
    let part = TokenPart.realmPublicKey
    let value: CBORValue
    do { value = try CBORDecoder.decode(encoded) } catch { throw .malformedCBOR(part, error) }
    guard let entries = value.mapEntries else { throw .malformedStructure(part, "COSE_Key is not a map") }
    guard entries.count == 4 else {
      throw .malformedStructure(part, "COSE_Key has \(entries.count) entries, expected kty, crv, x and y")
    }
    guard value[CBORValue(COSE.keyTypeLabel)] == CBORValue(COSE.keyTypeEC2) else {
      throw .malformedStructure(part, "COSE_Key kty is not EC2 (\(COSE.keyTypeEC2))")
    }
    guard value[CBORValue(COSE.curveLabel)] == CBORValue(COSE.curveP384) else {
      throw .malformedStructure(part, "COSE_Key crv is not P-384 (\(COSE.curveP384))")
    }
    guard let x = value[CBORValue(COSE.xLabel)]?.bytesValue, let y = value[CBORValue(COSE.yLabel)]?.bytesValue else {
      throw .malformedStructure(part, "COSE_Key x or y is missing or not a byte string")
    }
    // One encoding per key, so that one key has one hash in the platform challenge.
    guard CBOREncoder.encode(Self.coseKey(x: x, y: y)) == encoded else {
      throw .malformedStructure(part, "COSE_Key is not in deterministic encoding (keys 1, -1, -2, -3 in that order)")
    }
    do { key = try ES384PublicKey(x: x, y: y) } catch { throw .invalidPublicKey(error.description) }
    self.encoded = encoded
  }

  public init(_ key: ES384PublicKey) {
    self.key = key
    encoded = CBOREncoder.encode(Self.coseKey(x: key.x, y: key.y))
  }

  /// COSE_Key {kty: EC2, crv: P-384, x, y} in deterministic key order.
  static func coseKey(x: [UInt8], y: [UInt8]) -> CBORValue {
    .map([
      CBORMapEntry(CBORValue(COSE.keyTypeLabel), CBORValue(COSE.keyTypeEC2)),
      CBORMapEntry(CBORValue(COSE.curveLabel), CBORValue(COSE.curveP384)),
      CBORMapEntry(CBORValue(COSE.xLabel), .bytes(x)),
      CBORMapEntry(CBORValue(COSE.yLabel), .bytes(y)),
    ])
  }
}

/// The platform token's claims. Its signature is EL3's and not checked here, so the
/// claims are kept as given and read leniently, for printing; only the challenge
/// matters to the verdict (the binding).
public struct PlatformClaims: Sendable {
  public let entries: [CBORMapEntry]

  public init(payload: [UInt8]) throws(CCATokenError) {
    let claims: CBORValue
    do { claims = try CBORDecoder.decode(payload) } catch { throw .malformedCBOR(.platformClaims, error) }
    guard let entries = claims.mapEntries else { throw .malformedStructure(.platformClaims, "payload is not a map") }
    self.entries = entries
  }

  public subscript(key: UInt64) -> CBORValue? { CBORValue.map(entries)[key] }

  public var challenge: [UInt8]? { self[PlatformClaim.challenge]?.bytesValue }
  public var profile: String? { self[PlatformClaim.profile]?.textValue }
  public var implementationID: [UInt8]? { self[PlatformClaim.implementationID]?.bytesValue }
  public var instanceID: [UInt8]? { self[PlatformClaim.instanceID]?.bytesValue }
  public var securityLifecycle: UInt64? { self[PlatformClaim.securityLifecycle]?.unsignedValue }
  public var verificationService: String? { self[PlatformClaim.verificationService]?.textValue }
  public var platformConfig: [UInt8]? { self[PlatformClaim.platformConfig]?.bytesValue }
  public var hashAlgorithm: String? { self[PlatformClaim.hashAlgorithmID]?.textValue }
  public var softwareComponents: [PlatformSoftwareComponent]? {
    self[PlatformClaim.softwareComponents]?.arrayValue?.map(PlatformSoftwareComponent.init)
  }

  public static func claimName(_ key: UInt64) -> String? {
    switch key {
    case PlatformClaim.challenge: return "challenge"
    case PlatformClaim.profile: return "profile"
    case PlatformClaim.instanceID: return "instance ID"
    case PlatformClaim.implementationID: return "implementation ID"
    case PlatformClaim.securityLifecycle: return "security lifecycle"
    case PlatformClaim.softwareComponents: return "software components"
    case PlatformClaim.verificationService: return "verification service"
    case PlatformClaim.platformConfig: return "platform config"
    case PlatformClaim.hashAlgorithmID: return "hash algorithm"
    default: return nil
    }
  }

  /// The lifecycle state named by the high byte (PSA / CCA platform profile).
  public static func lifecycleName(_ value: UInt64) -> String {
    switch value >> 8 {
    case 0x00: return "unknown"
    case 0x10: return "assembly and test"
    case 0x20: return "PSA RoT provisioning"
    case 0x30: return "secured"
    case 0x40: return "non-PSA RoT debug"
    case 0x50: return "recoverable PSA RoT debug"
    case 0x60: return "decommissioned"
    default: return "invalid"
    }
  }
}

/// One entry of the platform's software components claim (any field may be absent).
public struct PlatformSoftwareComponent: Sendable {
  public let raw: CBORValue
  public var measurementType: String? { raw[PlatformSoftwareComponentKey.measurementType]?.textValue }
  public var measurementValue: [UInt8]? { raw[PlatformSoftwareComponentKey.measurementValue]?.bytesValue }
  public var version: String? { raw[PlatformSoftwareComponentKey.version]?.textValue }
  public var signerID: [UInt8]? { raw[PlatformSoftwareComponentKey.signerID]?.bytesValue }
  public var measurementDescription: String? { raw[PlatformSoftwareComponentKey.measurementDescription]?.textValue }

  public init(_ raw: CBORValue) { self.raw = raw }
}

extension CBORValue {
  /// The tag number if the value is tagged.
  public var tag: UInt64? {
    if case .tagged(let t, _) = self { return t }
    return nil
  }
}

// The CCA attestation token, RMM specification 1.0-rel0 (DEN0137, A7) and the CCA
// token profile: the constants every producer and consumer of the token shares (the
// RMM's encoder, the realm test payload, the host verifier and the tests).
//
//   cca-token = #6.399({ 44234: bstr .cbor platform-token, 44241: bstr .cbor realm-token })
//   realm-token = #6.18([ protected: bstr .cbor {1: -35}, unprotected: {}, payload: bstr .cbor claims,
//                         signature: bstr .size 96 ])          ; COSE_Sign1, ES384, r || s
//   claims = { 10: bstr .size 64, 265: tstr, 44235: bstr .size 64, 44236: tstr,
//              44237: bstr .cbor COSE_Key, 44238: bstr, 44239: [4* bstr], 44240: tstr }
//
// The platform token comes from EL3 (RMM_ATTEST_GET_PLAT_TOKEN); its challenge claim
// is SHA-256 of the realm token's 44237 value, which binds the two tokens.

public enum CCAToken {
  /// CBOR tag of the CCA token collection (1.0; 2.0 moves to tag 907, a CMW collection).
  public static let collectionTag: UInt64 = 399
  /// CBOR tag of COSE_Sign1.
  public static let coseSign1Tag: UInt64 = 18
  /// Collection keys.
  public static let platformTokenKey: UInt64 = 44234
  public static let realmTokenKey: UInt64 = 44241
}

/// Claim keys of the realm token payload.
public enum RealmClaim {
  public static let challenge: UInt64 = 10
  public static let profile: UInt64 = 265
  public static let personalizationValue: UInt64 = 44235
  public static let hashAlgorithmID: UInt64 = 44236
  public static let publicKey: UInt64 = 44237
  public static let initialMeasurement: UInt64 = 44238
  public static let extensibleMeasurements: UInt64 = 44239
  public static let publicKeyHashAlgorithmID: UInt64 = 44240

  /// The realm profile of RMM 1.0.
  public static let profileValue: StaticString = "tag:arm.com,2023:realm#1.0.0"
  /// Measurement algorithm names (the realm's RMI_HASH_* choice).
  public static let sha256Name: StaticString = "sha-256"
  public static let sha512Name: StaticString = "sha-512"
  /// The hash that binds the platform token to the RAK (44240).
  public static let publicKeyHashName: StaticString = "sha-256"
  /// Number of REMs in the 44239 array.
  public static let extensibleMeasurementCount = 4
}

/// Claim keys of the platform token the verifier checks (the CCA platform profile).
public enum PlatformClaim {
  public static let challenge: UInt64 = 10
  public static let profile: UInt64 = 265
  public static let instanceID: UInt64 = 256
  public static let implementationID: UInt64 = 2396
  public static let securityLifecycle: UInt64 = 2395
  public static let softwareComponents: UInt64 = 2399
  public static let verificationService: UInt64 = 2400
  public static let platformConfig: UInt64 = 2401
  public static let hashAlgorithmID: UInt64 = 2402
}

/// COSE constants the realm token uses (RFC 9052/9053).
public enum COSE {
  /// Protected-header label `alg`, and ES384.
  public static let algorithmLabel: Int64 = 1
  public static let es384: Int64 = -35
  /// COSE_Key: kty = 1 (EC2 = 2), crv = -1 (P-384 = 2), x = -2, y = -3.
  public static let keyTypeLabel: Int64 = 1
  public static let keyTypeEC2: Int64 = 2
  public static let curveLabel: Int64 = -1
  public static let curveP384: Int64 = 2
  public static let xLabel: Int64 = -2
  public static let yLabel: Int64 = -3
  /// The Sig_structure context string of COSE_Sign1.
  public static let signature1Context: StaticString = "Signature1"
  /// P-384: coordinate and scalar size, and the r || s signature size.
  public static let p384CoordinateSize = 48
  public static let es384SignatureSize = 96
}

/// RSI_ATTEST_TOKEN_INIT takes the challenge in x1..x8.
public let rsiAttestationChallengeSize = 64

/// Keys of a software component map in the platform token's 2399 array (PSA attestation
/// token, which the CCA platform profile reuses).
public enum PlatformSoftwareComponentKey {
  public static let measurementType: UInt64 = 1
  public static let measurementValue: UInt64 = 2
  public static let version: UInt64 = 4
  public static let signerID: UInt64 = 5
  public static let measurementDescription: UInt64 = 6
}

extension COSE {
  /// Protected-header label `crit` (RFC 9052): a verifier must reject labels it does not know there.
  public static let criticalHeadersLabel: Int64 = 2
}

// Encoding of the CCA attestation token (RMM 1.0, tag 399): the realm token as a
// COSE_Sign1 (ES384) over the realm claims, the Sig_structure digest that is signed,
// and the collection that carries it with the platform token from EL3. Pure: the bytes
// depend only on the inputs, which makes them testable against fixed expectations.
// Layout constants are in RMMABI (AttestationToken.swift).

import RMMABI

/// What the realm token says about a realm, gathered at RSI_ATTEST_TOKEN_INIT.
public struct RealmClaims: Sendable {
  /// The realm's 64-byte challenge, in register order (x1's bytes first, little endian).
  public var challenge: InlineArray<8, UInt64> = .init(repeating: 0)
  /// The Realm Personalization Value from RMI_REALM_CREATE.
  public var personalizationValue: InlineArray<8, UInt64> = .init(repeating: 0)
  public var hashAlgorithm: HashAlgorithm = .sha256
  public var rim = Digest64()
  public var rems: InlineArray<4, Digest64> = .init(repeating: Digest64())

  public init() {}
}

public enum RealmToken {
  /// Where the parts of an encoded realm token are.
  public struct Layout: Equatable, Sendable {
    public var payloadOffset: Int
    public var payloadLength: Int
    /// The 96 bytes r || s, written once the signature is done.
    public var signatureOffset: Int
    public var length: Int
  }

  /// The protected header {1: -35} (alg: ES384), as its own CBOR encoding.
  static let protectedHeader: InlineArray<4, UInt8> = [0xA1, 0x01, 0x38, 0x22]

  /// The longest realm token this encoder produces (SHA-512 measurements); the
  /// buffer the RMM keeps for it must be at least this large.
  public static let maximumLength = 760

  /// COSE_Key {1: 2 (EC2), -1: 2 (P-384), -2: x, -3: y}: the spec's encoding of the
  /// RAK public key (claim 44237), in deterministic key order.
  public static func encodeCOSEKey(x: UnsafeRawBufferPointer, y: UnsafeRawBufferPointer, into out: inout BoundedByteWriter) {
    CBOR.head(.map, 4, into: &out)
    CBOR.integer(COSE.keyTypeLabel, into: &out)
    CBOR.integer(COSE.keyTypeEC2, into: &out)
    CBOR.integer(COSE.curveLabel, into: &out)
    CBOR.integer(COSE.curveP384, into: &out)
    CBOR.integer(COSE.xLabel, into: &out)
    CBOR.byteString(x, into: &out)
    CBOR.integer(COSE.yLabel, into: &out)
    CBOR.byteString(y, into: &out)
  }

  /// The claims map: keys in deterministic (encoded-byte) order.
  public static func encodePayload(_ claims: borrowing RealmClaims, publicKey: UnsafeRawBufferPointer,
                                   into out: inout BoundedByteWriter) {
    let digestLength = MeasurementHash.digestLength(claims.hashAlgorithm)
    CBOR.head(.map, 8, into: &out)
    CBOR.head(.unsigned, RealmClaim.challenge, into: &out)
    var challenge = claims.challenge
    withUnsafeBytes(of: &challenge) { CBOR.byteString($0, into: &out) }
    CBOR.head(.unsigned, RealmClaim.profile, into: &out)
    CBOR.textString(RealmClaim.profileValue, into: &out)
    CBOR.head(.unsigned, RealmClaim.personalizationValue, into: &out)
    var rpv = claims.personalizationValue
    withUnsafeBytes(of: &rpv) { CBOR.byteString($0, into: &out) }
    CBOR.head(.unsigned, RealmClaim.hashAlgorithmID, into: &out)
    CBOR.textString(claims.hashAlgorithm == .sha256 ? RealmClaim.sha256Name : RealmClaim.sha512Name, into: &out)
    CBOR.head(.unsigned, RealmClaim.publicKey, into: &out)
    CBOR.byteString(publicKey, into: &out)
    CBOR.head(.unsigned, RealmClaim.initialMeasurement, into: &out)
    digest(claims.rim, length: digestLength, into: &out)
    CBOR.head(.unsigned, RealmClaim.extensibleMeasurements, into: &out)
    CBOR.head(.array, UInt64(RealmClaim.extensibleMeasurementCount), into: &out)
    let rems = claims.rems.span
    for i in 0..<RealmClaim.extensibleMeasurementCount { digest(rems[i], length: digestLength, into: &out) }
    CBOR.head(.unsigned, RealmClaim.publicKeyHashAlgorithmID, into: &out)
    CBOR.textString(RealmClaim.publicKeyHashName, into: &out)
  }

  static func digest(_ value: Digest64, length: Int, into out: inout BoundedByteWriter) {
    var words = value.words
    withUnsafeBytes(of: &words) { CBOR.byteString(UnsafeRawBufferPointer(rebasing: $0[0..<length]), into: &out) }
  }

  /// The whole COSE_Sign1, 18([protected, {}, payload, signature]), with the signature
  /// left as zeros. nil if `out` is too small.
  public static func encode(_ claims: borrowing RealmClaims, publicKey: UnsafeRawBufferPointer,
                            into out: inout BoundedByteWriter) -> Layout? {
    // The payload is encoded in place after its byte-string head, whose size depends
    // on the payload's length: computed from the sizes first (and checked below).
    let payloadLength = sizingLength(claims, publicKey: publicKey)
    CBOR.head(.tag, CCAToken.coseSign1Tag, into: &out)
    CBOR.head(.array, 4, into: &out)
    var header = protectedHeader
    withUnsafeBytes(of: &header) { CBOR.byteString($0, into: &out) }
    CBOR.head(.map, 0, into: &out)  // unprotected: empty
    CBOR.head(.bytes, UInt64(payloadLength), into: &out)
    let payloadOffset = out.count
    encodePayload(claims, publicKey: publicKey, into: &out)
    CBOR.head(.bytes, UInt64(COSE.es384SignatureSize), into: &out)
    let signatureOffset = out.count
    for _ in 0..<COSE.es384SignatureSize { out.append(0) }
    guard !out.overflowed, out.count - signatureOffset == COSE.es384SignatureSize,
          signatureOffset - payloadOffset - CBOR.headLength(UInt64(COSE.es384SignatureSize)) == payloadLength else { return nil }
    return Layout(payloadOffset: payloadOffset, payloadLength: payloadLength, signatureOffset: signatureOffset,
                  length: out.count)
  }

  /// The payload's encoded length, computed from the sizes alone.
  public static func sizingLength(_ claims: borrowing RealmClaims, publicKey: UnsafeRawBufferPointer) -> Int {
    let digest = CBOR.stringLength(MeasurementHash.digestLength(claims.hashAlgorithm))
    let keyed = { (key: UInt64, value: Int) in CBOR.headLength(key) + value }
    return 1
      + keyed(RealmClaim.challenge, CBOR.stringLength(rsiAttestationChallengeSize))
      + keyed(RealmClaim.profile, CBOR.stringLength(RealmClaim.profileValue.utf8CodeUnitCount))
      + keyed(RealmClaim.personalizationValue, CBOR.stringLength(64))
      + keyed(RealmClaim.hashAlgorithmID, CBOR.stringLength(7))
      + keyed(RealmClaim.publicKey, CBOR.stringLength(publicKey.count))
      + keyed(RealmClaim.initialMeasurement, digest)
      + keyed(RealmClaim.extensibleMeasurements, 1 + RealmClaim.extensibleMeasurementCount * digest)
      + keyed(RealmClaim.publicKeyHashAlgorithmID, CBOR.stringLength(RealmClaim.publicKeyHashName.utf8CodeUnitCount))
  }

  /// SHA-384 of the COSE Sig_structure ["Signature1", protected, h'', payload]: the
  /// digest ES384 signs. Streamed: the structure itself is never built.
  public static func signingDigest(token: UnsafeRawBufferPointer, _ layout: Layout) -> Digest64 {
    var prefixBytes: InlineArray<32, UInt8> = .init(repeating: 0)
    var hasher = SHA384()
    withUnsafeMutableBytes(of: &prefixBytes) { buffer in
      var out = BoundedByteWriter(buffer)
      CBOR.head(.array, 4, into: &out)
      CBOR.textString(COSE.signature1Context, into: &out)
      var header = protectedHeader
      withUnsafeBytes(of: &header) { CBOR.byteString($0, into: &out) }
      CBOR.head(.bytes, 0, into: &out)  // external_aad: empty
      CBOR.head(.bytes, UInt64(layout.payloadLength), into: &out)
      hasher.update(out.written)
    }
    hasher.update(UnsafeRawBufferPointer(rebasing: token[layout.payloadOffset..<(layout.payloadOffset + layout.payloadLength)]))
    return hasher.finalize()
  }
}

/// The CCA token collection: #6.399({44234: bstr(platform token), 44241: bstr(realm token)}).
/// It is never assembled in one buffer: RSI_ATTEST_TOKEN_CONTINUE copies it out as
/// four segments (head, platform token, separator, realm token).
public enum CCATokenCollection {
  /// Tag, map head, key 44234 and the head of the platform token's byte string.
  public static func encodeHead(platformTokenLength: Int, into out: inout BoundedByteWriter) {
    CBOR.head(.tag, CCAToken.collectionTag, into: &out)
    CBOR.head(.map, 2, into: &out)
    CBOR.head(.unsigned, CCAToken.platformTokenKey, into: &out)
    CBOR.head(.bytes, UInt64(platformTokenLength), into: &out)
  }

  /// Key 44241 and the head of the realm token's byte string.
  public static func encodeSeparator(realmTokenLength: Int, into out: inout BoundedByteWriter) {
    CBOR.head(.unsigned, CCAToken.realmTokenKey, into: &out)
    CBOR.head(.bytes, UInt64(realmTokenLength), into: &out)
  }

  public static func headLength(platformTokenLength: Int) -> Int {
    CBOR.headLength(CCAToken.collectionTag) + 1 + CBOR.headLength(CCAToken.platformTokenKey)
      + CBOR.headLength(UInt64(platformTokenLength))
  }

  public static func separatorLength(realmTokenLength: Int) -> Int {
    CBOR.headLength(CCAToken.realmTokenKey) + CBOR.headLength(UInt64(realmTokenLength))
  }

  public static func length(platformTokenLength: Int, realmTokenLength: Int) -> Int {
    headLength(platformTokenLength: platformTokenLength) + platformTokenLength
      + separatorLength(realmTokenLength: realmTokenLength) + realmTokenLength
  }
}

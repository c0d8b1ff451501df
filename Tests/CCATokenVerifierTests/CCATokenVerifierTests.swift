// The verification policy on tokens built here: a good one is accepted, and each kind
// of damage or mismatch is rejected with the matching error.
import CCATokenVerifier
import Foundation
import RMMABI
import XCTest

final class CCATokenVerifierTests: XCTestCase {
  private var builder: CCATokenBuilder!

  override func setUpWithError() throws {
    builder = CCATokenBuilder(realmKey: try QEMUTestRAK.privateKey(), platformKey: try ES384PrivateKey())
  }

  private func assertRejected(_ token: [UInt8], expecting expectations: CCATokenExpectations = .init(),
                              _ expected: CCATokenError, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try CCATokenVerifier.verify(token, expecting: expectations), file: file, line: line) {
      XCTAssertEqual($0 as? CCATokenError, expected, file: file, line: line)
    }
  }

  private func assertRejected(_ token: [UInt8], file: StaticString = #filePath, line: UInt = #line,
                              where matches: (CCATokenError) -> Bool) {
    XCTAssertThrowsError(try CCATokenVerifier.verify(token), file: file, line: line) {
      guard let error = $0 as? CCATokenError else { return XCTFail("not a CCATokenError: \($0)", file: file, line: line) }
      XCTAssertTrue(matches(error), "\(error)", file: file, line: line)
    }
  }

  /// Offset of the only occurrence of `needle` in `haystack`.
  private func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int {
    let ranges = haystack.ranges(of: needle)
    XCTAssertEqual(ranges.count, 1)
    return ranges.first!.lowerBound
  }

  private func flipping(_ token: [UInt8], at offset: Int) -> [UInt8] {
    var copy = token
    copy[offset] ^= 0x01
    return copy
  }

  private func claims(without key: UInt64) -> [CBORMapEntry] {
    builder.realmClaimEntries().filter { $0.key != .unsigned(key) }
  }

  private func claims(replacing key: UInt64, with value: CBORValue) -> [CBORMapEntry] {
    builder.realmClaimEntries().map { $0.key == .unsigned(key) ? CBORMapEntry($0.key, value) : $0 }
  }

  // MARK: - Accepted

  func testGoodTokenIsAcceptedAndReadBack() throws {
    builder.challenge = (0..<64).map { UInt8($0) }
    let token = try CCATokenVerifier.verify(try builder.build(),
                                            expecting: .init(challenge: builder.challenge, initialMeasurement: builder.initialMeasurement))
    XCTAssertEqual(token.realmClaims.challenge, builder.challenge)
    XCTAssertEqual(token.realmClaims.profile, "tag:arm.com,2023:realm#1.0.0")
    XCTAssertEqual(token.realmClaims.hashAlgorithm, "sha-256")
    XCTAssertEqual(token.realmClaims.initialMeasurement, builder.initialMeasurement)
    XCTAssertEqual(token.realmClaims.extensibleMeasurements, builder.extensibleMeasurements)
    XCTAssertEqual(token.realmClaims.publicKey.key, try QEMUTestRAK.privateKey().publicKey)
    XCTAssertEqual(token.realmToken.algorithm, COSE.es384)
    XCTAssertEqual(token.platformToken.algorithm, COSE.es384)
    XCTAssertEqual(token.platformClaims.securityLifecycle, 0x3003)
    XCTAssertEqual(token.platformClaims.softwareComponents?.first?.measurementType, "BL2")
  }

  /// The known fact the QEMU setup relies on: TF-A's sample platform token's challenge.
  func testQEMURAKKeyHashIsTheTFASamplePlatformChallenge() throws {
    let coseKey = RealmPublicKey(try QEMUTestRAK.privateKey().publicKey).encoded
    XCTAssertEqual(coseKey.count, 107)
    XCTAssertEqual(hexString(SHA2.sha256(coseKey)), "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711")
  }

  /// With TF-A's real sample platform token (if third_party/tfa is there), the binding holds.
  func testBindsToTFAQEMUSamplePlatformToken() throws {
    let source = repositoryRoot.appendingPathComponent("third_party/tfa/plat/qemu/common/qemu_plat_attest_token.c")
    guard let text = try? String(contentsOf: source, encoding: .utf8),
          let start = text.range(of: "sample_platform_token[] = {"),
          let end = text.range(of: "};", range: start.upperBound..<text.endIndex)
    else { throw XCTSkip("TF-A sources not available") }
    let platformToken = text[start.upperBound..<end.lowerBound]
      .components(separatedBy: ",")
      .compactMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "0x", with: "") }
      .filter { !$0.isEmpty }
      .map { UInt8($0, radix: 16)! }
    builder.platformToken = platformToken
    let token = try CCATokenVerifier.verify(try builder.build())
    XCTAssertEqual(token.platformClaims.profile, "tag:arm.com,2023:cca_platform#1.0.0")
    XCTAssertEqual(token.platformClaims.softwareComponents?.count, 13)
  }

  func testGeneratedKeyAndSHA512Measurements() throws {
    var builder = CCATokenBuilder(realmKey: try ES384PrivateKey(), platformKey: try ES384PrivateKey())
    builder.hashAlgorithm = "sha-512"
    builder.initialMeasurement = SHA2.sha512([1, 2, 3])
    builder.extensibleMeasurements = builder.extensibleMeasurements.map { _ in [UInt8](repeating: 7, count: 64) }
    XCTAssertNoThrow(try CCATokenVerifier.verify(try builder.build()))
  }

  // MARK: - Tampering

  func testFlippedByteInAClaimIsRejected() throws {
    let token = try builder.build()
    assertRejected(flipping(token, at: offset(of: builder.challenge, in: token) + 10), .signatureInvalid)
    assertRejected(flipping(token, at: offset(of: builder.initialMeasurement, in: token)), .signatureInvalid)
  }

  func testFlippedSignatureByteIsRejected() throws {
    let token = try builder.build()
    // The realm token is the collection's last entry, and its signature comes last.
    let signature = try ParsedCCAToken(token).realmToken.signature
    XCTAssertEqual(Array(token.suffix(signature.count)), signature)
    assertRejected(flipping(token, at: token.count - 1), .signatureInvalid)
    assertRejected(flipping(token, at: token.count - COSE.es384SignatureSize), .signatureInvalid)
  }

  /// No single changed byte of the realm token gets through, wherever it is.
  func testEveryByteOfTheRealmTokenIsCovered() throws {
    let token = try builder.build()
    let realmStart = token.count - (try ParsedCCAToken(token)).realmTokenBytes.count
    var random = SplitMix64(seed: 1)
    for index in realmStart..<token.count {
      var copy = token
      copy[index] ^= UInt8(truncatingIfNeeded: random.next() % 255 + 1)
      XCTAssertThrowsError(try CCATokenVerifier.verify(copy), "byte \(index) changed")
    }
  }

  func testBrokenBindingIsRejected() throws {
    builder.platformChallenge = [UInt8](repeating: 0x0d, count: 32)
    let expectedHash = SHA2.sha256(RealmPublicKey(builder.realmKey.publicKey).encoded)
    assertRejected(try builder.build(), .bindingMismatch(platformChallenge: builder.platformChallenge!, publicKeyHash: expectedHash))
    // A platform token signed with another realm key's hash is just as wrong.
    builder.platformChallenge = SHA2.sha256(RealmPublicKey(try ES384PrivateKey().publicKey).encoded)
    assertRejected(try builder.build()) { if case .bindingMismatch = $0 { true } else { false } }
  }

  func testPlatformTokenWithoutChallengeIsRejected() throws {
    let claims = builder.platformClaimEntries().filter { $0.key != .unsigned(PlatformClaim.challenge) }
    builder.platformToken = try CCATokenBuilder.sign(payload: CBOREncoder.encode(.map(claims)), with: builder.platformKey)
    assertRejected(try builder.build(), .missingEntry(.platformClaims, key: PlatformClaim.challenge))
  }

  // MARK: - Expectations

  func testWrongExpectedChallengeIsRejected() throws {
    var wrong = builder.challenge
    wrong[0] ^= 1
    assertRejected(try builder.build(), expecting: .init(challenge: wrong),
                   .challengeMismatch(expected: wrong, found: builder.challenge))
  }

  func testWrongExpectedRIMIsRejected() throws {
    let wrong = SHA2.sha256([0])
    assertRejected(try builder.build(), expecting: .init(initialMeasurement: wrong),
                   .initialMeasurementMismatch(expected: wrong, found: builder.initialMeasurement))
  }

  // MARK: - Framing

  func testTruncatedTokenIsRejected() throws {
    let token = try builder.build()
    for length in [0, 1, 3, 100, token.count / 2, token.count - 1] {
      assertRejected(Array(token.prefix(length))) { if case .malformedCBOR(.collection, .truncated) = $0 { true } else { false } }
    }
  }

  func testTrailingBytesAreRejected() throws {
    let token = try builder.build()
    assertRejected(token + [0], .malformedCBOR(.collection, .trailingBytes(offset: token.count)))
  }

  func testWrongOuterTagIsRejected() throws {
    var token = try builder.build()
    XCTAssertEqual(Array(token.prefix(3)), [0xd9, 0x01, 0x8f])
    token[2] = 0x90  // tag 400
    assertRejected(token, .wrongTag(.collection, expected: CCAToken.collectionTag, found: 400))
    assertRejected(Array(token.dropFirst(3)), .wrongTag(.collection, expected: CCAToken.collectionTag, found: nil))
  }

  func testRealmTokenMustBeTaggedCOSESign1WithES384() throws {
    let payload = CBOREncoder.encode(.map(builder.realmClaimEntries()))
    func collection(realmToken: CBORValue) -> [UInt8] {
      CBOREncoder.encode(.tagged(CCAToken.collectionTag, .map([
        CBORMapEntry(.unsigned(CCAToken.platformTokenKey), .bytes(try! CCATokenBuilder.sign(
          payload: CBOREncoder.encode(.map(builder.platformClaimEntries())), with: builder.platformKey))),
        CBORMapEntry(.unsigned(CCAToken.realmTokenKey), .bytes(CBOREncoder.encode(realmToken))),
      ])))
    }
    let es256Header = CBOREncoder.encode(.map([CBORMapEntry(CBORValue(COSE.algorithmLabel), CBORValue(-7))]))
    let fakeSignature = CBORValue.bytes([UInt8](repeating: 1, count: 96))
    assertRejected(collection(realmToken: .tagged(18, .array([.bytes(es256Header), .map([]), .bytes(payload), fakeSignature]))),
                   .unsupportedAlgorithm(.realmToken, found: "-7"))
    assertRejected(collection(realmToken: .array([.bytes(es256Header), .map([]), .bytes(payload), fakeSignature])),
                   .wrongTag(.realmToken, expected: 18, found: nil))
    assertRejected(collection(realmToken: .tagged(18, .array([.bytes(es256Header), .map([]), .bytes(payload)])))) {
      if case .malformedStructure(.realmToken, _) = $0 { true } else { false }
    }
    // alg only in the unprotected header is not signed: refused.
    let empty = CBOREncoder.encode(.map([]))
    let unprotectedAlg = CBORValue.map([CBORMapEntry(CBORValue(COSE.algorithmLabel), CBORValue(COSE.es384))])
    assertRejected(collection(realmToken: .tagged(18, .array([.bytes(empty), unprotectedAlg, .bytes(payload), fakeSignature]))),
                   .unsupportedAlgorithm(.realmToken, found: "none"))
  }

  // MARK: - Claims

  func testMissingClaimIsRejected() throws {
    for key in [RealmClaim.challenge, RealmClaim.personalizationValue, RealmClaim.publicKey,
                RealmClaim.extensibleMeasurements, RealmClaim.publicKeyHashAlgorithmID] {
      assertRejected(try builder.build(realmClaims: claims(without: key)), .missingEntry(.realmClaims, key: key))
    }
  }

  func testUnexpectedClaimIsRejected() throws {
    let extra = builder.realmClaimEntries() + [CBORMapEntry(.unsigned(44242), .bytes([1]))]
    assertRejected(try builder.build(realmClaims: extra), .unexpectedEntry(.realmClaims, key: "44242"))
  }

  func testWrongClaimTypesAreRejected() throws {
    assertRejected(try builder.build(realmClaims: claims(replacing: RealmClaim.challenge, with: .text("nonce"))),
                   .wrongClaimType(.realmClaims, key: RealmClaim.challenge, expected: "a byte string"))
    assertRejected(try builder.build(realmClaims: claims(replacing: RealmClaim.profile, with: .bytes([1]))),
                   .wrongClaimType(.realmClaims, key: RealmClaim.profile, expected: "a text string"))
    assertRejected(try builder.build(realmClaims: claims(replacing: RealmClaim.extensibleMeasurements,
                                                         with: .array([.bytes([]), .text("x")])))) {
      if case .wrongClaimType(.realmClaims, RealmClaim.extensibleMeasurements, _) = $0 { true } else { false }
    }
  }

  func testRIMSizeMustMatchTheHashAlgorithm() throws {
    builder.hashAlgorithm = "sha-512"  // RIM and REMs stay 32 bytes
    assertRejected(try builder.build(), .measurementSizeMismatch(key: RealmClaim.initialMeasurement, index: nil,
                                                                 hashAlgorithm: "sha-512", expected: 64, found: 32))
    builder.initialMeasurement = [UInt8](repeating: 0, count: 64)
    assertRejected(try builder.build(), .measurementSizeMismatch(key: RealmClaim.extensibleMeasurements, index: 0,
                                                                 hashAlgorithm: "sha-512", expected: 64, found: 32))
  }

  func testClaimSizesAndValuesAreChecked() throws {
    var b = builder!
    b.challenge = [UInt8](repeating: 1, count: 32)
    assertRejected(try b.build(), .wrongClaimSize(.realmClaims, key: RealmClaim.challenge, expected: 64, found: 32))
    b = builder
    b.personalizationValue = []
    assertRejected(try b.build(), .wrongClaimSize(.realmClaims, key: RealmClaim.personalizationValue, expected: 64, found: 0))
    b = builder
    b.profile = "tag:arm.com,2023:realm#2.0.0"
    assertRejected(try b.build(), .wrongProfile(found: "tag:arm.com,2023:realm#2.0.0"))
    b = builder
    b.hashAlgorithm = "sha-384"
    assertRejected(try b.build(), .unknownHashAlgorithm(key: RealmClaim.hashAlgorithmID, found: "sha-384"))
    b = builder
    b.publicKeyHashAlgorithm = "sha-512"
    assertRejected(try b.build(), .unknownHashAlgorithm(key: RealmClaim.publicKeyHashAlgorithmID, found: "sha-512"))
    b = builder
    b.extensibleMeasurements.removeLast()
    assertRejected(try b.build()) { if case .malformedStructure(.realmClaims, _) = $0 { true } else { false } }
  }

  func testPublicKeyClaimMustBeACanonicalP384COSEKey() throws {
    let key = builder.realmKey.publicKey
    func keyClaim(_ entries: [(Int64, CBORValue)]) -> [CBORMapEntry] {
      claims(replacing: RealmClaim.publicKey, with: .bytes(CBOREncoder.encode(.map(entries.map { CBORMapEntry(CBORValue($0.0), $0.1) }))))
    }
    let kty = (COSE.keyTypeLabel, CBORValue(COSE.keyTypeEC2)), crv = (COSE.curveLabel, CBORValue(COSE.curveP384))
    let x = (COSE.xLabel, CBORValue.bytes(key.x)), y = (COSE.yLabel, CBORValue.bytes(key.y))
    // Same key, other order: not the deterministic encoding.
    assertRejected(try builder.build(realmClaims: keyClaim([crv, kty, x, y]))) {
      if case .malformedStructure(.realmPublicKey, _) = $0 { true } else { false }
    }
    assertRejected(try builder.build(realmClaims: keyClaim([kty, (COSE.curveLabel, CBORValue(1)), x, y]))) {
      if case .malformedStructure(.realmPublicKey, _) = $0 { true } else { false }
    }
    assertRejected(try builder.build(realmClaims: keyClaim([kty, crv, x]))) {
      if case .malformedStructure(.realmPublicKey, _) = $0 { true } else { false }
    }
    var offCurve = key.y
    offCurve[47] ^= 1
    assertRejected(try builder.build(realmClaims: keyClaim([kty, crv, x, (COSE.yLabel, .bytes(offCurve))]))) {
      if case .invalidPublicKey = $0 { true } else { false }
    }
    // A token signed by another key than the one it carries.
    let other = CCATokenBuilder(realmKey: try ES384PrivateKey(), platformKey: builder.platformKey)
    assertRejected(try other.build(realmClaims: builder.realmClaimEntries()), .signatureInvalid)
  }

  func testErrorsReadWell() {
    XCTAssertEqual(CCATokenError.missingEntry(.realmClaims, key: RealmClaim.initialMeasurement).description,
                   "realm claims: missing initial measurement (RIM) (44238)")
    XCTAssertEqual(CCATokenError.malformedCBOR(.collection, .trailingBytes(offset: 7)).description,
                   "CCA token collection: trailing bytes after the CBOR item, from offset 7")
  }
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()

import RMMABI
import XCTest

@testable import RMMCore

/// The token encoder against fixed bytes. The expected values come from Python's cbor2
/// (canonical encoding) and hashlib, not from this code: see the comment on each.
final class CBOREncodingTests: XCTestCase {
  func encode(_ body: (inout BoundedByteWriter) -> Void, capacity: Int = 64) -> (bytes: [UInt8], overflowed: Bool) {
    var storage = [UInt8](repeating: 0xEE, count: capacity)
    return storage.withUnsafeMutableBytes { buffer in
      var writer = BoundedByteWriter(buffer)
      body(&writer)
      return (Array(writer.written), writer.overflowed)
    }
  }

  /// RFC 8949 appendix A.
  func testHeadsAtEveryBoundary() {
    let cases: [(UInt64, [UInt8])] = [
      (0, [0x00]), (23, [0x17]), (24, [0x18, 0x18]), (255, [0x18, 0xFF]), (256, [0x19, 0x01, 0x00]),
      (65535, [0x19, 0xFF, 0xFF]), (65536, [0x1A, 0x00, 0x01, 0x00, 0x00]),
      (1_000_000, [0x1A, 0x00, 0x0F, 0x42, 0x40]),
      (1_000_000_000_000, [0x1B, 0x00, 0x00, 0x00, 0xE8, 0xD4, 0xA5, 0x10, 0x00]),
      (UInt64.max, [0x1B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
    ]
    for (value, expected) in cases {
      XCTAssertEqual(encode { CBOR.head(.unsigned, value, into: &$0) }.bytes, expected, "\(value)")
      XCTAssertEqual(CBOR.headLength(value), expected.count)
    }
  }

  func testIntegersStringsAndContainers() {
    XCTAssertEqual(encode { CBOR.integer(-1, into: &$0) }.bytes, [0x20])
    XCTAssertEqual(encode { CBOR.integer(-35, into: &$0) }.bytes, [0x38, 0x22])  // ES384
    XCTAssertEqual(encode { CBOR.integer(-1000, into: &$0) }.bytes, [0x39, 0x03, 0xE7])
    XCTAssertEqual(encode { CBOR.integer(Int64.min, into: &$0) }.bytes,
                   [0x3B, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    XCTAssertEqual(encode { CBOR.textString("IETF", into: &$0) }.bytes, [0x64, 0x49, 0x45, 0x54, 0x46])
    XCTAssertEqual(encode { w in [UInt8]([1, 2, 3, 4]).withUnsafeBytes { CBOR.byteString($0, into: &w) } }.bytes,
                   [0x44, 0x01, 0x02, 0x03, 0x04])
    XCTAssertEqual(encode { CBOR.head(.tag, 399, into: &$0) }.bytes, [0xD9, 0x01, 0x8F])
    XCTAssertEqual(encode { CBOR.head(.map, 0, into: &$0) }.bytes, [0xA0])
    XCTAssertEqual(encode { CBOR.head(.array, 25, into: &$0) }.bytes, [0x98, 0x19])
  }

  func testWriterNeverPassesItsCapacity() {
    let result = encode({ w in
      CBOR.head(.unsigned, UInt64.max, into: &w)  // 9 bytes into 4
      w.append(1)
    }, capacity: 4)
    XCTAssertTrue(result.overflowed)
    XCTAssertLessThanOrEqual(result.bytes.count, 4)
    var guarded = [UInt8](repeating: 0xEE, count: 8)
    guarded.withUnsafeMutableBytes { buffer in
      var writer = BoundedByteWriter(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<4]))
      [UInt8](repeating: 1, count: 6).withUnsafeBytes { writer.append($0) }
      XCTAssertTrue(writer.overflowed)
      XCTAssertEqual(writer.count, 0)
    }
    XCTAssertEqual(Array(guarded[4...]), [0xEE, 0xEE, 0xEE, 0xEE], "nothing written past the buffer")
  }
}

final class RealmTokenEncodingTests: XCTestCase {
  /// QEMU's test RAK (TF-A plat/qemu: qemu_realm_attest_key.c), public point.
  static let rakX = hexBytes("76f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc23146b")
  static let rakY = hexBytes("28e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae")

  static func hexBytes(_ s: String) -> [UInt8] { decodeHex(s) }

  static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

  /// 64 bytes as eight little-endian words: how x1..x8 and the RD hold them.
  static func words(_ bytes: [UInt8]) -> InlineArray<8, UInt64> {
    var w: InlineArray<8, UInt64> = .init(repeating: 0)
    for i in 0..<bytes.count { w[i / 8] |= UInt64(bytes[i]) << UInt64(8 * (i % 8)) }
    return w
  }

  static func digest(_ bytes: [UInt8]) -> Digest64 { Digest64(words: words(bytes), length: bytes.count) }

  static var coseKey: [UInt8] {
    var storage = [UInt8](repeating: 0, count: 128)
    let count = storage.withUnsafeMutableBytes { buffer in
      var out = BoundedByteWriter(buffer)
      rakX.withUnsafeBytes { x in rakY.withUnsafeBytes { y in RealmToken.encodeCOSEKey(x: x, y: y, into: &out) } }
      return out.count
    }
    return Array(storage[0..<count])
  }

  /// The claims the Python script used: challenge 0..63, RPV 64..127, RIM (7i mod 256),
  /// REM r all (r + 1).
  static func claims(_ algorithm: HashAlgorithm) -> RealmClaims {
    let n = algorithm == .sha256 ? 32 : 64
    var c = RealmClaims()
    c.challenge = words(Array(0..<64))
    c.personalizationValue = words(Array(64..<128))
    c.hashAlgorithm = algorithm
    c.rim = digest((0..<n).map { UInt8(($0 * 7) & 0xFF) })
    for r in 0..<4 { c.rems[r] = digest([UInt8](repeating: UInt8(r + 1), count: n)) }
    return c
  }

  static func sha256(_ bytes: [UInt8]) -> String {
    var h = SHA256()
    bytes.withUnsafeBytes { h.update($0) }
    let d = h.finalize()
    return hex((0..<32).map { d.byte($0) })
  }

  func testCOSEKeyIsTheSpecEncodingAndBindsQEMUsPlatformToken() {
    let key = Self.coseKey
    // cbor2.dumps({1: 2, -1: 2, -2: x, -3: y}, canonical=True)
    XCTAssertEqual(Self.hex(key), "a40102200221583076f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc23146b22583028e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae")
    // SHA-256 of it is the challenge inside TF-A's QEMU sample platform token.
    XCTAssertEqual(Self.sha256(key), "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711")
  }

  func encodeToken(_ algorithm: HashAlgorithm) -> ([UInt8], RealmToken.Layout) {
    let key = Self.coseKey
    var storage = [UInt8](repeating: 0xEE, count: AttestationLayout.realmTokenCapacity)
    let layout = storage.withUnsafeMutableBytes { buffer in
      var out = BoundedByteWriter(buffer)
      return key.withUnsafeBytes { RealmToken.encode(Self.claims(algorithm), publicKey: $0, into: &out) }
    }!
    return (Array(storage[0..<layout.length]), layout)
  }

  /// Expected values: cbor2.dumps(claims, canonical=True) and
  /// cbor2.dumps(CBORTag(18, [cbor2.dumps({1: -35}), {}, payload, bytes(96)])).
  func testRealmTokenMatchesIndependentEncoding() {
    let expected: [(HashAlgorithm, Int, Int, String, String, String)] = [
      (.sha256, 481, 590, "866d591fd623b253b1c2e3f5d92102a6d6578e30997f74e22162ec21f1a9ab02",
       "4fc921a7730bde1c7a1915a19c19738993209c33ecdf52110026f37e8c141d17", "d28444a1013822a05901e1a80a584000"),
      (.sha512, 641, 750, "d363e8b24b1a1de3ff8ebd491f9754d40f364e385d93445087ac8e2ebc7445c5",
       "604d3adc976f539b53ea144f2cae80eefa1f72c25864307e8b180ff09669f1b3", "d28444a1013822a0590281a80a584000"),
    ]
    for (algorithm, payloadLength, tokenLength, payloadHash, tokenHash, head) in expected {
      let (token, layout) = encodeToken(algorithm)
      XCTAssertEqual(layout.payloadLength, payloadLength)
      XCTAssertEqual(layout.length, tokenLength)
      XCTAssertLessThanOrEqual(layout.length, RealmToken.maximumLength)
      XCTAssertEqual(layout.signatureOffset, tokenLength - 96)
      XCTAssertEqual(Self.hex(token.prefix(16)), head)
      XCTAssertEqual(Self.sha256(Array(token[layout.payloadOffset..<(layout.payloadOffset + layout.payloadLength)])), payloadHash)
      XCTAssertEqual(Self.sha256(token), tokenHash)
    }
  }

  /// hashlib.sha384(cbor2.dumps(["Signature1", cbor2.dumps({1: -35}), b"", payload])).
  func testSigningDigestIsSHA384OfTheSigStructure() {
    let expected: [(HashAlgorithm, String)] = [
      (.sha256, "c5a3e37775f2837774f73d85edb05ea9398cd2369b84938a83176d1c73f55a06266fb83bc8447fd0394d3a5ebf756b4a"),
      (.sha512, "712929a35342f0fff6d077509c8021dde7d9682cc6366bac8055c66e49d4de58eb71ff4d888fa11a6f09c09c2a721dba"),
    ]
    for (algorithm, hash) in expected {
      let (token, layout) = encodeToken(algorithm)
      let digest = token.withUnsafeBytes { RealmToken.signingDigest(token: $0, layout) }
      XCTAssertEqual(digest.length, 48)
      XCTAssertEqual(Self.hex((0..<48).map { digest.byte($0) }), hash)
    }
  }

  func testWorkspaceLayoutHoldsTheLongestTokenAndTheArena() {
    XCTAssertGreaterThanOrEqual(AttestationLayout.realmTokenCapacity, RealmToken.maximumLength)
    XCTAssertEqual(AttestationLayout.realmToken + AttestationLayout.realmTokenCapacity, AttestationLayout.arena)
    XCTAssertGreaterThanOrEqual(AttestationLayout.realmToken, AttestationLayout.digest + 48)
    XCTAssertGreaterThanOrEqual(AttestationLayout.state, 528, "after the FP/SIMD save area")
    // mbedTLS's measured peak for a P-384 signature is 4,080 bytes (scripts/check-crypto).
    XCTAssertGreaterThanOrEqual(attestationAuxGranules * 4096 - AttestationLayout.arena, 4080 + 2048)
  }

  func testTooSmallBufferFailsWithoutWritingPastIt() {
    let key = Self.coseKey
    var storage = [UInt8](repeating: 0xEE, count: 700)
    let layout = storage.withUnsafeMutableBytes { buffer in
      var out = BoundedByteWriter(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<600]))
      return key.withUnsafeBytes { RealmToken.encode(Self.claims(.sha512), publicKey: $0, into: &out) }
    }
    XCTAssertNil(layout)
    XCTAssertEqual(Array(storage[600...]), [UInt8](repeating: 0xEE, count: 100))
  }

  /// cbor2.dumps(CBORTag(399, {44234: bytes(1518), 44241: bytes(749)}))[:10]
  func testCollectionFraming() {
    var storage = [UInt8](repeating: 0, count: 32)
    let head = storage.withUnsafeMutableBytes { buffer in
      var out = BoundedByteWriter(buffer)
      CCATokenCollection.encodeHead(platformTokenLength: 1518, into: &out)
      return Array(out.written)
    }
    XCTAssertEqual(Self.hex(head), "d9018fa219acca5905ee")
    XCTAssertEqual(CCATokenCollection.headLength(platformTokenLength: 1518), head.count)
    let separator = storage.withUnsafeMutableBytes { buffer in
      var out = BoundedByteWriter(buffer)
      CCATokenCollection.encodeSeparator(realmTokenLength: 749, into: &out)
      return Array(out.written)
    }
    XCTAssertEqual(Self.hex(separator), "19acd15902ed")
    XCTAssertEqual(CCATokenCollection.length(platformTokenLength: 1518, realmTokenLength: 749), 10 + 1518 + 6 + 749)
  }
}

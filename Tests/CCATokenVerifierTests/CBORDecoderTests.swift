// The strict CBOR decoder on fixed byte strings: RFC 8949 appendix A examples (those a
// token can contain), and every kind of encoding it must refuse.
import CCATokenVerifier
import XCTest

final class CBORDecoderTests: XCTestCase {
  /// Hex with optional spaces between items.
  private func bytes(_ hex: String) -> [UInt8] { hexBytes(hex.replacingOccurrences(of: " ", with: ""))! }

  private func assertDecodes(_ hex: String, _ expected: CBORValue, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(try CBORDecoder.decode(bytes(hex)), expected, hex, file: file, line: line)
    // The one accepted encoding is also the one the encoder produces.
    XCTAssertEqual(CBOREncoder.encode(expected), bytes(hex), "re-encoding \(hex)", file: file, line: line)
  }

  private func assertRejects(_ hex: String, _ expected: CBORError, maxDepth: Int = CBORDecoder.defaultMaxDepth,
                             file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try CBORDecoder.decode(bytes(hex), maxDepth: maxDepth), hex, file: file, line: line) {
      XCTAssertEqual($0 as? CBORError, expected, hex, file: file, line: line)
    }
  }

  func testUnsignedIntegers() {
    assertDecodes("00", .unsigned(0))
    assertDecodes("01", .unsigned(1))
    assertDecodes("0a", .unsigned(10))
    assertDecodes("17", .unsigned(23))
    assertDecodes("1818", .unsigned(24))
    assertDecodes("1819", .unsigned(25))
    assertDecodes("1864", .unsigned(100))
    assertDecodes("1903e8", .unsigned(1000))
    assertDecodes("1a000f4240", .unsigned(1_000_000))
    assertDecodes("1b000000e8d4a51000", .unsigned(1_000_000_000_000))
    assertDecodes("1bffffffffffffffff", .unsigned(UInt64.max))
  }

  func testNegativeIntegers() {
    assertDecodes("3bffffffffffffffff", .negative(UInt64.max))  // -18446744073709551616
    assertDecodes("20", CBORValue(-1))
    assertDecodes("29", CBORValue(-10))
    assertDecodes("3863", CBORValue(-100))
    assertDecodes("3903e7", CBORValue(-1000))
    XCTAssertEqual(CBORValue(-35).int64Value, -35)
    XCTAssertEqual(CBORValue.negative(UInt64(Int64.max)).int64Value, Int64.min)
    XCTAssertNil(CBORValue.negative(UInt64.max).int64Value)
    XCTAssertEqual(CBORValue.negative(UInt64.max).description, "-18446744073709551616")
  }

  func testSimpleValues() {
    assertDecodes("f4", .bool(false))
    assertDecodes("f5", .bool(true))
    assertDecodes("f6", .null)
    assertDecodes("f7", .undefined)
  }

  func testByteAndTextStrings() {
    assertDecodes("40", .bytes([]))
    assertDecodes("4401020304", .bytes([1, 2, 3, 4]))
    assertDecodes("60", .text(""))
    assertDecodes("6161", .text("a"))
    assertDecodes("6449455446", .text("IETF"))
    assertDecodes("62225c", .text("\"\\"))
    assertDecodes("62c3bc", .text("\u{00fc}"))
    assertDecodes("63e6b0b4", .text("\u{6c34}"))
    assertDecodes("64f0908591", .text("\u{10151}"))
  }

  func testArraysAndMaps() {
    assertDecodes("80", .array([]))
    assertDecodes("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)]))
    assertDecodes("8301820203820405", .array([
      .unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)]),
    ]))
    assertDecodes("98190102030405060708090a0b0c0d0e0f101112131415161718181819",
                  .array((1...25).map { .unsigned(UInt64($0)) }))
    assertDecodes("a0", .map([]))
    assertDecodes("a201020304", .map([CBORMapEntry(.unsigned(1), .unsigned(2)), CBORMapEntry(.unsigned(3), .unsigned(4))]))
    assertDecodes("a26161016162820203", .map([
      CBORMapEntry(.text("a"), .unsigned(1)), CBORMapEntry(.text("b"), .array([.unsigned(2), .unsigned(3)])),
    ]))
    assertDecodes("826161a161626163", .array([.text("a"), .map([CBORMapEntry(.text("b"), .text("c"))])]))
    assertDecodes("a56161614161626142616361436164614461656145", .map(["a", "b", "c", "d", "e"].map {
      CBORMapEntry(.text($0), .text($0.uppercased()))
    }))
    // Order is kept as encoded; lookups find keys anywhere.
    let map = try! CBORDecoder.decode(bytes("a2 0304 0102"))
    XCTAssertEqual(map[1], .unsigned(2))
    XCTAssertEqual(map[3], .unsigned(4))
    XCTAssertNil(map[5])
  }

  func testTags() {
    assertDecodes("c11a514b67b0", .tagged(1, .unsigned(1_363_896_240)))
    assertDecodes("d74401020304", .tagged(23, .bytes([1, 2, 3, 4])))
    assertDecodes("d818456449455446", .tagged(24, .bytes(Array("dIETF".utf8))))
    assertDecodes("d82076687474703a2f2f7777772e6578616d706c652e636f6d", .tagged(32, .text("http://www.example.com")))
    assertDecodes("d9018fa0", .tagged(399, .map([])))
    XCTAssertEqual(try CBORDecoder.decode(bytes("d9018fa0")).tag, 399)
  }

  func testDiagnosticNotation() {
    let value = try! CBORDecoder.decode(bytes("d2 a2 01 20 39ac23 82 42cafe 62225c"))
    XCTAssertEqual(value.description, #"18({1: -1, -44068: [h'cafe', "\"\\"]})"#)
  }

  func testRejectsIndefiniteLengths() {
    assertRejects("5f42010243030405ff", .indefiniteLength(offset: 0))
    assertRejects("7f657374726561646d696e67ff", .indefiniteLength(offset: 0))
    assertRejects("9fff", .indefiniteLength(offset: 0))
    assertRejects("bf61610161629f0203ffff", .indefiniteLength(offset: 0))
    assertRejects("8201ff", .indefiniteLength(offset: 2))  // a stray break
    assertRejects("1f", .indefiniteLength(offset: 0))
  }

  func testRejectsOverlongEncodings() {
    assertRejects("1817", .nonMinimalArgument(offset: 0))
    assertRejects("1900ff", .nonMinimalArgument(offset: 0))
    assertRejects("1a0000ffff", .nonMinimalArgument(offset: 0))
    assertRejects("1b00000000ffffffff", .nonMinimalArgument(offset: 0))
    assertRejects("3800", .nonMinimalArgument(offset: 0))
    assertRejects("580101", .nonMinimalArgument(offset: 0))
    assertRejects("780161", .nonMinimalArgument(offset: 0))
    assertRejects("980100", .nonMinimalArgument(offset: 0))
    assertRejects("b8010102", .nonMinimalArgument(offset: 0))
    assertRejects("d80100", .nonMinimalArgument(offset: 0))
    assertRejects("8119000a", .nonMinimalArgument(offset: 1))
  }

  func testRejectsTruncation() {
    assertRejects("", .truncated(offset: 0))
    assertRejects("19", .truncated(offset: 1))
    assertRejects("1903", .truncated(offset: 1))
    assertRejects("1b000000e8d4a510", .truncated(offset: 1))
    assertRejects("44010203", .truncated(offset: 1))
    assertRejects("634945", .truncated(offset: 1))
    assertRejects("830102", .truncated(offset: 1))  // 3 elements cannot fit in 2 bytes
    assertRejects("a2010203", .truncated(offset: 1))
    assertRejects("82 1903e8", .truncated(offset: 4))
    assertRejects("a1 1903e8", .truncated(offset: 4))
    assertRejects("d2", .truncated(offset: 1))
    // Lengths far beyond the input fail before anything is allocated.
    assertRejects("5bffffffffffffffff", .truncated(offset: 9))
    assertRejects("9bffffffffffffffff", .truncated(offset: 9))
    assertRejects("bbffffffffffffffff", .truncated(offset: 9))
    assertRejects("7b7fffffffffffffff", .truncated(offset: 9))
  }

  func testRejectsTrailingBytes() {
    assertRejects("0000", .trailingBytes(offset: 1))
    assertRejects("a0ff", .trailingBytes(offset: 1))
    assertRejects("d9018fa000", .trailingBytes(offset: 4))
  }

  func testRejectsDuplicateAndUnsupportedMapKeys() {
    assertRejects("a201020103", .duplicateMapKey(offset: 3))
    assertRejects("a2 6161 01 6161 02", .duplicateMapKey(offset: 4))
    assertRejects("a2 20 01 20 02", .duplicateMapKey(offset: 3))
    assertRejects("a2 4101 01 4101 02", .duplicateMapKey(offset: 4))
    // Text "a" and bytes 'a' are different keys, as are 1 and -1.
    XCTAssertNoThrow(try CBORDecoder.decode(bytes("a2 6161 01 4161 02")))
    XCTAssertNoThrow(try CBORDecoder.decode(bytes("a2 01 01 20 02")))
    assertRejects("a18001", .unsupportedMapKey(offset: 1))
    assertRejects("a1a00001", .unsupportedMapKey(offset: 1))
    assertRejects("a1c10001", .unsupportedMapKey(offset: 1))
    assertRejects("a1f501", .unsupportedMapKey(offset: 1))
  }

  func testRejectsFloatsReservedAndUnassignedSimpleValues() {
    assertRejects("f93c00", .floatingPoint(offset: 0))
    assertRejects("fa47c35000", .floatingPoint(offset: 0))
    assertRejects("fb3ff199999999999a", .floatingPoint(offset: 0))
    assertRejects("f0", .unsupportedSimpleValue(offset: 0))
    assertRejects("f8ff", .unsupportedSimpleValue(offset: 0))
    assertRejects("f818", .unsupportedSimpleValue(offset: 0))
    assertRejects("1c", .reservedAdditionalInformation(offset: 0))
    assertRejects("3d", .reservedAdditionalInformation(offset: 0))
    assertRejects("5e", .reservedAdditionalInformation(offset: 0))
    assertRejects("fc", .reservedAdditionalInformation(offset: 0))
  }

  func testRejectsInvalidUTF8() {
    assertRejects("62c328", .invalidUTF8(offset: 0))
    assertRejects("61ff", .invalidUTF8(offset: 0))
    assertRejects("62c0af", .invalidUTF8(offset: 0))    // over-long "/"
    assertRejects("63eda080", .invalidUTF8(offset: 0))  // a UTF-16 surrogate
    assertRejects("82 63616263 6180", .invalidUTF8(offset: 5))
  }

  func testNestingLimit() {
    let limit = CBORDecoder.defaultMaxDepth
    let deepestAccepted = String(repeating: "81", count: limit) + "00"
    XCTAssertNoThrow(try CBORDecoder.decode(bytes(deepestAccepted)))
    assertRejects(String(repeating: "81", count: limit + 1) + "00", .nestingTooDeep(offset: limit, limit: limit))
    assertRejects(String(repeating: "c1", count: limit + 1) + "00", .nestingTooDeep(offset: limit, limit: limit))
    assertRejects("a101a102a1038100", .nestingTooDeep(offset: 6, limit: 3), maxDepth: 3)
    // Far deeper than any stack could take recursively: refused at the limit.
    XCTAssertThrowsError(try CBORDecoder.decode([UInt8](repeating: 0x81, count: 100_000)))
  }

  /// Arbitrary and mutated inputs: the decoder may refuse them but must not trap.
  func testDoesNotTrapOnArbitraryInput() throws {
    var random = SplitMix64(seed: 0x5eed)
    let seeds: [[UInt8]] = [
      bytes("a26161016162820203"), bytes("d9018fa219acca4401020304"), bytes("98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
      try CCATokenBuilder(realmKey: QEMUTestRAK.privateKey(), platformKey: ES384PrivateKey()).build(),
    ]
    for round in 0..<20_000 {
      var input: [UInt8]
      if round % 4 == 0 {
        input = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      } else {
        input = seeds[Int(random.next() % UInt64(seeds.count))]
        for _ in 0...(random.next() % 4) {
          guard !input.isEmpty else { break }
          let at = Int(random.next() % UInt64(input.count))
          switch random.next() % 3 {
          case 0: input[at] = UInt8(truncatingIfNeeded: random.next())
          case 1: input.removeSubrange(at...)
          default: input.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
          }
        }
      }
      if let value = try? CBORDecoder.decode(input) {
        XCTAssertEqual(CBOREncoder.encode(value), input, "an accepted input has exactly one encoding")
      }
    }
  }
}

/// A small deterministic generator (SplitMix64), so failures replay.
struct SplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

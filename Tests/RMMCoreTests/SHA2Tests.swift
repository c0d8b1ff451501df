import XCTest

@testable import RMMCore

nonisolated(unsafe) var sha512HookBlocks = 0

final class SHA2Tests: XCTestCase {
  // MARK: Helpers

  private func hex(_ d: Digest64) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    for i in 0..<d.length {
      let b = d.byte(i)
      s.append(digits[Int(b >> 4)])
      s.append(digits[Int(b & 15)])
    }
    return s
  }

  private func hash<H: HashFunction>(_: H.Type, _ bytes: [UInt8]) -> Digest64 {
    var h = H()
    bytes.withUnsafeBytes { h.update($0) }
    return h.finalize()
  }

  private func hash<H: HashFunction>(_ type: H.Type, _ s: String) -> Digest64 {
    hash(type, Array(s.utf8))
  }

  /// Feeds `bytes` in chunks whose sizes cycle through `sizes`.
  private func hashChunked<H: HashFunction>(_: H.Type, _ bytes: [UInt8], sizes: [Int]) -> Digest64 {
    var h = H()
    bytes.withUnsafeBytes { raw in
      var offset = 0
      var k = 0
      while offset < raw.count {
        let n = min(sizes[k % sizes.count], raw.count - offset)
        h.update(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n]))
        offset += n
        k += 1
      }
    }
    return h.finalize()
  }

  /// Deterministic pseudo-random bytes (xorshift64).
  private func pseudoRandom(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var x = seed
    return (0..<count).map { _ in
      x ^= x << 13
      x ^= x >> 7
      x ^= x << 17
      return UInt8(truncatingIfNeeded: x >> 24)
    }
  }

  private func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
  }

  private static let msg448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
  private static let msg896 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"

  // MARK: FIPS 180-4 / NIST example vectors

  func testSHA256KnownAnswers() {
    XCTAssertEqual(hex(hash(SHA256.self, "")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(hex(hash(SHA256.self, "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      hex(hash(SHA256.self, Self.msg448)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    XCTAssertEqual(
      hex(hash(SHA256.self, Self.msg896)), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
  }

  func testSHA512KnownAnswers() {
    XCTAssertEqual(
      hex(hash(SHA512.self, "")),
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
    XCTAssertEqual(
      hex(hash(SHA512.self, "abc")),
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    XCTAssertEqual(
      hex(hash(SHA512.self, Self.msg448)),
      "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
        + "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445")
    XCTAssertEqual(
      hex(hash(SHA512.self, Self.msg896)),
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
        + "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
  }

  private static let millionA256 = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
  private static let millionA512 =
    "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
    + "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"

  private func checkMillionA<H: HashFunction>(_ type: H.Type, expected: String) {
    let a = [UInt8](repeating: 0x61, count: 1_000_000)
    // 1000 x 1000 bytes.
    XCTAssertEqual(hex(hashChunked(type, a, sizes: [1000])), expected, "1000 x 1000")
    // Odd sizes that cross block boundaries at varying offsets.
    XCTAssertEqual(hex(hashChunked(type, a, sizes: [1, 63, 65, 127, 129, 7, 4093, 300_001])), expected, "odd chunks")
    // One shot.
    XCTAssertEqual(hex(hash(type, a)), expected, "one shot")
  }

  /// The firmware installs the CPU's SHA-512 block function through this hook; a
  /// stand-in (the Swift block function, counting its calls) proves every path, single
  /// buffered blocks and runs of whole blocks, goes through it with the right counts.
  func testSHA512AccelerationHookCarriesEveryBlock() {
    sha512HookBlocks = 0
    SHA2Acceleration.sha512Blocks = { state, data, count in
      sha512HookBlocks += count
      let h = state!.assumingMemoryBound(to: InlineArray<8, UInt64>.self)
      var block = data!
      for _ in 0..<count {
        SHA512.compress(&h.pointee, block)
        block += 128
      }
    }
    defer { SHA2Acceleration.sha512Blocks = nil }
    var message = [UInt8](repeating: 0, count: 1000)
    for i in message.indices { message[i] = UInt8(truncatingIfNeeded: i &* 7) }
    var hasher = SHA512()
    message.withUnsafeBytes { bytes in
      hasher.update(UnsafeRawBufferPointer(rebasing: bytes[0..<5]))      // buffered
      hasher.update(UnsafeRawBufferPointer(rebasing: bytes[5..<1000]))   // 1 buffered + 6 whole blocks + tail
    }
    let accelerated = hasher.finalize()
    XCTAssertEqual(sha512HookBlocks, 8, "1000 bytes + padding = 8 blocks, all through the hook")
    SHA2Acceleration.sha512Blocks = nil
    var plain = SHA512()
    message.withUnsafeBytes { plain.update($0) }
    XCTAssertEqual(hex(accelerated), hex(plain.finalize()))
  }

  /// FIPS 180-4 examples (NIST CSRC "SHA384.pdf"): the ES384 digest of the token.
  func testSHA384KnownAnswers() {
    XCTAssertEqual(hex(hash(SHA384.self, "abc")),
                   "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
    XCTAssertEqual(hex(hash(SHA384.self, "")),
                   "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")
    XCTAssertEqual(hex(hash(SHA384.self, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
                   "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039")
    // Reusable after finalize, and independent of SHA-512's state.
    var h = SHA384()
    _ = h.finalize()
    Array("abc".utf8).withUnsafeBytes { h.update($0) }
    XCTAssertEqual(hex(h.finalize()).prefix(8), "cb00753f")
  }

  func testSHA256MillionA() { checkMillionA(SHA256.self, expected: Self.millionA256) }
  func testSHA512MillionA() { checkMillionA(SHA512.self, expected: Self.millionA512) }

  // MARK: Padding boundaries and a 4 KiB page (references from Python hashlib)

  private static let boundary: [(Int, String, String)] = [
    (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b",
     "14fd424b1fcadee624da946ab03f7e1def7c0d6e00f689594319881a26ff30b875ba4c622ac13100c8cc784c9c2eb23159aecbb4a02e3999062f551193e2b256"),
    (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27",
     "480fa85be41ef55a41208ca28ffc8743c91cf7d24758defe6f95bfb16de614fc86b701034896b047dd571de4318853d80e0809df162f1752cb26da6ddb94a0dd"),
    (57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73",
     "0582c85feba6881e7c3c371a82a645547a1a9bdb3fd0709d6a42e271697333b23d1692ff0076071fef520f46d04ca74c2b088b58a60ade3ba0c18380d230789c"),
    (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055",
     "ecd42a703a4e93e163d60d55e3785b1a763838b0351bc2e6f7c94b4bfb24f9aa15da5d744ebcebe11f0fc4315d45ba3a047b6e60e07448357f2795bf34b73502"),
    (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241",
     "8f3cc30b3fb5bf963688a46488249248ac2c67f0f85a145233c6c1e3c16dcd1df634c07d1d31da02576f65b9cf64e1c3fdb318b689b8a14e2e9552bcf30fb133"),
    (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e",
     "22050d1b2c5bd016c4b04c3e84f513ffbbbc057f83dc9ab196fee6684e5ee19d98b84c6538b3c5e1fc67dbc484e9d0a198254e41d0fa0cf5106991e106632419"),
    (111, "67d9492e628fd376e0b2efec8ca2b99b123e202cf620deb270728df979b2f73e",
     "68cffa6d0d76f309c9ce0d35280939f8e25990c43b7b086ccdf709be35b07d4ddba599541ff2b1c19d34ea49aeafb9659adb7ac3c0b078bb30a22d57fc6687ef"),
    (112, "96b928cff8528dbb99602c709a65b846cb6467acb8b722f0d758e4dc27bfc508",
     "d0865c524d1dddf7c23b799c413f5adcd7caefd3f66a9b49750ec81066012c25a8bcf94ddea6dc525691673097ca40e0101e897fc97218cfdb0704084e2bef4b"),
    (113, "cded73eed7df41eecd1ead825a38ca8763a9e910d5181c8ad8f201cc8ff2cbe4",
     "606314353bd419f9f7720e8297f2af8a9ed5f0bb0bed29b716bf18e34577623ae7effa46f496bd4282134e7e895284a4760a910d2ad8ec11e9dd75863058cd9c"),
    (119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e",
     "236bdd7f38a611b5014b239245c381ae5d20a96f1e5b3178227c00056b7fa8c44ef54880085d82b7e20cd65f2bfda1326696c3f94a6a5bad0cb5ce289aa46167"),
    (120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5",
     "4bd16fefaa35cc2df9fbb8ff379ec04a4070ffd5d4992574af239fa175534df87cbedceeb96be08e15090a78b83a328a2900c5411683ab47bab914591048548f"),
    (127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07",
     "e0b6a20f1c0c88970a9340152cd5a1c1ecf3d3b8de55102741879438079473540133b812706e5dbec322c8c9523b6fc8c6d16ee626e87ad5fe3d2916afedc369"),
    (128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6",
     "99b16f17aa0b969a5b8f08f367719d516e330ccd2660b6f0688ec031dbc783de50a1cd185a2568dba75070a2403d17d4741d163578515dfd2ff756ddfe4d47b1"),
    (129, "307f8fc2c1622b92762e818d39a185d4d667ad49a4b07ceae1f4afa008a93ec4",
     "a1556e29185778aa5991e34b8884c840d589f0fbb4b8ed590e51e9ac4eb03a008125000db2671f8fe7f485b59a77b518670078ecb41a54b4cd02a7f1d2ca4c6d"),
  ]

  func testPaddingBoundaries() {
    for (n, e256, e512) in Self.boundary {
      let m = pattern(n)
      XCTAssertEqual(hex(hash(SHA256.self, m)), e256, "SHA-256 length \(n)")
      XCTAssertEqual(hex(hash(SHA512.self, m)), e512, "SHA-512 length \(n)")
      // Byte-at-a-time must agree.
      var h256 = SHA256()
      var h512 = SHA512()
      for b in m {
        h256.update(byte: b)
        h512.update(byte: b)
      }
      XCTAssertEqual(hex(h256.finalize()), e256, "SHA-256 bytewise length \(n)")
      XCTAssertEqual(hex(h512.finalize()), e512, "SHA-512 bytewise length \(n)")
    }
  }

  func testPage4KiBAlignedAndUnaligned() {
    let e256 = "7486da8f1e13943fae21a0b043f1e99640d7d8ebafb25266478b5cddae1272b5"
    let e512 =
      "ed3ea71e2627334fc7fe8443d74b5851007086fefe73543a4423718cd9e0eb24"
      + "e5fc80675e02cef94055944f65e1df45a8f69f776f59a4c3e32031ca7ef07387"
    let page = pattern(4096)
    // Aligned source (page-aligned allocation).
    let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
    defer { aligned.deallocate() }
    aligned.copyBytes(from: page)
    var a256 = SHA256()
    a256.update(UnsafeRawBufferPointer(aligned))
    XCTAssertEqual(hex(a256.finalize()), e256)
    var a512 = SHA512()
    a512.update(UnsafeRawBufferPointer(aligned))
    XCTAssertEqual(hex(a512.finalize()), e512)
    // Every misalignment 1..15 of the source pointer.
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096 + 16, alignment: 16)
    defer { raw.deallocate() }
    for shift in 1..<16 {
      let src = UnsafeMutableRawBufferPointer(rebasing: raw[shift..<shift + 4096])
      src.copyBytes(from: page)
      var h256 = SHA256()
      h256.update(UnsafeRawBufferPointer(src))
      XCTAssertEqual(hex(h256.finalize()), e256, "SHA-256 shift \(shift)")
      var h512 = SHA512()
      h512.update(UnsafeRawBufferPointer(src))
      XCTAssertEqual(hex(h512.finalize()), e512, "SHA-512 shift \(shift)")
    }
  }

  // MARK: Streaming consistency

  private func checkSplits<H: HashFunction>(_ type: H.Type) {
    let data = pseudoRandom(1000)
    let oneShot = hash(type, data)
    data.withUnsafeBytes { raw in
      // Two pieces, split at every offset 0...200.
      for split in 0...200 {
        var h = H()
        h.update(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
        h.update(UnsafeRawBufferPointer(rebasing: raw[split...]))
        XCTAssertEqual(h.finalize(), oneShot, "split at \(split)")
      }
      // Three pieces: every first split 0...200 with a middle piece of 1...130 bytes.
      for first in stride(from: 0, through: 200, by: 3) {
        for middle in [1, 7, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 130] {
          var h = H()
          h.update(UnsafeRawBufferPointer(rebasing: raw[0..<first]))
          h.update(UnsafeRawBufferPointer(rebasing: raw[first..<first + middle]))
          h.update(UnsafeRawBufferPointer(rebasing: raw[(first + middle)...]))
          XCTAssertEqual(h.finalize(), oneShot, "splits at \(first), +\(middle)")
        }
      }
      // Repeating chunk sizes 1...200.
      for size in 1...200 {
        XCTAssertEqual(hashChunked(type, data, sizes: [size]), oneShot, "chunks of \(size)")
      }
      // Mixed bytewise and buffer feeding, plus empty updates.
      var h = H()
      var offset = 0
      var toggle = false
      while offset < raw.count {
        h.update(UnsafeRawBufferPointer(rebasing: raw[offset..<offset]))
        if toggle {
          h.update(byte: raw[offset])
          offset += 1
        } else {
          let n = min(37, raw.count - offset)
          h.update(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n]))
          offset += n
        }
        toggle.toggle()
      }
      XCTAssertEqual(h.finalize(), oneShot, "mixed bytewise")
    }
    // Prefixes of every length agree between one-shot and bytewise.
    for n in 0...300 {
      var h = H()
      for b in data[0..<n] { h.update(byte: b) }
      XCTAssertEqual(h.finalize(), hash(type, Array(data[0..<n])), "prefix \(n)")
    }
  }

  func testSHA256SplitPatterns() { checkSplits(SHA256.self) }
  func testSHA512SplitPatterns() { checkSplits(SHA512.self) }

  // MARK: update64LE

  func testUpdate64LEKnownAnswer() {
    let words: [UInt64] = [0x0123_4567_89ab_cdef, 0, 0xffff_ffff_ffff_ffff, 0x8000_0000_0000_0001, 42]
    var h256 = SHA256()
    var h512 = SHA512()
    for w in words {
      h256.update64LE(w)
      h512.update64LE(w)
    }
    XCTAssertEqual(hex(h256.finalize()), "255ebae2d8f536c47126e13ae8e585cc0e362f898d54619fdabc34c5f3b8dc9f")
    XCTAssertEqual(
      hex(h512.finalize()),
      "f489c217935f5f9f6984666e2972b87e87447094b18041c699e77ed02940e7f9"
        + "39325c2ea78f5ce3bc6322a5b876661c4ce9556b34f9b68b0a39c0432cf62fbd")
  }

  private func checkUpdate64LE<H: HashFunction>(_: H.Type) {
    // Words appended at every buffer offset (0..<blockLength via a byte prefix), so some
    // land wholly inside the buffer and some straddle a block boundary.
    let words = pseudoRandom(8 * 40, seed: 12345).withUnsafeBytes { raw in
      (0..<40).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
    }
    for prefix in 0..<136 {
      var viaWords = H()
      var viaBytes = H()
      var bytes: [UInt8] = []
      for i in 0..<prefix {
        viaWords.update(byte: UInt8(truncatingIfNeeded: i))
        bytes.append(UInt8(truncatingIfNeeded: i))
      }
      for w in words {
        viaWords.update64LE(w)
        for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * UInt64(k)))) }
      }
      bytes.withUnsafeBytes { viaBytes.update($0) }
      XCTAssertEqual(viaWords.finalize(), viaBytes.finalize(), "prefix \(prefix)")
    }
  }

  func testSHA256Update64LE() { checkUpdate64LE(SHA256.self) }
  func testSHA512Update64LE() { checkUpdate64LE(SHA512.self) }

  // MARK: Digest64 and the hasher lifecycle

  func testDigestLayoutAndEquality() {
    let d256 = hash(SHA256.self, "abc")
    XCTAssertEqual(d256.length, 32)
    XCTAssertEqual(SHA256.digestLength, 32)
    XCTAssertEqual(d256.byte(0), 0xba)
    XCTAssertEqual(d256.byte(31), 0xad)
    XCTAssertEqual(d256.words[0] & 0xFF, 0xba)
    XCTAssertEqual(d256.words[0], 0xeacf_018f_bf16_78ba)
    for i in 32..<64 { XCTAssertEqual(d256.byte(i), 0, "SHA-256 tail byte \(i)") }
    for j in 4..<8 { XCTAssertEqual(d256.words[j], 0) }

    let d512 = hash(SHA512.self, "abc")
    XCTAssertEqual(d512.length, 64)
    XCTAssertEqual(SHA512.digestLength, 64)
    XCTAssertEqual(d512.byte(0), 0xdd)
    XCTAssertEqual(d512.byte(63), 0x9f)

    XCTAssertEqual(d256, hash(SHA256.self, "abc"))
    XCTAssertNotEqual(d256, hash(SHA256.self, "abd"))
    XCTAssertNotEqual(d256, d512)
    var tweaked = d256
    tweaked.words[7] = 1
    XCTAssertNotEqual(d256, tweaked)
    var shorter = d256
    shorter.length = 31
    XCTAssertNotEqual(d256, shorter)
    XCTAssertEqual(Digest64(), Digest64())
    XCTAssertEqual(Digest64().length, 0)
  }

  func testFinalizeResets() {
    var h = SHA256()
    "garbage".utf8.forEach { h.update(byte: $0) }
    _ = h.finalize()
    "abc".utf8.forEach { h.update(byte: $0) }
    XCTAssertEqual(hex(h.finalize()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    var g = SHA512()
    _ = g.finalize()
    XCTAssertEqual(g.finalize(), hash(SHA512.self, ""))
  }
}

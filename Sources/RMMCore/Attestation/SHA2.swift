// SHA-256 and SHA-512 (FIPS 180-4) in allocation-free Swift, for realm measurements
// (RIM/REM extension, RMI_DATA_CREATE content hashes) and anything else that needs a
// digest. Everything lives in fixed-size stack or struct storage: the state, a
// one-block buffer for partial input and a 16-word rolling message schedule.
//
// `update` feeds whole blocks straight from the caller's memory (unaligned big-endian
// loads) and only copies into the buffer for the leading and trailing partial blocks,
// so hashing a 4 KiB granule is 64 (SHA-256) or 32 (SHA-512) compressions and no copies.

/// A digest in a fixed 64-byte buffer; SHA-256 uses the first 32 bytes, the rest is zero.
public struct Digest64: Equatable, Sendable {
  /// The digest bytes, in digest (big-endian) order, packed little-endian into words:
  /// byte `i` of the digest is `(words[i / 8] >> (8 * (i % 8))) & 0xFF`.
  public var words: InlineArray<8, UInt64>
  /// Number of meaningful bytes: 32 (SHA-256) or 64 (SHA-512).
  public var length: Int

  /// The all-zero 64-byte digest with `length == 0`.
  @inlinable public init() {
    words = InlineArray(repeating: 0)
    length = 0
  }

  @inlinable public init(words: InlineArray<8, UInt64>, length: Int) {
    self.words = words
    self.length = length
  }

  /// Byte `i` (0..<64) of the digest in digest order.
  @inlinable public func byte(_ i: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: words[i &>> 3] &>> UInt64(truncatingIfNeeded: (i & 7) &* 8))
  }

  @inlinable public static func == (lhs: Digest64, rhs: Digest64) -> Bool {
    guard lhs.length == rhs.length else { return false }
    var diff: UInt64 = 0
    for i in 0..<8 { diff |= lhs.words[i] ^ rhs.words[i] }
    return diff == 0
  }
}

/// A streaming hash over bytes, so callers can be generic over the algorithm.
public protocol HashFunction {
  init()
  mutating func update(_ bytes: UnsafeRawBufferPointer)
  mutating func update(byte: UInt8)
  /// Appends the 8 bytes of `word` in little-endian order.
  mutating func update64LE(_ word: UInt64)
  /// Pads, returns the digest and resets the hasher to its initial state.
  mutating func finalize() -> Digest64
  /// Digest length in bytes.
  static var digestLength: Int { get }
}

// MARK: - Hardware acceleration

/// Block functions using the CPU's SHA instructions (FEAT_SHA256, FEAT_SHA512),
/// installed by the firmware after a known-answer self-test. nil: the Swift
/// implementation below. `(state: the 8 words, data: whole blocks, count)`.
public enum SHA2Acceleration {
  public typealias BlockFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Void
  public nonisolated(unsafe) static var sha256Blocks: BlockFunction? = nil
  public nonisolated(unsafe) static var sha512Blocks: BlockFunction? = nil
}

// MARK: - SHA-256

public struct SHA256: HashFunction, Sendable {
  public static var digestLength: Int { 32 }
  /// Block length in bytes.
  public static var blockLength: Int { 64 }

  private var state: InlineArray<8, UInt32>
  private var buffer: InlineArray<64, UInt8>
  /// Bytes held in `buffer` (always < 64 between calls).
  private var buffered: Int
  /// Total message length in bytes (modulo 2^64).
  private var totalBytes: UInt64

  public init() {
    state = [
      0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
      0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    buffer = InlineArray(repeating: 0)
    buffered = 0
    totalBytes = 0
  }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard var src = bytes.baseAddress, bytes.count > 0 else { return }
    var remaining = bytes.count
    totalBytes &+= UInt64(truncatingIfNeeded: remaining)

    // Top up a partially filled buffer first.
    if buffered > 0 {
      let offset = buffered
      let take = min(64 &- offset, remaining)
      withUnsafeMutableBytes(of: &buffer) { dst in
        (dst.baseAddress! + offset).copyMemory(from: src, byteCount: take)
      }
      buffered = offset &+ take
      src += take
      remaining &-= take
      if buffered < 64 { return }
      compressBuffer()
      buffered = 0
    }

    // Whole blocks straight from the input.
    if remaining >= 64 {
      var h = state
      let blocks = remaining / 64
      Self.compressBlocks(&h, src, blocks)
      src += blocks &* 64
      remaining &-= blocks &* 64
      state = h
    }

    // Keep the tail.
    if remaining > 0 {
      let take = remaining
      withUnsafeMutableBytes(of: &buffer) { dst in
        dst.baseAddress!.copyMemory(from: src, byteCount: take)
      }
      buffered = take
    }
  }

  public mutating func update(byte: UInt8) {
    buffer[buffered] = byte
    buffered &+= 1
    totalBytes &+= 1
    if buffered == 64 {
      compressBuffer()
      buffered = 0
    }
  }

  public mutating func update64LE(_ word: UInt64) {
    if buffered <= 56 {
      let offset = buffered
      withUnsafeMutableBytes(of: &buffer) { dst in
        dst.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
      }
      buffered = offset &+ 8
      totalBytes &+= 8
      if buffered == 64 {
        compressBuffer()
        buffered = 0
      }
    } else {
      var w = word
      for _ in 0..<8 {
        update(byte: UInt8(truncatingIfNeeded: w))
        w &>>= 8
      }
    }
  }

  public mutating func finalize() -> Digest64 {
    let bitLength = totalBytes &<< 3
    var n = buffered
    buffer[n] = 0x80
    n &+= 1
    if n > 56 {
      while n < 64 { buffer[n] = 0; n &+= 1 }
      compressBuffer()
      n = 0
    }
    while n < 56 { buffer[n] = 0; n &+= 1 }
    withUnsafeMutableBytes(of: &buffer) { dst in
      dst.storeBytes(of: bitLength.bigEndian, toByteOffset: 56, as: UInt64.self)
    }
    compressBuffer()

    var digest = Digest64()
    digest.length = 32
    for j in 0..<4 {
      digest.words[j] =
        UInt64(state[2 &* j].byteSwapped) | UInt64(state[2 &* j &+ 1].byteSwapped) &<< 32
    }
    self = SHA256()
    return digest
  }

  @inline(__always)
  mutating func compressBuffer() {
    var h = state
    withUnsafeBytes(of: &buffer) { block in
      Self.compressBlocks(&h, block.baseAddress!, 1)
    }
    state = h
  }

  /// `count` consecutive blocks: with the CPU's SHA-256 instructions when the
  /// firmware installed them, else in Swift.
  static func compressBlocks(_ h: inout InlineArray<8, UInt32>, _ data: UnsafeRawPointer, _ count: Int) {
    if let accelerated = SHA2Acceleration.sha256Blocks {
      withUnsafeMutableBytes(of: &h) { state in accelerated(state.baseAddress!, data, count) }
      return
    }
    var block = data
    for _ in 0..<count {
      compress(&h, block)
      block += 64
    }
  }

  @inline(__always)
  static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x &>> n) | (x &<< (32 &- n))
  }

  /// One compression of the 64-byte block at `block` (any alignment) into `h`.
  static func compress(_ h: inout InlineArray<8, UInt32>, _ block: UnsafeRawPointer) {
    // Aligned loads when possible: the firmware builds with -mstrict-align, where an
    // unaligned load is four byte loads.
    var w: InlineArray<16, UInt32>
    if UInt(bitPattern: block) & 3 == 0 {
      w = InlineArray { i in UInt32(bigEndian: block.load(fromByteOffset: i &* 4, as: UInt32.self)) }
    } else {
      w = InlineArray { i in UInt32(bigEndian: block.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)) }
    }
    var a = h[0], b = h[1], c = h[2], d = h[3]
    var e = h[4], f = h[5], g = h[6], hh = h[7]

    // 64 rounds in groups of 16; between groups the 16-word window is expanded in
    // place to the next 16 schedule words. Within a group the rounds are unrolled by 8
    // with the working variables renamed instead of shifted.
    var i = 0
    while true {
      var r = 0
      repeat {
        round(a, b, c, &d, e, f, g, &hh, sha256RoundConstants[unchecked: i &+ r] &+ w[unchecked: r])
        round(hh, a, b, &c, d, e, f, &g, sha256RoundConstants[unchecked: i &+ r &+ 1] &+ w[unchecked: r &+ 1])
        round(g, hh, a, &b, c, d, e, &f, sha256RoundConstants[unchecked: i &+ r &+ 2] &+ w[unchecked: r &+ 2])
        round(f, g, hh, &a, b, c, d, &e, sha256RoundConstants[unchecked: i &+ r &+ 3] &+ w[unchecked: r &+ 3])
        round(e, f, g, &hh, a, b, c, &d, sha256RoundConstants[unchecked: i &+ r &+ 4] &+ w[unchecked: r &+ 4])
        round(d, e, f, &g, hh, a, b, &c, sha256RoundConstants[unchecked: i &+ r &+ 5] &+ w[unchecked: r &+ 5])
        round(c, d, e, &f, g, hh, a, &b, sha256RoundConstants[unchecked: i &+ r &+ 6] &+ w[unchecked: r &+ 6])
        round(b, c, d, &e, f, g, hh, &a, sha256RoundConstants[unchecked: i &+ r &+ 7] &+ w[unchecked: r &+ 7])
        r &+= 8
      } while r < 16
      i &+= 16
      if i == 64 { break }
      // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], indices mod 16.
      for j in 0..<16 {
        let x = w[unchecked: (j &+ 1) & 15]
        let y = w[unchecked: (j &+ 14) & 15]
        let sigma0 = rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3)
        let sigma1 = rotr(y, 17) ^ rotr(y, 19) ^ (y &>> 10)
        w[unchecked: j] = w[unchecked: j] &+ sigma0 &+ w[unchecked: (j &+ 9) & 15] &+ sigma1
      }
    }

    h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d
    h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
  }

  /// One round with the roles of the working variables supplied by the caller:
  /// `h` becomes the new `a` and `d` the new `e`; the others only move names.
  @inline(__always)
  static func round(
    _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
    _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32
  ) {
    let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ kw
    let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
    d &+= t1
    h = t1 &+ t2
  }
}

private let sha256RoundConstants: InlineArray<64, UInt32> = [
  0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
  0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
  0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
  0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
  0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
  0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
  0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
  0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
]

// MARK: - SHA-384 (FIPS 180-4 §5.3.4, §6.5): the attestation token's ES384 digest

public struct SHA384: HashFunction, Sendable {
  public static var digestLength: Int { 48 }
  static let initialState: InlineArray<8, UInt64> = [
    0xcbbb_9d5d_c105_9ed8, 0x629a_292a_367c_d507, 0x9159_015a_3070_dd17, 0x152f_ecd8_f70e_5939,
    0x6733_2667_ffc0_0b31, 0x8eb4_4a87_6858_1511, 0xdb0c_2e0d_64f9_8fa7, 0x47b5_481d_befa_4fa4,
  ]
  private var inner: SHA512

  public init() { inner = SHA512(initialState: Self.initialState) }
  public mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }
  public mutating func update(byte: UInt8) { inner.update(byte: byte) }
  public mutating func update64LE(_ word: UInt64) { inner.update64LE(word) }

  /// The first 48 bytes of the SHA-512 computation (words 6 and 7 zeroed).
  public mutating func finalize() -> Digest64 {
    var digest = inner.finalize()
    digest.words[6] = 0
    digest.words[7] = 0
    digest.length = 48
    self = SHA384()
    return digest
  }
}

// MARK: - SHA-512

public struct SHA512: HashFunction, Sendable {
  public static var digestLength: Int { 64 }
  /// Block length in bytes.
  public static var blockLength: Int { 128 }

  private var state: InlineArray<8, UInt64>
  private var buffer: InlineArray<128, UInt8>
  /// Bytes held in `buffer` (always < 128 between calls).
  private var buffered: Int
  /// Total message length in bytes (modulo 2^64; FIPS 180-4 allows 2^128 bits,
  /// which no caller here comes near).
  private var totalBytes: UInt64

  public init() {
    state = [
      0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
      0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179,
    ]
    buffer = InlineArray(repeating: 0)
    buffered = 0
    totalBytes = 0
  }

  /// SHA-512 started from another initial state (SHA-384 is SHA-512 with its own IV,
  /// truncated).
  init(initialState: InlineArray<8, UInt64>) {
    self.init()
    state = initialState
  }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard var src = bytes.baseAddress, bytes.count > 0 else { return }
    var remaining = bytes.count
    totalBytes &+= UInt64(truncatingIfNeeded: remaining)

    if buffered > 0 {
      let offset = buffered
      let take = min(128 &- offset, remaining)
      withUnsafeMutableBytes(of: &buffer) { dst in
        (dst.baseAddress! + offset).copyMemory(from: src, byteCount: take)
      }
      buffered = offset &+ take
      src += take
      remaining &-= take
      if buffered < 128 { return }
      compressBuffer()
      buffered = 0
    }

    if remaining >= 128 {
      var h = state
      let blocks = remaining / 128
      Self.compressBlocks(&h, src, blocks)
      src += blocks &* 128
      remaining &-= blocks &* 128
      state = h
    }

    if remaining > 0 {
      let take = remaining
      withUnsafeMutableBytes(of: &buffer) { dst in
        dst.baseAddress!.copyMemory(from: src, byteCount: take)
      }
      buffered = take
    }
  }

  public mutating func update(byte: UInt8) {
    buffer[buffered] = byte
    buffered &+= 1
    totalBytes &+= 1
    if buffered == 128 {
      compressBuffer()
      buffered = 0
    }
  }

  public mutating func update64LE(_ word: UInt64) {
    if buffered <= 120 {
      let offset = buffered
      withUnsafeMutableBytes(of: &buffer) { dst in
        dst.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
      }
      buffered = offset &+ 8
      totalBytes &+= 8
      if buffered == 128 {
        compressBuffer()
        buffered = 0
      }
    } else {
      var w = word
      for _ in 0..<8 {
        update(byte: UInt8(truncatingIfNeeded: w))
        w &>>= 8
      }
    }
  }

  public mutating func finalize() -> Digest64 {
    let bitLengthLow = totalBytes &<< 3
    let bitLengthHigh = totalBytes &>> 61
    var n = buffered
    buffer[n] = 0x80
    n &+= 1
    if n > 112 {
      while n < 128 { buffer[n] = 0; n &+= 1 }
      compressBuffer()
      n = 0
    }
    while n < 112 { buffer[n] = 0; n &+= 1 }
    withUnsafeMutableBytes(of: &buffer) { dst in
      dst.storeBytes(of: bitLengthHigh.bigEndian, toByteOffset: 112, as: UInt64.self)
      dst.storeBytes(of: bitLengthLow.bigEndian, toByteOffset: 120, as: UInt64.self)
    }
    compressBuffer()

    var digest = Digest64()
    digest.length = 64
    for j in 0..<8 {
      digest.words[j] = state[j].byteSwapped
    }
    self = SHA512()
    return digest
  }

  @inline(__always)
  mutating func compressBuffer() {
    var h = state
    withUnsafeBytes(of: &buffer) { block in
      Self.compressBlocks(&h, block.baseAddress!, 1)
    }
    state = h
  }

  /// `count` consecutive blocks: with the CPU's SHA-512 instructions when the
  /// firmware installed them, else in Swift.
  static func compressBlocks(_ h: inout InlineArray<8, UInt64>, _ data: UnsafeRawPointer, _ count: Int) {
    if let accelerated = SHA2Acceleration.sha512Blocks {
      withUnsafeMutableBytes(of: &h) { state in accelerated(state.baseAddress!, data, count) }
      return
    }
    var block = data
    for _ in 0..<count {
      compress(&h, block)
      block += 128
    }
  }

  @inline(__always)
  static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 {
    (x &>> n) | (x &<< (64 &- n))
  }

  /// One compression of the 128-byte block at `block` (any alignment) into `h`.
  static func compress(_ h: inout InlineArray<8, UInt64>, _ block: UnsafeRawPointer) {
    var w: InlineArray<16, UInt64>
    if UInt(bitPattern: block) & 7 == 0 {
      w = InlineArray { i in UInt64(bigEndian: block.load(fromByteOffset: i &* 8, as: UInt64.self)) }
    } else {
      w = InlineArray { i in UInt64(bigEndian: block.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self)) }
    }
    var a = h[0], b = h[1], c = h[2], d = h[3]
    var e = h[4], f = h[5], g = h[6], hh = h[7]

    // 80 rounds in groups of 16; between groups the 16-word window is expanded in
    // place to the next 16 schedule words. Within a group the rounds are unrolled by 8
    // with the working variables renamed instead of shifted.
    var i = 0
    while true {
      var r = 0
      repeat {
        round(a, b, c, &d, e, f, g, &hh, sha512RoundConstants[unchecked: i &+ r] &+ w[unchecked: r])
        round(hh, a, b, &c, d, e, f, &g, sha512RoundConstants[unchecked: i &+ r &+ 1] &+ w[unchecked: r &+ 1])
        round(g, hh, a, &b, c, d, e, &f, sha512RoundConstants[unchecked: i &+ r &+ 2] &+ w[unchecked: r &+ 2])
        round(f, g, hh, &a, b, c, d, &e, sha512RoundConstants[unchecked: i &+ r &+ 3] &+ w[unchecked: r &+ 3])
        round(e, f, g, &hh, a, b, c, &d, sha512RoundConstants[unchecked: i &+ r &+ 4] &+ w[unchecked: r &+ 4])
        round(d, e, f, &g, hh, a, b, &c, sha512RoundConstants[unchecked: i &+ r &+ 5] &+ w[unchecked: r &+ 5])
        round(c, d, e, &f, g, hh, a, &b, sha512RoundConstants[unchecked: i &+ r &+ 6] &+ w[unchecked: r &+ 6])
        round(b, c, d, &e, f, g, hh, &a, sha512RoundConstants[unchecked: i &+ r &+ 7] &+ w[unchecked: r &+ 7])
        r &+= 8
      } while r < 16
      i &+= 16
      if i == 80 { break }
      // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16], indices mod 16.
      for j in 0..<16 {
        let x = w[unchecked: (j &+ 1) & 15]
        let y = w[unchecked: (j &+ 14) & 15]
        let sigma0 = rotr(x, 1) ^ rotr(x, 8) ^ (x &>> 7)
        let sigma1 = rotr(y, 19) ^ rotr(y, 61) ^ (y &>> 6)
        w[unchecked: j] = w[unchecked: j] &+ sigma0 &+ w[unchecked: (j &+ 9) & 15] &+ sigma1
      }
    }

    h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d
    h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
  }

  /// One round with the roles of the working variables supplied by the caller:
  /// `h` becomes the new `a` and `d` the new `e`; the others only move names.
  @inline(__always)
  static func round(
    _ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: inout UInt64,
    _ e: UInt64, _ f: UInt64, _ g: UInt64, _ h: inout UInt64, _ kw: UInt64
  ) {
    let t1 = h &+ (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) &+ ((e & f) ^ (~e & g)) &+ kw
    let t2 = (rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) &+ ((a & b) ^ (a & c) ^ (b & c))
    d &+= t1
    h = t1 &+ t2
  }
}

private let sha512RoundConstants: InlineArray<80, UInt64> = [
  0x428a_2f98_d728_ae22, 0x7137_4491_23ef_65cd, 0xb5c0_fbcf_ec4d_3b2f, 0xe9b5_dba5_8189_dbbc,
  0x3956_c25b_f348_b538, 0x59f1_11f1_b605_d019, 0x923f_82a4_af19_4f9b, 0xab1c_5ed5_da6d_8118,
  0xd807_aa98_a303_0242, 0x1283_5b01_4570_6fbe, 0x2431_85be_4ee4_b28c, 0x550c_7dc3_d5ff_b4e2,
  0x72be_5d74_f27b_896f, 0x80de_b1fe_3b16_96b1, 0x9bdc_06a7_25c7_1235, 0xc19b_f174_cf69_2694,
  0xe49b_69c1_9ef1_4ad2, 0xefbe_4786_384f_25e3, 0x0fc1_9dc6_8b8c_d5b5, 0x240c_a1cc_77ac_9c65,
  0x2de9_2c6f_592b_0275, 0x4a74_84aa_6ea6_e483, 0x5cb0_a9dc_bd41_fbd4, 0x76f9_88da_8311_53b5,
  0x983e_5152_ee66_dfab, 0xa831_c66d_2db4_3210, 0xb003_27c8_98fb_213f, 0xbf59_7fc7_beef_0ee4,
  0xc6e0_0bf3_3da8_8fc2, 0xd5a7_9147_930a_a725, 0x06ca_6351_e003_826f, 0x1429_2967_0a0e_6e70,
  0x27b7_0a85_46d2_2ffc, 0x2e1b_2138_5c26_c926, 0x4d2c_6dfc_5ac4_2aed, 0x5338_0d13_9d95_b3df,
  0x650a_7354_8baf_63de, 0x766a_0abb_3c77_b2a8, 0x81c2_c92e_47ed_aee6, 0x9272_2c85_1482_353b,
  0xa2bf_e8a1_4cf1_0364, 0xa81a_664b_bc42_3001, 0xc24b_8b70_d0f8_9791, 0xc76c_51a3_0654_be30,
  0xd192_e819_d6ef_5218, 0xd699_0624_5565_a910, 0xf40e_3585_5771_202a, 0x106a_a070_32bb_d1b8,
  0x19a4_c116_b8d2_d0c8, 0x1e37_6c08_5141_ab53, 0x2748_774c_df8e_eb99, 0x34b0_bcb5_e19b_48a8,
  0x391c_0cb3_c5c9_5a63, 0x4ed8_aa4a_e341_8acb, 0x5b9c_ca4f_7763_e373, 0x682e_6ff3_d6b2_b8a3,
  0x748f_82ee_5def_b2fc, 0x78a5_636f_4317_2f60, 0x84c8_7814_a1f0_ab72, 0x8cc7_0208_1a64_39ec,
  0x90be_fffa_2363_1e28, 0xa450_6ceb_de82_bde9, 0xbef9_a3f7_b2c6_7915, 0xc671_78f2_e372_532b,
  0xca27_3ece_ea26_619c, 0xd186_b8c7_21c0_c207, 0xeada_7dd6_cde0_eb1e, 0xf57d_4f7f_ee6e_d178,
  0x06f0_67aa_7217_6fba, 0x0a63_7dc5_a2c8_98a6, 0x113f_9804_bef9_0dae, 0x1b71_0b35_131c_471b,
  0x28db_77f5_2304_7d84, 0x32ca_ab7b_40c7_2493, 0x3c9e_be0a_15c9_bebc, 0x431d_67c4_9c10_0d4c,
  0x4cc5_d4be_cb3e_42b6, 0x597f_299c_fc65_7e2a, 0x5fcb_6fab_3ad6_faec, 0x6c44_198c_4a47_5817,
]


// Realm measurements: the RIM (initial measurement, extended while the realm is NEW)
// and four REMs. Each is a digest of the realm's hash algorithm in a 64-byte slot.

import RMMABI

/// Which algorithm, as a value: the realm chooses at creation time.
public enum MeasurementHash {
  /// H(bytes) with `algorithm`.
  public static func digest(_ algorithm: HashAlgorithm, _ body: (inout HashInput) -> Void) -> Digest64 {
    switch algorithm {
    case .sha256:
      var input = HashInput(sha256: SHA256())
      body(&input)
      return input.finalize()
    case .sha512:
      var input = HashInput(sha512: SHA512())
      body(&input)
      return input.finalize()
    }
  }

  public static func digestLength(_ algorithm: HashAlgorithm) -> Int {
    algorithm == .sha256 ? SHA256.digestLength : SHA512.digestLength
  }
}

/// A running hash of either algorithm (a closed set of two: an enum, no existential).
public struct HashInput {
  enum State {
    case sha256(SHA256)
    case sha512(SHA512)
  }
  var state: State
  init(sha256: SHA256) { state = .sha256(sha256) }
  init(sha512: SHA512) { state = .sha512(sha512) }

  public mutating func update64LE(_ word: UInt64) {
    switch state {
    case .sha256(var h): h.update64LE(word); state = .sha256(h)
    case .sha512(var h): h.update64LE(word); state = .sha512(h)
    }
  }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    switch state {
    case .sha256(var h): h.update(bytes); state = .sha256(h)
    case .sha512(var h): h.update(bytes); state = .sha512(h)
    }
  }

  /// Appends the 64-byte slot of `digest` (zero-padded for SHA-256).
  public mutating func update(slot digest: Digest64) {
    for i in 0..<8 { update64LE(digest.words[i]) }
  }

  public mutating func updateZeros(words count: Int) {
    for _ in 0..<count { update64LE(0) }
  }

  /// Appends the whole page, 8 bytes at a time.
  public mutating func update<Page: ReadablePage>(page: Page, bytes: Int = 4096) {
    var offset = 0
    while offset < bytes {
      update64LE(page.load64(at: offset))
      offset += 8
    }
  }

  mutating func finalize() -> Digest64 {
    switch state {
    case .sha256(var h): return h.finalize()
    case .sha512(var h): return h.finalize()
    }
  }
}

/// The RIM descriptors of the RMM specification (lib/measurement in the reference):
/// 0x100 bytes each, hashed to produce the next RIM.
public enum RIMDescriptor {
  public static let size = 0x100
  public static let typeData: UInt64 = 0
  public static let typeREC: UInt64 = 1
  public static let typeRIPAS: UInt64 = 2

  /// RIM' = H(type, len, RIM, ipa, flags, content, 0...) for DATA_CREATE.
  public static func extendForData(_ algorithm: HashAlgorithm, rim: Digest64, ipa: UInt64, flags: UInt64,
                                   content: Digest64) -> Digest64 {
    MeasurementHash.digest(algorithm) { h in
      h.update64LE(typeData)
      h.update64LE(UInt64(size))
      h.update(slot: rim)          // 0x10..0x50
      h.update64LE(ipa)            // 0x50
      h.update64LE(flags)          // 0x58
      h.update(slot: content)      // 0x60..0xA0
      h.updateZeros(words: (size - 0xA0) / 8)
    }
  }

  /// RIM' = H(type, len, RIM, content = H(measured REC params), 0...) for REC_CREATE.
  public static func extendForREC(_ algorithm: HashAlgorithm, rim: Digest64, content: Digest64) -> Digest64 {
    MeasurementHash.digest(algorithm) { h in
      h.update64LE(typeREC)
      h.update64LE(UInt64(size))
      h.update(slot: rim)          // 0x10..0x50
      h.update(slot: content)      // 0x50..0x90
      h.updateZeros(words: (size - 0x90) / 8)
    }
  }

  /// RIM' = H(type, len, RIM, base, top, 0...) for RTT_INIT_RIPAS, once per entry.
  public static func extendForRIPAS(_ algorithm: HashAlgorithm, rim: Digest64, base: UInt64, top: UInt64) -> Digest64 {
    MeasurementHash.digest(algorithm) { h in
      h.update64LE(typeRIPAS)
      h.update64LE(UInt64(size))
      h.update(slot: rim)          // 0x10..0x50
      h.update64LE(base)           // 0x50
      h.update64LE(top)            // 0x58
      h.updateZeros(words: (size - 0x60) / 8)
    }
  }

  /// The initial RIM: H(RmiRealmParams page, zero except the measured fields).
  public static func initial(_ algorithm: HashAlgorithm, flags: UInt64, s2sz: UInt64, sveVectorLength: UInt64,
                             breakpoints: UInt64, watchpoints: UInt64, pmuCounters: UInt64) -> Digest64 {
    MeasurementHash.digest(algorithm) { h in
      h.update64LE(flags)                   // 0x000
      h.update64LE(s2sz)                    // 0x008
      h.update64LE(sveVectorLength)         // 0x010
      h.update64LE(breakpoints)             // 0x018
      h.update64LE(watchpoints)             // 0x020
      h.update64LE(pmuCounters)             // 0x028
      h.update64LE(UInt64(algorithm.rawValue))  // 0x030
      h.updateZeros(words: (4096 - 0x38) / 8)
    }
  }

  /// H(RmiRecParams page, zero except flags, pc and gprs) for REC_CREATE.
  public static func recParamsContent(_ algorithm: HashAlgorithm, flags: UInt64, pc: UInt64,
                                      gprs: InlineArray<8, UInt64>) -> Digest64 {
    MeasurementHash.digest(algorithm) { h in
      h.update64LE(flags)                       // 0x000
      h.updateZeros(words: (0x200 - 0x008) / 8) // .. mpidr (0x100) not measured
      h.update64LE(pc)                          // 0x200
      h.updateZeros(words: (0x300 - 0x208) / 8)
      for i in 0..<8 { h.update64LE(gprs[i]) }  // 0x300..0x340
      h.updateZeros(words: (4096 - 0x340) / 8)
    }
  }
}

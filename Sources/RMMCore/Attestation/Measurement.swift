// Realm measurements: the RIM (initial measurement, extended while the realm is NEW)
// and four REMs. Each is a digest of the realm's hash algorithm in a 64-byte slot.

import RMMABI

/// Which algorithm, as a value: the realm chooses at creation time.
public enum MeasurementHash {
  /// H(bytes) with `algorithm`.
  public static func digest(_ algorithm: HashAlgorithm, _ body: (inout HashInput) -> Void) -> Digest64 {
    var input = HashInput(algorithm)
    body(&input)
    return input.finalize()
  }

  public static func digestLength(_ algorithm: HashAlgorithm) -> Int {
    algorithm == .sha256 ? SHA256.digestLength : SHA512.digestLength
  }
}

/// A running hash of either algorithm. Both states live side by side and are updated
/// in place: an enum payload would be copied out and back on every update.
public struct HashInput {
  let algorithm: HashAlgorithm
  var sha256 = SHA256()
  var sha512 = SHA512()

  init(_ algorithm: HashAlgorithm) { self.algorithm = algorithm }

  public mutating func update64LE(_ word: UInt64) {
    if algorithm == .sha256 { sha256.update64LE(word) } else { sha512.update64LE(word) }
  }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    if algorithm == .sha256 { sha256.update(bytes) } else { sha512.update(bytes) }
  }

  /// Appends the 64-byte slot of `digest` (zero-padded for SHA-256).
  public mutating func update(slot digest: Digest64) {
    var words = digest.words
    withUnsafeBytes(of: &words) { update($0) }
  }

  public mutating func updateZeros(words count: Int) {
    var zeros: InlineArray<64, UInt64> = .init(repeating: 0)
    var remaining = count
    while remaining > 0 {
      let chunk = min(remaining, 64)
      withUnsafeBytes(of: &zeros) { update(UnsafeRawBufferPointer(rebasing: $0[0..<(chunk * 8)])) }
      remaining -= chunk
    }
  }

  /// Appends a whole page held in RMM memory, as whole blocks.
  public mutating func update(page: inout PageBuffer) {
    withUnsafeBytes(of: &page.words) { update($0) }
  }

  mutating func finalize() -> Digest64 {
    algorithm == .sha256 ? sha256.finalize() : sha512.finalize()
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

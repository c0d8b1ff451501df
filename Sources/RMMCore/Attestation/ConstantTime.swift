// Comparisons and copies of secrets (keys, challenges, measurements) whose timing must
// not depend on the data: no early exit, no data-dependent branch or index.

public enum ConstantTime {
  /// Whether the first `count` words of `a` and `b` are equal, looking at every word.
  @inline(never)
  public static func equal(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, count: Int) -> Bool {
    var difference: UInt64 = 0
    for i in 0..<count { difference |= a[i] ^ b[i] }
    return difference == 0
  }

  /// Digests compared whole (all 8 words, whatever the algorithm's length).
  public static func equal(_ a: Digest64, _ b: Digest64) -> Bool {
    var difference = UInt64(a.length ^ b.length)
    for i in 0..<8 { difference |= a.words[i] ^ b.words[i] }
    return difference == 0
  }

  /// `condition ? a : b` without a branch on `condition`. Not inlined: inlined where
  /// its operands sit in memory, the optimiser turned the mask idiom into a select of
  /// their addresses and one load (a secret-dependent address; scripts/check-constant-time).
  @inline(never)
  public static func select(_ condition: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 {
    let mask = 0 &- UInt64(condition ? 1 : 0)
    return (a & mask) | (b & ~mask)
  }

  /// Overwrites `count` words with zeros in a way the optimiser must keep (key scrubbing).
  @inline(never)
  public static func scrub(_ words: UnsafeMutablePointer<UInt64>, count: Int) {
    for i in 0..<count { words[i] = 0 }
    withExtendedLifetime(words) {}
  }
}

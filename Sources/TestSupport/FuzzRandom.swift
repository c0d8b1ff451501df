// Shared by the NS test payload and the realm test payload (compiled into both by
// scripts/build): the fuzzers' random numbers.

/// xorshift64*: small, no state beyond one word, deterministic from the seed, so a
/// fuzz failure replays exactly from the seed it printed.
struct FuzzRandom {
  var state: UInt64
  init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
  mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 0x2545_F491_4F6C_DD1D
  }
  mutating func below(_ n: UInt64) -> UInt64 { next() % n }
  mutating func percent(_ p: UInt64) -> Bool { below(100) < p }
}

// Installs the SHA-256 and SHA-512 instructions (FEAT_SHA256, FEAT_SHA512) for the
// measurement hashes, each after a known-answer test: a wrong hash would silently
// corrupt every RIM.

import AArch64Shim
import RMMCore

/// SHA-256 of the bytes 0, 1, ..., 255 repeated four times (1 KiB, 16 blocks in one call).
private let knownAnswer: InlineArray<32, UInt8> = [
  0x78, 0x5b, 0x07, 0x51, 0xfc, 0x2c, 0x53, 0xdc, 0x14, 0xa4, 0xce, 0x3d, 0x80, 0x0e, 0x69, 0xef,
  0x9c, 0xe1, 0x00, 0x9e, 0xb3, 0x27, 0xcc, 0xf4, 0x58, 0xaf, 0xe0, 0x9c, 0x24, 0x2c, 0x26, 0xc9,
]

/// SHA-512 of the same message (8 blocks in one call).
private let knownAnswer512: InlineArray<64, UInt8> = [
  0x37, 0xf6, 0x52, 0xbe, 0x86, 0x7f, 0x28, 0xed, 0x03, 0x32, 0x69, 0xcb, 0xba, 0x20, 0x1a, 0xf2,
  0x11, 0x2c, 0x2b, 0x3f, 0xd3, 0x34, 0xa8, 0x9f, 0xd2, 0xf7, 0x57, 0x93, 0x8d, 0xde, 0xe8, 0x15,
  0x78, 0x7c, 0xc6, 0x1d, 0x6e, 0x24, 0xa8, 0xa3, 0x33, 0x40, 0xd0, 0xf7, 0xe8, 0x6f, 0xfc, 0x05,
  0x88, 0x16, 0xb8, 0x85, 0x30, 0x76, 0x6b, 0xa6, 0xe2, 0x31, 0x62, 0x0a, 0x13, 0x0b, 0x56, 0x6c,
]

private func knownAnswerTestPasses<Hash: HashFunction>(_: Hash.Type, _ expected: borrowing InlineArray<64, UInt8>,
                                                       length: Int) -> Bool {
  var message: InlineArray<1024, UInt8> = .init(repeating: 0)
  for i in 0..<1024 { message[i] = UInt8(truncatingIfNeeded: i) }
  var hash = Hash()
  withUnsafeBytes(of: &message) { hash.update($0) }
  let digest = hash.finalize()
  var same = true
  for i in 0..<length where digest.byte(i) != expected[i] { same = false }
  return same
}

/// Returns true if the instructions are in use.
func installSHA256Instructions() -> Bool {
  guard (read_id_aa64isar0_el1() >> 12) & 0xF >= 1 else { return false }  // ID_AA64ISAR0_EL1.SHA2
  SHA2Acceleration.sha256Blocks = rmm_sha256_blocks_ce
  var expected: InlineArray<64, UInt8> = .init(repeating: 0)
  for i in 0..<32 { expected[i] = knownAnswer[i] }
  if knownAnswerTestPasses(SHA256.self, expected, length: 32) { return true }
  SHA2Acceleration.sha256Blocks = nil
  return false
}

/// Returns true if the instructions are in use.
func installSHA512Instructions() -> Bool {
  guard (read_id_aa64isar0_el1() >> 12) & 0xF >= 2 else { return false }  // SHA2 = 0b0010: SHA-512 too
  SHA2Acceleration.sha512Blocks = rmm_sha512_blocks_ce
  if knownAnswerTestPasses(SHA512.self, knownAnswer512, length: 64) { return true }
  SHA2Acceleration.sha512Blocks = nil
  return false
}

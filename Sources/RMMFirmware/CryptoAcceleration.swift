// Installs the SHA-256 instructions (FEAT_SHA256) for the measurement hashes, after a
// known-answer test: a wrong hash would silently corrupt every RIM.

import AArch64Shim
import RMMCore

/// SHA-256 of the bytes 0, 1, ..., 255 repeated four times (1 KiB, 16 blocks in one call).
private let knownAnswer: InlineArray<32, UInt8> = [
  0x78, 0x5b, 0x07, 0x51, 0xfc, 0x2c, 0x53, 0xdc, 0x14, 0xa4, 0xce, 0x3d, 0x80, 0x0e, 0x69, 0xef,
  0x9c, 0xe1, 0x00, 0x9e, 0xb3, 0x27, 0xcc, 0xf4, 0x58, 0xaf, 0xe0, 0x9c, 0x24, 0x2c, 0x26, 0xc9,
]

private func knownAnswerTestPasses() -> Bool {
  var message: InlineArray<1024, UInt8> = .init(repeating: 0)
  for i in 0..<1024 { message[i] = UInt8(truncatingIfNeeded: i) }
  var hash = SHA256()
  withUnsafeBytes(of: &message) { hash.update($0) }
  let digest = hash.finalize()
  var same = true
  for i in 0..<32 where digest.byte(i) != knownAnswer[i] { same = false }
  return same
}

/// Returns true if the instructions are in use.
func installSHA256Instructions() -> Bool {
  guard (read_id_aa64isar0_el1() >> 12) & 0xF >= 1 else { return false }  // ID_AA64ISAR0_EL1.SHA2
  SHA2Acceleration.sha256Blocks = rmm_sha256_blocks_ce
  if knownAnswerTestPasses() { return true }
  SHA2Acceleration.sha256Blocks = nil
  return false
}

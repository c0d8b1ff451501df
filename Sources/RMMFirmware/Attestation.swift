// The attestation material from EL3 and signing with the Realm Attestation Key.
//
// Cold boot asks EL3 for the RAK (RMM_ATTEST_GET_REALM_KEY), derives its public key,
// encodes it as the token's COSE_Key and asks EL3 for the platform token with SHA-256
// of that encoding as the challenge (RMM_ATTEST_GET_PLAT_TOKEN): this binds the two
// tokens. The RAK's private scalar is then scrubbed: the RMM keeps only the public key,
// the platform token and a SHA-256 fingerprint of the scalar.
//
// Each signature fetches the scalar from EL3 again, checks it against the fingerprint
// (in constant time), and hands it to mbedTLS inside the REC's arena, where it lives
// only until the signature is finished or abandoned (both scrub the arena). The
// signature itself is mbedTLS's restartable, deterministic (RFC 6979) ECDSA P-384,
// with its scalar-multiplication blinding seeded from RNDR where the CPU has it.

import AArch64Shim
import RMMABI
import RMMCore
import RMMCrypto

nonisolated(unsafe) var attestationAvailable = false
nonisolated(unsafe) var platformTokenLength = 0
nonisolated(unsafe) var rakPublicKeyLength = 0
/// SHA-256 of the RAK scalar EL3 gave at boot.
nonisolated(unsafe) var rakFingerprint: InlineArray<4, UInt64> = .init(repeating: 0)
/// PA of the EL3 shared page (cold boot's x3).
nonisolated(unsafe) var sharedPagePA: UInt64 = 0
/// Signatures started, per CPU: mixed into the blinding seed.
nonisolated(unsafe) var signaturesStarted: InlineArray<32, UInt64> = .init(repeating: 0)

/// Offset and size of the runtime exchange area in the shared page (the manifest at
/// the start has been copied by then).
let sharedExchangeOffset = 0x800
let sharedExchangeSize = 0x800

struct FirmwareAttestation: AttestationService {
  var isAvailable: Bool { attestationAvailable }

  func withBootMaterial<Result>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result) -> Result {
    body(UnsafeRawBufferPointer(start: rmm_rak_public_key_buffer(), count: rakPublicKeyLength),
         UnsafeRawBufferPointer(start: rmm_platform_token_buffer(), count: platformTokenLength))
  }

  func beginSignature(arena: UnsafeMutableRawBufferPointer, digest: Digest64) -> Bool {
    var scalar: InlineArray<6, UInt64> = .init(repeating: 0)
    var seed: InlineArray<6, UInt64> = .init(repeating: 0)
    var hash: InlineArray<6, UInt64> = .init(repeating: 0)
    for i in 0..<6 { hash[i] = digest.words[i] }
    defer {
      withUnsafeMutablePointer(to: &scalar) { ConstantTime.scrub(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self), count: 6) }
      withUnsafeMutablePointer(to: &seed) { ConstantTime.scrub(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self), count: 6) }
    }
    guard withUnsafeMutableBytes(of: &scalar, { fetchRealmAttestationKey(into: $0) }) else { return false }
    // EL3 must hand out the key whose public half is in every token (checked without
    // an early exit: the scalar is secret).
    var fingerprint = sha256Words(of: &scalar)
    let sameKey = withUnsafePointer(to: &fingerprint) { now in
      withUnsafePointer(to: &rakFingerprint) { boot in
        ConstantTime.equal(UnsafeRawPointer(now).assumingMemoryBound(to: UInt64.self),
                           UnsafeRawPointer(boot).assumingMemoryBound(to: UInt64.self), count: 4)
      }
    }
    guard sameKey else { return false }
    blindingSeed(&seed, digest: digest)
    let status = withUnsafeBytes(of: &scalar) { key in
      withUnsafeBytes(of: &hash) { message in
        withUnsafeBytes(of: &seed) { blinding in
          rmm_p384_sign_start(arena.baseAddress, arena.count, key.baseAddress!.assumingMemoryBound(to: UInt8.self),
                              message.baseAddress!.assumingMemoryBound(to: UInt8.self),
                              blinding.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
      }
    }
    return status == 0
  }

  func continueSignature(arena: UnsafeMutableRawBufferPointer) -> SignatureProgress {
    switch rmm_p384_sign_step(arena.baseAddress) {
    case Int32(RMM_CRYPTO_DONE): return .done
    case Int32(RMM_CRYPTO_IN_PROGRESS): return .inProgress
    default: return .failed
    }
  }

  func finishSignature(arena: UnsafeMutableRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) -> Bool {
    guard signature.count == COSE.es384SignatureSize else { return false }
    return rmm_p384_sign_finish(arena.baseAddress, signature.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
  }

  func abandonSignature(arena: UnsafeMutableRawBufferPointer) {
    rmm_p384_sign_abort(arena.baseAddress, arena.count)
  }
}

/// SHA-256 of the 48-byte scalar, as four words.
func sha256Words(of scalar: inout InlineArray<6, UInt64>) -> InlineArray<4, UInt64> {
  var hasher = SHA256()
  withUnsafeBytes(of: &scalar) { hasher.update($0) }
  var digest = hasher.finalize()
  let words = InlineArray<4, UInt64> { digest.words[$0] }
  withUnsafeMutablePointer(to: &digest.words) { ConstantTime.scrub(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self), count: 8) }
  return words
}

/// 48 bytes for mbedTLS's blinding: RNDR where the CPU has FEAT_RNG, always mixed with
/// the digest, the counter and the time so that no two signatures share a seed.
func blindingSeed(_ seed: inout InlineArray<6, UInt64>, digest: Digest64) {
  var hasher = SHA384()
  let hasRNDR = (read_id_aa64isar0_el1() >> 60) & 0xF != 0
  for _ in 0..<6 {
    var value: UInt64 = 0
    if hasRNDR && read_rndr(&value) != 0 { hasher.update64LE(value) }
  }
  let cpu = currentCPU()
  signaturesStarted[cpu] &+= 1
  hasher.update64LE(UInt64(cpu))
  hasher.update64LE(signaturesStarted[cpu])
  hasher.update64LE(read_cntpct_el0())
  var words = digest.words
  withUnsafeBytes(of: &words) { hasher.update($0) }
  let result = hasher.finalize()
  for i in 0..<6 { seed[i] = result.words[i] }
}

/// The exchange area's first `length` bytes, for `purpose`.
func exchangeIntent(_ purpose: AccessPurpose, _ direction: AccessDirection, _ length: Int) -> AccessIntent {
  AccessIntent(purpose, direction, expecting: .undelegated, offset: UInt16(sharedExchangeOffset), length: UInt16(length))
}

/// Zeroes the whole exchange area (after the RAK passed through it).
func scrubExchange(_ gate: Gate<FirmwareEnvironment>) {
  _ = try? gate.writingSharedPage(exchangeIntent(.el3ExchangeWrite, .write, sharedExchangeSize)) { area in
    area.fill(0, words: sharedExchangeSize / 8, at: sharedExchangeOffset)
  }
}

/// RMM_ATTEST_GET_REALM_KEY into `key` (48 bytes); the shared page is scrubbed again
/// before it is released.
func fetchRealmAttestationKey(into key: UnsafeMutableRawBufferPointer) -> Bool {
  shared_page_lock()
  defer { shared_page_unlock() }
  let gate = FirmwareEnvironment().gate
  let result = smc_call(EL3Call.attestGetRealmKey.rawValue, sharedPagePA + UInt64(sharedExchangeOffset),
                        UInt64(sharedExchangeSize), 0 /* ECC SECP384R1 */, 0)
  var ok = result.x0 == 0 && result.x1 == UInt64(COSE.p384CoordinateSize)
  if ok {
    ok = (try? gate.readingSharedPage(exchangeIntent(.el3ExchangeRead, .read, COSE.p384CoordinateSize)) { area in
      area.loadWords(at: sharedExchangeOffset, into: UnsafeMutableRawBufferPointer(rebasing: key[0..<COSE.p384CoordinateSize]))
    }) != nil
  }
  scrubExchange(gate)
  return ok
}

/// Cold boot: the RAK's public key and the platform token. False (attestation
/// unavailable, RSI_ATTEST_* answer ERROR_STATE) if EL3 cannot provide them.
func initialiseAttestation(_ out: inout Console) -> Bool {
  var scalar: InlineArray<6, UInt64> = .init(repeating: 0)
  defer { withUnsafeMutablePointer(to: &scalar) { ConstantTime.scrub(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self), count: 6) } }
  guard withUnsafeMutableBytes(of: &scalar, { fetchRealmAttestationKey(into: $0) }) else {
    out.write("RMM: attestation unavailable: EL3 gave no realm attestation key\n")
    return false
  }
  rakFingerprint = sha256Words(of: &scalar)

  var x: InlineArray<6, UInt64> = .init(repeating: 0)
  var y: InlineArray<6, UInt64> = .init(repeating: 0)
  let arena = rmm_boot_crypto_arena_base()!
  let derived = withUnsafeBytes(of: &scalar) { key in
    withUnsafeMutableBytes(of: &x) { xBytes in
      withUnsafeMutableBytes(of: &y) { yBytes in
        rmm_p384_public_key(arena, Int(RMM_BOOT_CRYPTO_ARENA_SIZE), key.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            xBytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            yBytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
  }
  rmm_p384_sign_abort(arena, Int(RMM_BOOT_CRYPTO_ARENA_SIZE))  // scrubs the boot arena
  guard derived == 0 else {
    out.write("RMM: attestation unavailable: the realm attestation key is not a P-384 private key\n")
    return false
  }
  var writer = BoundedByteWriter(UnsafeMutableRawBufferPointer(start: rmm_rak_public_key_buffer(), count: 128))
  withUnsafeBytes(of: &x) { xBytes in
    withUnsafeBytes(of: &y) { yBytes in RealmToken.encodeCOSEKey(x: xBytes, y: yBytes, into: &writer) }
  }
  guard !writer.overflowed else { return false }
  rakPublicKeyLength = writer.count

  // The platform token, bound to the RAK: challenge = SHA-256(COSE_Key).
  var binding = SHA256()
  binding.update(writer.written)
  let challenge = binding.finalize()
  guard let length = fetchPlatformToken(challenge: challenge) else {
    out.write("RMM: attestation unavailable: EL3 gave no platform token\n")
    return false
  }
  platformTokenLength = length
  out.write("RMM: attestation: RAK P-384 public key from EL3, platform token ")
  out.decimal(UInt64(length))
  out.write(" bytes\n")
  return true
}

/// RMM_ATTEST_GET_PLAT_TOKEN, in as many pieces as EL3 wants, into rmm_platform_token.
func fetchPlatformToken(challenge: Digest64) -> Int? {
  shared_page_lock()
  defer { shared_page_unlock() }
  let gate = FirmwareEnvironment().gate
  let token = rmm_platform_token_buffer()!
  var length = 0
  for _ in 0..<64 {  // bounded: EL3 hands out at most RMM_PLATFORM_TOKEN_CAPACITY anyway
    // TF-A 2.12 expects the challenge (and its size) with every call.
    var words = challenge.words
    guard (try? gate.writingSharedPage(exchangeIntent(.el3ExchangeWrite, .write, 32)) { area in
      withUnsafeBytes(of: &words) { area.storeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<32]), at: sharedExchangeOffset) }
    }) != nil else { return nil }
    let result = smc_call(EL3Call.attestGetPlatformToken.rawValue, sharedPagePA + UInt64(sharedExchangeOffset),
                          UInt64(sharedExchangeSize), 32, 0)
    guard result.x0 == 0, result.x1 <= UInt64(sharedExchangeSize),
          Int(result.x1) <= Int(RMM_PLATFORM_TOKEN_CAPACITY) - length else { return nil }
    let piece = Int(result.x1)
    guard (try? gate.readingSharedPage(exchangeIntent(.el3ExchangeRead, .read, piece)) { area in
      area.loadWords(at: sharedExchangeOffset, into: UnsafeMutableRawBufferPointer(start: token + length, count: piece))
    }) != nil else { return nil }
    length += piece
    if result.x2 == 0 { return length > 0 ? length : nil }
  }
  return nil
}

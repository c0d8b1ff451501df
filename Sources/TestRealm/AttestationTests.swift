// RSI_ATTEST_TOKEN_INIT / CONTINUE from inside the realm: the errors, the token in
// whole granules, in small pieces, into a page the host must populate first, and
// with a physical interrupt during the signature. The tokens are sent to the host,
// which prints them for the two verifiers (scripts/verify-token).

import AArch64Shim
import RMMABI
import RMMCore

let rsiState = RSIStatus.errorState.rawValue
let rsiIncomplete = RSIStatus.incomplete.rawValue

enum AttestationLayout {
  /// Populated realm RAM (zero) for the tokens.
  static let tokenA: UInt64 = 0x6_0000
  static let tokenB: UInt64 = 0x6_1000
  static let tokenC: UInt64 = 0x6_2000
  /// RIPAS RAM the host populates only when the RMM reports the fault.
  static let unpopulated: UInt64 = 0x9_2000
  /// Outside the RIPAS RAM the host initialised: RIPAS EMPTY.
  static let empty: UInt64 = 0x30_0000
  /// The challenge: word i = 0x0706050403020100 + i * 0x0808080808080808 (bytes 0..63),
  /// which scripts/test passes to the verifiers.
  static func challengeWord(_ i: Int) -> UInt64 { 0x0706_0504_0302_0100 &+ UInt64(i) &* 0x0808_0808_0808_0808 }
}

/// Host-call immediates of this test (TestHost/RealmRunner.swift serves them).
extension HostCallCode {
  static let tokenChunk: UInt64 = 10  // x0 label, x1 total, x2 offset, x3..x30: 224 bytes
  static let irqExitCount: UInt64 = 11  // the host answers its count of IRQ exits in x0
  static let benchAttestation: UInt64 = 12  // x0: instructions of INIT + CONTINUE..SUCCESS
  static let migrateAfterIRQ: UInt64 = 13  // the host runs the entry after the next IRQ exit on CPU 1
  static let migratedEntries: UInt64 = 14  // the host answers how many entries it ran on CPU 1
  static let listInterrupt: UInt64 = 15  // x0: the host lists vINTID x0 pending (Group 1, priority 0x80) in LR 0
  static let listRegisterState: UInt64 = 16  // the host answers LR 0 of the exit, and lists it again as it is
  static let lastSGI: UInt64 = 17  // the host answers the value and ESR of the last ICC_SGI1R_EL1 exit (x0, x1)
}

func attestInit() -> RSIResult {
  let c = AttestationLayout.challengeWord
  return rsi(.attestTokenInit, c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7))
}

/// CONTINUE until SUCCESS, `piece` bytes per call into the granule at `ipa` (the token
/// must fit in one granule). Returns the length, or 0 on any unexpected answer.
func attestCollect(into ipa: UInt64, piece: UInt64, incompleteWithoutBytes: inout UInt64) -> UInt64 {
  var offset: UInt64 = 0
  for _ in 0..<100_000 {
    let size = min(piece, 4096 - offset)
    let r = rsi(.attestTokenContinue, ipa, offset, size)
    if r.x0 == rsiSuccess { return offset + r.x1 }
    guard r.x0 == rsiIncomplete, r.x1 <= size else { return 0 }
    if r.x1 == 0 { incompleteWithoutBytes += 1 }
    offset += r.x1
    if offset >= 4096 { return 0 }
  }
  return 0
}

func pagesEqual(_ a: UInt64, _ b: UInt64, _ length: UInt64) -> Bool {
  let x = UnsafePointer<UInt8>(bitPattern: UInt(a))!, y = UnsafePointer<UInt8>(bitPattern: UInt(b))!
  var difference: UInt8 = 0
  for i in 0..<Int(length) { difference |= x[i] ^ y[i] }
  return difference == 0
}

/// Sends the token at `ipa` to the host in 224-byte host calls.
func sendToken(_ ipa: UInt64, length: UInt64, label: UInt64) {
  let base = realmHostCallAddress()
  let structure = UnsafeMutablePointer<UInt64>(bitPattern: UInt(base))!
  let token = UnsafePointer<UInt8>(bitPattern: UInt(ipa))!
  var offset: UInt64 = 0
  while offset < length {
    for i in 0..<32 { structure[i] = 0 }
    structure[0] = HostCallCode.tokenChunk
    structure[1] = label
    structure[2] = length
    structure[3] = offset
    for w in 0..<28 {
      var word: UInt64 = 0
      for b in 0..<8 {
        let at = offset + UInt64(w * 8 + b)
        if at < length { word |= UInt64(token[Int(at)]) << UInt64(8 * b) }
      }
      structure[4 + w] = word
    }
    _ = rsi(.hostCall, base)
    offset += 224
  }
}

func runAttestationTests() {
  let A = AttestationLayout.self
  var idle: UInt64 = 0

  check(rsi(.attestTokenContinue, A.tokenA, 0, 4096).x0 == rsiState, "ATTEST_TOKEN_CONTINUE before INIT: ERROR_STATE")
  let initial = attestInit()
  check(initial.x0 == rsiSuccess && initial.x1 > 1000 && initial.x1 <= 4096,
        "ATTEST_TOKEN_INIT: SUCCESS and the token's size (fits a granule here)")
  let bound = initial.x1

  // Every bad argument is refused before any work, and leaves the token to come intact.
  check(rsi(.attestTokenContinue, A.tokenA + 8, 0, 8).x0 == rsiInput, "CONTINUE: unaligned IPA: ERROR_INPUT")
  check(rsi(.attestTokenContinue, RealmLayout.mmio & ~0xFFF, 0, 8).x0 == rsiInput, "CONTINUE: unprotected IPA: ERROR_INPUT")
  check(rsi(.attestTokenContinue, 1 << 40, 0, 8).x0 == rsiInput, "CONTINUE: IPA beyond the IPA space: ERROR_INPUT")
  check(rsi(.attestTokenContinue, A.empty, 0, 8).x0 == rsiInput, "CONTINUE: IPA with RIPAS EMPTY: ERROR_INPUT")
  check(rsi(.attestTokenContinue, A.tokenA, 4096, 0).x0 == rsiInput, "CONTINUE: offset beyond the granule: ERROR_INPUT")
  check(rsi(.attestTokenContinue, A.tokenA, 4000, 200).x0 == rsiInput, "CONTINUE: offset + size beyond the granule: ERROR_INPUT")
  check(rsi(.attestTokenContinue, A.tokenA, 8, UInt64.max).x0 == rsiInput, "CONTINUE: size that wraps: ERROR_INPUT")

  // Whole granule per call (the first call also signs).
  let lengthA = attestCollect(into: A.tokenA, piece: 4096, incompleteWithoutBytes: &idle)
  check(lengthA == bound, "CONTINUE: the token, SUCCESS with the last piece, as long as INIT said")
  check(rsi(.attestTokenContinue, A.tokenA, 0, 4096).x0 == rsiState, "CONTINUE after the whole token: ERROR_STATE")
  let token = UnsafePointer<UInt8>(bitPattern: UInt(A.tokenA))!
  check(token[0] == 0xD9 && token[1] == 0x01 && token[2] == 0x8F, "the token starts with CBOR tag 399")
  sendToken(A.tokenA, length: lengthA, label: 0)

  // Again, with a physical interrupt arriving during the signature: the REC exits to
  // the host, CONTINUE answers INCOMPLETE with nothing copied, and the next call
  // resumes, on the other CPU (the host enters the REC there after the IRQ exit): the
  // signature's state, pointers included, is in the aux granules, which the RMM maps at
  // the same address on every CPU. ECDSA with RFC 6979 nonces is deterministic: the
  // same token must result.
  // The timer runs on wall-clock time: under load it can fire before the signature has
  // started. Such an attempt proves nothing and is repeated (at most 4 attempts); every
  // attempt's token must still be the same.
  var resumedElsewhere = false
  var sameTokens = true
  var attempts = 0
  while attempts < 4 && !resumedElsewhere {
    attempts += 1
    let irqsBefore = hostCall(HostCallCode.irqExitCount, text: "")
    let migratedBefore = hostCall(HostCallCode.migratedEntries, text: "")
    _ = hostCall(HostCallCode.migrateAfterIRQ, text: "")
    // 8M counter ticks (8 ms at QEMU's 1 GHz): after INIT, inside the signature.
    _ = hostCall(HostCallCode.armTimer, first: 8_000_000, text: "")
    let sizeAgain = attestInit().x1
    var preemptions: UInt64 = 0
    let lengthB = attestCollect(into: A.tokenB, piece: 4096, incompleteWithoutBytes: &preemptions)
    let irqsAfter = hostCall(HostCallCode.irqExitCount, text: "")
    let migratedAfter = hostCall(HostCallCode.migratedEntries, text: "")
    sameTokens = sameTokens && sizeAgain == bound && lengthB == lengthA && pagesEqual(A.tokenA, A.tokenB, lengthA)
    resumedElsewhere = irqsAfter > irqsBefore && preemptions >= 1 && migratedAfter > migratedBefore
  }
  check(resumedElsewhere,
        "an interrupt during the signature: IRQ exit, INCOMPLETE, resumed on the other CPU (the host re-entered the REC there)")
  check(sameTokens, "the resumed signature gives the same token, byte for byte (RFC 6979)")

  // Small pieces, into a page the host has not populated yet (the RMM reports the
  // fault to the host; the CONTINUE runs again once the page is there).
  check(attestInit().x0 == rsiSuccess, "ATTEST_TOKEN_INIT a third time")
  let lengthC = attestCollect(into: A.unpopulated, piece: 100, incompleteWithoutBytes: &idle)
  check(lengthC == lengthA && pagesEqual(A.tokenA, A.unpopulated, lengthA),
        "CONTINUE in 100-byte pieces into an unpopulated page: the same token")

  // A new INIT in the middle of a delivery starts over.
  check(attestInit().x0 == rsiSuccess, "ATTEST_TOKEN_INIT")
  let first = rsi(.attestTokenContinue, A.tokenC, 0, 64)
  check(first.x0 == rsiIncomplete && first.x1 == 64, "CONTINUE: first 64 bytes, INCOMPLETE")
  check(attestInit().x0 == rsiSuccess, "ATTEST_TOKEN_INIT during a delivery")
  let lengthD = attestCollect(into: A.tokenC, piece: 4096, incompleteWithoutBytes: &idle)
  check(lengthD == lengthA && pagesEqual(A.tokenA, A.tokenC, lengthA), "INIT restarts the token from its first byte")
}

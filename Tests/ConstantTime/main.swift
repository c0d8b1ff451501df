// Constant-time check of Sources/RMMCore/Attestation/ConstantTime.swift and of the RAK fingerprint
// comparison (Sources/RMMFirmware/Attestation.swift), run under valgrind's memcheck by
// scripts/check-constant-time (docs/CRYPTO.md, "Constant time").
//
// The inputs are marked secret (undefined) through valgrind_shim.c; memcheck then
// reports any branch or memory address that depends on them. Only each call's result
// (the Bool of a comparison, the word select returns) is marked public before it is
// used. Built against the whole RMMABI and RMMCore modules, imported as the firmware
// imports them, twice: swiftc -O -wmo, and Embedded with the firmware's -Osize. The
// program's main is in valgrind_shim.c: each argument names a check (`checks` below),
// one "ok"/"FAIL" line each; exit status 1 on a FAIL.

import RMMCore

@_silgen_name("ct_secret") func ctSecret(_ p: UnsafeRawPointer, _ n: Int)
@_silgen_name("ct_public") func ctPublic(_ p: UnsafeRawPointer, _ n: Int)
@_silgen_name("ct_check_defined") func ctCheckDefined(_ p: UnsafeRawPointer, _ n: Int) -> Int32
@_silgen_name("ct_running_on_valgrind") func ctRunningOnValgrind() -> Int32

nonisolated(unsafe) var failures = 0

func check(_ condition: Bool, _ what: String) {
  print("\(condition ? "ok  " : "FAIL") \(what)")
  if !condition { failures += 1 }
}

func secret<T>(_ value: inout T) { withUnsafeMutableBytes(of: &value) { ctSecret($0.baseAddress!, $0.count) } }
func publish<T>(_ value: inout T) { withUnsafeMutableBytes(of: &value) { ctPublic($0.baseAddress!, $0.count) } }

/// The RAK scalar's SHA-256 fingerprint, as Attestation.swift's sha256Words(of:)
/// computes it (RMMCore's SHA256 over the 48 bytes, the digest's first four words, the
/// digest scrubbed): secret-dependent work too.
func fingerprint(of scalar: inout InlineArray<6, UInt64>) -> InlineArray<4, UInt64> {
  var hasher = SHA256()
  withUnsafeBytes(of: &scalar) { hasher.update($0) }
  var digest = hasher.finalize()
  let words = InlineArray<4, UInt64> { digest.words[$0] }
  withUnsafeMutablePointer(to: &digest.words) { ConstantTime.scrub(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self), count: 8) }
  return words
}

/// The boot-time check of beginSignature (Attestation.swift), call for call:
/// ConstantTime.equal over the two fingerprints' four SHA-256 words.
@inline(never)
func sameKey(_ scalar: InlineArray<6, UInt64>, bootFingerprint: InlineArray<4, UInt64>) -> Bool {
  var scalar = scalar
  var rakFingerprint = bootFingerprint
  secret(&scalar)          // the RAK from EL3
  secret(&rakFingerprint)  // SHA-256 of the RAK at cold boot
  var fingerprint = fingerprint(of: &scalar)
  var sameKey = withUnsafePointer(to: &fingerprint) { now in
    withUnsafePointer(to: &rakFingerprint) { boot in
      ConstantTime.equal(UnsafeRawPointer(now).assumingMemoryBound(to: UInt64.self),
                         UnsafeRawPointer(boot).assumingMemoryBound(to: UInt64.self), count: 4)
    }
  }
  publish(&sameKey)
  return sameKey
}

@inline(never)
func equalWords(_ a: InlineArray<8, UInt64>, _ b: InlineArray<8, UInt64>, count: Int) -> Bool {
  var a = a, b = b
  secret(&a)
  secret(&b)
  var result = withUnsafePointer(to: &a) { pa in
    withUnsafePointer(to: &b) { pb in
      ConstantTime.equal(UnsafeRawPointer(pa).assumingMemoryBound(to: UInt64.self),
                         UnsafeRawPointer(pb).assumingMemoryBound(to: UInt64.self), count: count)
    }
  }
  publish(&result)
  return result
}

@inline(never)
func equalDigests(_ a: Digest64, _ b: Digest64) -> Bool {
  var a = a, b = b
  secret(&a.words)  // the digest bytes; the length (algorithm) is public
  secret(&b.words)
  var result = ConstantTime.equal(a, b)
  publish(&result)
  return result
}

/// select with its operands in registers: the condition and words come back from a
/// function the optimiser cannot see into.
@inline(never) func secretWord(_ x: UInt64) -> UInt64 { var x = x; secret(&x); return x }
@inline(never) func secretBool(_ x: Bool) -> Bool { var x = x; secret(&x); return x }

@inline(never)
func selectInRegisters(_ condition: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 {
  var result = ConstantTime.select(secretBool(condition), secretWord(a), secretWord(b))
  publish(&result)
  return result
}

/// select with its operands in memory (as for words of a struct or an array).
@inline(never)
func selectInMemory(_ condition: Bool, _ a: UInt64, _ b: UInt64) -> UInt64 {
  var condition = condition, a = a, b = b
  secret(&condition)
  secret(&a)
  secret(&b)
  var result = ConstantTime.select(condition, a, b)
  publish(&result)
  return result
}

@inline(never)
func scrubbed(_ words: InlineArray<8, UInt64>) -> Bool {
  var words = words
  secret(&words)
  withUnsafeMutablePointer(to: &words) { ConstantTime.scrub(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self), count: 8) }
  // Not published: every word must have been overwritten with a constant (defined) zero.
  let defined = withUnsafeBytes(of: &words) { ctCheckDefined($0.baseAddress!, $0.count) } == 1
  return defined && (0..<8).allSatisfy { words[$0] == 0 }
}

/// Deliberately not constant time (the check must catch it): an early-exit comparison.
@inline(never)
func earlyExitEqual(_ a: InlineArray<4, UInt64>, _ b: InlineArray<4, UInt64>) -> Bool {
  var a = a, b = b
  secret(&a)
  secret(&b)
  var result = true
  for i in 0..<4 where a[i] != b[i] { result = false; break }
  publish(&result)
  return result
}

let rak: InlineArray<6, UInt64> = [0x2543_EE3C_F0C7_1120, 0xE10C_3C03_4F52_6E17, 0xB8F0_A4C1_E676_1AE2,
                                   0x5C8A_0E1E_F61D_AA39, 0xA7EF_699B_0F74_058A, 0x687F_11BD_8541_1AEB]  // QEMU test RAK
let words = InlineArray<8, UInt64> { UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }

/// name -> (what it checks, the check). Each runs in its own valgrind process, so a
/// report belongs to exactly one of them.
nonisolated(unsafe) let checks: [(StaticString, String, () -> Bool)] = [
  ("rak-fingerprint", "RAK fingerprint (Attestation.swift): SHA-256 of the secret scalar, ConstantTime.equal over its 4 words", {
    var key = rak
    let boot = fingerprint(of: &key)
    var otherKey = rak
    otherKey[5] ^= 0x0100_0000_0000_0000  // the scalar's last byte
    var otherBoot = boot
    otherBoot[0] ^= 1
    return sameKey(rak, bootFingerprint: boot) && !sameKey(otherKey, bootFingerprint: boot)
      && !sameKey(rak, bootFingerprint: otherBoot)
  }),
  ("equal-words", "ConstantTime.equal(_:_:count:) on secret words: equal, first or last word differs", {
    var first = words, last = words
    first[0] ^= 1
    last[7] ^= 1 << 63
    return equalWords(words, words, count: 8) && !equalWords(words, first, count: 8)
      && !equalWords(words, last, count: 8) && equalWords(words, last, count: 7)
  }),
  ("equal-digests", "ConstantTime.equal(Digest64, Digest64) on secret digests: equal, a word or the length differs", {
    var other = words
    other[3] ^= 0x80
    let d = Digest64(words: words, length: 64)
    return equalDigests(d, d) && !equalDigests(d, Digest64(words: other, length: 64))
      && !equalDigests(d, Digest64(words: words, length: 32))
  }),
  ("select-registers", "ConstantTime.select, secret condition and words in registers", {
    selectInRegisters(true, 0x1234, 0x5678) == 0x1234 && selectInRegisters(false, 0x1234, 0x5678) == 0x5678
      && selectInRegisters(true, ~0, 0) == ~0 && selectInRegisters(false, ~0, 0) == 0
  }),
  ("select-memory", "ConstantTime.select, secret condition and words in memory", {
    selectInMemory(true, 0x1234, 0x5678) == 0x1234 && selectInMemory(false, 0x1234, 0x5678) == 0x5678
      && selectInMemory(true, ~0, 0) == ~0 && selectInMemory(false, ~0, 0) == 0
  }),
  ("scrub", "ConstantTime.scrub: every secret word overwritten with a constant zero", { scrubbed(words) }),
  ("broken-early-exit", "deliberately broken: comparison with an early exit", {
    var other = rak4()
    other[2] ^= 1
    return earlyExitEqual(rak4(), rak4()) && !earlyExitEqual(rak4(), other)
  }),
]

func rak4() -> InlineArray<4, UInt64> { InlineArray<4, UInt64> { rak[$0] } }

// The program's main is in valgrind_shim.c: it matches its arguments with these names
// (C strings, so Embedded Swift needs no Unicode tables) and runs the checks.
@_cdecl("ct_check_count") func checkCount() -> Int { checks.count }
@_cdecl("ct_check_name") func checkName(_ i: Int) -> UnsafeRawPointer { UnsafeRawPointer(checks[i].0.utf8Start) }

/// Runs check `i`: 1 if it passed.
@_cdecl("ct_run_check")
func runCheck(_ i: Int) -> Int32 {
  let before = failures
  check(checks[i].2(), checks[i].1)
  return failures == before ? 1 : 0
}

@_cdecl("ct_report_valgrind")
func reportValgrind() {
  if ctRunningOnValgrind() == 0 { print("info not running under valgrind: the client requests did nothing") }
}

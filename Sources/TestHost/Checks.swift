// Test reporting: one line per check, and the final "N passed, N failed" line the
// test script reads.

import RMMABI
import RMMCore

nonisolated(unsafe) var passed: UInt64 = 0
nonisolated(unsafe) var failed: UInt64 = 0

func check(_ ok: Bool, _ name: StaticString) {
  console.write(ok ? "[ PASS ] " : "[ FAIL ] ")
  console.write(name)
  console.newline()
  if ok { passed += 1 } else { failed += 1 }
}

/// Checks x0 against an expected RMI status (with index); prints both when they differ.
func expect(_ result: SMCResult, _ expected: RMIStatus, _ name: StaticString) {
  let ok = result.x0 == expected.encoded
  check(ok, name)
  if !ok {
    console.write("         got x0=")
    console.hex(result.x0)
    console.write(", expected ")
    console.hex(expected.encoded)
    console.newline()
  }
}

func expectValue(_ got: UInt64, _ expected: UInt64, _ name: StaticString) {
  check(got == expected, name)
  if got != expected {
    console.write("         got ")
    console.hex(got)
    console.write(", expected ")
    console.hex(expected)
    console.newline()
  }
}

func section(_ name: StaticString) {
  console.write("== ")
  console.write(name)
  console.newline()
}

let inputError = RMIStatus(.errorInput)

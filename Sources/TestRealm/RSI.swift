// The realm's side of the RSI: SMC calls into the RMM, and a console and test
// reporting carried over RSI_HOST_CALL to the host, which prints them.

import RMMABI
import RMMCore

struct RSIResult {
  var x0, x1, x2, x3, x4, x5, x6, x7, x8: UInt64
}

@_silgen_name("realm_smc")
func realmSMC(_ fid: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64, _ a5: UInt64,
              _ a6: UInt64, _ a7: UInt64, _ a8: UInt64, _ a9: UInt64, _ a10: UInt64,
              _ out: UnsafeMutablePointer<UInt64>)

/// SMC from the realm with up to ten arguments; x0..x8 come back.
func rsi(_ fid: UInt64, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0, _ a4: UInt64 = 0,
         _ a5: UInt64 = 0, _ a6: UInt64 = 0, _ a7: UInt64 = 0, _ a8: UInt64 = 0, _ a9: UInt64 = 0,
         _ a10: UInt64 = 0) -> RSIResult {
  var out: InlineArray<9, UInt64> = .init(repeating: 0)
  withUnsafeMutablePointer(to: &out) { p in
    p.withMemoryRebound(to: UInt64.self, capacity: 9) { realmSMC(fid, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, $0) }
  }
  return RSIResult(x0: out[0], x1: out[1], x2: out[2], x3: out[3], x4: out[4], x5: out[5], x6: out[6],
                   x7: out[7], x8: out[8])
}

func rsi(_ command: RSICommand, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0, _ a4: UInt64 = 0,
         _ a5: UInt64 = 0, _ a6: UInt64 = 0, _ a7: UInt64 = 0, _ a8: UInt64 = 0, _ a9: UInt64 = 0,
         _ a10: UInt64 = 0) -> RSIResult {
  rsi(command.rawValue, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)
}

@_silgen_name("realm_host_call_address")
func realmHostCallAddress() -> UInt64

/// Host-call immediates the test host understands (TestHost/RealmRunner.swift).
enum HostCallCode {
  static let print: UInt64 = 1       // x0..x30: text
  static let check: UInt64 = 2       // x0: passed?, x1..x30: name
  static let echo: UInt64 = 3        // the host returns x0 + 1 in x0
  static let armTimer: UInt64 = 4    // the host arms a physical timer before the next entry
  static let benchResult: UInt64 = 5 // x0: instructions per RSI_VERSION measured in the realm
  static let benchTick: UInt64 = 6   // an empty host call: the host times the round trip
  static let fuzzSeed: UInt64 = 7    // x0: the seed of the RSI fuzzer (printed before it starts)
  static let fuzzReport: UInt64 = 8  // x0 calls, x1 mismatches, x2/x3 first mismatch FID / x0
  static let trapWFx: UInt64 = 9     // the host re-enters with WFI and WFE trapping requested
}

/// Sends `text` (and a leading word) over RSI_HOST_CALL.
func hostCall(_ imm: UInt64, first: UInt64? = nil, text: StaticString) -> UInt64 {
  let base = realmHostCallAddress()
  let structure = UnsafeMutablePointer<UInt64>(bitPattern: UInt(base))!
  for i in 0..<32 { structure[i] = 0 }
  structure[0] = imm
  var register = 0
  if let first {
    structure[1] = first
    register = 1
  }
  text.withUTF8Buffer { bytes in
    var i = 0
    while i < bytes.count && register < 30 {
      var word: UInt64 = 0
      for b in 0..<8 where i + b < bytes.count { word |= UInt64(bytes[i + b]) << UInt64(8 * b) }
      structure[1 + register] = word
      register += 1
      i += 8
    }
  }
  _ = rsi(.hostCall, base)
  return structure[1]
}

func say(_ text: StaticString) { _ = hostCall(HostCallCode.print, text: text) }

func check(_ ok: Bool, _ name: StaticString) {
  _ = hostCall(HostCallCode.check, first: ok ? 1 : 0, text: name)
}

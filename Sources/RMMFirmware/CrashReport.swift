// Unexpected exceptions at R-EL2: print what happened, then stop trusting the RMM's
// state (rmmHalted) and give control back to EL3 so that nothing hangs.

import AArch64Shim
import RMMABI
import RMMCore

private func exceptionClassName(_ ec: UInt64) -> StaticString {
  switch ec {
  case 0x00: return "unknown reason"
  case 0x07: return "FP/SIMD access (CPTR_EL2 trap)"
  case 0x0E: return "illegal execution state"
  case 0x15, 0x17: return "SVC/SMC"
  case 0x16: return "HVC"
  case 0x18: return "system register trap"
  case 0x21: return "instruction abort"
  case 0x22: return "PC alignment fault"
  case 0x25: return "data abort"
  case 0x26: return "SP alignment fault"
  case 0x2F: return "SError"
  case 0x3C: return "BRK (Swift runtime trap)"
  default: return "other"
  }
}

/// `frame`: x0-x30 at [0...30], ELR [31], SPSR [32], ESR [33]. `vector`: 0-15.
@_cdecl("rmm_report_crash")
public func rmmReportCrash(_ frame: UnsafeMutablePointer<UInt64>, _ vector: UInt64) -> crash_outcome_t {
  let cpu = currentCPU()
  rmmHalted = true
  var out = Console()
  let esr = frame[33]
  out.write("\nRMM CRASH on CPU ")
  out.decimal(UInt64(cpu))
  out.write(": ")
  out.write(exceptionClassName(esr >> 26))
  out.write(" (vector ")
  out.decimal(vector)
  out.write(", EC ")
  out.hex(esr >> 26, digits: 2)
  out.write(")\nRMM CRASH   ESR ")
  out.hex(esr)
  out.write(" ELR ")
  out.hex(frame[31])
  out.write(" FAR ")
  out.hex(read_far_el2())
  out.write(" SPSR ")
  out.hex(frame[32])
  out.newline()
  for register in 0..<31 {
    if register % 4 == 0 { out.write("RMM CRASH  ") }
    out.write(" x")
    out.decimal(UInt64(register))
    out.put(UInt8(ascii: "="))
    out.hex(frame[register])
    if register % 4 == 3 || register == 30 { out.newline() }
  }
  out.write("RMM CRASH: RMM halted; every further RMI call returns SMC_UNKNOWN\n")
  let serving = cpuServesRMI[cpu]
  return crash_outcome_t(status: serving ? smcUnknown : UInt64(bitPattern: BootStatus.unknown.rawValue),
                         serving_rmi: serving ? 1 : 0)
}

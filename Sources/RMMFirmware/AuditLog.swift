// The audit log in RMM memory: per-CPU rings of AuditRecord, the context of the call
// being served, violation counters, the immediate console alert for a refused access,
// and the host's drain interface (AuditInterface).

import AArch64Shim
import RMMABI
import RMMCore

let auditRecordsPerCPU = 1024

/// One CPU's audit state, in place in RMM memory (boot/runtime.c): reached through a
/// pointer so that recording an access copies nothing but the record itself.
struct AuditCPUState {
  var ring: AuditRing
  /// Records written by this CPU; its low 32 bits are the next record's sequence number.
  var sequence: UInt64
  var violations: UInt64
  /// What the CPU is serving: FID, realm (RD), IPA.
  var function: UInt64
  var realm: UInt64
  var ipa: UInt64
}

// Wrapping arithmetic: `cpu` comes from TPIDR_EL2 (set at boot, < RMM_MAX_CPUS), and
// this is on every gate access, so no overflow traps in the address computations.
@inline(__always) func auditState(_ cpu: Int) -> UnsafeMutablePointer<AuditCPUState> {
  UnsafeMutableRawPointer(rmm_audit_state_base()!).advanced(by: cpu &* Int(rmm_audit_state_stride()))
    .assumingMemoryBound(to: AuditCPUState.self)
}

@inline(__always) func auditStorage(_ cpu: Int) -> UnsafeMutablePointer<UInt64> {
  UnsafeMutableRawPointer(rmm_audit_storage_base()!)
    .advanced(by: cpu &* auditRecordsPerCPU &* Int(rmm_audit_record_stride()))
    .assumingMemoryBound(to: UInt64.self)
}

/// Cold boot: the state is .bss (zero); give each ring its capacity.
func auditInitialise() -> Bool {
  guard AuditRecord.size <= Int(rmm_audit_record_stride()),
        MemoryLayout<AuditCPUState>.stride <= Int(rmm_audit_state_stride()) else { return false }
  for cpu in 0..<32 {
    auditState(cpu).initialize(to: AuditCPUState(ring: AuditRing(capacity: auditRecordsPerCPU), sequence: 0,
                                                 violations: 0, function: 0, realm: 0, ipa: 0))
  }
  return true
}

@inline(__always) func auditNote(function: UInt64, realm: UInt64, ipa: UInt64) {
  let state = auditState(currentCPU())
  state.pointee.function = function
  state.pointee.realm = realm
  state.pointee.ipa = ipa
}

/// Records one gate access. The allowed case is the hot path (every access of every
/// call): no call, no frame; a refusal goes to `auditRefused`, which alerts first.
func audit(_ pa: UInt64, _ intent: AccessIntent, _ granuleState: GranuleState?, allowed: Bool) {
  guard allowed else { return auditRefused(pa, intent, granuleState) }
  record(pa, intent, granuleState, allowed: true, cpu: currentCPU())
}

@inline(never) func auditRefused(_ pa: UInt64, _ intent: AccessIntent, _ granuleState: GranuleState?) {
  let cpu = currentCPU()
  auditState(cpu).pointee.violations &+= 1
  alert(pa, intent, granuleState, cpu)
  record(pa, intent, granuleState, allowed: false, cpu: cpu)
}

@inline(__always) private func record(_ pa: UInt64, _ intent: AccessIntent, _ granuleState: GranuleState?,
                                      allowed: Bool, cpu: Int) {
#if !RMM_AUDIT_OFF
  let state = auditState(cpu)
  let first = AuditRecord.firstWord(sequence: UInt32(truncatingIfNeeded: state.pointee.sequence), cpu: cpu, direction: intent.direction,
                                    allowed: allowed, purpose: intent.purpose, state: granuleState)
  let second = (state.pointee.function & 0xFFFF_FFFF) | UInt64(truncatingIfNeeded: intent.length) << 32
  state.pointee.ring.append(words: (first, second, pa, state.pointee.ipa, state.pointee.realm), into: auditStorage(cpu),
                            capacity: auditRecordsPerCPU)
  state.pointee.sequence &+= 1
#endif
}

private func alert(_ pa: UInt64, _ intent: AccessIntent, _ state: GranuleState?, _ cpu: Int) {
  var out = Console()
  out.write("RMM ALERT: refused access: CPU ")
  out.decimal(UInt64(cpu))
  out.write(intent.direction == .read ? " read " : " write ")
  out.decimal(UInt64(intent.length))
  out.write(" bytes of PA ")
  out.hex(pa)
  out.write(" (state ")
  out.decimal(UInt64(state?.rawValue ?? 0xFF))
  out.write(", purpose ")
  out.decimal(UInt64(intent.purpose.rawValue))
  out.write(") during function ")
  out.hex(auditState(cpu).pointee.function, digits: 8)
  out.newline()
}

/// AuditInterface: the host reads the counters or drains a CPU's records.
func handleAuditCall(_ frame: UnsafeMutablePointer<UInt64>) {
  let operation = frame[1]
  frame[0] = 0
  switch operation {
  case AuditInterface.statistics:
    var violations: UInt64 = 0, written: UInt64 = 0, lost: UInt64 = 0
    for cpu in 0..<32 {
      let state = auditState(cpu)
      violations &+= state.pointee.violations
      written &+= state.pointee.sequence
      lost &+= state.pointee.ring.lost
    }
    frame[1] = violations
    frame[2] = written
    frame[3] = lost
  case AuditInterface.drain:
    let cpu = currentCPU()
    var page = PageBuffer()
    var copied = 0
    let state = auditState(cpu)
    _ = state.pointee.ring.drain(from: auditStorage(cpu), limit: AuditInterface.recordsPerPage) { record in
      let w = record.words
      page.store64(w.0, at: copied * 40)
      page.store64(w.1, at: copied * 40 + 8)
      page.store64(w.2, at: copied * 40 + 16)
      page.store64(w.3, at: copied * 40 + 24)
      page.store64(w.4, at: copied * 40 + 32)
      copied += 1
    }
    let lost = state.pointee.ring.lost
    do throws(GateError) {
      try SlotGate().copyToNonSecure(frame[3], offset: 0, AccessIntent(.auditDrain, .write, expecting: .undelegated),
                                     from: &page)
    } catch {
      frame[0] = RMIStatus(.errorInput).encoded
      return
    }
    frame[1] = UInt64(copied)
    frame[2] = lost
  default:
    frame[0] = RMIStatus(.errorInput).encoded
  }
}

// The audit log in RMM memory: per-CPU rings of AuditRecord, the context of the call
// being served, violation counters, the immediate console alert for a refused access,
// and the host's drain interface (AuditInterface).

import AArch64Shim
import RMMABI
import RMMCore

let auditRecordsPerCPU = 1024

/// Ring headers, per CPU (the records themselves are in rmm_audit_storage, .bss).
nonisolated(unsafe) var auditRings: InlineArray<32, AuditRing> = .init(repeating: AuditRing(capacity: 1024))
nonisolated(unsafe) var auditSequence: InlineArray<32, UInt32> = .init(repeating: 0)
nonisolated(unsafe) var auditViolations: InlineArray<32, UInt64> = .init(repeating: 0)
nonisolated(unsafe) var auditWritten: InlineArray<32, UInt64> = .init(repeating: 0)
/// What each CPU is serving: function number, realm, IPA.
nonisolated(unsafe) var auditFunction: InlineArray<32, UInt64> = .init(repeating: 0)
nonisolated(unsafe) var auditRealm: InlineArray<32, UInt64> = .init(repeating: 0)
nonisolated(unsafe) var auditIPA: InlineArray<32, UInt64> = .init(repeating: 0)

func auditStorage(_ cpu: Int) -> UnsafeMutablePointer<AuditRecord> {
  UnsafeMutableRawPointer(rmm_audit_storage_base()!)
    .advanced(by: cpu * auditRecordsPerCPU * Int(rmm_audit_record_stride()))
    .assumingMemoryBound(to: AuditRecord.self)
}

@inline(__always) func auditNote(function: UInt64, realm: UInt64, ipa: UInt64) {
  let cpu = currentCPU()
  auditFunction[cpu] = function
  auditRealm[cpu] = realm
  auditIPA[cpu] = ipa
}

/// Records one gate access; a refused one is also counted and alerted on the console.
func audit(_ pa: UInt64, _ intent: AccessIntent, _ state: GranuleState?, allowed: Bool) {
  let cpu = currentCPU()
  if !allowed {
    auditViolations[cpu] &+= 1
    alert(pa, intent, state, cpu)
  }
#if !RMM_AUDIT_OFF
  let record = AuditRecord(sequence: auditSequence[cpu], cpu: UInt8(cpu), direction: intent.direction, allowed: allowed,
                           purpose: intent.purpose, state: state, function: UInt32(truncatingIfNeeded: auditFunction[cpu]),
                           length: intent.length, pa: pa, ipa: auditIPA[cpu], realm: auditRealm[cpu])
  auditSequence[cpu] &+= 1
  auditWritten[cpu] &+= 1
  auditRings[cpu].append(record, into: auditStorage(cpu))
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
  out.hex(auditFunction[cpu], digits: 8)
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
      violations &+= auditViolations[cpu]
      written &+= auditWritten[cpu]
      lost &+= auditRings[cpu].lost
    }
    frame[1] = violations
    frame[2] = written
    frame[3] = lost
  case AuditInterface.drain:
    let cpu = currentCPU()
    var page = PageBuffer()
    var copied = 0
    _ = auditRings[cpu].drain(from: auditStorage(cpu), limit: AuditInterface.recordsPerPage) { record in
      let w = record.words
      page.store64(w.0, at: copied * 40)
      page.store64(w.1, at: copied * 40 + 8)
      page.store64(w.2, at: copied * 40 + 16)
      page.store64(w.3, at: copied * 40 + 24)
      page.store64(w.4, at: copied * 40 + 32)
      copied += 1
    }
    let lost = auditRings[cpu].lost
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

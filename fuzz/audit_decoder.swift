// Fuzz target: the audit record decoder (AuditRecord(words:), AuditRing) and the host
// analyser (RMMAuditAnalysis, Foundation) behind rmm-audit.
// Input byte 0 selects the mode:
//   even: the rest is console output, analysed as is;
//   odd:  the rest is 40-byte records (five little-endian words each), decoded, pushed
//         through an AuditRing (capacity 2^(byte 1 % 6)) and printed as the collector
//         prints them ("AUDIT 0x... x5"), with an AUDIT-STATS line, then analysed.
import Foundation
import RMMABI
import RMMCore
import RMMAuditAnalysis

private func hex(_ v: UInt64) -> String {
  let digits = String(v, radix: 16)
  return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}

private func exercise(_ analysis: AuditAnalysis) {
  _ = analysis.outsidePolicy
  _ = analysis.dataReads
  _ = analysis.sequenceGaps
  _ = analysis.perCommand
  _ = analysis.perRealm
  _ = analysis.problems(strict: true)
  _ = analysis.problems(strict: false)
  for r in analysis.records.prefix(64) {
    _ = AuditAnalysis.describe(r)
    _ = AuditAnalysis.justification(r.purpose)
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let mode = input.byte()
  if mode & 1 == 0 {
    let text = String(decoding: UnsafeBufferPointer(start: data + input.position, count: input.remaining), as: UTF8.self)
    exercise(AuditAnalysis(log: text))
    return 0
  }

  let capacity = 1 << Int(input.byte() % 6)
  var ring = AuditRing(capacity: capacity)
  let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity * 5)
  defer { storage.deallocate() }
  var lines: [String] = []
  var decoded: [AuditRecord] = []
  var appended = 0
  while input.remaining >= AuditRecord.size {
    let w = (input.u64(), input.u64(), input.u64(), input.u64(), input.u64())
    lines.append("AUDIT " + [w.0, w.1, w.2, w.3, w.4].map(hex).joined(separator: " "))
    guard let record = AuditRecord(words: w) else { continue }
    // Decoding is exact: the record encodes back to the same words.
    let back = record.words
    invariant(back == w, "record does not round-trip: \(w) -> \(back)")
    invariant(AuditRecord(words: back) == record, "re-decoding differs")
    invariant(AuditRecord.firstWord(sequence: record.sequence, cpu: Int(record.cpu), direction: record.direction,
                                    allowed: record.allowed, purpose: record.purpose, state: record.state) == w.0,
              "firstWord differs from words.0")
    _ = record.conformsToPolicy
    decoded.append(record)
    ring.append(record, into: storage)
    appended += 1
    invariant(ring.count == min(appended, capacity), "ring count")
    invariant(ring.lost == UInt64(max(0, appended - capacity)), "ring lost")
  }
  // The ring hands back the newest `capacity` records, oldest first.
  var drained: [AuditRecord] = []
  let limit = Int(input.byte()) % (capacity + 2)
  var n = ring.drain(from: storage, limit: limit) { drained.append($0) }
  n += ring.drain(from: storage, limit: capacity) { drained.append($0) }
  invariant(ring.count == 0 && n == min(appended, capacity), "ring drained \(n) of \(appended)")
  invariant(drained == Array(decoded.suffix(capacity)), "ring order")

  lines.append("AUDIT-STATS violations=\(input.byte()) records=\(appended) lost=\(ring.lost)")
  let analysis = AuditAnalysis(log: lines.joined(separator: "\n"))
  invariant(analysis.records == decoded, "the analyser reads back \(analysis.records.count) of \(decoded.count) records")
  invariant(analysis.malformedLines == lines.count - 1 - decoded.count, "malformed line count")
  invariant(analysis.statistics?.records == UInt64(appended), "statistics")
  exercise(analysis)
  return 0
}

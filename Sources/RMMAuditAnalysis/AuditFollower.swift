// rmm-audit --follow: reads a console log while it grows (tail -f), prints each audit
// record and alert as it arrives, and stops at the payload's final summary line or
// after `idleTimeout` seconds without new data at the end of the file.

import Foundation
import RMMCore

public struct FollowResult: Equatable, Sendable {
  public enum End: Equatable, Sendable { case summary, idle, unreadable }
  public var end: End
  public var records = 0
  public var alerts = 0
}

public enum AuditFollower {
  /// The NS payload's last line: "TESTHOST: N passed, M failed".
  static func isSummary(_ line: String) -> Bool {
    line.hasPrefix("TESTHOST: ") && line.contains(" passed, ") && line.hasSuffix(" failed")
  }

  public static func follow(path: String, idleTimeout: TimeInterval, poll: TimeInterval = 0.05,
                            output: (String) -> Void) -> FollowResult {
    var result = FollowResult(end: .idle)
    guard let handle = FileHandle(forReadingAtPath: path) else {
      output("rmm-audit: cannot open \(path)")
      return FollowResult(end: .unreadable)
    }
    defer { try? handle.close() }
    var pending = Data()
    var lastData = Date()
    while true {
      let chunk = handle.availableData  // at EOF of a regular file: empty, at once
      if chunk.isEmpty {
        if Date().timeIntervalSince(lastData) >= idleTimeout {
          if !pending.isEmpty, handle_line(String(decoding: pending, as: UTF8.self), &result, output) { result.end = .summary }
          output("follow: no new output for \(idleTimeout) s: stopping (\(result.records) records, \(result.alerts) alerts)")
          return result
        }
        Thread.sleep(forTimeInterval: poll)
        continue
      }
      lastData = Date()
      pending.append(chunk)
      while let newline = pending.firstIndex(of: 0x0A) {
        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
        pending.removeSubrange(pending.startIndex...newline)
        if handle_line(line, &result, output) {
          result.end = .summary
          output("follow: summary line reached: stopping (\(result.records) records, \(result.alerts) alerts)")
          return result
        }
      }
    }
  }

  /// True at the summary line.
  static func handle_line(_ raw: String, _ result: inout FollowResult, _ output: (String) -> Void) -> Bool {
    let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
    if line.contains("RMM ALERT") {
      result.alerts += 1
      output("ALERT " + line)
    } else if line.hasPrefix("AUDIT-STATS ") {
      output(line)
      if let v = line.split(separator: " ").first(where: { $0.hasPrefix("violations=") }),
         let n = UInt64(v.dropFirst("violations=".count)), n > 0 {
        result.alerts += 1
        output("ALERT the RMM counts \(n) refused accesses")
      }
    } else if line.hasPrefix("AUDIT ") {
      let analysis = AuditAnalysis(log: line)
      if let r = analysis.records.first {
        result.records += 1
        output(AuditAnalysis.describe(r))
        if !r.allowed || !r.conformsToPolicy {
          result.alerts += 1
          output("ALERT outside the policy: " + AuditAnalysis.describe(r))
        }
      } else {
        result.alerts += 1
        output("ALERT malformed AUDIT line: " + line)
      }
    } else if isSummary(line) {
      output(line)
      return true
    }
    return false
  }
}

// rmm-audit: analyses the RMM's audit log in captured console output.
import ArgumentParser
import Foundation
import RMMAuditAnalysis

@main
struct RMMAudit: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rmm-audit",
    abstract: "Analyse the audit log of the Swift RMM (AUDIT lines in captured console output).")

  @Argument(help: "Captured console output; '-' or nothing for standard input.")
  var log: String = "-"

  @Flag(help: "Exit non-zero if any access falls outside the access policy.")
  var check = false

  @Flag(help: "With --check, also fail if records were lost.")
  var strict = false

  @Flag(help: "List every record.")
  var all = false

  @Option(help: "With --check, the nonce (hex) the host passed for the checkpoint: fail on any other.")
  var nonce: String?

  @Option(name: .customLong("follow"), help: "Follow a growing console log (tail -f): print records and alerts as they arrive.")
  var follow: String?

  @Option(help: "With --follow, stop after this many seconds without new output.")
  var idleTimeout: Double = 5

  func run() throws {
    if let follow {
      let result = AuditFollower.follow(path: follow, idleTimeout: idleTimeout) { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
      if result.end == .unreadable || (check && result.alerts > 0) { throw ExitCode(1) }
      return
    }
    let text: String
    if log == "-" {
      text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    } else {
      text = try String(contentsOfFile: log, encoding: .utf8)
    }
    let analysis = AuditAnalysis(log: text)
    let expectedNonce = nonce.flatMap { UInt64($0.hasPrefix("0x") ? String($0.dropFirst(2)) : $0, radix: 16) }
    let integrity = AuditIntegrity.verify(log: text, analysis, expectedNonce: expectedNonce)
    print("records: \(analysis.records.count)")
    if let s = analysis.statistics {
      print("RMM counters: \(s.records) recorded, \(s.violations) refused, \(s.lost) lost")
    }
    let gaps = analysis.sequenceGaps
    print("lost (sequence gaps): \(gaps.values.reduce(0, +))" + (gaps.isEmpty ? "" : " \(gaps)"))

    if let c = integrity.checkpoint {
      print("signed checkpoint (nonce 0x\(String(c.nonce, radix: 16))): "
        + c.entries.keys.sorted().map { "CPU \($0) #\(c.entries[$0]!.sequence) lost \(c.entries[$0]!.lost)" }.joined(separator: ", "))
    }
    print("integrity: " + (integrity.problems.isEmpty ? "every CPU's records chain to the signed checkpoint"
                                                     : "\(integrity.problems.count) problems"))

    print("\nper command:               reads  writes  refused")
    for c in analysis.perCommand {
      print(c.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            + String(format: "%6d  %6d  %7d", c.reads, c.writes, c.refused))
    }
    print("\nper realm (RD):               accesses  DATA writes  DATA reads")
    for r in analysis.perRealm {
      print(String(format: "0x%016llx   %9d  %11d  %10d", r.realm, r.accesses, r.dataWrites, r.dataReads))
    }
    print("\nreads of realm DATA (\(analysis.dataReads.count)):")
    for r in analysis.dataReads {
      print("  " + AuditAnalysis.describe(r))
      print("    justification: " + AuditAnalysis.justification(r.purpose))
    }
    print("\nrefused accesses (\(analysis.outsidePolicy.count)):")
    for r in analysis.outsidePolicy { print("  " + AuditAnalysis.describe(r)) }
    if all {
      print("\nall records:")
      for r in analysis.records { print("  " + AuditAnalysis.describe(r)) }
    }
    if check {
      let problems = analysis.problems(strict: strict) + integrity.problems
      if problems.isEmpty {
        print("\ncheck: every access is inside the policy; the records are those the RMM signed")
      } else {
        for p in problems.prefix(50) { print("check: " + p) }
        throw ExitCode(1)
      }
    }
  }
}

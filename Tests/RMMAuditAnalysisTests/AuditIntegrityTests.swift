import CCATokenVerifier
import Foundation
import RMMABI
import XCTest
@testable import RMMAuditAnalysis
@testable import RMMCore

/// The hash chain and the signed checkpoint: a log built with the firmware's own chain
/// and checkpoint code (RMMCore), signed with QEMU's test RAK, next to a CCA token with
/// that key; then each way the host could rewrite it. Also the real integration log
/// (build/logs/integration.log) when scripts/test or scripts/build has produced it.
final class AuditIntegrityTests: XCTestCase {
  static let nonce: UInt64 = 0x1234_5678_9ABC_DEF0

  func record(_ seq: UInt32, cpu: UInt8, pa: UInt64) -> AuditRecord { Self.record(seq, cpu: cpu, pa: pa) }

  static func record(_ seq: UInt32, cpu: UInt8, pa: UInt64) -> AuditRecord {
    AuditRecord(sequence: seq, cpu: cpu, direction: .write, allowed: true, purpose: .delegateScrub, state: .delegated,
                function: UInt32(RMICommand.granuleDelegate.rawValue), length: 4096, pa: pa, ipa: 0, realm: 0)
  }

  static func line(_ r: AuditRecord) -> String {
    let w = r.words
    return "AUDIT " + [w.0, w.1, w.2, w.3, w.4].map { "0x" + String($0, radix: 16) }.joined(separator: " ")
  }

  /// The checkpoint as the RMM builds it (RMMCore), signed by `key` over the RMM's digest.
  static func checkpoint(_ entries: [AuditCheckpointEntry], nonce: UInt64, key: ES384PrivateKey) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 4096)
    var list = entries
    let (layout, digest) = buffer.withUnsafeMutableBytes { raw -> (AuditCheckpoint.Layout?, Digest64) in
      var out = BoundedByteWriter(raw)
      let layout = list.withUnsafeMutableBufferPointer { AuditCheckpoint.encode(nonce: nonce, entries: UnsafeBufferPointer($0), into: &out) }
      guard let layout else { return (nil, Digest64()) }
      return (layout, AuditCheckpoint.signingDigest(message: UnsafeRawBufferPointer(raw), layout))
    }
    let l = try XCTUnwrap(layout)
    let signature = try key.signDigest((0..<48).map { digest.byte($0) })
    buffer.replaceSubrange(l.signatureOffset..<(l.signatureOffset + 96), with: signature)
    return Array(buffer.prefix(l.length))
  }

  /// Two CPUs' records (CPU 1 lost 5 before its first drain), chained as the RMM does.
  static func makeLog(nonce: UInt64 = nonce, checkpointKey: ES384PrivateKey? = nil) throws -> [String] {
    let rak = try QEMUTestRAK.privateKey()
    let token = try CCATokenBuilder(realmKey: rak, platformKey: ES384PrivateKey()).build()
    var lines = ["RMM: attestation: RAK P-384 public key from EL3", "TESTHOST: NS-EL2 test payload"]
    lines += ConsoleCapture.format(token, name: "realm0").split(separator: "\n").map(String.init)
    var entries: [AuditCheckpointEntry] = []
    for cpu in 0..<2 {
      var chain = AuditChain.genesis(cpu: cpu)
      var sequence: UInt32 = 0
      if cpu == 1 {
        AuditChain.appendLost(&chain, count: 5)
        sequence = 5
      }
      for i in 0..<40 {
        let r = record(sequence, cpu: UInt8(cpu), pa: 0x8800_0000 + UInt64(i) * 0x1000)
        AuditChain.append(&chain, words: r.words)
        lines.append(line(r))
        sequence += 1
      }
      entries.append(AuditCheckpointEntry(cpu: cpu, chain: chain, violations: 0, written: UInt64(sequence) + 2))
    }
    let signed = try checkpoint(entries, nonce: nonce, key: checkpointKey ?? rak)
    lines += ConsoleCapture.format(signed, name: AuditIntegrity.checkpointName).split(separator: "\n").map(String.init)
    lines += ["AUDIT-STATS violations=0 records=87 lost=5", "TESTHOST: 10 passed, 0 failed"]
    return lines
  }

  func problems(_ lines: [String], nonce: UInt64? = nonce) -> [String] {
    let text = lines.joined(separator: "\n") + "\n"
    return AuditIntegrity.verify(log: text, AuditAnalysis(log: text), expectedNonce: nonce).problems
  }

  func assertFails(_ lines: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    let found = problems(lines)
    XCTAssertTrue(found.contains { $0.contains(expected) }, "expected \"\(expected)\" in \(found)", file: file, line: line)
  }

  func auditIndices(_ lines: [String], cpu: UInt8) -> [Int] {
    lines.indices.filter { lines[$0].hasPrefix("AUDIT ") && AuditAnalysis(log: lines[$0]).records.first?.cpu == cpu }
  }

  func testFirmwareChainMatchesTheIndependentOne() {
    var chain = AuditChain.genesis(cpu: 3)
    XCTAssertEqual((0..<32).map { chain.headByte($0) }, AuditIntegrity.genesis(cpu: 3))
    let r = record(0, cpu: 3, pa: 0x8800_0000)
    AuditChain.append(&chain, words: r.words)
    let expected = AuditIntegrity.chainRecord(AuditIntegrity.genesis(cpu: 3), r)
    XCTAssertEqual((0..<32).map { chain.headByte($0) }, expected)
    AuditChain.appendLost(&chain, count: 7)
    XCTAssertEqual((0..<32).map { chain.headByte($0) }, AuditIntegrity.chainLost(expected, first: 1, count: 7))
    XCTAssertEqual(chain.position, 8)
    XCTAssertEqual(chain.lost, 7)
  }

  func testUntamperedLogPasses() throws {
    XCTAssertEqual(problems(try Self.makeLog()), [], "lost records the RMM chained as lost are not tampering")
  }

  func testRemovedRecordFails() throws {
    var lines = try Self.makeLog()
    lines.remove(at: auditIndices(lines, cpu: 0)[10])
    assertFails(lines, "CPU 0: records removed: sequence numbers #10..<#11 are missing")
    assertFails(lines, "CPU 0: hash chain mismatch")
  }

  func testRemovedLastRecordFails() throws {
    var lines = try Self.makeLog()
    lines.remove(at: auditIndices(lines, cpu: 1).last!)
    assertFails(lines, "CPU 1: records removed")
  }

  func testReorderedRecordsFail() throws {
    var lines = try Self.makeLog()
    let i = auditIndices(lines, cpu: 1)
    lines.swapAt(i[3], i[4])
    assertFails(lines, "CPU 1: record #8 (line")
    assertFails(lines, "is out of order after #9")
  }

  func testEditedRecordFails() throws {
    var lines = try Self.makeLog()
    let i = auditIndices(lines, cpu: 0)[20]
    var r = try XCTUnwrap(AuditAnalysis(log: lines[i]).records.first)
    r.pa = 0x9000_0000  // the host hides which granule was touched
    lines[i] = Self.line(r)
    assertFails(lines, "CPU 0: hash chain mismatch: the log's records up to #40 chain to")
  }

  func testInjectedRecordsFail() throws {
    var lines = try Self.makeLog()
    let i = auditIndices(lines, cpu: 0)[5]
    lines.insert(lines[i], at: i)  // a repeat
    assertFails(lines, "CPU 0: record #5 (line")

    var appended = try Self.makeLog()
    let last = auditIndices(appended, cpu: 0).last!
    appended.insert(Self.line(record(40, cpu: 0, pa: 0x8900_0000)), at: last + 1)
    assertFails(appended, "CPU 0: 1 record(s) from #40")

    var foreign = try Self.makeLog()
    foreign.insert(Self.line(record(0, cpu: 7, pa: 0x8900_0000)), at: 5)
    assertFails(foreign, "CPU 7: 1 records but no entry in the signed checkpoint")
  }

  func testRemovalDisguisedAsALossFails() throws {
    // Dropping CPU 1's first record looks like a sixth lost record; the signed count says 5.
    var lines = try Self.makeLog()
    lines.remove(at: auditIndices(lines, cpu: 1)[0])
    assertFails(lines, "CPU 1: records removed: sequence numbers #0..<#6 are missing from the log (6 in all) but the RMM counted only 5 lost")
  }

  func testWrongOrMissingCheckpointFails() throws {
    assertFails(try Self.makeLog(checkpointKey: try ES384PrivateKey()), "signature does not verify")
    let missing = try Self.makeLog().filter { !$0.hasPrefix("CCA_TOKEN") || !$0.contains("audit-checkpoint") }
    assertFails(missing, "no audit checkpoint in the log")
    assertFails(try Self.makeLog(nonce: 1), "not the host's 0x123456789abcdef0 (a replayed checkpoint)")
    // A flipped byte in the checkpoint's hex.
    var edited = try Self.makeLog()
    let first = edited.firstIndex { $0.contains("name=audit-checkpoint") }! + 3
    var chars = Array(edited[first])
    chars[20] = chars[20] == "0" ? "1" : "0"
    edited[first] = String(chars)
    XCTAssertFalse(problems(edited).isEmpty)
  }

  func testCheckpointIsNotARealmToken() throws {
    let lines = try Self.makeLog()
    let text = lines.joined(separator: "\n")
    let bytes = try ConsoleCapture.token(in: text, named: AuditIntegrity.checkpointName)
    let message = try COSESign1(bytes, part: .auditCheckpoint)
    XCTAssertNotEqual(message.protectedHeaderBytes, CBOREncoder.encode(.map([CBORMapEntry(CBORValue(COSE.algorithmLabel), CBORValue(COSE.es384))])))
    XCTAssertEqual(message.payload.first, 0xDA, "the payload is a tag (4-byte), never the realm claims map")
    XCTAssertThrowsError(try CCATokenVerifier.verify(bytes), "not a CCA token")
  }

  /// The real stack's log: passes as it is, fails when tampered with.
  func testRealIntegrationLog() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = root.appendingPathComponent("build/logs/integration.log").path
    guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("name=audit-checkpoint") else {
      throw XCTSkip("no build/logs/integration.log with a checkpoint (run the integration suite)")
    }
    var lines = text.components(separatedBy: "\n")
    XCTAssertEqual(problems(lines, nonce: nil), [])
    let audit = lines.indices.filter { lines[$0].hasPrefix("AUDIT ") }
    let i = audit[audit.count / 2]
    let saved = lines[i]
    lines.remove(at: i)
    XCTAssertTrue(problems(lines, nonce: nil).contains { $0.contains("records removed") })
    lines.insert(saved, at: i)
    lines.swapAt(i, i + 1)
    XCTAssertTrue(problems(lines, nonce: nil).contains { $0.contains("out of order") || $0.contains("mismatch") })
  }
}

final class AuditFollowerTests: XCTestCase {
  func testFollowsAGrowingLogAndStopsAtTheSummary() throws {
    let path = NSTemporaryDirectory() + "rmm-audit-follow-\(getpid()).log"
    FileManager.default.createFile(atPath: path, contents: Data("TESTHOST: NS-EL2 test payload\n".utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let log = try AuditIntegrityTests.makeLog()
    let records = log.filter { $0.hasPrefix("AUDIT ") }
    let writer = Thread {
      let handle = FileHandle(forWritingAtPath: path)!
      handle.seekToEndOfFile()
      for (n, line) in records.prefix(10).enumerated() {
        handle.write(Data((line + "\n").utf8))
        if n % 3 == 0 { Thread.sleep(forTimeInterval: 0.1) }
      }
      handle.write(Data("RMM ALERT: refused access: CPU 0 read 8 bytes of PA 0x0 (state 255, purpose 3) during function c4000150\n".utf8))
      Thread.sleep(forTimeInterval: 0.2)
      handle.write(Data("TESTHOST: 10 passed, 0 failed\nAUDIT \(records[0].dropFirst(6))\n".utf8))
      handle.closeFile()
    }
    writer.start()
    var output: [String] = []
    let started = Date()
    let result = AuditFollower.follow(path: path, idleTimeout: 5) { output.append($0) }
    XCTAssertEqual(result.end, .summary)
    XCTAssertEqual(result.records, 10, "records after the summary line are not read")
    XCTAssertEqual(result.alerts, 1)
    XCTAssertLessThan(Date().timeIntervalSince(started), 4, "stopped at the summary, not at the idle timeout")
    XCTAssertTrue(output.contains { $0.hasPrefix("ALERT RMM ALERT: refused access") })
    XCTAssertTrue(output.contains { $0.hasPrefix("#9 cpu 0 RMI_GRANULE_DELEGATE write 4096 bytes") })
  }

  func testStopsAfterTheIdleTimeout() throws {
    let path = NSTemporaryDirectory() + "rmm-audit-idle-\(getpid()).log"
    FileManager.default.createFile(atPath: path, contents: Data("boot\n".utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let started = Date()
    let result = AuditFollower.follow(path: path, idleTimeout: 0.5) { _ in }
    XCTAssertEqual(result.end, .idle)
    XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.5)
    XCTAssertLessThan(Date().timeIntervalSince(started), 3)
  }
}

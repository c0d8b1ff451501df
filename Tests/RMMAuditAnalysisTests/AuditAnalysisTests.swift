import XCTest
import Foundation
import RMMABI
@testable import RMMCore
@testable import RMMAuditAnalysis

final class AuditRecordTests: XCTestCase {
  func record(_ seq: UInt32, _ purpose: AccessPurpose, _ dir: AccessDirection, _ state: GranuleState?,
              allowed: Bool = true, length: UInt16 = 4096, cpu: UInt8 = 0) -> AuditRecord {
    AuditRecord(sequence: seq, cpu: cpu, direction: dir, allowed: allowed, purpose: purpose, state: state,
                function: 0xC400_0153, length: length, pa: 0x8000_1000, ipa: 0x2000, realm: 0x8000_0000)
  }

  func testEncodingRoundTrips() {
    for purpose in AccessPurpose.allCases {
      for state in GranuleState.allCases {
        let r = record(7, purpose, .write, state, allowed: false, length: 256, cpu: 31)
        XCTAssertEqual(AuditRecord(words: r.words), r)
      }
    }
    let notDRAM = record(1, .realmParams, .read, nil, allowed: false)
    XCTAssertEqual(AuditRecord(words: notDRAM.words), notDRAM)
    XCTAssertNil(AuditRecord(words: (0xFFFF_FFFF_FFFF_FFFF, 0, 0, 0, 0)), "garbage is not a record")
    XCTAssertNil(AuditRecord(words: (UInt64(99) << 48, 0, 0, 0, 0)), "unknown purpose")
    XCTAssertEqual(AuditRecord.size, 40, "five words in the firmware's ring")
    let r = record(9, .rsiHostCallRead, .read, .data, allowed: true, length: 256, cpu: 3)
    XCTAssertEqual(AuditRecord.firstWord(sequence: 9, cpu: 3, direction: .read, allowed: true, purpose: .rsiHostCallRead,
                                         state: .data), r.words.0, "the firmware's encoding is the record's")
  }

  func testRingOverflowIsCounted() {
    var ring = AuditRing(capacity: 4)
    let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: 4 * 5)
    defer { storage.deallocate() }
    for i in 0..<10 { ring.append(record(UInt32(i), .rttRead, .read, .rtt), into: storage) }
    XCTAssertEqual(ring.count, 4)
    XCTAssertEqual(ring.lost, 6, "the oldest six were overwritten, and counted")
    var drained: [UInt32] = []
    XCTAssertEqual(ring.drain(from: storage, limit: 3) { drained.append($0.sequence) }, 3)
    XCTAssertEqual(drained, [6, 7, 8], "oldest first")
    XCTAssertEqual(ring.drain(from: storage, limit: 10) { drained.append($0.sequence) }, 1)
    XCTAssertEqual(drained, [6, 7, 8, 9])
    XCTAssertEqual(ring.count, 0)
    ring.append(record(10, .rttRead, .read, .rtt), into: storage)
    XCTAssertEqual(ring.drain(from: storage, limit: 10) { _ in }, 1)
  }

  func testConformance() {
    XCTAssertTrue(record(0, .rsiHostCallRead, .read, .data, length: 256).conformsToPolicy)
    XCTAssertFalse(record(0, .rsiHostCallRead, .read, .data, length: 4096).conformsToPolicy, "too long")
    XCTAssertFalse(record(0, .rttWrite, .write, .rd).conformsToPolicy, "RTT code writing an RD")
    XCTAssertTrue(record(0, .rttWrite, .write, .rd, allowed: false).conformsToPolicy, "refused is what the policy says")
  }
}

final class AuditAnalysisTests: XCTestCase {
  func line(_ r: AuditRecord) -> String {
    let w = r.words
    return String(format: "AUDIT 0x%016llx 0x%016llx 0x%016llx 0x%016llx 0x%016llx", w.0, w.1, w.2, w.3, w.4)
  }

  func make(_ seq: UInt32, _ purpose: AccessPurpose, _ dir: AccessDirection, _ state: GranuleState?,
            allowed: Bool = true, length: UInt16 = 4096, function: UInt32 = 0xC400_0153) -> AuditRecord {
    AuditRecord(sequence: seq, cpu: 0, direction: dir, allowed: allowed, purpose: purpose, state: state,
                function: function, length: length, pa: 0x8000_1000, ipa: 0x2000, realm: 0x7100_0000)
  }

  func testCleanLogPasses() {
    let log = [
      "NOTICE: unrelated",
      line(make(0, .dataSource, .read, .undelegated)),
      line(make(1, .dataCreateWrite, .write, .data)),
      line(make(2, .rsiHostCallRead, .read, .data, length: 256, function: 0xC400_0199)),
      "AUDIT-STATS violations=0 records=3 lost=0",
    ].joined(separator: "\n")
    let a = AuditAnalysis(log: log)
    XCTAssertEqual(a.records.count, 3)
    XCTAssertEqual(a.statistics, AuditStatistics(violations: 0, records: 3, lost: 0))
    XCTAssertEqual(a.dataReads.count, 1)
    XCTAssertEqual(a.problems(strict: true), [])
    XCTAssertEqual(a.perRealm.first?.dataWrites, 1)
    XCTAssertEqual(a.perCommand.map(\.name), ["RMI_DATA_CREATE", "RSI_HOST_CALL"])
  }

  func testViolationsGapsAndBadReadsFail() {
    let log = [
      line(make(0, .rttWrite, .write, .rd, allowed: false)),
      line(make(5, .dataCreateWrite, .read, .data)),
      "AUDIT 0x1 0x2",
      "AUDIT-STATS violations=1 records=6 lost=4",
    ].joined(separator: "\n")
    let a = AuditAnalysis(log: log)
    XCTAssertEqual(a.sequenceGaps, [0: 4])
    let problems = a.problems(strict: true)
    XCTAssertTrue(problems.contains { $0.contains("outside the policy") && $0.contains("REFUSED") })
    XCTAssertTrue(problems.contains { $0.contains("a read of realm DATA") })
    XCTAssertTrue(problems.contains { $0.contains("malformed") })
    XCTAssertTrue(problems.contains { $0.contains("counted 1 refused") })
    XCTAssertTrue(problems.contains { $0.contains("records lost") })
    XCTAssertFalse(a.problems(strict: false).contains { $0.contains("records lost") })
  }

  func testDataWritesMustComeFromTheirCommand() {
    let continueFID: UInt32 = 0xC400_0195, hostCallFID: UInt32 = 0xC400_0199, configFID: UInt32 = 0xC400_0196
    let good = [
      line(make(0, .attestationTokenWrite, .write, .data, length: 100, function: continueFID)),
      line(make(1, .rsiRealmConfig, .write, .data, function: configFID)),
      line(make(2, .destroyScrub, .write, .data, function: 0xC400_0155)),  // RMI_DATA_DESTROY
    ].joined(separator: "\n")
    XCTAssertEqual(AuditAnalysis(log: good).problems(strict: false), [])
    // The same purposes attributed to commands that have no business writing realm DATA.
    let bad = [
      line(make(0, .attestationTokenWrite, .write, .data, length: 100, function: hostCallFID)),
      line(make(1, .dataCreateWrite, .write, .data, function: configFID)),
    ].joined(separator: "\n")
    let a = AuditAnalysis(log: bad)
    XCTAssertEqual(a.unjustifiedDataWrites.count, 2)
    XCTAssertEqual(a.problems(strict: false).filter { $0.contains("may not write it") }.count, 2)
  }

  func testEmptyLogFails() {
    XCTAssertEqual(AuditAnalysis(log: "nothing").problems(strict: false), ["no audit records in the log"])
  }
}

final class AuditRecordRangeTests: XCTestCase {
  /// The declared range travels in the record: length in w1[47:32], offset in w1[63:48].
  func testTheDeclaredRangeRoundTrips() throws {
    let r = try XCTUnwrap(AuditRecord(words: (0x0512_0200_0000_2DEC, 0x0108_0100_C400_0199, 0x7510_9000, 0x9100, 0x7500_0000)))
    XCTAssertEqual(r.length, 0x100)
    XCTAssertEqual(r.offset, 0x108)
    XCTAssertEqual(r.purpose, .rsiHostCallRead)
    XCTAssertEqual(r.words.1, 0x0108_0100_C400_0199)
    XCTAssertTrue(AuditAnalysis.describe(r).contains("256 bytes at offset 264"), AuditAnalysis.describe(r))
    XCTAssertFalse(AuditRecord(sequence: 0, cpu: 0, direction: .read, allowed: true, purpose: .rsiHostCallRead, state: .data,
                               function: 0, offset: 0xF08, length: 0x100, pa: 0, ipa: 0, realm: 0).conformsToPolicy,
                   "a range past the granule is outside the policy")
  }
}

extension AuditRecordRangeTests {
  func testALogLineKeepsItsRange() {
    let a = AuditAnalysis(log: "AUDIT 0x0512020000002dec 0x00000100c4000199 0x0000000075109000 0x0000000000009000 0x0000000075000000\n")
    XCTAssertEqual(a.records.map(\.length), [0x100])
  }
}

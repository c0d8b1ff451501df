// Reads the RMM's audit log from captured console output and judges it against the
// access policy: summaries per command and per realm, every read of realm DATA with
// its justification, every refused access, lost records.

import Foundation
import RMMABI
import RMMCore

public struct AuditStatistics: Equatable {
  public var violations: UInt64
  public var records: UInt64
  public var lost: UInt64
}

public struct AuditAnalysis {
  public private(set) var records: [AuditRecord] = []
  /// The 1-based console line of each record.
  public private(set) var recordLines: [Int] = []
  private var lineNumber = 0
  public private(set) var malformedLines = 0
  public private(set) var statistics: AuditStatistics?

  public init(log: String) {
    // Byte-level: logs are large (a record per access) and ASCII where it matters.
    var log = log
    log.withUTF8 { bytes in
      var start = 0
      for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A || bytes[i] == 0x0D {
        if i > start { parse(line: UnsafeBufferPointer(rebasing: bytes[start..<i])) }
        if i < bytes.count && bytes[i] == 0x0A { lineNumber += 1 }
        start = i + 1
      }
    }
  }

  private static let auditPrefix = Array("AUDIT ".utf8)
  private static let statisticsPrefix = Array("AUDIT-STATS ".utf8)

  private mutating func parse(line: UnsafeBufferPointer<UInt8>) {
    if line.starts(with: Self.statisticsPrefix) {
      var values: [String: UInt64] = [:]
      for field in line.dropFirst(Self.statisticsPrefix.count).split(separator: 0x20) {
        let pair = field.split(separator: 0x3D, omittingEmptySubsequences: false)  // '='
        if pair.count == 2, let v = Self.number(pair[1], radix: 10) {
          values[String(decoding: pair[0], as: UTF8.self)] = v
        }
      }
      statistics = AuditStatistics(violations: values["violations"] ?? 0, records: values["records"] ?? 0,
                                   lost: values["lost"] ?? 0)
    } else if line.starts(with: Self.auditPrefix) {
      // Five words, each printed as 0x followed by hex digits.
      let words = line.dropFirst(Self.auditPrefix.count).split(separator: 0x20).compactMap {
        $0.count > 2 ? Self.number($0.dropFirst(2), radix: 16) : nil
      }
      if words.count == 5, let record = AuditRecord(words: (words[0], words[1], words[2], words[3], words[4])) {
        records.append(record)
        recordLines.append(lineNumber + 1)
      } else {
        malformedLines += 1
      }
    }
  }

  /// An unsigned number in `radix` (10 or 16) with no sign and no overflow; nil otherwise.
  private static func number<Digits: Collection<UInt8>>(_ digits: Digits, radix: UInt64) -> UInt64? {
    guard !digits.isEmpty else { return nil }
    var value: UInt64 = 0
    for c in digits {
      let digit: UInt64
      switch c {
      case 0x30...0x39: digit = UInt64(c - 0x30)
      case 0x61...0x66 where radix == 16: digit = UInt64(c - 0x61 + 10)
      case 0x41...0x46 where radix == 16: digit = UInt64(c - 0x41 + 10)
      default: return nil
      }
      let (shifted, overflow) = value.multipliedReportingOverflow(by: radix)
      guard !overflow else { return nil }
      let (sum, carry) = shifted.addingReportingOverflow(digit)
      guard !carry else { return nil }
      value = sum
    }
    return value
  }

  /// Records refused by the gate, or that the policy would not allow.
  public var outsidePolicy: [AuditRecord] { records.filter { !$0.allowed || !$0.conformsToPolicy } }

  /// Reads of realm DATA granules.
  public var dataReads: [AuditRecord] { records.filter { $0.state == .data && $0.direction == .read } }

  /// The commands that may write realm DATA, per purpose: DATA_CREATE (the host's
  /// contents), the realm's own RSI calls whose results the spec puts in its memory, and
  /// DATA_DESTROY's scrub. A DATA write attributed to any other command is a finding.
  public static let dataWriters: [AccessPurpose: Set<UInt64>] = [
    .dataCreateWrite: [RMICommand.dataCreate.rawValue],
    .rsiRealmConfig: [RSICommand.realmConfig.rawValue],
    .rsiHostCallWrite: [RMICommand.recEnter.rawValue],  // the host's results, on the next entry
    .attestationTokenWrite: [RSICommand.attestTokenContinue.rawValue],
    .destroyScrub: [RMICommand.dataDestroy.rawValue],
  ]

  /// Writes of realm DATA by a command the table above does not name.
  public var unjustifiedDataWrites: [AuditRecord] {
    records.filter { r in
      r.state == .data && r.direction == .write && r.allowed
        && !(Self.dataWriters[r.purpose]?.contains(UInt64(r.function)) ?? false)
    }
  }

  /// Records missing from each CPU's sequence (records lost before they were drained).
  public var sequenceGaps: [UInt8: UInt64] {
    var last: [UInt8: UInt32] = [:]
    var gaps: [UInt8: UInt64] = [:]
    for record in records {
      if let previous = last[record.cpu], record.sequence != previous &+ 1 {
        gaps[record.cpu, default: 0] += UInt64(record.sequence &- previous &- 1)
      }
      last[record.cpu] = record.sequence
    }
    return gaps
  }

  public var perCommand: [(name: String, reads: Int, writes: Int, refused: Int)] {
    var table: [UInt32: (Int, Int, Int)] = [:]
    for r in records {
      var entry = table[r.function] ?? (0, 0, 0)
      if r.direction == .read { entry.0 += 1 } else { entry.1 += 1 }
      if !r.allowed { entry.2 += 1 }
      table[r.function] = entry
    }
    return table.keys.sorted().map { (Self.functionName($0), table[$0]!.0, table[$0]!.1, table[$0]!.2) }
  }

  public var perRealm: [(realm: UInt64, accesses: Int, dataWrites: Int, dataReads: Int)] {
    var table: [UInt64: (Int, Int, Int)] = [:]
    for r in records where r.realm != 0 {
      var entry = table[r.realm] ?? (0, 0, 0)
      entry.0 += 1
      if r.state == .data { if r.direction == .write { entry.1 += 1 } else { entry.2 += 1 } }
      table[r.realm] = entry
    }
    return table.keys.sorted().map { ($0, table[$0]!.0, table[$0]!.1, table[$0]!.2) }
  }

  /// Why a purpose may touch memory, in the spec's terms.
  public static func justification(_ purpose: AccessPurpose) -> String {
    switch purpose {
    case .rsiHostCallRead: return "RSI_HOST_CALL: the RsiHostCall structure the realm passed (imm and arguments)"
    case .rsiHostCallWrite: return "REC_ENTER after RSI_HOST_CALL: the host's results into RsiHostCall"
    case .rsiRealmConfig: return "RSI_REALM_CONFIG: RsiRealmConfig into the realm's page"
    case .attestationTokenWrite: return "RSI_ATTEST_TOKEN_CONTINUE: the token into the granule the realm named"
    case .dataCreateWrite: return "RMI_DATA_CREATE: the copied contents into the new DATA granule"
    case .destroyScrub: return "the owner scrubs an object returning to DELEGATED"
    case .delegateScrub: return "RMI_GRANULE_DELEGATE: a DELEGATED granule is zero"
    case .undelegateScrub: return "RMI_GRANULE_UNDELEGATE scrub (no longer made: DELEGATED granules are zero)"
    case .realmParams: return "RMI_REALM_CREATE: RmiRealmParams, copied once"
    case .recParams: return "RMI_REC_CREATE: RmiRecParams, copied once"
    case .dataSource: return "RMI_DATA_CREATE: the host's source page, copied once"
    case .recRunEnter: return "RMI_REC_ENTER: RmiRecEnter, copied once"
    case .recRunExit: return "RMI_REC_ENTER: RmiRecExit results"
    case .rttRead, .rttWrite: return "the RTT code on its tables"
    case .rdRead, .rdWrite: return "the realm code on its RD"
    case .recRead, .recWrite, .recRun: return "the REC code on its REC"
    case .auditDrain: return "the audit interface: drained records into the host's page"
    case .recFPState: return "(unused: the REC's FP/SIMD registers are in the REC granule)"
    case .attestationWorkspace: return "RSI_ATTEST_TOKEN_*: the REC's attestation workspace in its aux granules"
    case .el3ExchangeRead: return "RMM_ATTEST_*: what EL3 returned in the shared page (the RAK, the platform token)"
    case .el3ExchangeWrite: return "RMM_ATTEST_*: the challenge for EL3, and the scrub after the RAK passed"
    case .recSVEState: return "RMI_REC_ENTER: the SVE realm's Z, P and FFR registers, loaded and saved in its SVE aux granules"
    }
  }

  public static func functionName(_ function: UInt32) -> String {
    if let name = knownFunctionNames[function] { return name }
    // SMC64 forms of PSCI functions carry the SMC32 form's name.
    if let name = knownFunctionNames[function & ~UInt32(PSCIFunction.smc64Bit)], name.hasPrefix("PSCI_") { return name }
    let digits = String(function, radix: 16)
    return "FID 0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
  }

  /// The names of every FID the RMM knows, built once (reflection is slow).
  private static let knownFunctionNames: [UInt32: String] = {
    var names: [UInt32: String] = [:]
    for c in RMICommand.allCases { names[UInt32(c.rawValue)] = "RMI_" + snake("\(c)") }
    for c in RSICommand.allCases { names[UInt32(c.rawValue)] = "RSI_" + snake("\(c)") }
    for p in PSCIFunction.allCases { names[UInt32(p.rawValue)] = "PSCI_" + snake("\(p)") }
    names[UInt32(AuditInterface.fid)] = "RMM_AUDIT"
    return names
  }()

  /// granuleDelegate -> GRANULE_DELEGATE
  static func snake(_ name: String) -> String {
    var out = ""
    for c in name {
      if c.isUppercase && !out.isEmpty { out += "_" }
      out += c.uppercased()
    }
    return out
  }

  /// The --check verdict: problems found, empty if the log shows only allowed accesses.
  public func problems(strict: Bool) -> [String] {
    var found: [String] = []
    for r in outsidePolicy { found.append("outside the policy: \(Self.describe(r))") }
    for r in dataReads where r.purpose != .rsiHostCallRead {
      found.append("a read of realm DATA the spec does not require: \(Self.describe(r))")
    }
    for r in unjustifiedDataWrites {
      found.append("a write of realm DATA by a command that may not write it: \(Self.describe(r))")
    }
    if malformedLines > 0 { found.append("\(malformedLines) malformed AUDIT lines") }
    if let s = statistics, s.violations > 0 { found.append("the RMM counted \(s.violations) refused accesses") }
    let gaps = sequenceGaps.values.reduce(0, +)
    if strict && (gaps > 0 || (statistics?.lost ?? 0) > 0) {
      found.append("records lost: \(max(gaps, statistics?.lost ?? 0))")
    }
    if records.isEmpty { found.append("no audit records in the log") }
    return found
  }

  public static func describe(_ r: AuditRecord) -> String {
    let state = r.state.map { stateNames[$0] ?? "\($0)" } ?? "not DRAM"
    let purpose = purposeNames[r.purpose] ?? "\(r.purpose)"
    return "#\(r.sequence) cpu \(r.cpu) \(functionName(r.function)) \(r.direction == .read ? "read" : "write") "
      + "\(r.length) bytes at offset \(r.offset) of PA 0x\(String(r.pa, radix: 16)) (\(state)) ipa 0x\(String(r.ipa, radix: 16)) "
      + "realm 0x\(String(r.realm, radix: 16)) for \(purpose) [\(r.allowed ? "allowed" : "REFUSED")]"
  }

  private static let stateNames: [GranuleState: String] = Dictionary(
    uniqueKeysWithValues: GranuleState.allCases.map { ($0, "\($0)") })
  private static let purposeNames: [AccessPurpose: String] = Dictionary(
    uniqueKeysWithValues: AccessPurpose.allCases.map { ($0, "\($0)") })
}

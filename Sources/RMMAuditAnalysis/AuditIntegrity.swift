// Verifies that the audit records in a console log are exactly those the RMM chained:
// per CPU, recomputes the hash chain (docs/AUDIT.md, "Hash chain and checkpoint") over
// the log's records, in log order, inferring "lost" elements from sequence gaps, and
// compares it with the RMM's signed checkpoint. The chain is recomputed here with
// OpenSSL's SHA-256 (CCATokenVerifier.SHA2), the checkpoint's COSE_Sign1 parsed and its
// ES384 signature checked by CCATokenVerifier with the RAK from a CCA token in the same
// log (itself verified: signed by that key, bound to the platform token).

import CCATokenVerifier
import Foundation
import RMMABI
import RMMCore

/// One CPU's entry of a checkpoint, decoded.
public struct CheckpointEntry: Equatable, Sendable {
  public var cpu: Int
  public var sequence: UInt64
  public var head: [UInt8]
  public var violations: UInt64
  public var lost: UInt64
  public var written: UInt64
}

public struct DecodedCheckpoint: Sendable {
  public var nonce: UInt64
  public var entries: [Int: CheckpointEntry]
}

public enum CheckpointError: Error, CustomStringConvertible, Equatable {
  case missing
  case broken(String)
  case malformed(String)
  case noRAK(String)
  case signatureInvalid

  public var description: String {
    switch self {
    case .missing: return "no audit checkpoint in the log (CCA_TOKEN_BEGIN name=\(AuditIntegrity.checkpointName))"
    case .broken(let why): return "the audit checkpoint block is broken: \(why)"
    case .malformed(let why): return "the audit checkpoint is malformed: \(why)"
    case .noRAK(let why): return "no realm attestation key to check the checkpoint with: \(why)"
    case .signatureInvalid: return "the audit checkpoint's signature does not verify with the RAK of the log's CCA token"
    }
  }
}

public enum AuditIntegrity {
  public static let checkpointName = "audit-checkpoint"

  /// The expected protected header: {1: -35, 3: content type}.
  static let protectedHeader: CBORValue = .map([
    CBORMapEntry(CBORValue(COSE.algorithmLabel), CBORValue(COSE.es384)),
    CBORMapEntry(CBORValue(AuditCheckpointABI.contentTypeLabel), .text("\(AuditCheckpointABI.contentType)")),
  ])

  // MARK: chain (independent of RMMCore's: OpenSSL SHA-256)

  static func tag(_ s: StaticString) -> [UInt8] { Array(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
  static func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

  public static func genesis(cpu: Int) -> [UInt8] {
    SHA2.sha256(tag(AuditCheckpointABI.genesisTag) + le(UInt64(cpu)))
  }
  public static func chainRecord(_ head: [UInt8], _ r: AuditRecord) -> [UInt8] {
    let w = r.words
    return SHA2.sha256(tag(AuditCheckpointABI.recordTag) + head + le(w.0) + le(w.1) + le(w.2) + le(w.3) + le(w.4))
  }
  public static func chainLost(_ head: [UInt8], first: UInt64, count: UInt64) -> [UInt8] {
    SHA2.sha256(tag(AuditCheckpointABI.lostTag) + head + le(first) + le(count))
  }

  // MARK: checkpoint

  /// Finds, parses and verifies the checkpoint; the RAK comes from the log's first
  /// CCA token that verifies.
  public static func checkpoint(in text: String) throws(CheckpointError) -> DecodedCheckpoint {
    let captured = ConsoleCapture.tokens(in: text)
    let blocks = captured.filter { $0.name == checkpointName }
    guard let block = blocks.last else { throw .missing }
    let bytes: [UInt8]
    switch block.contents {
    case .success(let b): bytes = b
    case .failure(let e): throw .broken("\(e)")
    }
    var rak: ES384PublicKey? = nil
    var why = "no CCA token in the log"
    for token in captured where token.name != checkpointName {
      guard case .success(let t) = token.contents else { continue }
      do {
        rak = try CCATokenVerifier.verify(t).realmClaims.publicKey.key
        break
      } catch {
        why = "token \(token.name): \(error)"
      }
    }
    guard let rak else { throw .noRAK(why) }
    return try verifyCheckpoint(bytes, key: rak)
  }

  public static func verifyCheckpoint(_ bytes: [UInt8], key: ES384PublicKey) throws(CheckpointError) -> DecodedCheckpoint {
    let message: COSESign1
    do { message = try COSESign1(bytes, part: .auditCheckpoint) } catch { throw .malformed("\(error)") }
    // Exactly our header: alg ES384 and the checkpoint's content type (no realm token has one).
    guard message.protectedHeader == protectedHeader else {
      throw .malformed("protected header is \(message.protectedHeader), not ES384 with content type \(AuditCheckpointABI.contentType)")
    }
    guard message.signature.count == COSE.es384SignatureSize,
          key.isValidSignature(message.signature, for: message.toBeSigned) else { throw .signatureInvalid }
    let payload: CBORValue
    do { payload = try CBORDecoder.decode(message.payload) } catch { throw .malformed("payload: \(error)") }
    guard case .tagged(let t, let claims) = payload, t == AuditCheckpointABI.tag else {
      throw .malformed("payload is not tagged \(AuditCheckpointABI.tag)")
    }
    guard let nonce = claims[AuditCheckpointABI.nonceKey]?.unsignedValue,
          let list = claims[AuditCheckpointABI.cpusKey]?.arrayValue else {
      throw .malformed("payload lacks the nonce (1) or the CPU list (2)")
    }
    var entries: [Int: CheckpointEntry] = [:]
    for item in list {
      guard let f = item.arrayValue, f.count == AuditCheckpointABI.entryFields,
            let cpu = f[0].unsignedValue, let seq = f[1].unsignedValue, let head = f[2].bytesValue, head.count == 32,
            let violations = f[3].unsignedValue, let lost = f[4].unsignedValue, let written = f[5].unsignedValue,
            cpu < 256, entries[Int(cpu)] == nil else {
        throw .malformed("a CPU entry is not [cpu, sequence, head(32), violations, lost, written]")
      }
      entries[Int(cpu)] = CheckpointEntry(cpu: Int(cpu), sequence: seq, head: head, violations: violations, lost: lost,
                                          written: written)
    }
    return DecodedCheckpoint(nonce: nonce, entries: entries)
  }

  // MARK: the verdict

  /// Problems with the log's integrity: empty if every CPU's records chain to the
  /// signed heads.
  public static func problems(records: [AuditRecord], lines: [Int], checkpoint: DecodedCheckpoint,
                              expectedNonce: UInt64? = nil) -> [String] {
    var found: [String] = []
    if let expectedNonce, expectedNonce != checkpoint.nonce {
      found.append("the checkpoint's nonce is 0x\(String(checkpoint.nonce, radix: 16)), not the host's 0x\(String(expectedNonce, radix: 16)) (a replayed checkpoint)")
    }
    var perCPU: [Int: [(AuditRecord, Int)]] = [:]
    for (r, line) in zip(records, lines) { perCPU[Int(r.cpu), default: []].append((r, line)) }
    for cpu in Set(perCPU.keys).union(checkpoint.entries.keys).sorted() {
      let list = perCPU[cpu] ?? []
      guard let entry = checkpoint.entries[cpu] else {
        found.append("CPU \(cpu): \(list.count) records but no entry in the signed checkpoint (injected?)")
        continue
      }
      if entry.violations > 0 { found.append("CPU \(cpu): the signed checkpoint counts \(entry.violations) refused accesses") }
      found += verifyCPU(cpu, list, entry)
    }
    return found
  }

  static func verifyCPU(_ cpu: Int, _ list: [(AuditRecord, Int)], _ entry: CheckpointEntry) -> [String] {
    var found: [String] = []
    var head = genesis(cpu: cpu)
    var position: UInt64 = 0
    var gaps: [(first: UInt64, count: UInt64)] = []
    var atCheckpoint: [UInt8]? = entry.sequence == 0 ? head : nil
    var beyond: [(AuditRecord, Int)] = []
    var previous: (AuditRecord, Int)? = nil
    for (r, line) in list {
      if position >= entry.sequence && atCheckpoint != nil { beyond.append((r, line)); continue }
      let delta = r.sequence &- UInt32(truncatingIfNeeded: position)
      if delta >= 1 << 31 {  // backwards: a repeat or a swap
        let after = previous.map { " after #\($0.0.sequence) (line \($0.1))" } ?? ""
        found.append("CPU \(cpu): record #\(r.sequence) (line \(line)) is out of order\(after): records reordered, repeated or injected")
        return found
      }
      if delta > 0 {
        gaps.append((position, UInt64(delta)))
        head = chainLost(head, first: position, count: UInt64(delta))
        position += UInt64(delta)
        if position == entry.sequence { atCheckpoint = head }
        if position > entry.sequence && atCheckpoint == nil { break }
      }
      head = chainRecord(head, r)
      position += 1
      previous = (r, line)
      if position == entry.sequence { atCheckpoint = head }
    }
    if atCheckpoint == nil && position < entry.sequence {
      // The RMM chains a loss last when a drain's page was refused.
      gaps.append((position, entry.sequence - position))
      atCheckpoint = chainLost(head, first: position, count: entry.sequence - position)
    }
    let inferred = gaps.reduce(0) { $0 + $1.count }
    if inferred > entry.lost {
      let shown = gaps.prefix(3).map { "#\($0.first)..<#\($0.first + $0.count)" }.joined(separator: ", ")
      found.append("CPU \(cpu): records removed: sequence numbers \(shown) are missing from the log "
        + "(\(inferred) in all) but the RMM counted only \(entry.lost) lost")
    } else if inferred < entry.lost {
      found.append("CPU \(cpu): the RMM counted \(entry.lost) records lost, the log's sequence gaps only \(inferred) (injected?)")
    }
    if let atCheckpoint, atCheckpoint != entry.head {
      found.append("CPU \(cpu): hash chain mismatch: the log's records up to #\(entry.sequence) chain to "
        + "\(hexString(atCheckpoint.prefix(8)))..., the signed checkpoint says \(hexString(entry.head.prefix(8)))...: "
        + "a record was edited, removed, reordered or injected")
    } else if atCheckpoint == nil {
      found.append("CPU \(cpu): the log's records do not reach the checkpoint's sequence #\(entry.sequence)")
    }
    if let (r, line) = beyond.first {
      found.append("CPU \(cpu): \(beyond.count) record(s) from #\(r.sequence) (line \(line)) on are beyond the signed "
        + "checkpoint (#\(entry.sequence)): not covered (injected?)")
    }
    return found
  }
}

extension AuditIntegrity {
  /// The whole integrity verdict on a log: the checkpoint (if it verifies) and the
  /// problems found.
  public static func verify(log text: String, _ analysis: AuditAnalysis, expectedNonce: UInt64? = nil)
    -> (checkpoint: DecodedCheckpoint?, problems: [String])
  {
    let checkpoint: DecodedCheckpoint
    do { checkpoint = try Self.checkpoint(in: text) } catch { return (nil, ["integrity: \(error)"]) }
    let found = problems(records: analysis.records, lines: analysis.recordLines, checkpoint: checkpoint,
                         expectedNonce: expectedNonce)
    return (checkpoint, found.map { "integrity: " + $0 })
  }
}

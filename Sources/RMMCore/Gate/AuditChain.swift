// The audit log's hash chain and its signed checkpoint (docs/AUDIT.md, "Hash chain and
// checkpoint"). Pure Swift: the firmware chains records as they leave the ring (the
// drain), never on the hot path; the host tools recompute the chain independently.
//
// Per CPU, with H = SHA-256 and every integer a little-endian u64:
//   chain_0      = H("RMM-AUDIT-GEN-v1" || cpu)
//   record:  c'  = H("RMM-AUDIT-REC-v1" || c || w0 || w1 || w2 || w3 || w4)   (88 bytes)
//   lost:    c'  = H("RMM-AUDIT-LOST-1" || c || first || count)               (64 bytes)
// `position` counts every record the chain accounts for (drained or lost): it is the
// next record's sequence number. A "lost" element stands for the `count` records with
// sequence numbers first..<first+count that were overwritten in the ring (or drained
// into a page the gate refused) before the host received them.

import RMMABI

/// One CPU's chain head.
public struct AuditChainState: Equatable, Sendable {
  /// The head's 32 digest bytes, packed little-endian (as `Digest64.words`).
  public var head: InlineArray<4, UInt64>
  /// Records accounted for (chained or lost): the next record's sequence number.
  public var position: UInt64
  /// Of which lost (in "lost" elements).
  public var lost: UInt64

  public init(head: InlineArray<4, UInt64>, position: UInt64, lost: UInt64) {
    self.head = head; self.position = position; self.lost = lost
  }

  public static func == (a: AuditChainState, b: AuditChainState) -> Bool {
    a.position == b.position && a.lost == b.lost && a.head[0] == b.head[0] && a.head[1] == b.head[1]
      && a.head[2] == b.head[2] && a.head[3] == b.head[3]
  }

  /// Byte `i` (0..<32) of the head.
  public func headByte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: head[i >> 3] >> UInt64((i & 7) * 8)) }
}

public enum AuditChain {
  public static func genesis(cpu: Int) -> AuditChainState {
    var h = SHA256()
    h.update(tag: AuditCheckpointABI.genesisTag)
    h.update64LE(UInt64(truncatingIfNeeded: cpu))
    return AuditChainState(head: words(h.finalize()), position: 0, lost: 0)
  }

  /// Chains one drained record (its five encoded words).
  public static func append(_ state: inout AuditChainState, words w: (UInt64, UInt64, UInt64, UInt64, UInt64)) {
    var h = SHA256()
    h.update(tag: AuditCheckpointABI.recordTag)
    for i in 0..<4 { h.update64LE(state.head[i]) }
    h.update64LE(w.0); h.update64LE(w.1); h.update64LE(w.2); h.update64LE(w.3); h.update64LE(w.4)
    state.head = words(h.finalize())
    state.position &+= 1
  }

  /// Chains `count` lost records (the next `count` sequence numbers).
  public static func appendLost(_ state: inout AuditChainState, count: UInt64) {
    guard count > 0 else { return }
    var h = SHA256()
    h.update(tag: AuditCheckpointABI.lostTag)
    for i in 0..<4 { h.update64LE(state.head[i]) }
    h.update64LE(state.position)
    h.update64LE(count)
    state.head = words(h.finalize())
    state.position &+= count
    state.lost &+= count
  }

  static func words(_ d: Digest64) -> InlineArray<4, UInt64> {
    var out: InlineArray<4, UInt64> = .init(repeating: 0)
    for i in 0..<4 { out[i] = d.words[i] }
    return out
  }
}

extension SHA256 {
  mutating func update(tag: StaticString) {
    update(UnsafeRawBufferPointer(start: tag.utf8Start, count: tag.utf8CodeUnitCount))
  }
}

/// One CPU's line of a checkpoint.
public struct AuditCheckpointEntry: Sendable {
  public var cpu: Int
  public var chain: AuditChainState
  public var violations: UInt64
  /// Records the CPU has written (drained, lost or still in its ring).
  public var written: UInt64
  public init(cpu: Int, chain: AuditChainState, violations: UInt64, written: UInt64) {
    self.cpu = cpu; self.chain = chain; self.violations = violations; self.written = written
  }
}

extension AuditInterface {
  public static let checkpointStart = AuditCheckpointABI.start
  public static let checkpointContinue = AuditCheckpointABI.continue
}

/// The checkpoint as a COSE_Sign1: 18([protected, {}, payload, signature]) with
/// protected = {1: -35 (ES384), 3: "application/vnd.swift-rmm.audit-checkpoint+cbor"}
/// and payload = #6.0x524D4143({1: nonce, 2: [* [cpu, sequence, head, violations, lost, written]]}).
public enum AuditCheckpoint {
  /// The protected header map, encoded.
  public static func encodeProtectedHeader(into out: inout BoundedByteWriter) {
    CBOR.head(.map, 2, into: &out)
    CBOR.integer(COSE.algorithmLabel, into: &out)
    CBOR.integer(COSE.es384, into: &out)
    CBOR.integer(AuditCheckpointABI.contentTypeLabel, into: &out)
    CBOR.textString(AuditCheckpointABI.contentType, into: &out)
  }

  public static var protectedHeaderLength: Int {
    1 + 1 + 2 + 1 + CBOR.stringLength(AuditCheckpointABI.contentType.utf8CodeUnitCount)
  }

  static func encodeEntry(_ e: AuditCheckpointEntry, into out: inout BoundedByteWriter) {
    CBOR.head(.array, UInt64(AuditCheckpointABI.entryFields), into: &out)
    CBOR.head(.unsigned, UInt64(e.cpu), into: &out)
    CBOR.head(.unsigned, e.chain.position, into: &out)
    var head = e.chain.head
    withUnsafeBytes(of: &head) { CBOR.byteString($0, into: &out) }
    CBOR.head(.unsigned, e.violations, into: &out)
    CBOR.head(.unsigned, e.chain.lost, into: &out)
    CBOR.head(.unsigned, e.written, into: &out)
  }

  static func entryLength(_ e: AuditCheckpointEntry) -> Int {
    1 + CBOR.headLength(UInt64(e.cpu)) + CBOR.headLength(e.chain.position) + CBOR.stringLength(32)
      + CBOR.headLength(e.violations) + CBOR.headLength(e.chain.lost) + CBOR.headLength(e.written)
  }

  public static func payloadLength(nonce: UInt64, entries: UnsafeBufferPointer<AuditCheckpointEntry>) -> Int {
    var n = CBOR.headLength(AuditCheckpointABI.tag) + 1 + 1 + CBOR.headLength(nonce) + 1
      + CBOR.headLength(UInt64(entries.count))
    for e in entries { n += entryLength(e) }
    return n
  }

  public struct Layout: Sendable {
    public var payloadOffset: Int
    public var payloadLength: Int
    public var signatureOffset: Int
    public var length: Int
  }

  /// The whole COSE_Sign1 with a zero signature; nil if `out` is too small.
  public static func encode(nonce: UInt64, entries: UnsafeBufferPointer<AuditCheckpointEntry>,
                            into out: inout BoundedByteWriter) -> Layout? {
    let payloadLength = payloadLength(nonce: nonce, entries: entries)
    CBOR.head(.tag, CCAToken.coseSign1Tag, into: &out)
    CBOR.head(.array, 4, into: &out)
    CBOR.head(.bytes, UInt64(protectedHeaderLength), into: &out)
    encodeProtectedHeader(into: &out)
    CBOR.head(.map, 0, into: &out)
    CBOR.head(.bytes, UInt64(payloadLength), into: &out)
    let payloadOffset = out.count
    CBOR.head(.tag, AuditCheckpointABI.tag, into: &out)
    CBOR.head(.map, 2, into: &out)
    CBOR.head(.unsigned, AuditCheckpointABI.nonceKey, into: &out)
    CBOR.head(.unsigned, nonce, into: &out)
    CBOR.head(.unsigned, AuditCheckpointABI.cpusKey, into: &out)
    CBOR.head(.array, UInt64(entries.count), into: &out)
    for e in entries { encodeEntry(e, into: &out) }
    guard out.count - payloadOffset == payloadLength else { return nil }
    CBOR.head(.bytes, UInt64(COSE.es384SignatureSize), into: &out)
    let signatureOffset = out.count
    for _ in 0..<COSE.es384SignatureSize { out.append(0) }
    guard !out.overflowed else { return nil }
    return Layout(payloadOffset: payloadOffset, payloadLength: payloadLength, signatureOffset: signatureOffset,
                  length: out.count)
  }

  /// SHA-384 of Sig_structure ["Signature1", protected, h'', payload].
  public static func signingDigest(message: UnsafeRawBufferPointer, _ layout: Layout) -> Digest64 {
    var prefix: InlineArray<96, UInt8> = .init(repeating: 0)
    var hasher = SHA384()
    withUnsafeMutableBytes(of: &prefix) { buffer in
      var out = BoundedByteWriter(buffer)
      CBOR.head(.array, 4, into: &out)
      CBOR.textString(COSE.signature1Context, into: &out)
      CBOR.head(.bytes, UInt64(protectedHeaderLength), into: &out)
      encodeProtectedHeader(into: &out)
      CBOR.head(.bytes, 0, into: &out)
      CBOR.head(.bytes, UInt64(layout.payloadLength), into: &out)
      hasher.update(out.written)
    }
    hasher.update(UnsafeRawBufferPointer(rebasing: message[layout.payloadOffset..<(layout.payloadOffset + layout.payloadLength)]))
    return hasher.finalize()
  }
}

// The audit log in RMM memory: per-CPU rings of AuditRecord, the context of the call
// being served, violation counters, the immediate console alert for a refused access,
// and the host's drain interface (AuditInterface); the per-CPU hash chain over drained
// records and the signed checkpoint (docs/AUDIT.md, "Hash chain and checkpoint").

import AArch64Shim
import RMMABI
import RMMCore

let auditRecordsPerCPU = 1024

/// Each CPU's chain head (AuditChainState, in words: 4 of head, then position, lost,
/// and the ring's `lost` already chained), written only by that CPU's drain and read by
/// the checkpoint: both under `auditChainLock`. Not on the hot path.
let auditChainWords = 7
nonisolated(unsafe) var auditChains: InlineArray<224, UInt64> = .init(repeating: 0)
nonisolated(unsafe) var auditChainLock: UInt16 = 0

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
    auditState(cpu).initialize(to: AuditCPUState(capacity: auditRecordsPerCPU, storage: auditStorage(cpu), cpu: cpu))
    storeChain(AuditChain.genesis(cpu: cpu), ringLost: 0, cpu: cpu)
  }
  return true
}

@inline(__always) func auditNote(function: UInt64, realm: UInt64, ipa: UInt64) {
  FirmwareEnvironment().gate.noteCall(function: function, realm: realm, ipa: ipa)
}

/// The console line for a refused access (the gate has recorded and counted it).
@inline(never) func auditAlert(_ record: AuditRecord) {
  var out = Console()
  out.write("RMM ALERT: refused access: CPU ")
  out.decimal(UInt64(record.cpu))
  out.write(record.direction == .read ? " read " : " write ")
  out.decimal(UInt64(record.length))
  out.write(" bytes at offset ")
  out.decimal(UInt64(record.offset))
  out.write(" of PA ")
  out.hex(record.pa)
  out.write(" (state ")
  out.decimal(UInt64(record.state?.rawValue ?? 0xFF))
  out.write(", purpose ")
  out.decimal(UInt64(record.purpose.rawValue))
  out.write(") during function ")
  out.hex(UInt64(record.function), digits: 8)
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
    // The chain: first the records overwritten since the last drain (they precede the
    // ring's oldest), then each record as it leaves the ring.
    var (chain, ringLost) = loadChain(cpu)
    let lost = state.pointee.ring.lost
    AuditChain.appendLost(&chain, count: lost &- ringLost)
    let beforeRecords = chain
    _ = state.pointee.ring.drain(from: auditStorage(cpu), limit: AuditInterface.recordsPerPage) { record in
      let w = record.words
      page.store64(w.0, at: copied * 40)
      page.store64(w.1, at: copied * 40 + 8)
      page.store64(w.2, at: copied * 40 + 16)
      page.store64(w.3, at: copied * 40 + 24)
      page.store64(w.4, at: copied * 40 + 32)
      AuditChain.append(&chain, words: w)
      copied += 1
    }
    do throws(GateError) {
      try FirmwareEnvironment().gate.copyToNonSecure(frame[3], AccessIntent(.auditDrain, .write, expecting: .undelegated),
                                                     from: &page)
    } catch {
      // The host never got these records: the chain says so (lost), rather than
      // covering records nobody can show.
      chain = beforeRecords
      AuditChain.appendLost(&chain, count: UInt64(copied))
      storeChain(chain, ringLost: lost, cpu: cpu)
      frame[0] = RMIStatus(.errorInput).encoded
      return
    }
    storeChain(chain, ringLost: lost, cpu: cpu)
    frame[1] = UInt64(copied)
    frame[2] = lost
  case AuditInterface.checkpointStart:
    checkpointStart(frame)
  case AuditInterface.checkpointContinue:
    checkpointContinue(frame)
  default:
    frame[0] = RMIStatus(.errorInput).encoded
  }
}

// MARK: - The chain and the checkpoint

@inline(__always) private func withChains<R>(_ body: (UnsafeMutablePointer<UInt64>) -> R) -> R {
  withUnsafeMutablePointer(to: &auditChainLock) { lock in
    let seen = granule_lock_acquire(lock)
    defer { granule_lock_release(lock, seen) }
    return withUnsafeMutablePointer(to: &auditChains) {
      body(UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self))
    }
  }
}

func loadChain(_ cpu: Int) -> (AuditChainState, ringLost: UInt64) {
  withChains { words in
    let w = words + cpu * auditChainWords
    var head: InlineArray<4, UInt64> = .init(repeating: 0)
    for i in 0..<4 { head[i] = w[i] }
    return (AuditChainState(head: head, position: w[4], lost: w[5]), w[6])
  }
}

func storeChain(_ chain: AuditChainState, ringLost: UInt64, cpu: Int) {
  withChains { words in
    let w = words + cpu * auditChainWords
    for i in 0..<4 { w[i] = chain.head[i] }
    w[4] = chain.position
    w[5] = chain.lost
    w[6] = ringLost
  }
}

/// The checkpoint being signed: one for the whole RMM, under `checkpointLock`, in the
/// boot crypto arena (used once at cold boot, then free): its first 8 KiB are the
/// signer's arena (same VA on every CPU, so any CPU may continue), the next 4 KiB the
/// COSE_Sign1 being built.
nonisolated(unsafe) var checkpointLock: UInt16 = 0
nonisolated(unsafe) var checkpointActive = false
nonisolated(unsafe) var checkpointLength = 0
nonisolated(unsafe) var checkpointSignatureOffset = 0
let checkpointArenaSize = 8192
let checkpointMessageOffset = 8192
let checkpointMessageCapacity = 4096

@inline(__always) private func withCheckpoint<R>(_ body: (UnsafeMutableRawBufferPointer, UnsafeMutableRawPointer) -> R) -> R {
  withUnsafeMutablePointer(to: &checkpointLock) { lock in
    let seen = granule_lock_acquire(lock)
    defer { granule_lock_release(lock, seen) }
    let base = rmm_boot_crypto_arena_base()!
    return body(UnsafeMutableRawBufferPointer(start: base, count: checkpointArenaSize), base + checkpointMessageOffset)
  }
}

private func checkpointFailed(_ frame: UnsafeMutablePointer<UInt64>, _ why: AuditCheckpointABI.Failure) {
  frame[0] = RMIStatus(.errorInput).encoded
  frame[1] = why.rawValue
}

/// x1 = 2, x2 = the host's nonce: snapshots every CPU's chain and starts the signature
/// (no curve arithmetic yet). Abandons a checkpoint still being signed.
func checkpointStart(_ frame: UnsafeMutablePointer<UInt64>) {
  let attestation = FirmwareAttestation()
  guard attestation.isAvailable else { return checkpointFailed(frame, .attestationUnavailable) }
  let nonce = frame[2]
  var entries: InlineArray<32, AuditCheckpointEntry> = .init(repeating: AuditCheckpointEntry(
    cpu: 0, chain: AuditChainState(head: .init(repeating: 0), position: 0, lost: 0), violations: 0, written: 0))
  var count = 0
  for cpu in 0..<32 {
    let state = auditState(cpu)
    let written = state.pointee.sequence
    let (chain, _) = loadChain(cpu)
    guard written > 0 || chain.position > 0 else { continue }
    entries[count] = AuditCheckpointEntry(cpu: cpu, chain: chain, violations: state.pointee.violations, written: written)
    count += 1
  }
  let ok = withCheckpoint { arena, message in
    if checkpointActive { attestation.abandonSignature(arena: arena) }
    checkpointActive = false
    let layout = withUnsafeMutablePointer(to: &entries) { p -> AuditCheckpoint.Layout? in
      let list = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: AuditCheckpointEntry.self), count: count)
      var out = BoundedByteWriter(UnsafeMutableRawBufferPointer(start: message, count: checkpointMessageCapacity))
      return AuditCheckpoint.encode(nonce: nonce, entries: list, into: &out)
    }
    guard let layout else { return false }
    let digest = AuditCheckpoint.signingDigest(
      message: UnsafeRawBufferPointer(start: message, count: layout.length), layout)
    guard attestation.beginSignature(arena: arena, digest: digest) else { return false }
    checkpointLength = layout.length
    checkpointSignatureOffset = layout.signatureOffset
    checkpointActive = true
    return true
  }
  guard ok else { return checkpointFailed(frame, .signingFailed) }
  frame[1] = 0
}

/// x1 = 3, x3 = PA of an NS page: one signing step (RMM_P384_STEP_OPS of mbedTLS's
/// work); when the signature is done, the COSE_Sign1 goes into the page and x1 is its
/// length, else x1 = 0 (call again).
func checkpointContinue(_ frame: UnsafeMutablePointer<UInt64>) {
  let pa = frame[3]
  // A host address that is not an NS granule is the host's mistake, not a refusal.
  guard pa & 0xFFF == 0, granuleTable.index(of: pa) != nil, granuleTable.state(of: pa) == .undelegated else {
    return checkpointFailed(frame, .badPage)
  }
  let attestation = FirmwareAttestation()
  var page = PageBuffer()
  var length = 0
  let result: AuditCheckpointABI.Failure? = withCheckpoint { arena, message in
    guard checkpointActive else { return .notStarted }
    switch attestation.continueSignature(arena: arena) {
    case .inProgress: return nil
    case .failed:
      checkpointActive = false
      return .signingFailed
    case .done: break
    }
    checkpointActive = false
    guard attestation.finishSignature(
      arena: arena, into: UnsafeMutableRawBufferPointer(start: message + checkpointSignatureOffset, count: COSE.es384SignatureSize))
    else { return .signingFailed }
    length = checkpointLength
    withUnsafeMutableBytes(of: &page) { $0.baseAddress!.copyMemory(from: message, byteCount: length) }
    return nil
  }
  if let result { return checkpointFailed(frame, result) }
  guard length > 0 else {  // more steps to go
    frame[1] = 0
    return
  }
  do throws(GateError) {
    try FirmwareEnvironment().gate.copyToNonSecure(pa, AccessIntent(.auditDrain, .write, expecting: .undelegated), from: &page)
  } catch {
    return checkpointFailed(frame, .badPage)
  }
  frame[1] = UInt64(length)
}

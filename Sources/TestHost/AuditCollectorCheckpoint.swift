// The end of the integration suite: the host asks the RMM for a signed checkpoint of
// every CPU's audit hash chain (docs/AUDIT.md) and prints it like a token, for
// rmm-audit --check:
//   CCA_TOKEN_BEGIN name=audit-checkpoint length=N
//   CCA_TOKEN <hex> ...
//   CCA_TOKEN_END
// and the guest-instruction costs of the audit interface, for scripts/bench.

import AArch64Shim
import RMMABI
import RMMCore

extension AuditCollector {
  static let checkpointPage = Board.testGranules + 0x0321_0000

  /// Starts a checkpoint with `nonce` and continues it to the end; the COSE_Sign1's
  /// length (in `checkpointPage`), or nil. `steps` counts the continue calls.
  static func requestCheckpoint(nonce: UInt64, steps: inout UInt64) -> UInt64? {
    let started = smc(AuditInterface.fid, AuditInterface.checkpointStart, nonce)
    guard started.x0 == 0 else { return nil }
    for _ in 0..<10_000 {
      let r = smc(AuditInterface.fid, AuditInterface.checkpointContinue, 0, checkpointPage)
      steps += 1
      guard r.x0 == 0 else { return nil }
      if r.x1 > 0 { return r.x1 }
    }
    return nil
  }

  /// Drains CPU 0's ring, then prints a checkpoint (the last audit output of the suite).
  static func printCheckpoint(nonce: UInt64) {
    drainAndPrint()
    var steps: UInt64 = 0
    guard let length = requestCheckpoint(nonce: nonce, steps: &steps) else {
      console.write("AUDIT-CHECKPOINT failed\n")
      return
    }
    console.write("CCA_TOKEN_BEGIN name=audit-checkpoint length=")
    console.decimal(length)
    console.newline()
    var i: UInt64 = 0
    while i < length {
      console.write("CCA_TOKEN ")
      var j: UInt64 = 0
      while j < 32 && i + j < length {
        let at = i + j
        console.hexByte(UInt8(truncatingIfNeeded: mmio_read64(checkpointPage + (at & ~7)) >> (8 * (at % 8))))
        j += 1
      }
      console.newline()
      i += 32
    }
    console.write("CCA_TOKEN_END\n")
    console.write("AUDIT-CHECKPOINT nonce=")
    console.hex(nonce)
    console.write(" steps=")
    console.decimal(steps)
    console.newline()
  }
}

/// BENCH lines: one statistics call, the drain per record (chain included) and a whole
/// checkpoint (start and every continue). Records come from the benchmarks before.
func benchmarkAudit() -> UInt64 {
  var failures: UInt64 = 0
  var start = counter()
  let iterations: UInt64 = 100
  for _ in 0..<iterations { failures |= smc(AuditInterface.fid, AuditInterface.statistics).x0 }
  report("audit_statistics", counter() &- start, iterations)

  // Fill the ring with fresh records (each delegate scrubs: one record), drain it all.
  // (Each drain's own write is a record: stop at the first partial page.)
  while smc(AuditInterface.fid, AuditInterface.drain, 0, AuditCollector.page).x1 == UInt64(AuditInterface.recordsPerPage) {}
  for i in 0..<UInt64(400) {
    let pa = Board.testGranules + 0x20_0000 + i * 0x1000
    failures |= smc(RMICommand.granuleDelegate.rawValue, pa).x0
    failures |= smc(RMICommand.granuleUndelegate.rawValue, pa).x0
  }
  var records: UInt64 = 0
  start = counter()
  while true {
    let r = smc(AuditInterface.fid, AuditInterface.drain, 0, AuditCollector.page)
    failures |= r.x0
    records += r.x1
    if r.x1 < UInt64(AuditInterface.recordsPerPage) { break }
  }
  if records > 0 { report("audit_drain_per_record", counter() &- start, records) }

  var steps: UInt64 = 0
  start = counter()
  if AuditCollector.requestCheckpoint(nonce: 1, steps: &steps) == nil {
    failures |= 1
  } else {
    report("audit_checkpoint", counter() &- start, 1)
    report("audit_checkpoint_steps", steps, 1)
  }
  return failures
}

/// The checkpoint interface's failures (AuditCheckpointABI.Failure): each is refused
/// with ERROR_INPUT and its reason in x1, and none disturbs a signature in progress.
func runCheckpointTests() {
  section("audit checkpoint: refusals and restarts")
  typealias F = AuditCheckpointABI.Failure
  let page = AuditCollector.checkpointPage
  func continueCheckpoint(_ pa: UInt64) -> SMCResult { smc(AuditInterface.fid, AuditInterface.checkpointContinue, 0, pa) }
  var r = continueCheckpoint(page)
  check(r.x0 == RMIStatus(.errorInput).encoded && r.x1 == F.notStarted.rawValue, "CONTINUE before START: ERROR_INPUT, not started")
  r = smc(AuditInterface.fid, AuditInterface.checkpointStart, 0x1111)
  check(r.x0 == 0 && r.x1 == 0, "START: SUCCESS")
  // Pages that are not an NS granule of DRAM: refused before any signing work.
  let delegated = page + 0x1000
  let delegatedOK = rmi(.granuleDelegate, delegated).x0 == 0
  func refusedPage(_ pa: UInt64) -> Bool {
    let r = continueCheckpoint(pa)
    return r.x0 == RMIStatus(.errorInput).encoded && r.x1 == F.badPage.rawValue
  }
  check(refusedPage(page + 8), "CONTINUE into an unaligned page: bad page")
  check(refusedPage(1 << 48), "CONTINUE into an address that is not DRAM: bad page")
  check(refusedPage(delegated), "CONTINUE into a delegated granule: bad page")
  check(delegatedOK && rmi(.granuleUndelegate, delegated).x0 == 0, "the delegated page back")
  // Two steps, then a new START: the first signature is abandoned, the second completes.
  _ = continueCheckpoint(page)
  _ = continueCheckpoint(page)
  r = smc(AuditInterface.fid, AuditInterface.checkpointStart, 0x2222)
  check(r.x0 == 0, "START again while signing: SUCCESS (the first is abandoned)")
  var length: UInt64 = 0
  var steps: UInt64 = 0
  while length == 0 && steps < 10_000 {
    r = continueCheckpoint(page)
    steps += 1
    if r.x0 != 0 { break }
    length = r.x1
  }
  check(r.x0 == 0 && length > 0 && length <= 4096, "the restarted checkpoint completes after the refused pages")
  check(UInt8(truncatingIfNeeded: mmio_read64(page)) == 0xD2, "a COSE_Sign1 (tag 18)")
  r = continueCheckpoint(page)
  check(r.x0 == RMIStatus(.errorInput).encoded && r.x1 == F.notStarted.rawValue, "CONTINUE after the end: not started")
}

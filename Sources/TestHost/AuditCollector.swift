// Collects the RMM's audit log during the integration suite: every CPU drains its own
// ring through the audit interface often enough that nothing is lost, and CPU 0 prints
// the records as "AUDIT w0 w1 w2 w3 w4" lines for the analyser (rmm-audit).

import AArch64Shim
import RMMABI
import RMMCore

enum AuditCollector {
  static let page = Board.testGranules + 0x0320_0000          // CPU 0's drain page
  static let staging = Board.testGranules + 0x0330_0000       // CPU 1's drained pages
  static let stagingPages: UInt64 = 256
  nonisolated(unsafe) static var callsSinceDrain = 0
  nonisolated(unsafe) static var stagedPages: UInt64 = 0
  nonisolated(unsafe) static var enabled = false

  static var onPrimary: Bool { read_mpidr_el1() & 0xFF_FFFF == 0 }

  /// Called after every RMI call of the payload.
  static func tick() {
    guard enabled else { return }
    callsSinceDrain += 1
    if callsSinceDrain >= 24 {
      callsSinceDrain = 0
      if onPrimary { drainAndPrint() } else { drainToStaging() }
    }
  }

  static func drainAndPrint() {
    while true {
      let r = smc(AuditInterface.fid, AuditInterface.drain, 0, page)
      guard r.x0 == 0, r.x1 > 0 else { return }
      printRecords(at: page, count: r.x1)
      // Each drain is itself an audited access: stop at the first partial page.
      if r.x1 < UInt64(AuditInterface.recordsPerPage) { return }
    }
  }

  static func drainToStaging() {
    while stagedPages < stagingPages {
      let target = staging + stagedPages * 0x1000
      let r = smc(AuditInterface.fid, AuditInterface.drain, 0, target)
      guard r.x0 == 0, r.x1 > 0 else { return }
      mmio_write64(target + 0xFF8, r.x1)  // count in the last word (records use 4080 bytes)
      stagedPages += 1
      if r.x1 < UInt64(AuditInterface.recordsPerPage) { return }
    }
  }

  /// CPU 0 prints what CPU 1 drained, after CPU 1 is done.
  static func printStaged(pages: UInt64) {
    for i in 0..<pages {
      let source = staging + i * 0x1000
      printRecords(at: source, count: mmio_read64(source + 0xFF8))
    }
  }

  static func printRecords(at base: UInt64, count: UInt64) {
    for i in 0..<min(count, UInt64(AuditInterface.recordsPerPage)) {
      console.write("AUDIT")
      for w in 0..<UInt64(5) {
        console.put(32)
        console.hex(mmio_read64(base + i * 40 + w * 8))
      }
      console.newline()
    }
  }

  static func printStatistics() {
    let s = smc(AuditInterface.fid, AuditInterface.statistics)
    console.write("AUDIT-STATS violations=")
    console.decimal(s.x1)
    console.write(" records=")
    console.decimal(s.x2)
    console.write(" lost=")
    console.decimal(s.x3)
    console.newline()
  }
}

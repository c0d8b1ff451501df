// Collects the RMM's audit log during the integration suite: every CPU drains its own
// ring through the audit interface often enough that nothing is lost, and CPU 0 prints
// the records as "AUDIT w0 w1 w2 w3 w4" lines for the analyser (rmm-audit). While two
// CPUs run at once, nothing is printed (console lines from two CPUs, or from EL3, would
// interleave): each CPU drains into its own staging pages, printed afterwards.

import AArch64Shim
import RMMABI
import RMMCore

enum AuditCollector {
  static let page = Board.testGranules + 0x0320_0000          // drain pages: CPU n at page + n * 4 KiB
  static let staging = Board.testGranules + 0x0330_0000       // per CPU: 256 drained pages
  static let stagingPages: UInt64 = 256
  nonisolated(unsafe) static var callsSinceDrain: InlineArray<2, Int> = .init(repeating: 0)
  nonisolated(unsafe) static var stagedPages: InlineArray<2, UInt64> = .init(repeating: 0)
  nonisolated(unsafe) static var enabled = false
  /// Set while two CPUs run: CPU 0 stages instead of printing.
  nonisolated(unsafe) static var deferred = false

  static var cpu: Int { read_mpidr_el1() & 0xFF_FFFF == 0 ? 0 : 1 }

  /// Called after every RMI call of the payload.
  static func tick() {
    guard enabled else { return }
    let me = cpu
    callsSinceDrain[me] += 1
    if callsSinceDrain[me] >= 24 {
      callsSinceDrain[me] = 0
      // Into the audit file any CPU may write (whole writes); on the console only CPU 0,
      // and only while it is the only CPU running.
      if AuditFile.handle != 0 || (me == 0 && !deferred) { drainAndPrint() } else { drainToStaging() }
    }
  }

  /// Drains this CPU's ring through its own drain page and prints the records (into the
  /// audit file when there is one).
  static func drainAndPrint() {
    let target = page + UInt64(cpu) * 0x1000
    while true {
      let r = smc(AuditInterface.fid, AuditInterface.drain, 0, target)
      guard r.x0 == 0, r.x1 > 0 else { return }
      printRecords(at: target, count: r.x1)
      // Each drain is itself an audited access: stop at the first partial page.
      if r.x1 < UInt64(AuditInterface.recordsPerPage) { return }
    }
  }

  static func drainToStaging() {
    let me = cpu
    let area = staging + UInt64(me) * stagingPages * 0x1000
    while stagedPages[me] < stagingPages {
      let target = area + stagedPages[me] * 0x1000
      let r = smc(AuditInterface.fid, AuditInterface.drain, 0, target)
      guard r.x0 == 0, r.x1 > 0 else { return }
      mmio_write64(target + 0xFF8, r.x1)  // count in the last word (records use 4080 bytes)
      stagedPages[me] += 1
      if r.x1 < UInt64(AuditInterface.recordsPerPage) { return }
    }
  }

  /// CPU 0 prints what a CPU staged, once that CPU is done.
  static func printStaged(cpu staged: Int, pages: UInt64) {
    let area = staging + UInt64(staged) * stagingPages * 0x1000
    for i in 0..<pages {
      let source = area + i * 0x1000
      printRecords(at: source, count: mmio_read64(source + 0xFF8))
    }
    stagedPages[staged] = 0
  }

  /// CPU 0's own staged records, printed where its console is at a line boundary
  /// (the Linux realm's console runs meanwhile).
  static func printStagedRecords() {
    guard stagedPages[0] > 0 else { return }
    printStaged(cpu: 0, pages: stagedPages[0])
  }

  static func printRecords(at base: UInt64, count: UInt64) {
    if AuditFile.handle != 0 {
      AuditFile.write(recordsAt: base, count: min(count, UInt64(AuditInterface.recordsPerPage)))
      return
    }
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

/// The audit stream of a long run (the Linux realm: about a million records) written
/// to a file on the machine running QEMU, through Arm semihosting, in the same
/// "AUDIT w0 w1 w2 w3 w4" lines as the console: one host write per drained page
/// instead of a UART write per character. Only when the scripts started QEMU with
/// semihosting and said so in the run configuration.
enum AuditFile {
  nonisolated(unsafe) static var handle: UInt64 = 0
  static let name = Board.linuxWork + 0x8100          // the file name (from the run configuration)
  /// Per CPU: the semihosting parameter block, and one page of records as text
  /// (102 x 92 bytes).
  static var parameters: UInt64 { Board.linuxWork + 0x8000 + UInt64(AuditCollector.cpu) * 0x40 }
  static var text: UInt64 { Board.linuxWork + 0x1_0000 + UInt64(AuditCollector.cpu) * 0x4000 }
  static let open: UInt64 = 0x01, writeOperation: UInt64 = 0x05, close: UInt64 = 0x02

  /// Opens (truncates) the file named by the NUL-terminated string at `path`.
  static func open(path: UInt64) -> Bool {
    var length: UInt64 = 0
    while length < 200 && mmio_read8(path + length) != 0 {
      mmio_write8(name + length, mmio_read8(path + length))
      length += 1
    }
    mmio_write8(name + length, 0)
    mmio_write64(parameters, name)
    mmio_write64(parameters + 8, 4)  // "w"
    mmio_write64(parameters + 16, length)
    let result = testhost_semihosting(open, parameters)
    guard result != UInt64.max else { return false }
    handle = result
    return true
  }

  static func write(recordsAt base: UInt64, count: UInt64) {
    var sink = MemorySink(base: text)
    for i in 0..<count {
      sink.write("AUDIT")
      for w in 0..<UInt64(5) {
        sink.put(32)
        sink.hex(mmio_read64(base + i * 40 + w * 8))
      }
      sink.put(10)
    }
    mmio_write64(parameters, handle)
    mmio_write64(parameters + 8, text)
    mmio_write64(parameters + 16, sink.length)
    _ = testhost_semihosting(writeOperation, parameters)
  }

  static func finish() {
    guard handle != 0 else { return }
    mmio_write64(parameters, handle)
    _ = testhost_semihosting(close, parameters)
    handle = 0
  }
}

/// Text into NS memory.
struct MemorySink: ByteSink {
  let base: UInt64
  var length: UInt64 = 0
  mutating func put(_ byte: UInt8) {
    mmio_write8(base + length, byte)
    length += 1
  }
}

// Helpers for the failure-condition tests (docs/spec-notes/*-failure-conditions.md):
// one call, its exact status, and "nothing changed" in the sense of the spec's
// footprint: every granule's state, refcount and contents (RD, REC, RTT, DATA pages),
// the GPT as EL3 sees it, the VMIDs, the TLB maintenance done, and no lock left held.

import XCTest
import RMMABI
@testable import RMMCore

/// PAs that fail the generic address checks of the harness machine.
enum BadPA {
  /// Not granule aligned.
  static func unaligned(_ pa: UInt64) -> UInt64 { pa + 8 }
  /// Granule aligned but not in a DRAM bank: !PaIsDelegable.
  static let notDelegable: UInt64 = 0x4000_0000
  /// At or above 2^48: the `*_bound2` conditions (no LPA2). Never DRAM here either.
  static let above48Bits: UInt64 = 1 << 48
}

/// Everything a failed command must leave as it was.
struct MachineState: Equatable {
  var granules: [String]
  var realmPAS: Set<UInt64>
  var tlbIPAInvalidations: Int
  var tlbVMIDInvalidations: Int
  var entries: Int
}

extension MachineState {
  /// What differs, briefly (the whole state is thousands of lines).
  func differences(from old: MachineState) -> String {
    var out: [String] = []
    let changed = zip(old.granules, granules).filter { $0 != $1 }.map { "\($0.0) -> \($0.1)" }
    if !changed.isEmpty { out.append("granules [\(changed.prefix(4).joined(separator: "; "))]") }
    if realmPAS != old.realmPAS { out.append("GPT \(old.realmPAS.symmetricDifference(realmPAS).sorted())") }
    if tlbIPAInvalidations != old.tlbIPAInvalidations || tlbVMIDInvalidations != old.tlbVMIDInvalidations {
      out.append("TLB maintenance")
    }
    if entries != old.entries { out.append("a REC was entered") }
    return out.joined(separator: ", ")
  }
}

extension RealmHarness {
  /// `snapshot()` without the granules in `excluded` (the running REC's page, whose x0 and
  /// PC an RSI call changes even when it fails).
  func snapshot(excluding excluded: Set<UInt64>) -> [String] {
    var out: [String] = []
    for i in 0..<UInt64(2048) {
      let pa = Self.granule(i)
      if excluded.contains(pa) { continue }
      out.append("\(i):\(state(pa)!):\(env.granules.storage.peek(Int(i)).refcount):\(env.memory.page(pa).hashValue)")
    }
    out.append("vmids:\(env.vmids.state.used.sorted())")
    return out
  }

  func machineState(excluding excluded: Set<UInt64> = []) -> MachineState {
    MachineState(granules: excluded.isEmpty ? snapshot() : snapshot(excluding: excluded),
                 realmPAS: env.monitor.state.realmPAS,
                 tlbIPAInvalidations: env.tlb.state.ipaInvalidations.count,
                 tlbVMIDInvalidations: env.tlb.state.vmidInvalidations.count,
                 entries: env.cpu.state.entries.count)
  }

  /// Runs `call`, checks its x0 is exactly `expected` and that the machine is unchanged.
  @discardableResult
  func expectFailure(_ expected: UInt64, _ name: String, file: StaticString = #filePath, line: UInt = #line,
                     _ call: () -> RMIResult) -> RMIResult {
    let before = machineState()
    let result = call()
    XCTAssertEqual(result.x0, expected, "\(name): status", file: file, line: line)
    let after = machineState()
    if after != before { XCTFail("\(name): changed: \(after.differences(from: before))", file: file, line: line) }
    XCTAssertFalse(env.granules.storage.anyLocked, "\(name): no lock left held", file: file, line: line)
    return result
  }

  /// A second realm (own RD, roots and VMID) on the same machine; returns its RD.
  mutating func createSecondRealm(vmid: UInt64 = 9) -> UInt64 {
    let rd2 = allocateDelegated()
    var c = RealmConfig()
    c.vmid = vmid
    c.rttBase = Self.granule(40)
    delegate(c.rttBase)
    delegate(c.rttBase + 4096)
    writeRealmParams(c)
    precondition(env.call(.realmCreate, rd2, paramsPA).x0 == success)
    return rd2
  }

  /// Overwrites one 64-bit word of a granule's page (white-box set-up only).
  func poke(_ pa: UInt64, _ offset: Int, _ value: UInt64) {
    var page = env.memory.page(pa)
    page[offset / 8] = value
    env.memory.setPage(pa, page)
  }

  func peek(_ pa: UInt64, _ offset: Int) -> UInt64 { env.memory.page(pa)[offset / 8] }

  /// Marks a REC running on another CPU (the refcount REC_ENTER holds).
  func markRunning(_ rec: UInt64, _ running: Bool = true) {
    var g = env.granules.lock(rec)!
    g.descriptor = GranuleDescriptor(state: .rec, refcount: running ? 1 : 0)
    env.granules.release(g)
  }
}

extension RunFixture {
  /// The REC's gprs x0...x(n-1).
  func gprs(_ rec: UInt64, _ n: Int) -> [UInt64] { (0..<n).map { gpr(rec, $0) } }

  /// One SMC by REC 0 with `registers` (x0 = FID), served inside the RMM, then an IRQ
  /// exit. Returns REC_ENTER's x0.
  @discardableResult
  func callSMC(_ registers: [UInt64], rec: UInt64? = nil) -> UInt64 {
    env.cpu.state.script.removeAll()
    script(.sync, esr: RunFixture.smc, registers: registers)
    script(.irq)
    return enter(rec)
  }

  /// An RSI/PSCI call that the RMM answers without a REC exit; returns the REC's x0...x8
  /// afterwards and checks that the realm's memory (everything but the REC and the run
  /// page) did not change when `unchanged` is set.
  func realmCall(_ registers: [UInt64], unchanged: Bool = false, rec: UInt64? = nil,
                 file: StaticString = #filePath, line: UInt = #line) -> [UInt64] {
    let target = rec ?? rec0
    let before = f.h.snapshot(excluding: [target, run])
    XCTAssertEqual(callSMC(registers, rec: target), success, "REC_ENTER", file: file, line: line)
    XCTAssertEqual(exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue),
                   "answered inside the RMM: the next exit is the scripted IRQ", file: file, line: line)
    if unchanged {
      XCTAssertEqual(f.h.snapshot(excluding: [target, run]), before, "nothing else changed", file: file, line: line)
    }
    return gprs(target, 9)
  }

  /// Sets the whole enter.flags word and clears it again after `body`.
  func withEnterFlags<T>(_ flags: UInt64, _ body: () -> T) -> T {
    setEnter(RecRunLayout.enterFlags, flags)
    defer { setEnter(RecRunLayout.enterFlags, 0) }
    return body()
  }
}

func psci(_ s: PSCIStatus) -> UInt64 { UInt64(bitPattern: s.rawValue) }
let rsiInputError = RSIStatus.errorInput.rawValue
let rsiOK = RSIStatus.success.rawValue

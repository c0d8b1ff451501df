// Fakes of the machine for host tests: descriptor storage, EL3, the memory gate.
import RMMABI
@testable import RMMCore

/// Granule descriptors in an array, with the same lock protocol as the firmware.
final class FakeDescriptorBox {
  var words: [UInt16]
  init(count: Int) { words = Array(repeating: 0, count: count) }
}

struct FakeDescriptors: GranuleDescriptorStorage {
  let box: FakeDescriptorBox
  init(count: Int) { box = FakeDescriptorBox(count: count) }
  var count: Int { box.words.count }
  func lock(_ index: Int) -> GranuleDescriptor {
    precondition(box.words[index] & GranuleDescriptor.lockBit == 0, "fake storage: lock already held (would deadlock)")
    let seen = box.words[index]
    box.words[index] = seen | GranuleDescriptor.lockBit
    return GranuleDescriptor(rawValue: seen)
  }
  func unlock(_ index: Int, storing descriptor: GranuleDescriptor) {
    precondition(box.words[index] & GranuleDescriptor.lockBit != 0, "fake storage: unlock of an unlocked granule")
    box.words[index] = descriptor.rawValue & ~GranuleDescriptor.lockBit
  }
  func peek(_ index: Int) -> GranuleDescriptor { GranuleDescriptor(rawValue: box.words[index]).unlocked }
  var anyLocked: Bool { box.words.contains { $0 & GranuleDescriptor.lockBit != 0 } }
}

final class FakeMonitorState {
  var realmPAS: Set<UInt64> = []
  var refused: Set<UInt64> = []
  var calls: [String] = []
}

/// EL3 with a GPT: refuses what is in `refused`, and transitions only NS<->Realm.
struct FakeMonitor: EL3Monitor {
  let state = FakeMonitorState()
  func gtsiDelegate(_ pa: UInt64) -> EL3Status {
    state.calls.append("delegate \(String(pa, radix: 16))")
    guard !state.refused.contains(pa), !state.realmPAS.contains(pa) else { return .badPAS }
    state.realmPAS.insert(pa)
    return .ok
  }
  func gtsiUndelegate(_ pa: UInt64) -> EL3Status {
    state.calls.append("undelegate \(String(pa, radix: 16))")
    guard !state.refused.contains(pa), state.realmPAS.contains(pa) else { return .badPAS }
    state.realmPAS.remove(pa)
    return .ok
  }
}

/// Physical memory as a dictionary of pages; records every access it is asked for.
final class FakeMemoryState {
  var pages: [UInt64: [UInt64]] = [:]
  var accesses: [(pa: UInt64, intent: AccessIntent, allowed: Bool)] = []
  /// NS pages whose access faults (a granule-protection fault in the firmware).
  var faulting: Set<UInt64> = []
  /// Granules with no memory behind them: the first Realm-PAS write aborts.
  var absent: Set<UInt64> = []
  func page(_ pa: UInt64) -> [UInt64] { pages[pa] ?? Array(repeating: 0, count: 512) }
}

struct FakePage: WritablePage {
  let memory: FakeMemoryState
  let pa: UInt64
  func load64(at offset: Int) -> UInt64 { memory.page(pa)[offset / 8] }
  mutating func store64(_ value: UInt64, at offset: Int) {
    var page = memory.page(pa)
    page[offset / 8] = value
    memory.pages[pa] = page
  }
}

struct FakeGate<Storage: GranuleDescriptorStorage>: PhysicalMemoryGate {
  let memory = FakeMemoryState()
  var table: () -> GranuleTable<Storage>

  func withRealmGranule<Result>(
    _ granule: borrowing LockedGranule, _ intent: AccessIntent, _ body: (inout FakePage) -> Result
  ) throws(GateError) -> Result {
    let allowed = AccessPolicy.permits(intent, actualState: granule.state)
    memory.accesses.append((granule.pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    var page = FakePage(memory: memory, pa: granule.pa)
    return body(&page)
  }

  func writeRealmGranule(_ granule: borrowing LockedGranule, _ intent: AccessIntent,
                         from contents: inout PageBuffer) throws(GateError) {
    let allowed = AccessPolicy.permits(intent, actualState: granule.state)
    memory.accesses.append((granule.pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    memory.pages[granule.pa] = (0..<512).map { contents.load64(at: $0 * 8) }
  }

  func scrubRealmGranule(_ granule: borrowing LockedGranule, _ intent: AccessIntent) throws(GateError) {
    let allowed = AccessPolicy.permits(intent, actualState: granule.state)
    memory.accesses.append((granule.pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    if memory.absent.contains(granule.pa) { throw .realmAccessAbort }
    memory.pages[granule.pa] = Array(repeating: 0, count: 512)
  }

  func noteCall(function: UInt64, realm: UInt64, ipa: UInt64) {}

  func copyToNonSecure(_ pa: UInt64, offset: Int, _ intent: AccessIntent, from buffer: inout PageBuffer) throws(GateError) {
    guard table().index(of: pa) != nil else { throw .notDRAM }
    let allowed = AccessPolicy.permits(intent, actualState: table().state(of: pa)) && offset + Int(intent.length) <= 4096
    memory.accesses.append((pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    guard !memory.faulting.contains(pa) else { throw .nonSecureAccessFault }
    var page = memory.page(pa)
    for i in 0..<Int(intent.length) / 8 { page[offset / 8 + i] = buffer.load64(at: i * 8) }
    memory.pages[pa] = page
  }

  func copyFromNonSecure(_ pa: UInt64, _ intent: AccessIntent, into buffer: inout PageBuffer) throws(GateError) {
    guard table().index(of: pa) != nil else { throw .notDRAM }
    let allowed = AccessPolicy.permits(intent, actualState: table().state(of: pa))
    memory.accesses.append((pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    guard !memory.faulting.contains(pa) else { throw .nonSecureAccessFault }
    let page = memory.page(pa)
    for i in 0..<512 { buffer.store64(page[i], at: i * 8) }
  }
}

final class FakeTLBState {
  var ipaInvalidations: [(vmid: UInt16, ipa: UInt64, level: Int)] = []
  var vmidInvalidations: [UInt16] = []
}

struct FakeTLB: StageTwoTLB {
  let state = FakeTLBState()
  func invalidate(vmid: UInt16, ipa: UInt64, level: Int) { state.ipaInvalidations.append((vmid, ipa, level)) }
  func invalidateAll(vmid: UInt16) { state.vmidInvalidations.append(vmid) }
}

/// A CPU that "runs" a REC by playing back scripted exits; before each, `prepare` may
/// change the REC's registers (what the realm would have done).
final class FakeCPUState {
  var script: [(prepare: (inout [UInt64]) -> Void, syndrome: RealmExitSyndrome)] = []
  var entries: [RECEntryControl] = []
  var interruptPending = false
}

struct FakeRealmCPU: RealmExecution {
  typealias RECPage = FakePage
  let state = FakeCPUState()
  let memory: FakeMemoryState
  var listRegisterCount: Int { 4 }
  var interruptPending: Bool { state.interruptPending }
  func withRunningREC<Result>(_ rec: borrowing LockedGranule, _ body: (inout FakePage) -> Result) -> Result? {
    var page = FakePage(memory: memory, pa: rec.pa)
    return body(&page)
  }
  func load(_ rec: inout FakePage, _ control: RECEntryControl) { state.entries.append(control) }
  func resume(_ rec: inout FakePage) -> RealmExitSyndrome {
    guard !state.script.isEmpty else { return RealmExitSyndrome(kind: .irq) }
    let next = state.script.removeFirst()
    var page = memory.page(rec.pa)
    next.prepare(&page)
    memory.pages[rec.pa] = page
    return next.syndrome
  }
  func save(_ rec: inout FakePage, _ syndrome: inout RealmExitSyndrome) {}
  /// The REC's EL1 registers live in its page here (no real CPU to load them into).
  func injectException(_ rec: inout FakePage, esr: UInt64, far: UInt64) {
    let el1 = RECLayout.el1
    let spsr = RECLayout.context + RECContextLayout.spsr
    let pstate = rec.load64(at: spsr)
    rec.store64(esr, at: el1 + 8 * RECSystemRegisters.esrEL1)
    rec.store64(far, at: el1 + 8 * RECSystemRegisters.farEL1)
    rec.store64(rec.pc, at: el1 + 8 * RECSystemRegisters.elrEL1)
    rec.store64(pstate, at: el1 + 8 * RECSystemRegisters.spsrEL1)
    rec.pc = rec.load64(at: el1 + 8 * RECSystemRegisters.vbar) + (pstate & 0xF == 0 ? 0x400 : 0x200)
    rec.store64(RECSystemRegisters.initialPSTATE, at: spsr)
  }
}

final class FakeVMIDState { var used: Set<UInt16> = [] }

struct FakeVMIDs: VMIDRegistry {
  let state = FakeVMIDState()
  var maximum: UInt16 = 0xFFFF
  func reserve(_ vmid: UInt16) -> Bool { state.used.insert(vmid).inserted }
  func release(_ vmid: UInt16) { state.used.remove(vmid) }
}

/// A complete fake machine: DRAM banks, descriptors, EL3 and memory.
struct FakeEnvironment: RMMEnvironment {
  let granules: GranuleTable<FakeDescriptors>
  let gate: FakeGate<FakeDescriptors>
  let monitor = FakeMonitor()
  let tlb = FakeTLB()
  var vmids = FakeVMIDs()
  let cpu: FakeRealmCPU
  var features: RMIFeatureRegister0 = {
    var f = RMIFeatureRegister0(rawValue: 0)
    f.s2sz = 48
    f.numberOfBreakpoints = 5
    f.numberOfWatchpoints = 3
    f.sha256 = true
    f.sha512 = true
    f.maxRECsOrder = 10
    return f
  }()

  /// Two banks: 64 granules at 0x8000_0000 and 32 granules at 0x1_0000_0000
  /// (`bank0Granules` more in bank 0 for realm tests).
  static let bank1 = PhysicalRange(base: 0x1_0000_0000, size: 32 * 4096)

  init(bank0Granules: UInt64 = 64) {
    var dram = DRAMLayout()
    dram.banks[0] = PhysicalRange(base: 0x8000_0000, size: bank0Granules * 4096)
    dram.banks[1] = Self.bank1
    dram.bankCount = 2
    let table = GranuleTable(storage: FakeDescriptors(count: Int(bank0Granules) + 32), dram: dram)!
    granules = table
    gate = FakeGate(table: { table })
    cpu = FakeRealmCPU(memory: gate.memory)
  }

  var dispatcher: RMIDispatcher<FakeEnvironment> { RMIDispatcher(environment: self) }
  func call(_ command: RMICommand, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
            _ a4: UInt64 = 0, _ a5: UInt64 = 0) -> RMIResult {
    dispatcher.handle(SMCArguments(command.rawValue, a1, a2, a3, a4, a5))
  }
}

let success = RMIStatus.success.encoded
let errorInput = RMIStatus(.errorInput).encoded

// Fakes of the machine for host tests: descriptor storage, EL3, the memory gate.
import RMMABI
@testable import RMMCore

/// Granule descriptors in an array, with the same lock protocol as the firmware.
final class FakeDescriptorBox {
  var words: [UInt16]
  var banks = GranuleBanks()
  init(count: Int) { words = Array(repeating: 0, count: count) }
}

struct FakeDescriptors: GranuleDescriptorStorage {
  let box: FakeDescriptorBox
  init(count: Int) { box = FakeDescriptorBox(count: count) }
  var count: Int { box.words.count }
  var banks: GranuleBanks { box.banks }
  func install(_ banks: GranuleBanks) { box.banks = banks }
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
  /// Every call EL3 got, in order (PA, and whether it was an undelegation).
  var log: [(pa: UInt64, undelegate: Bool)] = []
  /// The log as text, for the tests (formatted on demand: the fuzzers delegate a lot).
  var calls: [String] { log.map { "\($0.undelegate ? "undelegate" : "delegate") \(String($0.pa, radix: 16))" } }
}

/// EL3 with a GPT: refuses what is in `refused`, and transitions only NS<->Realm.
struct FakeMonitor: EL3Monitor {
  let state = FakeMonitorState()
  func gtsiDelegate(_ pa: UInt64) -> EL3Status {
    state.log.append((pa, false))
    guard !state.refused.contains(pa), !state.realmPAS.contains(pa) else { return .badPAS }
    state.realmPAS.insert(pa)
    return .ok
  }
  func gtsiUndelegate(_ pa: UInt64) -> EL3Status {
    state.log.append((pa, true))
    guard !state.refused.contains(pa), state.realmPAS.contains(pa) else { return .badPAS }
    state.realmPAS.remove(pa)
    return .ok
  }
}

/// One 4 KiB page of fake physical memory. A class over a fixed buffer, so that loads
/// and stores happen in place: a value-type page would be copied whole on every store.
final class FakeFrame {
  let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 512)
  /// Written or mapped since the memory's last checkpoint restore (see `FakeMemoryState`).
  var dirty = false
  init() { words.initialize(repeating: 0, count: 512) }
  deinit { words.deallocate() }
  /// Word `index` (not a byte offset), as the tests' scripted realms address registers.
  subscript(index: Int) -> UInt64 {
    get { precondition(index >= 0 && index < 512); return words[index] }
    set { precondition(index >= 0 && index < 512); words[index] = newValue }
  }
  var contents: [UInt64] { Array(UnsafeBufferPointer(start: words, count: 512)) }
  func fill(_ page: [UInt64]) {
    precondition(page.count == 512)
    page.withUnsafeBufferPointer { words.update(from: $0.baseAddress!, count: 512) }
  }
  func zero() { words.update(repeating: 0, count: 512) }
  var isZero: Bool { UnsafeBufferPointer(start: words, count: 512).allSatisfy { $0 == 0 } }
}

/// Physical memory as page frames by PA; records every access it is asked for.
/// A page never written reads as zero and has no frame.
final class FakeMemoryState {
  static let auditCapacity = 1 << 14
  /// Not DRAM in any fake environment.
  static let sharedPagePA: UInt64 = 0x7FFF_F000
  private var frames: [UInt64: FakeFrame] = [:]
  /// What an unwritten page reads as.
  let zeroFrame = FakeFrame()
  /// The EL3 shared page.
  let sharedPage = FakeFrame()
  /// What is mapped now, innermost last.
  var mappings: [(base: UnsafeMutableRawPointer, pa: UInt64, space: AddressSpace, writable: Bool)] = []
  var openWindow: (UnsafeMutableRawBufferPointer, [UInt64])?
  /// The audit log the core's gate writes (one CPU), and the alerts it raised.
  let auditState: UnsafeMutablePointer<AuditCPUState> = {
    let state = UnsafeMutablePointer<AuditCPUState>.allocate(capacity: 1)
    state.initialize(to: AuditCPUState(capacity: FakeMemoryState.auditCapacity, storage: FakeMemoryState.newStorage(), cpu: 0))
    return state
  }()
  static func newStorage() -> UnsafeMutablePointer<UInt64> { .allocate(capacity: auditCapacity * 5) }
  var auditStorage: UnsafeMutablePointer<UInt64> { auditState.pointee.storage }
  var alerts: [AuditRecord] = []

  /// Every access the gate recorded since the last restore, oldest first.
  var records: [AuditRecord] {
    let ring = auditState.pointee.ring
    return (0..<ring.count).compactMap { i in
      let slot = auditStorage + ((ring.head + i) & (Self.auditCapacity - 1)) * 5
      return AuditRecord(words: (slot[0], slot[1], slot[2], slot[3], slot[4]))
    }
  }
  /// The same, as (PA, intent, allowed); the intent's expected state is the state the
  /// gate found (equal for every allowed access).
  var accesses: [(pa: UInt64, intent: AccessIntent, allowed: Bool)] {
    records.map { r in
      (r.pa, AccessIntent(r.purpose, r.direction, expecting: r.state ?? .undelegated, offset: r.offset, length: r.length), r.allowed)
    }
  }
  var violations: UInt64 { auditState.pointee.violations }
  /// Starts the record of accesses afresh (the violation count stays).
  func forgetAccesses() { auditState.pointee.ring = AuditRing(capacity: Self.auditCapacity) }

  func mapping(containing address: UnsafeRawPointer) -> (base: UnsafeMutableRawPointer, pa: UInt64, space: AddressSpace, writable: Bool)? {
    mappings.last { UnsafeRawPointer($0.base) <= address && address < UnsafeRawPointer($0.base) + 4096 }
  }
  /// Frames written or mapped since the last restore: all a restore has to undo.
  private var dirtyFrames: [(pa: UInt64, frame: FakeFrame)] = []
  /// The checkpoint the clean frames agree with (nil: all zero).
  fileprivate var baseline: FakeCheckpoint?
  /// NS pages whose access faults (a granule-protection fault in the firmware).
  var faulting: Set<UInt64> = []
  /// NS pages whose writes fault but whose reads do not (a page delegated between the
  /// RMM's read of it and its write back, on the real machine).
  var writeFaulting: Set<UInt64> = []
  /// Granules with no memory behind them: the first Realm-PAS write aborts.
  var absent: Set<UInt64> = []
  /// Granules the platform fails to map (any access to them fails after the check).
  var unmappable: Set<UInt64> = []

  /// The frame at `pa` for reading and writing in place (created zero on first use).
  func frame(_ pa: UInt64) -> FakeFrame {
    let frame: FakeFrame
    if let existing = frames[pa] {
      frame = existing
    } else {
      frame = FakeFrame()
      frames[pa] = frame
    }
    if !frame.dirty {
      frame.dirty = true
      dirtyFrames.append((pa, frame))
    }
    return frame
  }

  /// The frame at `pa` if it was ever written or mapped (reading does not dirty it).
  func frame(ifPresent pa: UInt64) -> FakeFrame? { frames[pa] }

  /// Aux windows by first aux granule (never freed: a test makes a handful).
  private var windows: [UInt64: UnsafeMutableRawBufferPointer] = [:]
  func window(for first: UInt64, pages: Int) -> UnsafeMutableRawBufferPointer {
    if let existing = windows[first], existing.count == pages * 4096 { return existing }
    let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: pages * 4096, alignment: 16)
    windows[first] = fresh
    return fresh
  }

  /// A copy of the page at `pa`, for comparisons.
  func page(_ pa: UInt64) -> [UInt64] { frames[pa]?.contents ?? Array(repeating: 0, count: 512) }
  func setPage(_ pa: UInt64, _ page: [UInt64]) { frame(pa).fill(page) }
  func load64(_ pa: UInt64, word: Int) -> UInt64 { frames[pa]?[word] ?? 0 }
  func isZero(_ pa: UInt64) -> Bool { frames[pa]?.isZero ?? true }
  /// Every page that is not all zero.
  var nonZeroPages: [UInt64: [UInt64]] {
    var pages: [UInt64: [UInt64]] = [:]
    for (pa, frame) in frames where !frame.isZero { pages[pa] = frame.contents }
    return pages
  }

  /// Back to `checkpoint`'s pages (nil: all zero), with empty logs. Only the frames
  /// written since the last restore to the same checkpoint are touched: a fuzzer's
  /// reset between inputs costs the pages the input used, not all of memory.
  func restore(_ checkpoint: FakeCheckpoint?) {
    if baseline !== checkpoint {
      for frame in frames.values { frame.zero(); frame.dirty = false }
      dirtyFrames.removeAll(keepingCapacity: true)
      for (pa, page) in checkpoint?.pages ?? [:] { frame(pa).fill(page) }
    } else {
      for (pa, frame) in dirtyFrames {
        if let page = checkpoint?.pages[pa] { frame.fill(page) } else { frame.zero() }
      }
    }
    for (_, frame) in dirtyFrames { frame.dirty = false }
    dirtyFrames.removeAll(keepingCapacity: true)
    baseline = checkpoint
    auditState.pointee = AuditCPUState(capacity: Self.auditCapacity, storage: auditStorage, cpu: 0)
    alerts.removeAll(keepingCapacity: true)
    faulting.removeAll()
    writeFaulting.removeAll()
    absent.removeAll()
    unmappable.removeAll()
  }
}

/// A mapped page: the frame itself, so loads and stores go straight to memory. Offsets
/// are checked as the firmware's mappings check them (in the page, 8-byte aligned).
struct FakePage: WritablePage {
  let frame: FakeFrame
  init(memory: FakeMemoryState, pa: UInt64) { frame = memory.frame(pa) }
  func load64(at offset: Int) -> UInt64 {
    precondition(offset >= 0 && offset < 4096 && offset & 7 == 0)
    return frame.words[offset >> 3]
  }
  mutating func store64(_ value: UInt64, at offset: Int) {
    precondition(offset >= 0 && offset < 4096 && offset & 7 == 0)
    frame.words[offset >> 3] = value
  }
}

/// The fake's side of the gate: the core's `Gate` checks, audits and bounds every
/// access; this only maps frames and copies, with faults injected where the test
/// asks (`faulting`, `writeFaulting`, `absent`).
struct FakeMapper: GateMapper {
  static var auditCapacity: Int { FakeMemoryState.auditCapacity }
  let memory: FakeMemoryState
  var auditCPU: AuditCPU { AuditCPU(state: memory.auditState) }
  func alert(_ record: AuditRecord) { memory.alerts.append(record) }

  func map(_ pa: UInt64, in space: AddressSpace, writable: Bool) -> UnsafeMutableRawPointer? {
    if memory.unmappable.contains(pa) { return nil }
    // A page never written reads as zero without a frame (reading does not dirty it).
    let frame = writable ? memory.frame(pa) : (memory.frame(ifPresent: pa) ?? memory.zeroFrame)
    let base = UnsafeMutableRawPointer(frame.words)
    memory.mappings.append((base, pa, space, writable))
    return base
  }

  func unmap(_ address: UnsafeMutableRawPointer) {
    guard let i = memory.mappings.lastIndex(where: { $0.base == address }) else {
      preconditionFailure("unmap of an address that is not mapped")
    }
    memory.mappings.remove(at: i)
  }

  func faultTolerantCopy(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) -> Bool {
    if let read = memory.mapping(containing: source), read.space == .nonSecure, memory.faulting.contains(read.pa) {
      return false
    }
    if let written = memory.mapping(containing: UnsafeRawPointer(destination)), written.space == .nonSecure,
       memory.faulting.contains(written.pa) || memory.writeFaulting.contains(written.pa) {
      return false
    }
    destination.copyMemory(from: source, byteCount: count)
    return true
  }

  func zeroPage(_ page: UnsafeMutableRawPointer, firstTouch: Bool) -> Bool {
    if firstTouch, let mapped = memory.mapping(containing: UnsafeRawPointer(page)), memory.absent.contains(mapped.pa) {
      return false
    }
    page.initializeMemory(as: UInt64.self, repeating: 0, count: 512)
    return true
  }

  func copyPage(to page: UnsafeMutableRawPointer, from source: UnsafeRawPointer) {
    page.copyMemory(from: source, byteCount: 4096)
  }

  /// The aux window: one buffer per REC (keyed by its first aux granule) that stays at
  /// the same address from call to call, as the firmware's window does on every CPU.
  /// The granules' frames are copied in at map and back at unmap.
  func mapWindow(_ order: borrowing InlineArray<16, UInt64>, count: Int) -> UnsafeMutableRawPointer? {
    let window = memory.window(for: order[0], pages: count)
    var granules: [UInt64] = []
    for i in 0..<count {
      granules.append(order[i])
      (window.baseAddress! + 4096 * i).copyMemory(from: UnsafeRawPointer(memory.frame(order[i]).words), byteCount: 4096)
    }
    memory.openWindow = (window, granules)
    return window.baseAddress
  }

  func unmapWindow(count: Int) {
    guard let (window, granules) = memory.openWindow else { preconditionFailure("no window mapped") }
    for (i, pa) in granules.enumerated() {
      UnsafeMutableRawPointer(memory.frame(pa).words).copyMemory(from: window.baseAddress! + 4096 * i, byteCount: 4096)
    }
    memory.openWindow = nil
  }

  var sharedPage: (address: UnsafeMutableRawPointer, pa: UInt64)? {
    (UnsafeMutableRawPointer(memory.sharedPage.words), FakeMemoryState.sharedPagePA)
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

/// The GIC and timer state the fake CPU's save reports (tests set it).
struct FakeSavedState {
  var gicHCR: UInt64 = 0
  var gicLRs: InlineArray<16, UInt64> = .init(repeating: 0)
  var gicMISR: UInt64 = 0
  var gicVMCR: UInt64 = 0
  var cntvCTL: UInt64 = 0
  var cntvCVAL: UInt64 = 0
  var cntpCTL: UInt64 = 0
  var cntpCVAL: UInt64 = 0
}

/// A CPU that "runs" a REC by playing back scripted exits; before each, `prepare` may
/// change the REC's registers (what the realm would have done).
final class FakeCPUState {
  var script: [(prepare: (FakeFrame) -> Void, syndrome: RealmExitSyndrome)] = []
  var entries: [RECEntryControl] = []
  /// The vector length of each load and save with SVE registers (nil: without).
  var sveLoads: [UInt64?] = []
  var sveSaves: [UInt64?] = []
  /// The SVE registers while the REC "runs": loaded from its area, saved back to it.
  var sveRegisterFile: [UInt8] = []
  var interruptPending = false
  /// The GIC and timer state the CPU holds when the REC stops, which `save` reports
  /// (only those fields are used; all zero unless a test sets them).
  var saved = FakeSavedState()
  /// Every 4-bit field 1 (AArch64 and AArch32 at each EL, every feature present), but
  /// DFR0 reports 6 breakpoints, 4 watchpoints and 2 context-aware ones.
  var idRegisters: HardwareIDRegisters = {
    var r = HardwareIDRegisters()
    r.pfr0 = 0x1111_1111_1111_1111; r.pfr1 = 0x1111_1111_1111_1111
    r.dfr0 = 0x1111_1111_1131_5119
    r.isar0 = 0x1111_1111_1111_1111; r.isar1 = 0x1111_1111_1111_1111; r.isar2 = 0x1111_1111_1111_1111
    r.mmfr0 = 0x1111_1111_1111_1111; r.mmfr1 = 0x1111_1111_1111_1111; r.mmfr2 = 0x1111_1111_1111_1111
    return r
  }()
}

struct FakeRealmCPU: RealmExecution {
  let state = FakeCPUState()
  let memory: FakeMemoryState
  var listRegisterCount: Int { 4 }
  var interruptPending: Bool { state.interruptPending }
  var hardwareIDRegisters: HardwareIDRegisters { state.idRegisters }
  func load(_ rec: inout RECView, _ control: RECEntryControl, sve: SVERegisterArea?) {
    state.entries.append(control)
    state.sveLoads.append(sve?.vectorLength)
    // The SVE registers "in the CPU" are what the area held (the whole state).
    if let sve {
      let bytes = RealmFeatures.sveStateBytes(vectorLength: sve.vectorLength)
      state.sveRegisterFile = (0..<bytes).map { sve.registers.load(fromByteOffset: $0, as: UInt8.self) }
    }
  }
  func resume(_ rec: inout RECView) -> RealmExitSyndrome {
    guard !state.script.isEmpty else { return RealmExitSyndrome(kind: .irq) }
    let next = state.script.removeFirst()
    // The scripted realm sees the REC's frame itself (the granule the gate mapped).
    guard let base = rec.pointer(at: 0, count: 4096), let mapped = memory.mapping(containing: base),
          let frame = memory.frame(ifPresent: mapped.pa) else { preconditionFailure("the REC is not mapped") }
    next.prepare(frame)
    return next.syndrome
  }
  func save(_ rec: inout RECView, into exit: inout RECExit, sve: SVERegisterArea?) {
    state.sveSaves.append(sve?.vectorLength)
    if let sve {
      for (i, byte) in state.sveRegisterFile.enumerated() { sve.registers.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
    }
    let saved = state.saved
    exit.gicHCR = saved.gicHCR
    for i in 0..<16 { exit.setGICLR(i, saved.gicLRs[i]) }
    exit.gicMISR = saved.gicMISR
    exit.gicVMCR = saved.gicVMCR
    exit.cntvCTL = saved.cntvCTL
    exit.cntvCVAL = saved.cntvCVAL
    exit.cntpCTL = saved.cntpCTL
    exit.cntpCVAL = saved.cntpCVAL
  }
  /// The REC's EL1 registers live in its page here (no real CPU to load them into).
  func injectException(_ rec: inout RECView, esr: UInt64, far: UInt64) {
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

/// The attestation service: a fixed public key and platform token, and a signer that
/// keeps its whole state in the arena (the digest and a step counter) and takes
/// `stepsPerSignature` steps. `sign` turns the digest into r || s: a stand-in by
/// default (the digest twice), a real ES384 signature in the attestation tests.
final class FakeAttestationState {
  var available = true
  var publicKey: [UInt8] = [UInt8](repeating: 0xA5, count: 107)
  var platformToken: [UInt8] = [UInt8](repeating: 0x5A, count: 1518)
  var stepsPerSignature: UInt64 = 3
  var beginFails = false
  var started = 0
  var abandoned = 0
  var sign: ([UInt8]) -> [UInt8] = { digest in digest + digest }
}

struct FakeAttestation: AttestationService {
  let state = FakeAttestationState()
  static let magic: UInt64 = 0x5349_474E_494E_4721

  var isAvailable: Bool { state.available }
  func withBootMaterial<Result>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result) -> Result {
    state.publicKey.withUnsafeBytes { key in state.platformToken.withUnsafeBytes { token in body(key, token) } }
  }
  func beginSignature(arena: UnsafeMutableRawBufferPointer, digest: Digest64) -> Bool {
    guard !state.beginFails, arena.count >= 128 else { return false }
    state.started += 1
    arena.storeBytes(of: Self.magic, toByteOffset: 0, as: UInt64.self)
    arena.storeBytes(of: 0, toByteOffset: 8, as: UInt64.self)
    for i in 0..<6 { arena.storeBytes(of: digest.words[i], toByteOffset: 16 + 8 * i, as: UInt64.self) }
    return true
  }
  func continueSignature(arena: UnsafeMutableRawBufferPointer) -> SignatureProgress {
    guard arena.load(as: UInt64.self) == Self.magic else { return .failed }
    let steps = arena.load(fromByteOffset: 8, as: UInt64.self) + 1
    arena.storeBytes(of: steps, toByteOffset: 8, as: UInt64.self)
    return steps >= state.stepsPerSignature ? .done : .inProgress
  }
  func finishSignature(arena: UnsafeMutableRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) -> Bool {
    guard arena.load(as: UInt64.self) == Self.magic,
          arena.load(fromByteOffset: 8, as: UInt64.self) >= state.stepsPerSignature else { return false }
    let digest = Array(UnsafeRawBufferPointer(rebasing: arena[16..<64]))
    let rs = state.sign(digest)
    guard rs.count == signature.count else { return false }
    rs.withUnsafeBytes { signature.copyMemory(from: $0) }
    arena.initializeMemory(as: UInt8.self, repeating: 0)
    return true
  }
  func abandonSignature(arena: UnsafeMutableRawBufferPointer) {
    state.abandoned += 1
    arena.initializeMemory(as: UInt8.self, repeating: 0)
  }
}

/// A complete fake machine: DRAM banks, descriptors, EL3 and memory.
struct FakeEnvironment: RMMEnvironment {
  let attestation = FakeAttestation()
  let granules: GranuleTable<FakeDescriptors>
  let mapper: FakeMapper
  /// The fake physical memory behind the mapper.
  var memory: FakeMemoryState { mapper.memory }
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
  /// (`bank0Granules` more in bank 0 for realm tests; bank 1 of 32 granules may be
  /// elsewhere, above 2^48 for the LPA2 tests).
  static let bank1 = PhysicalRange(base: 0x1_0000_0000, size: 32 * 4096)

  init(bank0Granules: UInt64 = 64, bank1Base: UInt64 = bank1.base) {
    var dram = DRAMLayout()
    dram.banks[0] = PhysicalRange(base: 0x8000_0000, size: bank0Granules * 4096)
    dram.banks[1] = PhysicalRange(base: bank1Base, size: Self.bank1.size)
    dram.bankCount = 2
    let table = GranuleTable(storage: FakeDescriptors(count: Int(bank0Granules) + 32), dram: dram)!
    granules = table
    mapper = FakeMapper(memory: FakeMemoryState())
    cpu = FakeRealmCPU(memory: mapper.memory)
  }

  var dispatcher: RMIDispatcher<FakeEnvironment> { RMIDispatcher(environment: self) }
  func halt(_ corruption: Corruption) -> Never { fatalError("the RMM found its own state corrupt: \(corruption)") }
  func call(_ command: RMICommand, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
            _ a4: UInt64 = 0, _ a5: UInt64 = 0) -> RMIResult {
    dispatcher.handle(SMCArguments(command.rawValue, a1, a2, a3, a4, a5))
  }
}

/// A machine state to come back to (the fuzzers reset to one between inputs).
final class FakeCheckpoint {
  let descriptors: [UInt16]
  let pages: [UInt64: [UInt64]]
  let realmPAS: Set<UInt64>
  let vmids: Set<UInt16>
  init(_ env: FakeEnvironment) {
    precondition(!env.granules.storage.anyLocked && env.cpu.state.script.isEmpty)
    descriptors = env.granules.storage.box.words
    pages = env.memory.nonZeroPages
    realmPAS = env.monitor.state.realmPAS
    vmids = env.vmids.state.used
  }
}

extension FakeEnvironment {
  /// This machine as it is now; its memory is clean with respect to it.
  func checkpoint() -> FakeCheckpoint {
    let checkpoint = FakeCheckpoint(self)
    memory.restore(checkpoint)
    return checkpoint
  }

  /// Back to `checkpoint` (nil: as built), with empty logs and no scripted exits.
  func restore(_ checkpoint: FakeCheckpoint?) {
    if let checkpoint {
      granules.storage.box.words = checkpoint.descriptors
    } else {
      for i in granules.storage.box.words.indices { granules.storage.box.words[i] = 0 }
    }
    memory.restore(checkpoint)
    monitor.state.realmPAS = checkpoint?.realmPAS ?? []
    monitor.state.refused.removeAll()
    monitor.state.log.removeAll(keepingCapacity: true)
    tlb.state.ipaInvalidations.removeAll(keepingCapacity: true)
    tlb.state.vmidInvalidations.removeAll(keepingCapacity: true)
    cpu.state.script.removeAll(keepingCapacity: true)
    cpu.state.entries.removeAll(keepingCapacity: true)
    cpu.state.interruptPending = false
    cpu.state.saved = FakeSavedState()
    vmids.state.used = checkpoint?.vmids ?? []
    // The signer's state lives in the REC's aux granules (restored with memory).
    attestation.state.started = 0
    attestation.state.abandoned = 0
  }
}

let success = RMIStatus.success.encoded
let errorInput = RMIStatus(.errorInput).encoded

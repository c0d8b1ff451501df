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
  private var frames: [UInt64: FakeFrame] = [:]
  /// Frames written or mapped since the last restore: all a restore has to undo.
  private var dirtyFrames: [(pa: UInt64, frame: FakeFrame)] = []
  /// The checkpoint the clean frames agree with (nil: all zero).
  fileprivate var baseline: FakeCheckpoint?
  var accesses: [(pa: UInt64, intent: AccessIntent, allowed: Bool)] = []
  /// NS pages whose access faults (a granule-protection fault in the firmware).
  var faulting: Set<UInt64> = []
  /// NS pages whose writes fault but whose reads do not (a page delegated between the
  /// RMM's read of it and its write back, on the real machine).
  var writeFaulting: Set<UInt64> = []
  /// Granules with no memory behind them: the first Realm-PAS write aborts.
  var absent: Set<UInt64> = []

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
    accesses.removeAll(keepingCapacity: true)
    faulting.removeAll()
    writeFaulting.removeAll()
    absent.removeAll()
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
    let frame = memory.frame(granule.pa)
    withUnsafeBytes(of: &contents.words) { UnsafeMutableRawPointer(frame.words).copyMemory(from: $0.baseAddress!, byteCount: 4096) }
  }

  func scrubRealmGranule(_ granule: borrowing LockedGranule, _ intent: AccessIntent) throws(GateError) {
    let allowed = AccessPolicy.permits(intent, actualState: granule.state)
    memory.accesses.append((granule.pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    if memory.absent.contains(granule.pa) { throw .realmAccessAbort }
    memory.frame(granule.pa).zero()
  }

  func noteCall(function: UInt64, realm: UInt64, ipa: UInt64) {}

  func copyToNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, offset: Int, _ intent: AccessIntent,
                                                from buffer: inout Buffer) throws(GateError) {
    guard table().index(of: pa) != nil else { throw .notDRAM }
    let allowed = AccessPolicy.permits(intent, actualState: table().state(of: pa)) && offset >= 0
      && offset + Int(intent.length) <= 4096 && Int(intent.length) <= MemoryLayout<Buffer>.size
    memory.accesses.append((pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    guard !memory.faulting.contains(pa), !memory.writeFaulting.contains(pa) else { throw .nonSecureAccessFault }
    // One copy, as the firmware does (PageBuffer.load64 per word copied the whole buffer each time).
    let frame = memory.frame(pa)
    withUnsafeBytes(of: &buffer) { bytes in
      (UnsafeMutableRawPointer(frame.words) + offset).copyMemory(from: bytes.baseAddress!, byteCount: Int(intent.length) & ~7)
    }
  }

  /// The aux window: one buffer per REC (keyed by its first aux granule) that stays at
  /// the same address from call to call, as the firmware's window does on every CPU.
  /// The granules' frames are copied in before `body` and back after it.
  func withAuxiliaryWindow<Result>(
    _ order: InlineArray<16, UInt64>, count: Int, locked: borrowing GranuleLockSet, _ intent: AccessIntent,
    _ body: (UnsafeMutableRawBufferPointer) -> Result
  ) throws(GateError) -> Result {
    var allowed = count > 0 && count <= 16
    for i in 0..<count {
      let ok = AccessPolicy.permits(intent, actualState: locked.state(of: order[i]))
      memory.accesses.append((order[i], intent, ok))
      allowed = allowed && ok
    }
    guard allowed else { throw .policyViolation }
    let window = memory.window(for: order[0], pages: count)
    for i in 0..<count {
      (window.baseAddress! + 4096 * i).copyMemory(from: UnsafeRawPointer(memory.frame(order[i]).words), byteCount: 4096)
    }
    let result = body(window)
    for i in 0..<count {
      UnsafeMutableRawPointer(memory.frame(order[i]).words).copyMemory(from: window.baseAddress! + 4096 * i, byteCount: 4096)
    }
    return result
  }

  func copyFromNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, _ intent: AccessIntent,
                                                  into buffer: inout Buffer) throws(GateError) {
    guard table().index(of: pa) != nil else { throw .notDRAM }
    let allowed = AccessPolicy.permits(intent, actualState: table().state(of: pa))
      && Int(intent.length) <= MemoryLayout<Buffer>.size
    memory.accesses.append((pa, intent, allowed))
    guard allowed else { throw .policyViolation }
    guard !memory.faulting.contains(pa) else { throw .nonSecureAccessFault }
    let length = Int(intent.length)
    withUnsafeMutableBytes(of: &buffer) { bytes in
      if let frame = memory.frame(ifPresent: pa) {
        bytes.baseAddress!.copyMemory(from: frame.words, byteCount: length)
      } else {
        bytes.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: length)
      }
    }
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
  typealias RECPage = FakePage
  let state = FakeCPUState()
  let memory: FakeMemoryState
  var listRegisterCount: Int { 4 }
  var interruptPending: Bool { state.interruptPending }
  var hardwareIDRegisters: HardwareIDRegisters { state.idRegisters }
  func withRunningREC<Result>(_ rec: borrowing LockedGranule, _ body: (inout FakePage) -> Result) -> Result? {
    var page = FakePage(memory: memory, pa: rec.pa)
    return body(&page)
  }
  func load(_ rec: inout FakePage, _ control: RECEntryControl) { state.entries.append(control) }
  func resume(_ rec: inout FakePage) -> RealmExitSyndrome {
    guard !state.script.isEmpty else { return RealmExitSyndrome(kind: .irq) }
    let next = state.script.removeFirst()
    next.prepare(rec.frame)
    return next.syndrome
  }
  func save(_ rec: inout FakePage, into exit: inout RECExit) {
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

/// A machine state to come back to (the fuzzers reset to one between inputs).
final class FakeCheckpoint {
  let descriptors: [UInt16]
  let pages: [UInt64: [UInt64]]
  let realmPAS: Set<UInt64>
  let vmids: Set<UInt16>
  init(_ env: FakeEnvironment) {
    precondition(!env.granules.storage.anyLocked && env.cpu.state.script.isEmpty)
    descriptors = env.granules.storage.box.words
    pages = env.gate.memory.nonZeroPages
    realmPAS = env.monitor.state.realmPAS
    vmids = env.vmids.state.used
  }
}

extension FakeEnvironment {
  /// This machine as it is now; its memory is clean with respect to it.
  func checkpoint() -> FakeCheckpoint {
    let checkpoint = FakeCheckpoint(self)
    gate.memory.restore(checkpoint)
    return checkpoint
  }

  /// Back to `checkpoint` (nil: as built), with empty logs and no scripted exits.
  func restore(_ checkpoint: FakeCheckpoint?) {
    if let checkpoint {
      granules.storage.box.words = checkpoint.descriptors
    } else {
      for i in granules.storage.box.words.indices { granules.storage.box.words[i] = 0 }
    }
    gate.memory.restore(checkpoint)
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

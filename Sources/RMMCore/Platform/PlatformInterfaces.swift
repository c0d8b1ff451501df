// The only ways the core reaches the machine. Each is a generic constraint, never an
// existential: Embedded Swift specialises them away, so the firmware pays nothing
// for the indirection, and the host tests substitute fakes.

import RMMABI

/// EL3 (TF-A RMMD) services the RMM calls at run time.
public protocol EL3Monitor {
  /// `RMM_GTSI_DELEGATE`: GPT entry of the granule NS -> Realm.
  func gtsiDelegate(_ pa: UInt64) -> EL3Status
  /// `RMM_GTSI_UNDELEGATE`: GPT entry of the granule Realm -> NS.
  func gtsiUndelegate(_ pa: UInt64) -> EL3Status
}

/// Why the gate refused an access or why the access failed.
public enum GateError: Error, Equatable, Sendable {
  /// The access policy does not allow this intent (nothing was mapped or moved).
  case policyViolation
  /// An NS access took a granule-protection fault or an external abort.
  case nonSecureAccessFault
  /// The address is not a granule of NS DRAM.
  case notDRAM
  /// A Realm-PAS granule took an external abort on its first access after delegation:
  /// the boot manifest described DRAM the platform does not have.
  case realmAccessAbort
}

/// The one gate to physical memory outside the RMM image: every access to a granule
/// by physical address goes through here, with its declared intent.
public protocol PhysicalMemoryGate {
  associatedtype MappedPage: WritablePage

  /// Maps the Realm-PAS granule the caller holds locked for `intent`, runs `body`,
  /// and unmaps it again. The policy is checked against the state in the caller's
  /// locked descriptor: a granule can only be reached by whoever holds its lock.
  func withRealmGranule<Result>(
    _ granule: borrowing LockedGranule, _ intent: AccessIntent, _ body: (inout MappedPage) -> Result
  ) throws(GateError) -> Result

  /// Fills the Realm-PAS granule the caller holds locked with `contents`.
  func writeRealmGranule(_ granule: borrowing LockedGranule, _ intent: AccessIntent,
                         from contents: inout PageBuffer) throws(GateError)

  /// Zeroes the Realm-PAS granule the caller holds locked.
  func scrubRealmGranule(_ granule: borrowing LockedGranule, _ intent: AccessIntent) throws(GateError)

  /// Copies `intent.length` bytes of `buffer` (plain words: a page, the REC exit image)
  /// to the NS granule `pa` at `offset` (results the spec defines). A fault fails it
  /// cleanly; a length beyond the buffer or the granule is refused.
  func copyToNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, offset: Int, _ intent: AccessIntent,
                                                from buffer: inout Buffer) throws(GateError)

  /// Tells the audit log which call the following accesses serve (RSI calls; the
  /// platform notes RMI calls itself on entry).
  func noteCall(function: UInt64, realm: UInt64, ipa: UInt64)

  /// Copies the NS granule `pa` into `buffer`, once. NS granules are not locked: if
  /// the host delegates it meanwhile, the copy takes a fault and fails cleanly. A granule-protection fault or
  /// external abort during the copy fails it cleanly.
  /// `intent.length` bytes from the start of the granule, into `buffer` (plain words:
  /// a page, the REC entry fields); a length beyond the buffer is refused.
  func copyFromNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, _ intent: AccessIntent,
                                                  into buffer: inout Buffer) throws(GateError)

  /// Maps the REC's aux granules, in the REC's order, as one contiguous range at a
  /// virtual address that is the same on every CPU (the attestation signature keeps
  /// pointers into it between calls and may resume on another CPU), runs `body`,
  /// and unmaps them. The caller holds every one of them locked in `locked`.
  func withAuxiliaryWindow<Result>(
    _ order: InlineArray<16, UInt64>, count: Int, locked: borrowing GranuleLockSet, _ intent: AccessIntent,
    _ body: (UnsafeMutableRawBufferPointer) -> Result
  ) throws(GateError) -> Result
}

extension PhysicalMemoryGate {
  /// Platforms without the window (host fakes that predate it) refuse.
  public func withAuxiliaryWindow<Result>(
    _ order: InlineArray<16, UInt64>, count: Int, locked: borrowing GranuleLockSet, _ intent: AccessIntent,
    _ body: (UnsafeMutableRawBufferPointer) -> Result
  ) throws(GateError) -> Result {
    throw .policyViolation
  }
}

/// How far a signature got in one bounded step.
public enum SignatureProgress: Sendable {
  case done, inProgress, failed
}

/// The Realm Attestation Key (RAK) and the platform token: obtained from EL3, and
/// signing with the RAK. Signatures are resumable: their whole state lives in the
/// caller's arena (the REC's aux granules), which is at the same address whenever
/// the signature continues.
public protocol AttestationService {
  /// Whether boot obtained the RAK and the platform token from EL3.
  var isAvailable: Bool { get }
  /// The RAK public key (its COSE_Key encoding) and the platform token, fixed at boot.
  func withBootMaterial<Result>(_ body: (_ publicKey: UnsafeRawBufferPointer, _ platformToken: UnsafeRawBufferPointer) -> Result) -> Result
  /// Starts an ES384 signature of `digest` (SHA-384) in `arena`. False if the RAK
  /// cannot be had or the arena is too small.
  func beginSignature(arena: UnsafeMutableRawBufferPointer, digest: Digest64) -> Bool
  /// One bounded piece of the signature.
  func continueSignature(arena: UnsafeMutableRawBufferPointer) -> SignatureProgress
  /// Writes r || s (96 bytes) and scrubs the arena.
  func finishSignature(arena: UnsafeMutableRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) -> Bool
  /// Scrubs the arena of an abandoned signature.
  func abandonSignature(arena: UnsafeMutableRawBufferPointer)
}

/// A platform without attestation (EL3 gave no key): RSI_ATTEST_* fail with ERROR_STATE.
public struct NoAttestationService: AttestationService {
  public init() {}
  public var isAvailable: Bool { false }
  public func withBootMaterial<Result>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result) -> Result {
    body(UnsafeRawBufferPointer(start: nil, count: 0), UnsafeRawBufferPointer(start: nil, count: 0))
  }
  public func beginSignature(arena: UnsafeMutableRawBufferPointer, digest: Digest64) -> Bool { false }
  public func continueSignature(arena: UnsafeMutableRawBufferPointer) -> SignatureProgress { .failed }
  public func finishSignature(arena: UnsafeMutableRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) -> Bool { false }
  public func abandonSignature(arena: UnsafeMutableRawBufferPointer) {}
}

/// Stage-2 TLB maintenance for a realm's VMID, broadcast to every PE (inner shareable).
public protocol StageTwoTLB {
  /// After a valid entry mapping `ipa` at `level` was removed or changed.
  func invalidate(vmid: UInt16, ipa: UInt64, level: Int)
  /// After a table entry was removed (everything below it may be cached).
  func invalidateAll(vmid: UInt16)
}

/// The set of VMIDs in use: a fixed bitmap, the one piece of per-realm state kept
/// outside the realm's own granules.
public protocol VMIDRegistry {
  /// The largest VMID the hardware supports (8 or 16 bits).
  var maximum: UInt16 { get }
  /// Atomically marks `vmid` used; false if it already was.
  func reserve(_ vmid: UInt16) -> Bool
  func release(_ vmid: UInt16)
}

/// Running a REC on this CPU: the world switch and the EL2 state around it. The REC's
/// granule stays mapped for the whole REC_ENTER (the handlers read and write its
/// registers in place); its EL1 state is loaded into the CPU once and saved once, not
/// on every exit the RMM handles by itself.
public protocol RealmExecution {
  associatedtype RECPage: WritablePage
  /// Number of GICv3 list registers the CPU implements.
  var listRegisterCount: Int { get }
  /// Whether a physical interrupt is pending for this CPU.
  var interruptPending: Bool { get }
  /// The CPU's own ID registers, from which a realm's view is derived.
  var hardwareIDRegisters: HardwareIDRegisters { get }
  /// Maps the running REC's granule (the caller has marked it running) for `body`.
  func withRunningREC<Result>(_ rec: borrowing LockedGranule, _ body: (inout RECPage) -> Result) -> Result?
  /// Loads the REC's EL1 state, timers and GIC state and the realm's EL2 controls.
  func load(_ rec: inout RECPage, _ control: RECEntryControl)
  /// Enters the realm until it exits.
  func resume(_ rec: inout RECPage) -> RealmExitSyndrome
  /// Makes the loaded REC take an exception at EL1 on its next resume (ESR_EL1,
  /// FAR_EL1, ELR_EL1, SPSR_EL1 as the architecture sets them; PC to its EL1 vector).
  func injectException(_ rec: inout RECPage, esr: UInt64, far: UInt64)
  /// Saves the REC's state back into its granule and writes the GIC and timer state
  /// the exit reports (exit.gicv3_*, exit.cnt*) into `exit`; nothing of the realm stays
  /// in the CPU.
  func save(_ rec: inout RECPage, into exit: inout RECExit)
}

/// Everything an RMI or RSI handler may use.
public protocol RMMEnvironment {
  associatedtype Descriptors: GranuleDescriptorStorage
  associatedtype Gate: PhysicalMemoryGate
  associatedtype Monitor: EL3Monitor
  associatedtype TLB: StageTwoTLB
  associatedtype VMIDs: VMIDRegistry
  associatedtype CPU: RealmExecution
  associatedtype Attestation: AttestationService = NoAttestationService

  var granules: GranuleTable<Descriptors> { get }
  var gate: Gate { get }
  var monitor: Monitor { get }
  var tlb: TLB { get }
  var vmids: VMIDs { get }
  var cpu: CPU { get }
  var attestation: Attestation { get }
  /// What this RMM and this CPU support, as RMI_FEATURES reports it.
  var features: RMIFeatureRegister0 { get }
}

extension RMMEnvironment where Attestation == NoAttestationService {
  public var attestation: NoAttestationService { NoAttestationService() }
}

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
  /// Number of GICv3 list registers the CPU implements.
  var listRegisterCount: Int { get }
  /// Whether a physical interrupt is pending for this CPU.
  var interruptPending: Bool { get }
  /// The CPU's own ID registers, from which a realm's view is derived.
  var hardwareIDRegisters: HardwareIDRegisters { get }
  /// Loads the REC's EL1 state, timers and GIC state, its FP/SIMD registers
  /// (RECLayout.fpState) and the realm's EL2 controls. The REC's granule is mapped
  /// (through the gate) for the whole REC_ENTER; `sve`, for a realm with SVE, is its
  /// SVE registers (mapped for this call only), loaded at the realm's vector length.
  func load(_ rec: inout RECView, _ control: RECEntryControl, sve: SVERegisterArea?)
  /// Enters the realm until it exits.
  func resume(_ rec: inout RECView) -> RealmExitSyndrome
  /// Makes the loaded REC take an exception at EL1 on its next resume (ESR_EL1,
  /// FAR_EL1, ELR_EL1, SPSR_EL1 as the architecture sets them; PC to its EL1 vector).
  func injectException(_ rec: inout RECView, esr: UInt64, far: UInt64)
  /// Saves the REC's state back into its granule (FP/SIMD included) and writes the GIC
  /// and timer state the exit reports (exit.gicv3_*, exit.cnt*) into `exit`; nothing of
  /// the realm stays in the CPU.
  func save(_ rec: inout RECView, into exit: inout RECExit, sve: SVERegisterArea?)
}

/// What the RMM can find corrupt in its own structures. It never acts on such a
/// structure, and never reports it to the host as the host's error: it raises an alert
/// and stops, as after a crash (`RMMEnvironment.halt`).
public enum Corruption: UInt8, Sendable {
  /// A granule the RMM's own records say is in one state is in another.
  case granuleState = 1
  /// A stage-2 table entry that cannot have been written by the RMM.
  case stageTwoTable = 2
  /// A realm descriptor the RMM cannot decode.
  case realmDescriptor = 3
  /// A REC's aux granule is not in REC_AUX state while its REC exists.
  case recAuxGranule = 4
  /// The gate refused an access of the RMM's own structures (a bug, not an attack).
  case refusedOwnAccess = 5
}

/// Everything an RMI or RSI handler may use.
public protocol RMMEnvironment {
  associatedtype Descriptors: GranuleDescriptorStorage
  associatedtype Mapper: GateMapper
  associatedtype Monitor: EL3Monitor
  associatedtype TLB: StageTwoTLB
  associatedtype VMIDs: VMIDRegistry
  associatedtype CPU: RealmExecution
  associatedtype Attestation: AttestationService = NoAttestationService

  var granules: GranuleTable<Descriptors> { get }
  /// What the gate (`gate`, Gate.swift) maps and copies with.
  var mapper: Mapper { get }
  var monitor: Monitor { get }
  var tlb: TLB { get }
  var vmids: VMIDs { get }
  var cpu: CPU { get }
  var attestation: Attestation { get }
  /// What this RMM and this CPU support, as RMI_FEATURES reports it.
  var features: RMIFeatureRegister0 { get }
  /// Alerts and stops this CPU's service for good (the firmware: the crash path).
  func halt(_ corruption: Corruption) -> Never
}

extension RMMEnvironment where Attestation == NoAttestationService {
  public var attestation: NoAttestationService { NoAttestationService() }
}

// The gate: the only way the RMM reaches memory by physical address (and the EL3
// shared page). Every access declares its intent; the gate checks it against the one
// policy (AccessPolicy), records it in the audit log (allowed or refused), refuses
// what the policy does not allow before anything is mapped, and hands the caller a
// view bounded to the declared bytes: read-only for a read intent (and mapped
// read-only at stage 1 by the firmware), writable for a write intent. The check, the
// record and the refusal are written here once; the platform (`GateMapper`) only maps
// and copies, and the host tests' fake supplies only a mapper.

import RMMABI

/// What a platform supplies to the gate: mappings, fault-tolerant NS copies, page
/// primitives, and where this CPU's audit records go. No policy decisions.
public protocol GateMapper {
  /// Records per CPU ring (a power of two), a constant of the platform.
  static var auditCapacity: Int { get }
  /// This CPU's audit state and record storage.
  var auditCPU: AuditCPU { get }
  /// Tells the operator about a refused access now (the console), besides the record.
  func alert(_ record: AuditRecord)

  /// Maps the granule `pa` of `space` at an address private to this CPU, read-only at
  /// stage 1 unless `writable`. Mappings nest (a short per-CPU stack). nil if the
  /// platform cannot map it (the access then fails like one that took an abort).
  func map(_ pa: UInt64, in space: AddressSpace, writable: Bool) -> UnsafeMutableRawPointer?
  func unmap(_ address: UnsafeMutableRawPointer)
  /// Copies `count` bytes (a multiple of 8) with a fault fix-up: false if an NS access
  /// took a granule-protection fault or an external abort (nothing else is wrong then).
  func faultTolerantCopy(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) -> Bool
  /// Zeroes a mapped page. `firstTouch`: the granule was just delegated and may have no
  /// memory behind it; false if the zeroing took an external abort.
  func zeroPage(_ page: UnsafeMutableRawPointer, firstTouch: Bool) -> Bool
  /// Copies a whole page from RMM memory into a mapped page.
  func copyPage(to page: UnsafeMutableRawPointer, from source: UnsafeRawPointer)
  /// Stores `first &+ i &* step` into each of the mapped page's 512 words i.
  func fillPage(_ page: UnsafeMutableRawPointer, first: UInt64, step: UInt64)
  /// Maps `count` Realm-PAS granules, in `order`, as one writable range at an address
  /// that is the same on every CPU (the REC aux window); nil if the platform has none.
  func mapWindow(_ order: borrowing InlineArray<16, UInt64>, count: Int) -> UnsafeMutableRawPointer?
  func unmapWindow(count: Int)
  /// The EL3 shared page as the RMM maps it, and its PA (the audit records the PA).
  var sharedPage: (address: UnsafeMutableRawPointer, pa: UInt64)? { get }
}

extension GateMapper {
  /// Word by word: for platforms without a faster fill.
  public func fillPage(_ page: UnsafeMutableRawPointer, first: UInt64, step: UInt64) {
    let words = page.assumingMemoryBound(to: UInt64.self)
    for i in 0..<512 { words[i] = first &+ UInt64(i) &* step }
  }
  public func mapWindow(_ order: borrowing InlineArray<16, UInt64>, count: Int) -> UnsafeMutableRawPointer? { nil }
  public func unmapWindow(count: Int) {}
  public var sharedPage: (address: UnsafeMutableRawPointer, pa: UInt64)? { nil }
}

/// Why the gate refused an access or why the access failed.
public enum GateError: Error, Equatable, Sendable {
  /// The access policy does not allow this intent (nothing was mapped or moved), or the
  /// body stepped outside its view (that access was not made).
  case policyViolation
  /// An NS access took a granule-protection fault or an external abort.
  case nonSecureAccessFault
  /// The address is not a granule of NS DRAM.
  case notDRAM
  /// A Realm-PAS granule took an external abort on its first access after delegation:
  /// the boot manifest described DRAM the platform does not have.
  case realmAccessAbort
}

public struct Gate<Environment: RMMEnvironment> {
  @usableFromInline let environment: Environment

  @inlinable init(_ environment: Environment) { self.environment = environment }

  @inlinable var mapper: Environment.Mapper { environment.mapper }

  // ---- check and record: once --------------------------------------------------------

  /// Records the access and, if refused, counts and raises the alert. Returns `allowed`.
  @inline(__always)
  func audited(_ pa: UInt64, _ intent: AccessIntent, _ state: GranuleState?, allowed: Bool) -> Bool {
    guard allowed else {
      refused(pa, intent, state)
      return false
    }
#if !RMM_AUDIT_OFF
    mapper.auditCPU.record(pa, intent, state, allowed: true, capacity: Environment.Mapper.auditCapacity)
#endif
    return true
  }

  /// The cold path: a refused access is always recorded (even with records compiled
  /// out), counted, and alerted.
  @inline(never)
  func refused(_ pa: UInt64, _ intent: AccessIntent, _ state: GranuleState?) {
    let audit = mapper.auditCPU
    audit.state.pointee.violations &+= 1
    audit.record(pa, intent, state, allowed: false, capacity: Environment.Mapper.auditCapacity)
    if let record = audit.lastRecord(capacity: Environment.Mapper.auditCapacity) { mapper.alert(record) }
  }

  /// Tells the audit log which call the following accesses serve.
  @inline(__always)
  public func noteCall(function: UInt64, realm: UInt64, ipa: UInt64) {
    let state = mapper.auditCPU.state
    state.pointee.function = function
    state.pointee.realm = realm
    state.pointee.ipa = ipa
  }

  /// Runs `body` with a view of `[lower, upper)` at `address`, then reports an
  /// out-of-bounds access as a refusal of the whole intent.
  @inline(__always)
  func bounded<Result>(_ address: UnsafeMutableRawPointer, _ pa: UInt64, _ intent: AccessIntent, _ state: GranuleState?,
                       _ body: (ViewFault) -> Result) throws(GateError) -> Result {
    var outside = false
    let result = withUnsafeMutablePointer(to: &outside) { body($0) }
    if outside {
      refused(pa, intent, state)
      throw .policyViolation
    }
    return result
  }

  // ---- admission: the one check per kind of target --------------------------------------

  /// Whether `intent` may reach the Realm-PAS granule the caller holds: its direction is
  /// the view's, its range is the whole page where the operation writes one, and the
  /// policy allows it in the state of the caller's locked descriptor. Audited either way.
  @inline(__always)
  func admits(_ granule: borrowing LockedGranule, _ intent: AccessIntent, _ direction: AccessDirection,
              wholePage: Bool = false) -> Bool {
    audited(granule.pa, intent, granule.state, allowed: intent.direction == direction
              && (!wholePage || (intent.lower == 0 && intent.upper == 4096))
              && AccessPolicy.permits(intent, actualState: granule.state))
  }

  /// The same for an NS granule: it must be DRAM, in the state the policy allows now,
  /// and the copy whole words of a buffer of `bufferSize` bytes.
  @inline(__always)
  func admitsNonSecure(_ pa: UInt64, _ intent: AccessIntent, _ direction: AccessDirection,
                       bufferSize: Int) throws(GateError) {
    let state = try nonSecureState(pa, intent)
    guard audited(pa, intent, state, allowed: intent.direction == direction && Int(intent.length) <= bufferSize
                    && intent.length & 7 == 0 && intent.offset & 7 == 0
                    && AccessPolicy.permits(intent, actualState: state)) else { throw .policyViolation }
  }

  /// The same for the EL3 shared page's exchange area; where the page is.
  @inline(__always)
  func admitsSharedPage(_ intent: AccessIntent,
                        _ direction: AccessDirection) throws(GateError) -> (address: UnsafeMutableRawPointer, pa: UInt64) {
    guard let shared = mapper.sharedPage else { throw .notDRAM }
    guard audited(shared.pa, intent, nil, allowed: intent.direction == direction && AccessPolicy.permitsSharedPage(intent))
    else { throw .policyViolation }
    return shared
  }

  // ---- Realm-PAS granules the caller holds locked --------------------------------------

  /// A read-only view of the declared bytes of a granule the caller holds locked. The
  /// policy is checked against the state in the caller's locked descriptor: a granule
  /// can only be reached by whoever holds its lock.
  @inline(__always)
  public func reading<Result>(_ granule: borrowing LockedGranule, _ intent: AccessIntent,
                              _ body: (borrowing GranuleReader) -> Result) throws(GateError) -> Result {
    let state = granule.state
    guard admits(granule, intent, .read) else { throw .policyViolation }
    guard let address = mapper.map(granule.pa, in: .realm, writable: false) else { throw .realmAccessAbort }
    defer { mapper.unmap(address) }
    return try bounded(address, granule.pa, intent, state) { fault in
      body(GranuleReader(base: address, lower: intent.lower, upper: intent.upper, fault: fault))
    }
  }

  /// A writable view of the declared bytes of a granule the caller holds locked.
  @inline(__always)
  public func writing<Result>(_ granule: borrowing LockedGranule, _ intent: AccessIntent,
                              _ body: (inout GranuleWriter) -> Result) throws(GateError) -> Result {
    let state = granule.state
    guard admits(granule, intent, .write) else { throw .policyViolation }
    guard let address = mapper.map(granule.pa, in: .realm, writable: true) else { throw .realmAccessAbort }
    defer { mapper.unmap(address) }
    return try bounded(address, granule.pa, intent, state) { fault in
      var view = GranuleWriter(base: address, lower: intent.lower, upper: intent.upper, fault: fault)
      return body(&view)
    }
  }

  /// Whole 8-byte entries of a granule the caller holds locked, mapped writable until
  /// `unmap(_:)`: a command that reads an entry and then rewrites it (the RTT entry a
  /// walk stops at; for a destroy, the rest of the table it then scans for `top`) maps
  /// the table once, audited once as the write it declares, instead of once to read,
  /// once to write and once to scan. The view is the declared entries alone.
  @inline(__always)
  public func mapEntry(_ granule: borrowing LockedGranule, _ intent: AccessIntent) throws(GateError) -> MappedEntry {
    guard intent.length >= 8, intent.length & 7 == 0, intent.offset & 7 == 0, admits(granule, intent, .write) else {
      throw .policyViolation
    }
    guard let address = mapper.map(granule.pa, in: .realm, writable: true) else { throw .realmAccessAbort }
    return MappedEntry(page: address, first: intent.lower / 8, end: intent.upper / 8)
  }

  /// Ends a `mapEntry` mapping.
  @inline(__always) public func unmap(_ mapped: MappedEntry) { mapper.unmap(mapped.page) }

  /// A whole granule the caller holds locked, mapped writable until `unmap(_:)`, for a
  /// command that reads an object at its start and writes it back at its end (the RD
  /// of DATA_CREATE): one mapping and one audited write of the page instead of two.
  /// The caller unmaps before it releases the lock, after any mapping made meanwhile.
  @inline(__always)
  public func mapPage(_ granule: borrowing LockedGranule, _ intent: AccessIntent) throws(GateError) -> MappedPage {
    guard admits(granule, intent, .write, wholePage: true) else { throw .policyViolation }
    guard let address = mapper.map(granule.pa, in: .realm, writable: true) else { throw .realmAccessAbort }
    return MappedPage(base: address)
  }

  /// Ends a `mapPage` mapping.
  @inline(__always) public func unmap(_ mapped: MappedPage) { mapper.unmap(mapped.base) }

  /// Fills a granule the caller holds locked with `contents` (the whole page).
  public func fill(_ granule: borrowing LockedGranule, _ intent: AccessIntent, from contents: inout PageBuffer) throws(GateError) {
    guard admits(granule, intent, .write, wholePage: true) else { throw .policyViolation }
    guard let address = mapper.map(granule.pa, in: .realm, writable: true) else { throw .realmAccessAbort }
    withUnsafeBytes(of: &contents) { mapper.copyPage(to: address, from: $0.baseAddress!) }
    mapper.unmap(address)
  }

  /// Fills a granule the caller holds locked with `first &+ i &* step` in word i (a
  /// new RTT unfolded from its parent entry: `step` 0 for 512 copies).
  public func fillWords(_ granule: borrowing LockedGranule, _ intent: AccessIntent, first: UInt64, step: UInt64) throws(GateError) {
    guard admits(granule, intent, .write, wholePage: true) else { throw .policyViolation }
    guard let address = mapper.map(granule.pa, in: .realm, writable: true) else { throw .realmAccessAbort }
    mapper.fillPage(address, first: first, step: step)
    mapper.unmap(address)
  }

  /// Zeroes a granule the caller holds locked. The delegation scrub is the first touch
  /// of the PA: it alone may find no memory there.
  public func scrub(_ granule: borrowing LockedGranule, _ intent: AccessIntent) throws(GateError) {
    guard admits(granule, intent, .write, wholePage: true) else { throw .policyViolation }
    guard let address = mapper.map(granule.pa, in: .realm, writable: true) else { throw .realmAccessAbort }
    let zeroed = mapper.zeroPage(address, firstTouch: intent.purpose == .delegateScrub)
    mapper.unmap(address)
    if !zeroed { throw .realmAccessAbort }
  }

  /// Maps the REC's aux granules, in the REC's order, as one contiguous range at an
  /// address that is the same on every CPU (a resumable signature keeps pointers into
  /// it), runs `body`, and unmaps them. Every granule is checked and audited before any
  /// is mapped; the caller holds every one of them locked in `locked`.
  public func withAuxiliaryWindow<Result>(
    _ order: InlineArray<16, UInt64>, count: Int, locked: inout GranuleLockSet, _ intent: AccessIntent,
    _ body: (UnsafeMutableRawBufferPointer) -> Result
  ) throws(GateError) -> Result {
    guard count > 0, count <= 16 else { throw .policyViolation }
    var allowed = intent.direction == .write && intent.lower == 0 && intent.upper == 4096
    for i in 0..<count {
      let state = locked.state(of: order[i])
      allowed = audited(order[i], intent, state, allowed: allowed && AccessPolicy.permits(intent, actualState: state)) && allowed
    }
    guard allowed, let window = mapper.mapWindow(order, count: count) else { throw .policyViolation }
    defer { mapper.unmapWindow(count: count) }
    return body(UnsafeMutableRawBufferPointer(start: window, count: count * 4096))
  }

  // ---- NS granules: copied once, never mapped for longer than the copy ----------------

  /// The state of `pa` if it is a granule of DRAM; records the refusal otherwise.
  @inline(__always)
  func nonSecureState(_ pa: UInt64, _ intent: AccessIntent) throws(GateError) -> GranuleState? {
    guard environment.granules.index(of: pa) != nil else {
      refused(pa, intent, nil)
      throw .notDRAM
    }
    return environment.granules.state(of: pa)
  }

  /// Copies the declared bytes of the NS granule `pa` into the start of `buffer`, once
  /// (plain words: a page, the REC entry fields). NS granules are not locked: if the
  /// host delegates it meanwhile the copy takes a fault and fails cleanly.
  public func copyFromNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, _ intent: AccessIntent,
                                                         into buffer: inout Buffer) throws(GateError) {
    try admitsNonSecure(pa, intent, .read, bufferSize: MemoryLayout<Buffer>.size)
    guard let address = mapper.map(pa, in: .nonSecure, writable: false) else { throw .nonSecureAccessFault }
    let copied = withUnsafeMutableBytes(of: &buffer) { bytes in
      mapper.faultTolerantCopy(to: bytes.baseAddress!, from: address + intent.lower, count: Int(intent.length))
    }
    mapper.unmap(address)
    if !copied { throw .nonSecureAccessFault }
  }

  /// Copies the first `intent.length` bytes of `buffer` to the declared bytes of the NS
  /// granule `pa` (results the spec defines). A fault fails it cleanly.
  public func copyToNonSecure<Buffer: BitwiseCopyable>(_ pa: UInt64, _ intent: AccessIntent,
                                                       from buffer: inout Buffer) throws(GateError) {
    try admitsNonSecure(pa, intent, .write, bufferSize: MemoryLayout<Buffer>.size)
    guard let address = mapper.map(pa, in: .nonSecure, writable: true) else { throw .nonSecureAccessFault }
    let copied = withUnsafeBytes(of: &buffer) { bytes in
      mapper.faultTolerantCopy(to: address + intent.lower, from: bytes.baseAddress!, count: Int(intent.length))
    }
    mapper.unmap(address)
    if !copied { throw .nonSecureAccessFault }
  }

  // ---- the EL3 shared page ------------------------------------------------------------

  /// A view of the declared bytes of the shared page's exchange area (what EL3 wrote
  /// there for an RMM_ATTEST_* call). The caller holds the shared page's lock.
  public func readingSharedPage<Result>(_ intent: AccessIntent,
                                        _ body: (borrowing GranuleReader) -> Result) throws(GateError) -> Result {
    let shared = try admitsSharedPage(intent, .read)
    return try bounded(shared.address, shared.pa, intent, nil) { fault in
      body(GranuleReader(base: shared.address, lower: intent.lower, upper: intent.upper, fault: fault))
    }
  }

  /// A writable view of the declared bytes of the exchange area (the challenge for
  /// EL3; the scrub after the RAK passed through).
  public func writingSharedPage<Result>(_ intent: AccessIntent,
                                        _ body: (inout GranuleWriter) -> Result) throws(GateError) -> Result {
    let shared = try admitsSharedPage(intent, .write)
    return try bounded(shared.address, shared.pa, intent, nil) { fault in
      var view = GranuleWriter(base: shared.address, lower: intent.lower, upper: intent.upper, fault: fault)
      return body(&view)
    }
  }
}

extension RMMEnvironment {
  /// The gate over this environment's mapper and granule table.
  @inlinable public var gate: Gate<Self> { Gate(self) }
}

extension Gate {
  /// The running REC's granule, writable, for the whole REC_ENTER (its registers are
  /// read and written in place). The claim is the proof that this CPU runs the REC:
  /// the state is REC by construction (a claimed REC cannot be destroyed).
  public func writingRunningREC<Result>(_ claim: borrowing RECRunClaim,
                                        _ body: (inout RECView) -> Result) throws(GateError) -> Result {
    let intent = AccessIntent(.recRun, .write, expecting: .rec)
    guard audited(claim.pa, intent, .rec, allowed: AccessPolicy.permits(intent, actualState: .rec)) else {
      throw .policyViolation
    }
    guard let address = mapper.map(claim.pa, in: .realm, writable: true) else { throw .realmAccessAbort }
    defer { mapper.unmap(address) }
    return try bounded(address, claim.pa, intent, .rec) { fault in
      var view = RECView(base: address, fault: fault)
      return body(&view)
    }
  }
}

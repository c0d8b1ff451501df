// The audit log of every access the RMM makes to memory by physical address: one
// record per gate access, allowed or refused, with no contents of the memory. Records
// go into a bounded per-CPU ring; when it is full the oldest record is overwritten
// and the loss is counted.

import RMMABI

/// One audited access. 40 bytes when encoded (`AuditRecord.size`).
public struct AuditRecord: Equatable, Sendable {
  public var sequence: UInt32
  public var cpu: UInt8
  public var direction: AccessDirection
  public var allowed: Bool
  public var purpose: AccessPurpose
  /// The granule's state when the gate checked it (nil: not a DRAM granule).
  public var state: GranuleState?
  /// The low 32 bits of the FID of the RMI, RSI, PSCI or SMCCC call being served.
  public var function: UInt32
  /// The declared byte range of the granule: `[offset, offset + length)`.
  public var offset: UInt16
  public var length: UInt16
  public var pa: UInt64
  /// The realm IPA the access is for, where there is one (RSI calls), else 0.
  public var ipa: UInt64
  /// The realm (its RD's PA) the call is for, or 0.
  public var realm: UInt64

  public init(sequence: UInt32, cpu: UInt8, direction: AccessDirection, allowed: Bool, purpose: AccessPurpose,
              state: GranuleState?, function: UInt32, offset: UInt16 = 0, length: UInt16, pa: UInt64, ipa: UInt64,
              realm: UInt64) {
    self.sequence = sequence; self.cpu = cpu; self.direction = direction; self.allowed = allowed
    self.purpose = purpose; self.state = state; self.function = function; self.offset = offset; self.length = length
    self.pa = pa; self.ipa = ipa; self.realm = realm
  }

  public static let size = 40
  static let noState: UInt8 = 0xFF

  /// Word 0 of an encoded record, built without a record (for the firmware's hot path).
  @inline(__always)
  public static func firstWord(sequence: UInt32, cpu: Int, direction: AccessDirection, allowed: Bool,
                               purpose: AccessPurpose, state: GranuleState?) -> UInt64 {
    let stateBits: UInt64 = state.map { UInt64($0.rawValue) } ?? UInt64(noState)
    return UInt64(sequence) | UInt64(truncatingIfNeeded: cpu) << 32 | UInt64(direction.rawValue) << 40 | (allowed ? 1 << 41 : 0)
      | UInt64(purpose.rawValue) << 48 | stateBits << 56
  }

  /// Five little-endian words.
  public var words: (UInt64, UInt64, UInt64, UInt64, UInt64) {
    let w0 = UInt64(sequence) | UInt64(cpu) << 32 | UInt64(direction.rawValue) << 40
      | UInt64(allowed ? 1 : 0) << 41 | UInt64(purpose.rawValue) << 48
      | UInt64(state.map { UInt8(truncatingIfNeeded: $0.rawValue) } ?? Self.noState) << 56
    let w1 = UInt64(function) | UInt64(length) << 32 | UInt64(offset) << 48
    return (w0, w1, pa, ipa, realm)
  }

  /// nil for words that are not a record (corruption, or a foreign log line).
  public init?(words w: (UInt64, UInt64, UInt64, UInt64, UInt64)) {
    guard let direction = AccessDirection(rawValue: UInt8(truncatingIfNeeded: (w.0 >> 40) & 1)),
          let purpose = AccessPurpose(rawValue: UInt8(truncatingIfNeeded: w.0 >> 48)) else { return nil }
    let stateBits = UInt8(truncatingIfNeeded: w.0 >> 56)
    let state = GranuleState(rawValue: UInt16(stateBits))
    guard state != nil || stateBits == Self.noState else { return nil }
    // Reserved bits zero. (A refused record may declare a range past the granule: that
    // is why it was refused.)
    let offset = UInt16(truncatingIfNeeded: w.1 >> 48), length = UInt16(truncatingIfNeeded: w.1 >> 32)
    guard (w.0 >> 42) & 0x3F == 0 else { return nil }
    self.init(sequence: UInt32(truncatingIfNeeded: w.0), cpu: UInt8(truncatingIfNeeded: w.0 >> 32),
              direction: direction, allowed: (w.0 >> 41) & 1 == 1, purpose: purpose, state: state,
              function: UInt32(truncatingIfNeeded: w.1), offset: offset, length: length,
              pa: w.2, ipa: w.3, realm: w.4)
  }

  /// Whether the policy allows what this record says happened.
  public var conformsToPolicy: Bool {
    guard allowed else { return true }
    guard let state else {
      // No DRAM granule: only the EL3 shared page may be reached that way.
      return AccessPolicy.permitsSharedPage(AccessIntent(purpose, direction, expecting: .undelegated, offset: offset, length: length))
    }
    return AccessPolicy.permits(AccessIntent(purpose, direction, expecting: state, offset: offset, length: length),
                                actualState: state)
  }
}

/// A per-CPU ring of encoded records (5 words each) over caller-provided storage of
/// `capacity` records; `capacity` is a power of two. Indexed by the count of records
/// ever written (the next record's sequence number), so that appending is five stores
/// and one increment: how far the reader is behind, and what was overwritten, is
/// worked out on the (rare) read side.
public struct AuditRing {
  public var capacity: Int
  /// Records ever appended: the next record goes to slot `written % capacity`.
  public var written: UInt64 = 0
  /// Records ever taken out of the ring: drained, or overwritten before a drain.
  public var consumed: UInt64 = 0
  /// Records overwritten before a drain, counted at the drains so far.
  public var lostAtDrains: UInt64 = 0

  public init(capacity: Int) {
    precondition(capacity > 0 && capacity & (capacity - 1) == 0)
    self.capacity = capacity
  }

  /// Records waiting to be drained (at most `capacity`).
  public var count: Int { Int(min(written &- consumed, UInt64(capacity))) }
  /// Records overwritten before anyone read them.
  public var lost: UInt64 {
    let behind = written &- consumed
    return lostAtDrains &+ (behind > UInt64(capacity) ? behind &- UInt64(capacity) : 0)
  }
  /// Slot of the oldest waiting record.
  public var head: Int { Int(truncatingIfNeeded: (written &- UInt64(count)) & UInt64(capacity &- 1)) }

  /// Appends `record` into `storage`, overwriting the oldest when full.
  @inline(__always)
  public mutating func append(_ record: AuditRecord, into storage: UnsafeMutablePointer<UInt64>) {
    append(words: record.words, into: storage, capacity: capacity)
  }

  /// Appends an already encoded record; `capacity` is a compile-time constant of the
  /// caller (it must equal `self.capacity`): no load of it on the hot path.
  @inline(__always)
  public mutating func append(words w: (UInt64, UInt64, UInt64, UInt64, UInt64), into storage: UnsafeMutablePointer<UInt64>,
                              capacity: Int) {
    let slot = storage + Int(truncatingIfNeeded: written & UInt64(capacity &- 1)) &* 5
    slot[0] = w.0
    slot[1] = w.1
    slot[2] = w.2
    slot[3] = w.3
    slot[4] = w.4
    written &+= 1
  }

  /// Removes up to `limit` oldest records, handing each to `sink`; records overwritten
  /// since the last drain are counted in `lost` first.
  public mutating func drain(from storage: UnsafeMutablePointer<UInt64>, limit: Int,
                             _ sink: (AuditRecord) -> Void) -> Int {
    let behind = written &- consumed
    if behind > UInt64(capacity) {
      lostAtDrains &+= behind &- UInt64(capacity)
      consumed = written &- UInt64(capacity)
    }
    let n = min(limit, count)
    for i in 0..<n {
      let slot = storage + Int(truncatingIfNeeded: (consumed &+ UInt64(i)) & UInt64(capacity - 1)) * 5
      if let record = AuditRecord(words: (slot[0], slot[1], slot[2], slot[3], slot[4])) { sink(record) }
    }
    consumed &+= UInt64(n)
    return n
  }
}

/// The host's interface to the log: one function in the RMI range that no RMI 1.0 (nor
/// 1.1/2.0 draft) command uses. x1 selects the operation.
public enum AuditInterface {
  public static let fid: UInt64 = 0xC400_0182
  /// x1 = 0: x1 = refused accesses (violations), x2 = records written, x3 = records lost.
  public static let statistics: UInt64 = 0
  /// x1 = 1, x3 = PA of an NS page: copies up to `recordsPerPage` of the calling CPU's
  /// oldest records there; x1 = records copied, x2 = records that CPU lost so far.
  /// (Each CPU drains its own ring: the rings are not shared between CPUs.)
  public static let drain: UInt64 = 1
  public static let recordsPerPage = 4096 / AuditRecord.size
}

/// One CPU's audit state, in place in the platform's memory (reached through a
/// pointer, so that recording an access copies nothing but the record itself).
public struct AuditCPUState {
  public var ring: AuditRing
  /// Records written by this CPU; its low 32 bits are the next record's sequence number.
  public var sequence: UInt64 { ring.written }
  /// Accesses the gate refused on this CPU.
  public var violations: UInt64
  /// What the CPU is serving: FID, realm (RD), IPA.
  public var function: UInt64
  public var realm: UInt64
  public var ipa: UInt64
  /// The ring's storage, and the CPU number where it goes in a record's first word:
  /// kept here so that recording reads them rather than computing them.
  public let storage: UnsafeMutablePointer<UInt64>
  public let cpuBits: UInt64

  public init(capacity: Int, storage: UnsafeMutablePointer<UInt64>, cpu: Int) {
    ring = AuditRing(capacity: capacity)
    violations = 0; function = 0; realm = 0; ipa = 0
    self.storage = storage
    cpuBits = UInt64(truncatingIfNeeded: cpu & 0xFF) << 32
  }
  public var cpu: Int { Int(truncatingIfNeeded: cpuBits >> 32) }
}

/// Where this CPU's records go: its state, in place.
public struct AuditCPU {
  public let state: UnsafeMutablePointer<AuditCPUState>
  @inlinable public init(state: UnsafeMutablePointer<AuditCPUState>) { self.state = state }
  @inlinable public var storage: UnsafeMutablePointer<UInt64> { state.pointee.storage }

  /// Records one access (the gate's; allowed or refused).
  @inline(__always)
  public func record(_ pa: UInt64, _ intent: AccessIntent, _ granuleState: GranuleState?, allowed: Bool,
                     capacity: Int) {
    let first = AuditRecord.firstWord(sequence: UInt32(truncatingIfNeeded: state.pointee.ring.written), cpu: 0,
                                      direction: intent.direction, allowed: allowed, purpose: intent.purpose,
                                      state: granuleState) | state.pointee.cpuBits
    let second = (state.pointee.function & 0xFFFF_FFFF) | UInt64(truncatingIfNeeded: intent.length) << 32
      | UInt64(truncatingIfNeeded: intent.offset) << 48
    state.pointee.ring.append(words: (first, second, pa, state.pointee.ipa, state.pointee.realm),
                              into: state.pointee.storage, capacity: capacity)
  }

  /// The record as it was just written (for the alert line).
  public func lastRecord(capacity: Int) -> AuditRecord? {
    let ring = state.pointee.ring
    guard ring.written > 0 else { return nil }
    let slot = storage + Int(truncatingIfNeeded: (ring.written &- 1) & UInt64(capacity &- 1)) &* 5
    return AuditRecord(words: (slot[0], slot[1], slot[2], slot[3], slot[4]))
  }
}

// Granule states and the 16-bit descriptor the RMM keeps for every 4 KiB granule
// of NS DRAM: lock bit, state and reference count in one word, so one atomic
// operation takes the lock and one store-release publishes the new state with
// the unlock. 2 bytes per granule: 1.5 MiB for the 3 GiB QEMU bank.

/// RMM specification 1.0 granule states.
public enum GranuleState: UInt16, Sendable {
  case undelegated = 0
  case delegated = 1
  case rd = 2
  case rec = 3
  case recAux = 4
  case data = 5
  case rtt = 6
}

/// `[15] lock | [14:12] state | [11:0] refcount`.
public struct GranuleDescriptor: Equatable, Sendable {
  public var rawValue: UInt16
  @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
  @inlinable public init(state: GranuleState, refcount: UInt16 = 0) {
    rawValue = state.rawValue << 12 | (refcount & Self.refcountMask)
  }

  public static let lockBit: UInt16 = 1 << 15
  public static let refcountMask: UInt16 = 0x0FFF
  /// The largest reference count a descriptor can hold (an RTT holds at most 512 live entries).
  public static let maxRefcount: UInt16 = refcountMask

  @inlinable public var isLocked: Bool { rawValue & Self.lockBit != 0 }
  /// Unknown encodings (7) read as `nil`; they can only come from memory corruption.
  /// Decoded by a range check and the enum's layout (its cases are 0...6 in order, as
  /// their raw values): `init(rawValue:)` stays an out-of-line call under -Osize, and
  /// this is on every granule lookup.
  @inlinable @inline(__always) public var state: GranuleState? {
    let raw = UInt8(truncatingIfNeeded: (rawValue >> 12) & 0x7)
    return raw <= GranuleState.rtt.layoutTag ? unsafeBitCast(raw, to: GranuleState.self) : nil
  }
  @inlinable public var refcount: UInt16 { rawValue & Self.refcountMask }
  @inlinable public var unlocked: GranuleDescriptor { GranuleDescriptor(rawValue: rawValue & ~Self.lockBit) }

  /// What every descriptor satisfies when it is unlocked (checked on every release):
  /// a known state; only an RD, a REC (1 while it runs) and an RTT (its live entries,
  /// at most 512) hold references.
  @inlinable @inline(__always) public var isConsistent: Bool {
    let refcount = rawValue & Self.refcountMask
    switch (rawValue >> 12) & 0x7 {
    case GranuleState.rd.rawValue: return true
    case GranuleState.rec.rawValue: return refcount <= 1
    case GranuleState.rtt.rawValue: return refcount <= 512
    case 7: return false
    default: return refcount == 0
    }
  }
}

/// Where the descriptors live and how they are locked. The firmware backs this with
/// a table in RMM memory and LL/SC atomics; tests with an array.
public protocol GranuleDescriptorStorage {
  /// Number of descriptors.
  var count: Int { get }
  /// Spins until the lock bit of descriptor `index` is taken; returns the descriptor
  /// (without the lock bit) as it was when taken.
  func lock(_ index: Int) -> GranuleDescriptor
  /// Publishes `descriptor` (lock bit cleared) with release semantics.
  func unlock(_ index: Int, storing descriptor: GranuleDescriptor)
  /// An unlocked, possibly stale read: diagnostics and tests only.
  func peek(_ index: Int) -> GranuleDescriptor
  /// The bank list of the table over these descriptors (set once, at boot).
  var banks: GranuleBanks { get }
  func install(_ banks: GranuleBanks)
}

extension GranuleState {
  /// The case's tag in the enum's one-byte layout (its declaration order), which the
  /// descriptor decode relies on being its raw value (a host test checks every case).
  @inlinable public var layoutTag: UInt8 { unsafeBitCast(self, to: UInt8.self) }
}

#if !hasFeature(Embedded)
// All cases, for the host tests (CaseIterable allocates, so the firmware does without).
extension GranuleState: CaseIterable {}
#endif

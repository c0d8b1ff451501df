// Physical address <-> descriptor index over the DRAM banks of the boot manifest,
// plus the locking discipline for granules.

import RMMABI

/// The DRAM banks and the index of each bank's first granule: kept by the descriptor
/// storage (beside the descriptors), so that `GranuleTable` itself is a few words and
/// is passed in registers, never copied onto the stack for a call.
public struct GranuleBanks: Sendable {
  public var dram: DRAMLayout
  public var firstIndex: InlineArray<8, UInt64>
  public init(dram: DRAMLayout = DRAMLayout()) {
    self.dram = dram
    firstIndex = .init(repeating: 0)
    var next: UInt64 = 0
    for i in 0..<dram.bankCount {
      firstIndex[i] = next
      next += dram.banks[i].size >> granuleShift
    }
  }
}

public struct GranuleTable<Storage: GranuleDescriptorStorage> {
  public let storage: Storage
  /// Bank 0, as plain fields for the lookup fast path (empty if no banks).
  @usableFromInline let firstBank: PhysicalRange
  /// Granules in all banks.
  public let granuleCount: UInt64
  @usableFromInline let hasLaterBanks: Bool

  /// A table that covers no memory yet: every address is "not DRAM".
  public init(storage: Storage) {
    self.storage = storage
    firstBank = PhysicalRange(base: 0, size: 0)
    granuleCount = 0
    hasLaterBanks = false
  }

  /// Fails if the banks hold more granules than `storage` has descriptors. Installs the
  /// bank list in `storage`.
  public init?(storage: Storage, dram: DRAMLayout) {
    guard dram.granuleCount <= UInt64(storage.count) else { return nil }
    self.storage = storage
    firstBank = dram.bankCount > 0 ? dram.banks[0] : PhysicalRange(base: 0, size: 0)
    granuleCount = dram.granuleCount
    hasLaterBanks = dram.bankCount > 1
    storage.install(GranuleBanks(dram: dram))
  }

  /// The DRAM banks the table covers.
  public var dram: DRAMLayout { storage.banks.dram }

  /// The descriptor index of the granule at `pa`, or nil if `pa` is not a
  /// granule-aligned address inside a DRAM bank.
  @inlinable @inline(__always) public func index(of pa: UInt64) -> Int? {
    guard isGranuleAligned(pa) else { return nil }
    if pa >= firstBank.base && pa - firstBank.base < firstBank.size {
      return Int((pa - firstBank.base) >> granuleShift)
    }
    return hasLaterBanks ? indexInLaterBanks(of: pa) : nil
  }

  @usableFromInline @inline(never) func indexInLaterBanks(of pa: UInt64) -> Int? {
    let banks = storage.banks
    for i in 1..<max(banks.dram.bankCount, 1) {
      let bank = banks.dram.banks[i]
      if bank.contains(pa) { return Int(banks.firstIndex[i] + ((pa - bank.base) >> granuleShift)) }
    }
    return nil
  }

  /// Locks the granule at `pa` and returns a handle that owns the lock. nil if
  /// `pa` is not a DRAM granule. The caller must `release` the handle (which consumes
  /// it: the compiler rejects a use after the release, or a second release).
  // Always inlined: an out-of-line call passes this 216-byte table as a copy made on
  // the caller's stack (a memcpy per lookup); inlined, the fields are read in place.
  @inlinable @inline(__always) public func lock(_ pa: UInt64) -> LockedGranule? {
    guard let i = index(of: pa) else { return nil }
    return LockedGranule(pa: pa, index: i, descriptor: storage.lock(i))
  }

  /// Locks the granule at `pa` only if it is in `state`; otherwise unlocks it again.
  @inlinable @inline(__always) public func lock(_ pa: UInt64, expecting state: GranuleState) -> LockedGranule? {
    guard let granule = lock(pa) else { return nil }
    if granule.descriptor.state == state { return granule }
    release(granule)
    return nil
  }

  /// Unlocks, publishing the (possibly modified) descriptor. A descriptor that breaks
  /// the invariants (`GranuleDescriptor.isConsistent`) is RMM corruption: the RMM stops
  /// (the crash path) rather than publish it.
  @inlinable @inline(__always) public func release(_ granule: consuming LockedGranule) {
    publish(granule)
  }

  /// The unlock of `release`, for a granule whose owner is consumed as a whole (a lock
  /// set's `releaseAll`): the owner, not the granule, is what the compiler tracks.
  @inlinable @inline(__always) func publish(_ granule: borrowing LockedGranule) {
    if !granule.descriptor.isConsistent { granuleInvariantBroken(granule.pa, granule.descriptor.rawValue) }
    storage.unlock(granule.index, storing: granule.descriptor.unlocked)
  }

  /// Runs `body` on `granule`, then releases it, whether `body` returns or throws: the
  /// ownership-checked form of `defer { release(granule) }`.
  @inlinable @inline(__always)
  public func holding<Result>(
    _ granule: consuming LockedGranule, _ body: (inout LockedGranule) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    let result: Result
    do throws(RMIError) { result = try body(&granule) } catch {
      release(granule)
      throw error
    }
    release(granule)
    return result
  }

  @inlinable @inline(__always) public func state(of pa: UInt64) -> GranuleState? {
    guard let i = index(of: pa) else { return nil }
    return storage.peek(i).state
  }

  /// Number of granules currently in `state` (unlocked snapshot; diagnostics and tests).
  public func count(in state: GranuleState) -> Int {
    var n = 0
    for i in 0..<Int(granuleCount) where storage.peek(i).state == state { n += 1 }
    return n
  }
}

/// A granule whose lock the holder owns. Changing `state` or `refcount` here changes
/// what `GranuleTable.release` publishes. Not copyable: the handle is the lock, and
/// `release` consumes it.
public struct LockedGranule: ~Copyable {
  public let pa: UInt64
  public let index: Int
  public var descriptor: GranuleDescriptor

  @inlinable public init(pa: UInt64, index: Int, descriptor: GranuleDescriptor) {
    self.pa = pa
    self.index = index
    self.descriptor = descriptor
  }

  @inlinable public var state: GranuleState? { descriptor.state }
  @inlinable public mutating func setState(_ state: GranuleState) {
    descriptor = GranuleDescriptor(state: state, refcount: descriptor.refcount)
  }
}

/// A REC claimed for running: its descriptor holds refcount 1 from the claim until
/// `end`, so no other CPU can enter, destroy or change it, while its lock is free
/// (the realm runs for a long time). Not copyable: whoever holds the claim is the one
/// running the REC, and the gate maps the running REC only for the claim's holder.
public struct RECRunClaim: ~Copyable {
  public let pa: UInt64

  /// Claims the REC at `pa`: ERROR_INPUT if it is no REC, ERROR_REC if it is running.
  @inlinable
  public init<Storage>(_ pa: UInt64, in table: GranuleTable<Storage>) throws(RMIError) {
    guard var granule = table.lock(pa, expecting: .rec) else { throw .input }
    guard granule.descriptor.refcount == 0 else {
      table.release(granule)
      throw .rec
    }
    granule.descriptor = GranuleDescriptor(state: .rec, refcount: 1)
    table.release(granule)
    self.pa = pa
  }

  /// Ends the claim: the REC can be entered, destroyed or changed again.
  @inlinable
  public consuming func end<Storage>(in table: GranuleTable<Storage>) {
    if var granule = table.lock(pa) {
      granule.descriptor = GranuleDescriptor(state: .rec, refcount: 0)
      table.release(granule)
    }
  }
}

/// A descriptor about to be published breaks the granule invariants: stop.
@inline(never) @usableFromInline func granuleInvariantBroken(_ pa: UInt64, _ descriptor: UInt16) -> Never {
#if hasFeature(Embedded)
  fatalError("granule descriptor invariant broken")
#else
  fatalError("granule descriptor invariant broken: PA 0x\(String(pa, radix: 16)), descriptor 0x\(String(descriptor, radix: 16))")
#endif
}

// Physical address <-> descriptor index over the DRAM banks of the boot manifest,
// plus the locking discipline for granules.

import RMMABI

public struct GranuleTable<Storage: GranuleDescriptorStorage> {
  public let storage: Storage
  public let dram: DRAMLayout
  /// Index of the first granule of each bank.
  @usableFromInline var firstIndex: InlineArray<8, UInt64>
  /// Bank 0 again, as plain fields for the lookup fast path (empty if no banks).
  @usableFromInline let firstBank: PhysicalRange

  /// A table that covers no memory yet: every address is "not DRAM".
  public init(storage: Storage) {
    self.storage = storage
    dram = DRAMLayout()
    firstIndex = .init(repeating: 0)
    firstBank = PhysicalRange(base: 0, size: 0)
  }

  /// Fails if the banks hold more granules than `storage` has descriptors.
  public init?(storage: Storage, dram: DRAMLayout) {
    guard dram.granuleCount <= UInt64(storage.count) else { return nil }
    self.storage = storage
    self.dram = dram
    firstBank = dram.bankCount > 0 ? dram.banks[0] : PhysicalRange(base: 0, size: 0)
    firstIndex = .init(repeating: 0)
    var next: UInt64 = 0
    for i in 0..<dram.bankCount {
      firstIndex[i] = next
      next += dram.banks[i].size >> granuleShift
    }
  }

  /// The descriptor index of the granule at `pa`, or nil if `pa` is not a
  /// granule-aligned address inside a DRAM bank.
  @inline(__always) public func index(of pa: UInt64) -> Int? {
    guard isGranuleAligned(pa) else { return nil }
    // Fast path on plain fields: touching the inline bank arrays makes the compiler
    // copy the whole table onto the stack first.
    if pa >= firstBank.base && pa - firstBank.base < firstBank.size {
      return Int((pa - firstBank.base) >> granuleShift)
    }
    return indexInLaterBanks(of: pa)
  }

  @inline(never) func indexInLaterBanks(of pa: UInt64) -> Int? {
    for i in 1..<max(dram.bankCount, 1) {
      let bank = dram.banks[i]
      if bank.contains(pa) { return Int(firstIndex[i] + ((pa - bank.base) >> granuleShift)) }
    }
    return nil
  }

  /// Locks the granule at `pa` and returns a handle that owns the lock. nil if
  /// `pa` is not a DRAM granule. The caller must `release` the handle.
  @inlinable public func lock(_ pa: UInt64) -> LockedGranule? {
    guard let i = index(of: pa) else { return nil }
    return LockedGranule(pa: pa, index: i, descriptor: storage.lock(i))
  }

  /// Locks the granule at `pa` only if it is in `state`; otherwise unlocks it again.
  @inlinable public func lock(_ pa: UInt64, expecting state: GranuleState) -> LockedGranule? {
    guard let granule = lock(pa) else { return nil }
    if granule.descriptor.state == state { return granule }
    release(granule)
    return nil
  }

  /// Unlocks, publishing the (possibly modified) descriptor.
  @inlinable public func release(_ granule: LockedGranule) {
    storage.unlock(granule.index, storing: granule.descriptor.unlocked)
  }

  public func state(of pa: UInt64) -> GranuleState? {
    guard let i = index(of: pa) else { return nil }
    return storage.peek(i).state
  }

  /// Number of granules currently in `state` (unlocked snapshot; diagnostics and tests).
  public func count(in state: GranuleState) -> Int {
    var n = 0
    for i in 0..<Int(dram.granuleCount) where storage.peek(i).state == state { n += 1 }
    return n
  }
}

/// A granule whose lock the holder owns. Changing `state` or `refcount` here changes
/// what `GranuleTable.release` publishes.
public struct LockedGranule {
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

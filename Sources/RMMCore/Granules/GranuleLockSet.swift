// Locking several external granules (RD, REC, REC aux, DELEGATED targets) at once:
// always in ascending PA order, so two CPUs locking overlapping sets cannot deadlock.

public let maxLockedGranules = 18  // RD + REC + 16 aux granules

/// Not copyable: the set owns its granules' locks, `GranuleTable.releaseAll` consumes it,
/// and its granules are lent (`set[pa]`, `withGranule`), never copied out.
public struct GranuleLockSet: ~Copyable {
  public var count: Int
  @usableFromInline var slots: InlineArray<18, LockedGranule>

  @inline(__always) public init() {
    count = 0
    slots = InlineArray { _ in LockedGranule(pa: 0, index: 0, descriptor: GranuleDescriptor(rawValue: 0)) }
  }

  // The accessors are inlined: a call would copy the whole set (440 bytes) first. And
  // they are `mutating` even where they only read, and read through `mutableSpan`:
  // that reaches the set by address, while a borrowing access to this large value, or
  // `slots.span`, or `slots[i]`, copies it onto the stack first (Swift 6.3.1, -Osize: a
  // memcpy of the set per access). The span is a temporary per access: bound to a
  // `let`, it is boxed (an allocation, refused in the firmware).

  /// The slot of `pa` (which must be in the set).
  @inline(__always) mutating func slot(_ pa: UInt64) -> Int {
    var i = 0
    while i < count {
      if slots.mutableSpan[i].pa == pa { return i }
      i += 1
    }
    preconditionFailure("granule not in the lock set")
  }

  /// The locked granule for `pa` (which must be in the set), lent for the access.
  public subscript(_ pa: UInt64) -> LockedGranule {
    @inline(__always) mutating _read {
      let i = slot(pa)
      yield slots.mutableSpan[i]
    }
  }

  /// `body` on the locked granule for `pa` (which must be in the set).
  @inline(__always) public mutating func withGranule<Result>(
    _ pa: UInt64, _ body: (borrowing LockedGranule) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    let i = slot(pa)
    return try body(slots.mutableSpan[i])
  }

  @inline(__always) public mutating func state(of pa: UInt64) -> GranuleState? {
    let i = slot(pa)
    return slots.mutableSpan[i].state
  }

  /// Adds a granule the caller has locked (in the lock order) to the set.
  @inline(__always) mutating func append(_ granule: consuming LockedGranule) {
    var locked = slots.mutableSpan
    locked[count] = granule
    count += 1
  }

  /// `body` on the granule in slot `i` (below `count`), which it may change.
  @inline(__always) mutating func withSlot<Result>(_ i: Int, _ body: (inout LockedGranule) -> Result) -> Result {
    var locked = slots.mutableSpan
    return body(&locked[i])
  }

  /// Changes the state `release` will publish for `pa`.
  @inline(__always) public mutating func setState(_ state: GranuleState, of pa: UInt64) {
    var locked = slots.mutableSpan  // in place: `slots[i].setState` copied the array out and back
    for i in 0..<count where locked[i].pa == pa {
      locked[i].setState(state)
      return
    }
  }

  @inline(__always) public mutating func setRefcount(_ refcount: UInt16, of pa: UInt64) {
    var locked = slots.mutableSpan
    for i in 0..<count where locked[i].pa == pa {
      locked[i].descriptor = GranuleDescriptor(state: locked[i].state ?? .undelegated, refcount: refcount)
      return
    }
  }
}

extension GranuleTable {
  /// Locks the `count` granules in `addresses` in ascending PA order into the empty
  /// `set` (built in the caller's frame: a set returned from a call, or in an Optional,
  /// is copied on each move). False, with nothing locked, if any address is not a DRAM
  /// granule or appears twice.
  public func lockAll(_ addresses: InlineArray<18, UInt64>, count: Int, into set: inout GranuleLockSet) -> Bool {
    var copy = addresses
    var sorted = copy.mutableSpan  // elements in place: a subscript copied the array
    // Insertion sort: at most 18 elements.
    for i in 1..<max(count, 1) {
      let key = sorted[i]
      var j = i - 1
      while j >= 0 && sorted[j] > key {
        sorted[j + 1] = sorted[j]
        j -= 1
      }
      sorted[j + 1] = key
    }
    for i in 0..<count {
      guard index(of: sorted[i]) != nil else { return false }
      if i > 0 && sorted[i] == sorted[i - 1] { return false }
    }
    var slots = set.slots.mutableSpan
    for i in 0..<count { slots[i] = lock(sorted[i])! }
    set.count = count
    return true
  }

  /// Unlocks every granule of the set, publishing their (possibly changed) descriptors,
  /// in descending order.
  @inline(__always) public func releaseAll(_ set: consuming GranuleLockSet) {
    var i = set.count - 1
    while i >= 0 {
      publish(set.slots.mutableSpan[i])  // in place: `span` copies the whole array
      i -= 1
    }
  }

  /// Runs `body` on `set`, then releases it, whether `body` returns or throws.
  @inline(__always)
  public func holding<Result>(
    _ set: consuming GranuleLockSet, _ body: (inout GranuleLockSet) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    let result: Result
    do throws(RMIError) { result = try body(&set) } catch {
      releaseAll(set)
      throw error
    }
    releaseAll(set)
    return result
  }
}

/// Two granules locked together (RD and one target): the common case of `lockAll`,
/// without the 18-slot set. Not copyable: `releasePair` consumes it.
public struct LockedPair: ~Copyable {
  public var first: LockedGranule
  public var second: LockedGranule
}

extension GranuleTable {
  /// Locks `first` and `second` in ascending PA order (the discipline of `lockAll`),
  /// returned in argument order. nil, with nothing left locked, if either address is
  /// not a DRAM granule or both are the same.
  public func lockPair(_ first: UInt64, _ second: UInt64) -> LockedPair? {
    guard first != second, index(of: first) != nil, index(of: second) != nil else { return nil }
    if first < second {
      let a = lock(first)!
      return LockedPair(first: a, second: lock(second)!)
    }
    let b = lock(second)!
    return LockedPair(first: lock(first)!, second: b)
  }

  /// Runs `body` on `pair`, then releases it, whether `body` returns or throws.
  @inline(__always)
  public func holding<Result>(
    _ pair: consuming LockedPair, _ body: (inout LockedPair) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    let result: Result
    do throws(RMIError) { result = try body(&pair) } catch {
      releasePair(pair)
      throw error
    }
    releasePair(pair)
    return result
  }

  /// Unlocks both granules of the pair, publishing their descriptors, in descending PA order.
  public func releasePair(_ pair: consuming LockedPair) {
    if pair.first.pa > pair.second.pa {
      release(pair.first)
      release(pair.second)
    } else {
      release(pair.second)
      release(pair.first)
    }
  }
}

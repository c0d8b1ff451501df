// A realm's stage-2 translation tables: the hand-over-hand walk, entry reads and
// writes through the gate, and the table changes behind the RTT commands. The RMI
// commands (RTTCommands.swift) check their arguments and hold the RD; this type does
// the table work. Its only state is the environment (empty in the firmware), so
// making one costs nothing.
//
// The walk: the parent table stays locked until the child is locked, so no concurrent
// command can unhook a table under the walk. Every entry is read and written through
// the gate, as the RTT's owner.

import RMMABI

public struct StageTwoTables<Environment: RMMEnvironment> {
  let environment: Environment

  @inline(__always) init(environment: Environment) { self.environment = environment }

  // ---- entries and walks -----------------------------------------------------------

  func readEntry(_ table: borrowing LockedGranule, _ index: Int) throws(RMIError) -> UInt64 {
    do throws(GateError) {
      return try environment.gate.reading(table, AccessIntent(.rttRead, .read, expecting: .rtt, offset: UInt16(index * 8), length: 8)) { page in
        page.load64(at: index * 8)
      }
    } catch { environment.halt(.refusedOwnAccess) }
  }

  func writeEntry(_ table: borrowing LockedGranule, _ index: Int, _ value: UInt64) throws(RMIError) {
    do throws(GateError) {
      try environment.gate.writing(table, AccessIntent(.rttWrite, .write, expecting: .rtt, offset: UInt16(index * 8), length: 8)) { page in
        page.store64(value, at: index * 8)
      }
    } catch { environment.halt(.refusedOwnAccess) }
  }

  /// Index of `ipa` in a table at `level`.
  @inline(__always) func tableIndex(_ ipa: UInt64, level: Int) -> Int {
    Int(truncatingIfNeeded: (ipa >> RTTLevel.shift(level)) & 511)
  }

  /// Walks from the root towards `targetLevel` and returns with the last table reached
  /// locked (the caller releases it). Stops early at the first entry that is not a table.
  ///
  /// `forUpdate`: the entry at `targetLevel`, if the walk gets there, is mapped writable
  /// and stays mapped in the walk (`RTTWalk.mapped`) for the command to rewrite it, so
  /// the table is mapped once for the read and the write; `finishWalk` unmaps it.
  /// `throughEnd` (with `forUpdate`): the mapping covers the rest of the table too, for
  /// a command that then looks for the next live entry (`nextLiveEntry`).
  func walk(_ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int, forUpdate: Bool = false,
            throughEnd: Bool = false) throws(RMIError) -> RTTWalk {
    // Two copies of one walk, each with `forUpdate` constant: the read-only walks of
    // REC_ENTER's hot paths pay nothing for the other kind.
    forUpdate ? try walkToUpdate(s2, ipa, to: targetLevel, throughEnd: throughEnd) : try walkToRead(s2, ipa, to: targetLevel)
  }
  @inline(never) func walkToRead(_ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int) throws(RMIError) -> RTTWalk {
    try walkBody(s2, ipa, to: targetLevel, keepingTarget: false, throughEnd: false)
  }
  @inline(never) func walkToUpdate(_ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int,
                                   throughEnd: Bool) throws(RMIError) -> RTTWalk {
    try walkBody(s2, ipa, to: targetLevel, keepingTarget: true, throughEnd: throughEnd)
  }
  @inline(__always)
  func walkBody(_ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int, keepingTarget forUpdate: Bool,
                throughEnd: Bool) throws(RMIError) -> RTTWalk {
    let protected = s2.isProtected(ipa)
    let root = s2.rootEntry(for: ipa)
    guard let rootTable = environment.granules.lock(root.table, expecting: .rtt) else { environment.halt(.granuleState) }
    // The walk's fields as locals: the table is released and replaced by its child on
    // each step, which a field of a non-copyable struct cannot be.
    var table = rootTable
    var level = s2.startLevel
    var index = root.index
    while true {
      let raw: UInt64
      var mapped: MappedEntry? = nil
      if forUpdate && level == targetLevel {
        do throws(GateError) {
          let length = throughEnd ? 4096 - index * 8 : 8
          let entry = try environment.gate.mapEntry(table, AccessIntent(.rttWrite, .write, expecting: .rtt,
                                                                        offset: UInt16(index * 8), length: UInt16(length)))
          raw = entry.load()
          mapped = entry
        } catch { environment.halt(.refusedOwnAccess) }
      } else {
        do throws(RMIError) { raw = try readEntry(table, index) } catch {
          environment.granules.release(table)
          throw error
        }
      }
      guard let entry = S2TTE.decode(raw, level: level, protected: protected, format: s2.format) else {
        environment.granules.release(table)
        environment.halt(.stageTwoTable)
      }
      guard level < targetLevel, case .table(let childPA) = entry else {
        return RTTWalk(table: table, level: level, index: index, entry: entry, format: s2.format, mapped: mapped)
      }
      guard let child = environment.granules.lock(childPA, expecting: .rtt) else {
        environment.granules.release(table)
        environment.halt(.granuleState)
      }
      environment.granules.release(table)
      table = child
      level += 1
      index = tableIndex(ipa, level: level)
    }
  }

  /// `walk`, then `body` on where it stopped, then the walk's table released, whether
  /// `body` returns or throws.
  /// `forUpdate` (the default): the command rewrites the entry the walk stops at, which
  /// stays mapped for it (`walk(_:_:to:forUpdate:)`).
  @inline(__always) func walking<Result>(
    _ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int, forUpdate: Bool = true, throughEnd: Bool = false,
    _ body: (inout RTTWalk) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    var walk = try walk(s2, ipa, to: targetLevel, forUpdate: forUpdate, throughEnd: throughEnd)
    let result: Result
    do throws(RMIError) { result = try body(&walk) } catch {
      finishWalk(walk)
      throw error
    }
    finishWalk(walk)
    return result
  }

  /// Unmaps the walk's entry if it kept it mapped, and releases the walk's table.
  @inline(__always) func finishWalk(_ walk: consuming RTTWalk) {
    if let mapped = walk.mapped { environment.gate.unmap(mapped) }
    walk.finish(in: environment.granules)
  }

  /// Writes the entry the walk stopped at: through the walk's mapping if it kept one.
  @inline(__always) func writeWalkEntry(_ walk: borrowing RTTWalk, _ value: UInt64) throws(RMIError) {
    if let mapped = walk.mapped { mapped.store(value) } else { try writeEntry(walk.table, walk.index, value) }
  }

  /// Changes the entry the walk stopped at, keeping the table's reference count and
  /// the TLBs right.
  func update(_ walk: inout RTTWalk, to newEntry: S2TTE, ipa: UInt64, vmid: UInt16) throws(RMIError) {
    try writeWalkEntry(walk, newEntry.encode(level: walk.level, format: walk.format))
    if walk.entry.isValidDescriptor {
      if case .table = walk.entry { environment.tlb.invalidateAll(vmid: vmid) }
      else { environment.tlb.invalidate(vmid: vmid, ipa: ipa, level: walk.level) }
    }
    let refcount = walk.table.descriptor.refcount
    if walk.entry.holdsReference && !newEntry.holdsReference {
      walk.table.descriptor = GranuleDescriptor(state: .rtt, refcount: refcount - 1)
    } else if !walk.entry.holdsReference && newEntry.holdsReference {
      walk.table.descriptor = GranuleDescriptor(state: .rtt, refcount: refcount + 1)
    }
    walk.entry = newEntry
  }

  /// `top` for DATA_DESTROY, RTT_DESTROY and RTT_UNMAP_UNPROTECTED: `ipa` itself if
  /// the walk's entry is live; otherwise the IPA of the next live entry in the same
  /// table, or the end of that table.
  // `inout` though it only reads: a borrowed walk is copied onto the stack first (a
  // memcpy per call, Swift 6.3.1 -Osize), the walk in place is not.
  func nextLiveEntry(after walk: inout RTTWalk, ipa: UInt64, protected: Bool) throws(RMIError) -> UInt64 {
    if walk.entry.isLive { return ipa }
    let level = walk.level
    let entrySize = RTTLevel.size(level)
    let tableBase = ipa & ~(entrySize * 512 - 1)
    // In the protected half the live entries (tables and assigned entries) are exactly
    // the ones that hold a reference on the table: none left, nothing to scan for.
    if protected && walk.table.descriptor.refcount == 0 { return tableBase + 512 * entrySize }
    let first = walk.index + 1
    let next: Int
    if let mapped = walk.mapped, mapped.coversRest(from: walk.index) {
      // The command's own mapping of the table covers the scan.
      next = mapped.firstWord(from: first, withAnyOf: S2TTE.liveMask(protected: protected))
    } else {
      do throws(GateError) {
        // One mapping for the whole scan.
        next = try environment.gate.reading(walk.table, AccessIntent(.rttRead, .read, expecting: .rtt)) { page in
          page.firstWord(from: first, withAnyOf: S2TTE.liveMask(protected: protected))
        }
      } catch { environment.halt(.refusedOwnAccess) }
    }
    return tableBase + UInt64(next) * entrySize
  }

  /// The run of whole entries of the walk's table from its entry on, each at most up
  /// to `top`, through one mapping of the table (one audited access): `body` gets each
  /// entry and its IPA and returns the entry to store (nil ends the run). Returns the
  /// IPA where the run ended. RTT_INIT_RIPAS and RTT_SET_RIPAS.
  func rewriteRun(_ walk: borrowing RTTWalk, from start: UInt64, below top: UInt64,
                  _ body: (S2TTE, UInt64) -> S2TTE?) -> UInt64 {
    let level = walk.level, entrySize = RTTLevel.size(level), format = walk.format
    var address = start
    do throws(GateError) {
      try environment.gate.writing(walk.table, AccessIntent(.rttWrite, .write, expecting: .rtt)) { page in
        var index = walk.index
        while address + entrySize <= top && index < 512 {
          guard let entry = S2TTE.decode(page.load64(at: index * 8), level: level, protected: true, format: format),
                let changed = body(entry, address) else { break }
          if changed != entry { page.store64(changed.encode(level: level, format: format), at: index * 8) }
          address += entrySize
          index += 1
        }
      }
    } catch { environment.halt(.refusedOwnAccess) }
    return address
  }

  /// Zeroes a table that is about to return to DELEGATED: unassigned entries may still
  /// carry RIPAS bits, and DELEGATED granules are zero.
  func scrub(_ table: borrowing LockedGranule) {
    _ = try? environment.gate.scrub(table, AccessIntent(.destroyScrub, .write, expecting: .rtt))
  }

  /// Walks to `ipa` and locks the DATA granule mapping it (RTT before DATA, as the
  /// lock order requires).
  func lockRealmPage(_ s2: Stage2Config, ipa: UInt64) -> RealmPage {
    guard s2.contains(ipa), s2.isProtected(ipa) else { return .invalid }
    let walk: RTTWalk
    do throws(RMIError) { walk = try self.walk(s2, ipa, to: RTTLevel.page) } catch { return .invalid }
    let entry = walk.entry, level = walk.level
    let page: RealmPage
    switch entry {
    case .assignedRAM(let base):
      let pa = base + ((ipa & (RTTLevel.size(level) - 1)) & ~(granuleSize - 1))
      if let granule = environment.granules.lock(pa, expecting: .data) { page = .data(granule) } else { page = .invalid }
    case .unassigned(.ram), .unassigned(.destroyed), .assignedDestroyed:
      page = .dataAbortToHost
    default:
      page = .invalid
    }
    walk.finish(in: environment.granules)
    return page
  }

  // ---- table changes (the RTT commands, arguments already checked) -----------------

  /// Entry `index` of a new level-`level` table that replaces `parent` (unfold).
  static func unfolded(_ parent: S2TTE, index: Int, level: Int) -> S2TTE {
    let offset = UInt64(index) * RTTLevel.size(level)
    switch parent {
    case .unassigned, .unassignedNS, .table: return parent
    case .assignedEmpty(let pa): return .assignedEmpty(pa: pa + offset)
    case .assignedRAM(let pa): return .assignedRAM(pa: pa + offset)
    case .assignedDestroyed(let pa): return .assignedDestroyed(pa: pa + offset)
    case .assignedNS(let descriptor): return .assignedNS(descriptor: descriptor + offset)
    }
  }

  /// RTT_CREATE: hooks the DELEGATED granule `table` (locked by the caller) in as the
  /// level-`level` table for `ipa`, filled from the parent entry it replaces. On
  /// success `table` is an RTT with its reference count; on failure it is unchanged.
  func create(_ s2: Stage2Config, table: inout LockedGranule, ipa: UInt64, level: Int) throws(RMIError) {
    try walking(s2, ipa, to: level - 1) { walk throws(RMIError) in
      guard walk.level == level - 1 else { throw .rtt(level: walk.level) }
      if case .table = walk.entry { throw .rtt(level: walk.level) }

      // Fill the new table from the parent entry, then hook it in. A valid block is
      // replaced break-before-make: invalidate, TLBI, then the table descriptor.
      let parent = walk.entry
      let child = Self.unfolded(parent, index: 0, level: level)
      let first = child.encode(level: level, format: s2.format)
      // Unassigned entries and tables unfold into 512 copies; assigned blocks into
      // consecutive output addresses.
      let step: UInt64 = !parent.isLive || parent.isTableOrUnassigned ? 0 : RTTLevel.size(level)
      table.setState(.rtt)
      // A DELEGATED granule is zero: a table of zero entries needs no writes at all.
      if first != 0 || step != 0 {
        do throws(GateError) {
          try environment.gate.fillWords(table, AccessIntent(.rttWrite, .write, expecting: .rtt), first: first, step: step)
        } catch {
          table.setState(.delegated)
          throw accessFailed
        }
      }
      table.descriptor = GranuleDescriptor(state: .rtt, refcount: child.holdsReference ? 512 : 0)
      if parent.isValidDescriptor {  // break-before-make
        try writeWalkEntry(walk, 0)
        environment.tlb.invalidate(vmid: s2.vmid, ipa: ipa, level: walk.level)
      }
      try writeWalkEntry(walk, S2TTE.table(pa: table.pa).encode(level: walk.level, format: s2.format))
      if !parent.holdsReference {
        walk.table.descriptor = GranuleDescriptor(state: .rtt, refcount: walk.table.descriptor.refcount + 1)
      }
    }
  }

  /// RTT_DESTROY: unhooks the empty level-`level` table for `ipa` and returns it to
  /// DELEGATED; returns its PA and `top`.
  func destroy(_ s2: Stage2Config, ipa: UInt64, level: Int) throws(RMIError) -> (rtt: UInt64, top: UInt64) {
    let protected = s2.isProtected(ipa)
    return try walking(s2, ipa, to: level - 1, throughEnd: true) { walk throws(RMIError) in
      guard walk.level == level - 1, case .table(let childPA) = walk.entry else {
        throw RMIError.rtt(level: walk.level).with(top: try nextLiveEntry(after: &walk, ipa: ipa, protected: protected))
      }
      guard var child = environment.granules.lock(childPA, expecting: .rtt) else { environment.halt(.granuleState) }
      guard child.descriptor.refcount == 0 else {
        environment.granules.release(child)
        throw RMIError.rtt(level: level).with(top: ipa)  // the parent entry is a live table
      }
      try update(&walk, to: protected ? .unassigned(.destroyed) : .unassignedNS, ipa: ipa, vmid: s2.vmid)
      scrub(child)
      child.setState(.delegated)
      environment.granules.release(child)
      return (childPA, try nextLiveEntry(after: &walk, ipa: ipa, protected: protected))
    }
  }

  /// RTT_FOLD: replaces the homogeneous level-`level` table for `ipa` by one parent
  /// entry and returns the table (now DELEGATED).
  func fold(_ s2: Stage2Config, ipa: UInt64, level: Int) throws(RMIError) -> UInt64 {
    try walking(s2, ipa, to: level - 1) { walk throws(RMIError) in
      guard walk.level == level - 1, case .table(let childPA) = walk.entry else { throw .rtt(level: walk.level) }
      guard var child = environment.granules.lock(childPA, expecting: .rtt) else { environment.halt(.granuleState) }
      let protected = s2.isProtected(ipa)

      // Homogeneous: every entry is what unfolding one parent entry would produce.
      let raw: UInt64
      do throws(RMIError) { raw = try readEntry(child, 0) } catch {
        environment.granules.release(child)
        throw error
      }
      let format = s2.format
      let first = S2TTE.decode(raw, level: level, protected: protected, format: format)
      var folded: S2TTE? = nil
      switch first {
      case .unassigned, .unassignedNS: folded = first
      case .assignedEmpty(let pa), .assignedRAM(let pa), .assignedDestroyed(let pa):
        if RTTLevel.isAligned(pa, to: level - 1) { folded = first }
      case .assignedNS(let descriptor):
        if RTTLevel.isAligned(format.address(of: descriptor), to: level - 1) { folded = first }
      case .table, nil: folded = nil
      }
      if let candidate = folded {
        var homogeneous = true
        do throws(GateError) {
          homogeneous = try environment.gate.reading(child, AccessIntent(.rttRead, .read, expecting: .rtt)) { page in
            for i in 1..<512
            where page.load64(at: i * 8) != Self.unfolded(candidate, index: i, level: level).encode(level: level, format: format) {
              return false
            }
            return true
          }
        } catch {
          environment.granules.release(child)
          environment.halt(.refusedOwnAccess)
        }
        if !homogeneous { folded = nil }
      }
      guard let parentEntry = folded else {
        environment.granules.release(child)
        throw .rtt(level: level)
      }
      if parentEntry.isLive && !RTTLevel.allowsBlock(level - 1) {  // no blocks at level 0: not homogeneous
        environment.granules.release(child)
        throw .rtt(level: level)
      }
      try update(&walk, to: parentEntry, ipa: ipa, vmid: s2.vmid)
      scrub(child)
      // The folded table's references (its 512 live entries) now belong to the one block
      // entry in the parent: the DELEGATED granule holds none.
      child.descriptor = GranuleDescriptor(state: .delegated)
      environment.granules.release(child)
      return childPA
    }
  }

  /// RTT_READ_ENTRY: the entry for `ipa` at `level` (or where the walk stopped).
  func report(_ s2: Stage2Config, ipa: UInt64, level: Int) throws(RMIError) -> RTTEntryReport {
    try walking(s2, ipa, to: level, forUpdate: false) { walk throws(RMIError) in
      let descriptor: UInt64
      switch walk.entry {
      case .unassigned, .unassignedNS: descriptor = 0
      case .assignedEmpty(let pa), .assignedRAM(let pa), .assignedDestroyed(let pa), .table(let pa): descriptor = pa
      case .assignedNS(let host): descriptor = host
      }
      return RTTEntryReport(level: walk.level, state: walk.entry.hostState, descriptor: descriptor, ripas: walk.entry.ripas)
    }
  }

  /// RTT_MAP_UNPROTECTED: maps the host's `descriptor` at the unassigned NS entry.
  func mapUnprotected(_ s2: Stage2Config, ipa: UInt64, level: Int, descriptor: UInt64) throws(RMIError) {
    try walking(s2, ipa, to: level) { walk throws(RMIError) in
      guard walk.level == level else { throw .rtt(level: walk.level) }
      guard walk.entry == .unassignedNS else { throw .rtt(level: level) }
      try update(&walk, to: .assignedNS(descriptor: descriptor), ipa: ipa, vmid: s2.vmid)
    }
  }

  /// RTT_UNMAP_UNPROTECTED: removes the NS mapping; returns `top`.
  func unmapUnprotected(_ s2: Stage2Config, ipa: UInt64, level: Int) throws(RMIError) -> UInt64 {
    try walking(s2, ipa, to: level, throughEnd: true) { walk throws(RMIError) in
      guard walk.level == level, case .assignedNS = walk.entry else {
        throw RMIError.rtt(level: walk.level).with(top: try nextLiveEntry(after: &walk, ipa: ipa, protected: false))
      }
      try update(&walk, to: .unassignedNS, ipa: ipa, vmid: s2.vmid)
      return try nextLiveEntry(after: &walk, ipa: ipa, protected: false)
    }
  }
}

extension RMIDispatcher {
  /// The realm tables, for the commands that work on them.
  @inline(__always) var tables: StageTwoTables<Environment> { StageTwoTables(environment: environment) }

  @inline(__always) func rewriteRun(_ walk: borrowing RTTWalk, from start: UInt64, below top: UInt64,
                                    _ body: (S2TTE, UInt64) -> S2TTE?) -> UInt64 {
    tables.rewriteRun(walk, from: start, below: top, body)
  }

  // The table helpers, for the commands outside StageTwo/ that walk (DATA, RSI, exits).
  @inline(__always) func walk(_ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int) throws(RMIError) -> RTTWalk {
    try tables.walk(s2, ipa, to: targetLevel)
  }
  @inline(__always) func readEntry(_ table: borrowing LockedGranule, _ index: Int) throws(RMIError) -> UInt64 {
    try tables.readEntry(table, index)
  }
  @inline(__always) func update(_ walk: inout RTTWalk, to newEntry: S2TTE, ipa: UInt64, vmid: UInt16) throws(RMIError) {
    try tables.update(&walk, to: newEntry, ipa: ipa, vmid: vmid)
  }
  @inline(__always) func walking<Result>(
    _ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int, forUpdate: Bool = true, throughEnd: Bool = false,
    _ body: (inout RTTWalk) throws(RMIError) -> Result
  ) throws(RMIError) -> Result {
    try tables.walking(s2, ipa, to: targetLevel, forUpdate: forUpdate, throughEnd: throughEnd, body)
  }
  @inline(__always) func nextLiveEntry(after walk: inout RTTWalk, ipa: UInt64, protected: Bool) throws(RMIError) -> UInt64 {
    try tables.nextLiveEntry(after: &walk, ipa: ipa, protected: protected)
  }
  @inline(__always) func lockRealmPage(_ s2: Stage2Config, ipa: UInt64) -> RealmPage {
    tables.lockRealmPage(s2, ipa: ipa)
  }
}

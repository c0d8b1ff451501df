// Walking a realm's stage-2 tables, hand over hand: the parent table stays locked
// until the child is locked, so no concurrent command can unhook a table under the
// walk. Every entry is read and written through the gate, as the RTT's owner.

import RMMABI

/// Where a walk stopped: the locked table, its level, and the entry for the IPA.
public struct RTTWalk {
  public var table: LockedGranule
  public var level: Int
  public var index: Int
  public var entry: S2TTE
}

/// An internal inconsistency (a corrupt descriptor or table): never expected; the
/// command fails rather than act on it.
let internalError = RMIError.input

extension RMIDispatcher {
  func readEntry(_ table: borrowing LockedGranule, _ index: Int) throws(RMIError) -> UInt64 {
    do throws(GateError) {
      return try environment.gate.reading(table, AccessIntent(.rttRead, .read, expecting: .rtt, offset: UInt16(index * 8), length: 8)) { page in
        page.load64(at: index * 8)
      }
    } catch { throw internalError }
  }

  func writeEntry(_ table: borrowing LockedGranule, _ index: Int, _ value: UInt64) throws(RMIError) {
    do throws(GateError) {
      try environment.gate.writing(table, AccessIntent(.rttWrite, .write, expecting: .rtt, offset: UInt16(index * 8), length: 8)) { page in
        page.store64(value, at: index * 8)
      }
    } catch { throw internalError }
  }

  /// Index of `ipa` in a table at `level`.
  @inline(__always) func tableIndex(_ ipa: UInt64, level: Int) -> Int {
    Int(truncatingIfNeeded: (ipa >> RTTLevel.shift(level)) & 511)
  }

  /// Walks from the root towards `targetLevel` and returns with the last table reached
  /// locked (the caller releases it). Stops early at the first entry that is not a table.
  func walk(_ s2: Stage2Config, _ ipa: UInt64, to targetLevel: Int) throws(RMIError) -> RTTWalk {
    let protected = s2.isProtected(ipa)
    let root = s2.rootEntry(for: ipa)
    guard let rootTable = environment.granules.lock(root.table, expecting: .rtt) else { throw internalError }
    var walk = RTTWalk(table: rootTable, level: s2.startLevel, index: root.index, entry: .unassignedNS)
    while true {
      let raw: UInt64
      do throws(RMIError) { raw = try readEntry(walk.table, walk.index) } catch {
        environment.granules.release(walk.table)
        throw error
      }
      guard let entry = S2TTE.decode(raw, level: walk.level, protected: protected) else {
        environment.granules.release(walk.table)
        throw internalError
      }
      walk.entry = entry
      guard walk.level < targetLevel, case .table(let childPA) = entry else { return walk }
      guard let child = environment.granules.lock(childPA, expecting: .rtt) else {
        environment.granules.release(walk.table)
        throw internalError
      }
      environment.granules.release(walk.table)
      walk.table = child
      walk.level += 1
      walk.index = tableIndex(ipa, level: walk.level)
    }
  }

  /// Changes the entry the walk stopped at, keeping the table's live-entry count and
  /// the TLBs right.
  func update(_ walk: inout RTTWalk, to newEntry: S2TTE, ipa: UInt64, vmid: UInt16) throws(RMIError) {
    try writeEntry(walk.table, walk.index, newEntry.encode(level: walk.level))
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
}

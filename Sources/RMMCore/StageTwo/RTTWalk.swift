// Where a walk of a realm's stage-2 tables stopped (StageTwoTables.walk).

import RMMABI

/// Where a walk stopped: the locked table, its level, and the entry for the IPA. Not
/// copyable: it owns the table's lock, which `finish(in:)` releases.
public struct RTTWalk: ~Copyable {
  public var table: LockedGranule
  public var level: Int
  public var index: Int
  public var entry: S2TTE
  /// The realm's descriptor format, for the entries this walk reads and writes.
  public var format: S2TTEFormat
  /// The entry, mapped writable for the rest of the command when the walk was made to
  /// change it (`StageTwoTables.walking`) and reached its target level; nil otherwise.
  var mapped: MappedEntry? = nil

  /// Releases the table's lock: the walk is over.
  @inline(__always) public consuming func finish<Storage>(in granules: GranuleTable<Storage>) {
    granules.release(table)
  }
}

/// A granule the command has just claimed (delegated, and zeroed then) failed when the
/// command wrote it: an external abort, a fault of the platform, not of the host's
/// arguments nor of the RMM's state. The command undoes what it did and fails. (RMM
/// state found corrupt is never reported to the host: `RMMEnvironment.halt`.)
let accessFailed = RMIError.input

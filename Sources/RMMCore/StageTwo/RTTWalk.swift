// Where a walk of a realm's stage-2 tables stopped (StageTwoTables.walk).

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

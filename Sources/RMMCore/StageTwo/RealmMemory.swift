// The DATA granule behind a realm IPA, for the RSI calls that read or write realm
// memory on the realm's behalf (StageTwoTables.lockRealmPage).

import RMMABI

enum RealmPage: ~Copyable {
  /// Protected RAM backed by this DATA granule, now locked by the caller.
  case data(LockedGranule)
  /// Protected, and a realm access would take a REC exit due to Data Abort (A5.2.9):
  /// RIPAS RAM that the host has not populated yet, or RIPAS DESTROYED.
  case dataAbortToHost
  /// Unprotected, beyond the IPA space, or RIPAS EMPTY.
  case invalid
}

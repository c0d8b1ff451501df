// Finding the DATA granule behind a realm IPA, for the RSI calls that read or write
// realm memory on the realm's behalf.

import RMMABI

enum RealmPage {
  /// Protected RAM backed by this DATA granule, now locked by the caller.
  case data(LockedGranule)
  /// Protected, and a realm access would take a REC exit due to Data Abort (A5.2.9):
  /// RIPAS RAM that the host has not populated yet, or RIPAS DESTROYED.
  case dataAbortToHost
  /// Unprotected, beyond the IPA space, or RIPAS EMPTY.
  case invalid
}

extension RMIDispatcher {
  /// Walks to `ipa` and locks the DATA granule mapping it (RTT before DATA, as the
  /// lock order requires).
  func lockRealmPage(_ s2: Stage2Config, ipa: UInt64) -> RealmPage {
    guard s2.contains(ipa), s2.isProtected(ipa) else { return .invalid }
    let walk: RTTWalk
    do throws(RMIError) { walk = try self.walk(s2, ipa, to: RTTLevel.page) } catch { return .invalid }
    defer { environment.granules.release(walk.table) }
    switch walk.entry {
    case .assignedRAM(let base):
      let pa = base + ((ipa & (RTTLevel.size(walk.level) - 1)) & ~(granuleSize - 1))
      guard let granule = environment.granules.lock(pa, expecting: .data) else { return .invalid }
      return .data(granule)
    case .unassigned(.ram), .unassigned(.destroyed), .assignedDestroyed:
      return .dataAbortToHost
    default:
      return .invalid
    }
  }
}

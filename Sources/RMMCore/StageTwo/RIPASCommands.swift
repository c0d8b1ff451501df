// RMI_RTT_SET_RIPAS: the host completes (part of) a realm's RSI_IPA_STATE_SET request
// that the REC recorded when it exited with RMI_EXIT_RIPAS_CHANGE.

import RMMABI

/// The request a REC is waiting on.
struct RIPASRequest {
  var addr: UInt64
  var top: UInt64
  var value: RIPAS
  var changeDestroyed: Bool
}

extension RMIDispatcher {
  public func rttSetRIPAS(rd: UInt64, rec: UInt64, base: UInt64, top: UInt64) throws(RMIError) -> UInt64 {
    guard base < top else { throw .input }
    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    addresses[0] = rd
    addresses[1] = rec
    var locked = GranuleLockSet()
    guard environment.granules.lockAll(addresses, count: 2, into: &locked) else { throw .input }
    return try environment.granules.holding(locked) { locked throws(RMIError) in
      guard locked.state(of: rd) == .rd, locked.state(of: rec) == .rec else { throw .input }
      guard locked[rec].descriptor.refcount == 0 else { throw .rec }  // running on a CPU
      var owner: UInt64 = 0
      var request = RIPASRequest(addr: 0, top: 0, value: .empty, changeDestroyed: false)
      do throws(GateError) {
        try environment.gate.reading(locked[rec], AccessIntent(.recRead, .read, expecting: .rec)) { page in
          owner = page.load64(at: RECLayout.owner)
          request.addr = page.load64(at: RECLayout.ripasAddr)
          request.top = page.load64(at: RECLayout.ripasTop)
          request.value = RIPAS(rawValue: page.load64(at: RECLayout.ripasValue)) ?? .empty
          request.changeDestroyed = page.load64(at: RECLayout.ripasFlags) & RECLayout.ripasChangeDestroyed != 0
        }
      } catch { environment.halt(.refusedOwnAccess) }
      guard owner == rd else { throw .rec }
      guard base == request.addr, top <= request.top else { throw .input }

      let realm = try loadRealm(locked[rd])
      let s2 = realm.stage2
      return try walking(s2, base & ~(granuleSize - 1), to: RTTLevel.page, forUpdate: false) { walk throws(RMIError) in
        // (The run is rewritten through one mapping of its own: rewriteRun.)
        let level = walk.level
        let entrySize = RTTLevel.size(level)
        // B4.3.21: base_align and no_progress apply only when the entry at base does not
        // already have the requested RIPAS; top_gran_align comes before no_progress.
        let alreadyThere = walk.entry.ripas == request.value && !walk.entry.isTableOrUnprotected
        guard RTTLevel.isAligned(base, to: level) || alreadyThere else { throw .rtt(level: level) }
        guard isGranuleAligned(top) else { throw .input }
        // walk_top: from the entry at base, up to the first table (or DESTROYED entry
        // without the realm's consent), whole entries below top only. One mapping of the
        // table for the whole run of entries (one audited access).
        let tlb = environment.tlb
        let entryStart = rewriteRun(walk, from: base & ~(entrySize - 1), below: top) { entry, ipa in
          guard let changed = Self.ripasChange(entry, to: request.value, changeDestroyed: request.changeDestroyed) else {
            return nil
          }
          // RIPAS changes keep assigned entries assigned and unassigned ones unassigned:
          // reference counts stay; a mapping that stops being valid is invalidated.
          if changed != entry && entry.isValidDescriptor { tlb.invalidate(vmid: s2.vmid, ipa: ipa, level: level) }
          return changed
        }
        guard entryStart > base || alreadyThere else { throw .rtt(level: level) }
        // out_top = Min(top, walk_top); never below base (an unaligned base whose entry
        // reaches past top makes no progress either way).
        let address = max(entryStart, base)
        do throws(GateError) {
          try environment.gate.writing(locked[rec], AccessIntent(.recWrite, .write, expecting: .rec)) { page in
            page.store64(address, at: RECLayout.ripasAddr)
          }
        } catch { environment.halt(.refusedOwnAccess) }
        return address
      }
    }
  }

  /// The entry after changing its RIPAS to `value`, or nil where the walk must stop
  /// (no RIPAS: tables and NS entries; DESTROYED without the realm's consent).
  static func ripasChange(_ entry: S2TTE, to value: RIPAS, changeDestroyed: Bool) -> S2TTE? {
    switch (entry, value) {
    case (.unassigned(.destroyed), _), (.assignedDestroyed, _):
      guard changeDestroyed else { return nil }
      fallthrough
    default:
      break
    }
    switch entry {
    case .unassigned: return .unassigned(value)
    case .assignedEmpty(let pa), .assignedRAM(let pa), .assignedDestroyed(let pa):
      return value == .ram ? .assignedRAM(pa: pa) : .assignedEmpty(pa: pa)
    case .unassignedNS, .assignedNS, .table: return nil
    }
  }
}

// RMI_GRANULE_DELEGATE and RMI_GRANULE_UNDELEGATE.
//
// Both hold the granule's lock across the EL3 call, so two CPUs cannot race on one
// granule, and both leave the granule unchanged when anything fails.

import RMMABI

extension RMIDispatcher {
  public func granuleDelegate(_ pa: UInt64) throws(RMIError) {
    guard var granule = environment.granules.lock(pa) else { throw .input }  // unaligned or not DRAM
    guard granule.state == .undelegated else {
      environment.granules.release(granule)
      throw .input
    }
    guard environment.monitor.gtsiDelegate(pa) == .ok else {
      environment.granules.release(granule)  // EL3 refused (secure, root, realm or RMM memory)
      throw .input
    }
    // Invariant: a DELEGATED granule is all zeros, whatever the host left in it.
    granule.setState(.delegated)
    do throws(GateError) {
      try environment.gate.scrub(granule, AccessIntent(.delegateScrub, .write, expecting: .delegated))
    } catch {
      // No memory behind the PA (the manifest's DRAM bank is larger than the
      // platform's RAM): undo, so that nothing is left half-changed.
      _ = environment.monitor.gtsiUndelegate(pa)
      granule.setState(.undelegated)
      environment.granules.release(granule)
      throw .input
    }
    environment.granules.release(granule)
  }

  public func granuleUndelegate(_ pa: UInt64) throws(RMIError) {
    guard var granule = environment.granules.lock(pa) else { throw .input }
    guard granule.state == .delegated else {  // includes the RMM's own memory (UNDELEGATED here)
      environment.granules.release(granule)
      throw .input
    }
    // gran_content (B4.3.6): a DELEGATED granule is all zeros already (every way into
    // DELEGATED scrubs: delegation, and each object's destruction), so nothing is
    // written here.
    guard environment.monitor.gtsiUndelegate(pa) == .ok else {
      environment.granules.release(granule)  // still DELEGATED, and still zero
      throw .input
    }
    granule.setState(.undelegated)
    environment.granules.release(granule)
  }
}

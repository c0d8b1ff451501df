// PSCI for realms (DEN0022, as the RMM specification adapts it), and
// RMI_PSCI_COMPLETE, with which the host finishes CPU_ON and AFFINITY_INFO.

import RMMABI

extension RMIDispatcher {
  func handlePSCI(_ function: PSCIFunction, _ rec: inout RECView, _ running: inout RunningREC,
                  _ exit: inout RECExit) -> Bool {
    let fid = rec.gpr(0)
    func status(_ s: PSCIStatus) -> UInt64 { UInt64(bitPattern: s.rawValue) }
    switch function {
    case .version:
      rec.finishSMC(psciVersionForRealms.encoded)
      return false

    case .features:
      let asked = rec.gpr(1) & 0xFFFF_FFFF  // PSCI function IDs are 32 bits; X1[63:32] SBZ
      let supported: Bool
      if let f = PSCIFunction(rawValue: asked) { supported = true; _ = f }
      else if let f = PSCIFunction(rawValue: asked & ~PSCIFunction.smc64Bit), f.hasSMC64Form { supported = true }
      else { supported = asked == SMCCCFunction.version.rawValue }
      rec.finishSMC(supported ? 0 : status(.notSupported))
      return false

    case .cpuSuspend:
      // A hint: report it to the host, resume with success.
      exit.reason = .psci
      for i in 0..<4 { exit.setGPR(i, rec.gpr(i)) }
      rec.finishSMC(status(.success))
      return true

    case .cpuOff:
      rec.setField(RECLayout.flags, rec.field(RECLayout.flags) & ~RECLayout.flagRunnable)
      exit.reason = .psci
      exit.setGPR(0, fid)
      rec.finishSMC(status(.success))
      return true

    case .cpuOn, .affinityInfo:
      let target = rec.gpr(1)
      // MpidrIsUsed: the MPIDR names a REC of this realm that exists now (the RD's
      // live-REC bitmap; a destroyed REC's index is clear there).
      let targetValid = target & ~RECParameters.mpidrValidBits == 0
        && recExists(index: RECParameters.index(ofMPIDR: target), rd: running.rd)
      if function == .affinityInfo {
        // lowest_affinity_level is 32 bits (X2[63:32] SBZ, ignored).
        guard rec.gpr(2) & 0xFFFF_FFFF == 0, targetValid else { rec.finishSMC(status(.invalidParameters)); return false }
        // The caller is running: ON, without asking the host (B6.3.1).
        guard target != rec.field(RECLayout.mpidr) else { rec.finishSMC(status(.success)); return false }
      } else {
        guard targetValid else { rec.finishSMC(status(.invalidParameters)); return false }
        guard target != rec.field(RECLayout.mpidr) else { rec.finishSMC(status(.alreadyOn)); return false }
        let entry = rec.gpr(2)
        guard running.realm.stage2.isProtected(entry) else { rec.finishSMC(status(.invalidAddress)); return false }
        rec.setField(RECLayout.psciEntry, entry)
        rec.setField(RECLayout.psciContext, rec.gpr(3))
      }
      rec.setField(RECLayout.psciFID, fid)
      rec.setField(RECLayout.psciTarget, target | RECLayout.psciPendingBit)
      rec.setField(RECLayout.pending, PendingExit.psci.rawValue)
      exit.reason = .psci
      exit.setGPR(0, fid)
      exit.setGPR(1, target)
      exit.setGPR(2, rec.gpr(2))  // A4.3.3: the call's arguments (entry point / lowest level)
      exit.setGPR(3, function == .cpuOn ? rec.gpr(3) : 0)  // context id
      return true

    case .systemOff, .systemReset:
      if var rd = environment.granules.lock(running.rd, expecting: .rd) {
        // One mapping of the RD: its state word alone changes (a well-formed RD: REC_ENTER
        // checked it at entry, under the REC's claim).
        _ = try? environment.gate.writing(rd, AccessIntent(.rdWrite, .write, expecting: .rd)) { page in
          if var realm = RealmDescriptor.load(from: page) {
            realm.state = .systemOff
            realm.store(to: &page)
          }
        }
        rd.setState(.rd)
        environment.granules.release(rd)
      }
      exit.reason = .psci
      exit.setGPR(0, fid)
      rec.advancePC()
      return true
    }
  }

  /// RMI_PSCI_COMPLETE(calling REC, target REC, PSCI status from the host).
  public func psciComplete(caller: UInt64, target: UInt64, status: UInt64) throws(RMIError) {
    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    addresses[0] = caller
    addresses[1] = target
    var locked = GranuleLockSet()
    guard environment.granules.lockAll(addresses, count: 2, into: &locked) else { throw .input }
    return try environment.granules.holding(locked) { locked throws(RMIError) in
      guard locked.state(of: caller) == .rec, locked.state(of: target) == .rec else { throw .input }
      // B4.3.7 has no REC_RUNNING condition. A running caller has nothing the host may
      // complete yet (its REC_ENTER has not returned): `pending`. A running target is
      // only read (it is runnable, so CPU_ON answers ALREADY_ON, AFFINITY_INFO ON).
      let request = locked[caller].descriptor.refcount == 0 ? recLoad(locked[caller], RECLayout.psciTarget) : 0
      guard request & RECLayout.psciPendingBit != 0 else { throw .input }  // nothing to complete
      guard recLoad(locked[caller], RECLayout.owner) == recLoad(locked[target], RECLayout.owner) else { throw .input }
      let targetMPIDR = request & ~RECLayout.psciPendingBit
      guard recLoad(locked[target], RECLayout.mpidr) == targetMPIDR else { throw .input }
      let fid = recLoad(locked[caller], RECLayout.psciFID)
      let isCPUOn = fid == PSCIFunction.cpuOn.rawValue || fid == PSCIFunction.cpuOn.smc64
      let success = UInt64(bitPattern: PSCIStatus.success.rawValue)
      let denied = UInt64(bitPattern: PSCIStatus.denied.rawValue)
      let targetRunnable = recLoad(locked[target], RECLayout.flags) & RECLayout.flagRunnable != 0
      // PsciReturnCodePermitted (B3.27): SUCCESS always; DENIED only for a CPU_ON whose
      // target is not already on; nothing else.
      guard status == success || (isCPUOn && !targetRunnable && status == denied) else { throw .input }
      let result: UInt64
      if isCPUOn {
        if status != success {
          result = status
        } else if targetRunnable {
          result = UInt64(bitPattern: PSCIStatus.alreadyOn.rawValue)
        } else {
          // The target starts at the requested entry point with the context in x0.
          let entry = recLoad(locked[caller], RECLayout.psciEntry)
          let context = recLoad(locked[caller], RECLayout.psciContext)
          _ = try? environment.gate.writing(locked[target], AccessIntent(.recWrite, .write, expecting: .rec)) { page in
            for i in 0..<31 { page.store64(0, at: RECLayout.context + RECContextLayout.gprs + 8 * i) }
            page.store64(context, at: RECLayout.context + RECContextLayout.gprs)
            page.store64(entry, at: RECLayout.context + RECContextLayout.elr)
            page.store64(RECSystemRegisters.initialPSTATE, at: RECLayout.context + RECContextLayout.spsr)
            page.store64(RECSystemRegisters.sctlrReset, at: RECLayout.el1 + 8 * RECSystemRegisters.sctlr)
            page.store64(page.load64(at: RECLayout.flags) | RECLayout.flagRunnable, at: RECLayout.flags)
          }
          result = success
        }
      } else {
        result = targetRunnable ? 0 : 1  // AFFINITY_INFO: ON or OFF
      }
      _ = try? environment.gate.writing(locked[caller], AccessIntent(.recWrite, .write, expecting: .rec)) { page in
        page.finishSMC(result, 0, 0)  // success condition `args`: x1-x3 of the caller are zero
        page.setGPR(3, 0)
        page.setField(RECLayout.psciTarget, 0)
        page.setField(RECLayout.pending, PendingExit.none.rawValue)
      }
    }
  }
}

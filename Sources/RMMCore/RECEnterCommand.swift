// RMI_REC_ENTER: run a REC until something needs the host, and report why.
//
// The REC is marked running (refcount 1 on its granule) for the whole call, so no
// other CPU can enter, destroy or change it; its lock is not held while the realm
// runs. Calls the RMM can finish itself (most RSI calls, PSCI_VERSION, ...) return
// straight to the realm without leaving REC_ENTER.

import RMMABI

/// A running REC: the handle the gate accepts for its granule, and its realm.
struct RunningREC {
  var handle: LockedGranule
  var rd: UInt64
  var realm: RealmDescriptor
}

extension RMIDispatcher {
  // ---- REC granule access ----------------------------------------------------------

  func recLoad(_ rec: borrowing LockedGranule, _ offset: Int) -> UInt64 {
    (try? environment.gate.withRealmGranule(rec, AccessIntent(.recRead, .read, expecting: .rec)) { page in
      page.load64(at: offset)
    }) ?? 0
  }

  func recStore(_ rec: borrowing LockedGranule, _ offset: Int, _ value: UInt64) {
    _ = try? environment.gate.withRealmGranule(rec, AccessIntent(.recWrite, .write, expecting: .rec)) { page in
      page.store64(value, at: offset)
    }
  }

  func gpr(_ rec: borrowing LockedGranule, _ n: Int) -> UInt64 {
    recLoad(rec, RECLayout.context + RECContextLayout.gprs + 8 * n)
  }

  func setGPR(_ rec: borrowing LockedGranule, _ n: Int, _ value: UInt64) {
    recStore(rec, RECLayout.context + RECContextLayout.gprs + 8 * n, value)
  }

  func advancePC(_ rec: borrowing LockedGranule) {
    let elr = RECLayout.context + RECContextLayout.elr
    recStore(rec, elr, recLoad(rec, elr) &+ 4)
  }

  /// Makes the realm take an exception at EL1 (SEA or Undefined): ESR/FAR/ELR/SPSR of
  /// EL1 set as the architecture would, PC to the EL1 vector.
  func injectException(_ rec: borrowing LockedGranule, esr: UInt64, far: UInt64) {
    _ = try? environment.gate.withRealmGranule(rec, AccessIntent(.recWrite, .write, expecting: .rec)) { page in
      let context = RECLayout.context
      let el1 = RECLayout.el1
      let pc = page.load64(at: context + RECContextLayout.elr)
      let pstate = page.load64(at: context + RECContextLayout.spsr)
      let fromEL0 = pstate & 0xF == 0
      let vector = page.load64(at: el1 + 8 * RECSystemRegisters.vbar) + (fromEL0 ? 0x400 : 0x200)
      page.store64(esr, at: el1 + 8 * RECSystemRegisters.esrEL1)
      page.store64(far, at: el1 + 8 * RECSystemRegisters.farEL1)
      page.store64(pc, at: el1 + 8 * RECSystemRegisters.elrEL1)
      page.store64(pstate, at: el1 + 8 * RECSystemRegisters.spsrEL1)
      page.store64(vector, at: context + RECContextLayout.elr)
      page.store64(RECSystemRegisters.initialPSTATE, at: context + RECContextLayout.spsr)
    }
  }

  func injectUndefined(_ rec: borrowing LockedGranule) {
    injectException(rec, esr: 1 << 25, far: 0)  // EC 0 (unknown reason), IL
  }

  /// A synchronous external abort on a data access: EC 0x25 (same EL) or 0x24 (from EL0).
  func injectDataAbort(_ rec: borrowing LockedGranule, far: UInt64) {
    let fromEL0 = recLoad(rec, RECLayout.context + RECContextLayout.spsr) & 0xF == 0
    injectException(rec, esr: (fromEL0 ? 0x24 : 0x25) << 26 | 1 << 25 | 0x10, far: far)
  }

  // ---- the command -------------------------------------------------------------------

  public func recEnter(rec: UInt64, runPA: UInt64) throws(RMIError) {
    var runPage = PageBuffer()
    do throws(GateError) {
      guard isGranuleAligned(runPA) else { throw .notDRAM }
      try environment.gate.copyFromNonSecure(runPA, AccessIntent(.recRunEnter, .read, expecting: .undelegated, length: 0x400),
                                             into: &runPage)
    } catch { throw .input }
    let enter = RECEnter(copyOf: runPage)

    // Claim the REC: running from here until the end of the call.
    guard var claim = environment.granules.lock(rec, expecting: .rec) else { throw .input }
    guard claim.descriptor.refcount == 0 else {
      environment.granules.release(claim)
      throw .rec
    }
    claim.descriptor = GranuleDescriptor(state: .rec, refcount: 1)
    environment.granules.release(claim)
    defer {
      if var release = environment.granules.lock(rec) {
        release.descriptor = GranuleDescriptor(state: .rec, refcount: 0)
        environment.granules.release(release)
      }
    }
    let handle = claim  // the running REC's capability for the gate

    let owner = recLoad(handle, RECLayout.owner)
    guard let rdGranule = environment.granules.lock(owner, expecting: .rd) else { throw internalError }
    let realm: RealmDescriptor
    do throws(RMIError) { realm = try loadRealm(rdGranule) } catch {
      environment.granules.release(rdGranule)
      throw error
    }
    environment.granules.release(rdGranule)
    guard realm.state != .new else { throw .realm(index: 0) }
    guard realm.state != .systemOff else { throw .realm(index: 1) }

    // The REC must be able to run, and the flags must fit what its last exit left.
    let flags = enter.flags
    let pending = PendingExit(rawValue: recLoad(handle, RECLayout.pending)) ?? .none
    guard recLoad(handle, RECLayout.flags) & RECLayout.flagRunnable != 0 else { throw .rec }
    guard recLoad(handle, RECLayout.psciTarget) & RECLayout.psciPendingBit == 0 else { throw .rec }
    guard flags & ~RECEnter.knownFlags == 0 else { throw .rec }
    let emulate = flags & RecRunLayout.flagEmulatedMMIO != 0
    let injectSEA = flags & RecRunLayout.flagInjectSEA != 0
    guard !(emulate && injectSEA) else { throw .rec }
    guard !emulate || pending == .emulatableMMIO else { throw .rec }
    guard !injectSEA || pending == .emulatableMMIO || pending == .unprotectedAbort else { throw .rec }
    guard enter.gicIsValid(listRegisters: environment.cpu.listRegisterCount) else { throw .rec }

    var running = RunningREC(handle: handle, rd: owner, realm: realm)
    completePendingExit(&running, pending, enter)

    let control = RECEntryControl(stage2: realm.stage2, trapWFI: flags & RecRunLayout.flagTrapWFI != 0,
                                  trapWFE: flags & RecRunLayout.flagTrapWFE != 0,
                                  gicHCR: enter.gicHCR, gicLRs: enter.gicLRs)
    var exit = RECExit()
    var done = false
    while !done {
      let syndrome = environment.cpu.run(handle, control)
      done = handleExit(&running, syndrome, &exit)
      if !done && environment.cpu.interruptPending {
        // A physical interrupt for the host arrived while the RMM served the realm.
        exit = RECExit()
        exit.reason = .irq
        done = true
      }
      exit.gicHCR = syndrome.gicHCR
      exit.gicLRs = syndrome.gicLRs
      exit.gicMISR = syndrome.gicMISR
      exit.gicVMCR = syndrome.gicVMCR
      exit.cntvCTL = syndrome.cntvCTL
      exit.cntvCVAL = syndrome.cntvCVAL
      exit.cntpCTL = syndrome.cntpCTL
      exit.cntpCVAL = syndrome.cntpCVAL
    }
    var exitPage = PageBuffer()
    exit.store(to: &exitPage)
    do throws(GateError) {
      try environment.gate.copyToNonSecure(runPA, offset: RecRunLayout.exit,
                                           AccessIntent(.recRunExit, .write, expecting: .undelegated, length: 0x800),
                                           from: &exitPage)
    } catch { throw .input }
  }

  /// Finishes what the previous exit left open, with the host's answer in `enter`.
  func completePendingExit(_ running: inout RunningREC, _ pending: PendingExit, _ enter: RECEnter) {
    let rec = running.handle
    switch pending {
    case .none, .psci:
      break
    case .hostCall:
      // The host's results go back into the realm's RsiHostCall structure.
      let ipa = recLoad(rec, RECLayout.pendingIPA)
      if case .data(let page) = lockRealmPage(running.realm.stage2, ipa: ipa) {
        let offset = Int(ipa & (granuleSize - 1))
        _ = try? environment.gate.withRealmGranule(page, AccessIntent(.rsiHostCallWrite, .write, expecting: .data, length: 0x100)) { p in
          for i in 0..<31 { p.store64(enter.gprs[i], at: offset + RSIHostCallLayout.gprs + 8 * i) }
        }
        environment.granules.release(page)
      }
      setGPR(rec, 0, RSIStatus.success.rawValue)
      advancePC(rec)
    case .emulatableMMIO:
      let esr = recLoad(rec, RECLayout.pendingESR)
      if enter.flags & RecRunLayout.flagEmulatedMMIO != 0 {
        let isWrite = esr & (1 << 6) != 0
        let register = Int((esr >> 16) & 0x1F)
        if !isWrite && register != 31 {
          let size = (esr >> 22) & 0x3
          var value = enter.gprs[0]
          if size < 3 { value &= (1 << (8 << size)) - 1 }
          setGPR(rec, register, value)
        }
        advancePC(rec)
      } else if enter.flags & RecRunLayout.flagInjectSEA != 0 {
        injectDataAbort(rec, far: recLoad(rec, RECLayout.pendingIPA))
      }
    case .unprotectedAbort:
      if enter.flags & RecRunLayout.flagInjectSEA != 0 {
        injectDataAbort(rec, far: recLoad(rec, RECLayout.pendingIPA))
      }
    case .ripasChange:
      let reject = enter.flags & RecRunLayout.flagRIPASResponseReject != 0
      let base = reject ? recLoad(rec, RECLayout.pendingIPA) : recLoad(rec, RECLayout.ripasAddr)
      setGPR(rec, 0, RSIStatus.success.rawValue)
      setGPR(rec, 1, base)
      setGPR(rec, 2, reject ? RSIResponse.reject : RSIResponse.accept)
      recStore(rec, RECLayout.ripasAddr, 0)
      recStore(rec, RECLayout.ripasTop, 0)
      advancePC(rec)
    }
    recStore(rec, RECLayout.pending, PendingExit.none.rawValue)
  }
}

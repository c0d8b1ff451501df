// What a REC exit means: handled inside the RMM (return false: re-enter the realm),
// or reported to the host in a sanitised RmiRecExit (return true).

import RMMABI

extension RMIDispatcher {
  /// Only dispatches: every exit with work of its own has its own function, so that the
  /// path of the calls the RMM finishes itself (RSI_VERSION, ...) keeps no frame.
  func handleExit(_ rec: inout RECView, _ running: inout RunningREC, _ s: RealmExitSyndrome,
                  _ exit: inout RECExit) -> Bool {
    switch s.kind {
    case .sync:
      break
    case .irq:
      exit.reason = .irq
      return true
    case .fiq:
      exit.reason = .fiq
      return true
    case .serror:
      exit.reason = .serror
      exit.esr = SanitisedSyndrome.serror(s.esr)
      return true
    }
    switch s.esr >> 26 {
    case 0x17:  // SMC64 trapped by HCR_EL2.TSC: RSI, PSCI, SMCCC
      return handleRealmSMC(&rec, &running, &exit)
    case 0x13:  // SMC32
      rec.finishSMC(smcUnknown)
      return false
    case 0x16, 0x12:  // HVC: realms have no hypervisor calls; Undefined at the HVC itself
      return handleRealmHVC(&rec)
    case 0x18:  // MSR/MRS trapped: ID registers (TID3), debug (TDA/TDOSA/TDRA), GIC SGIs, PMU, ...
      return handleSystemRegisterTrap(&rec, esr: s.esr, &exit)
    case 0x01:  // WFI/WFE trapped at the host's request
      return handleWFx(&rec, esr: s.esr, &exit)
    case 0x24:
      return handleRealmAbort(&rec, &running, s, &exit, instruction: false)
    case 0x20:
      return handleRealmAbort(&rec, &running, s, &exit, instruction: true)
    default:
      return handleUnknownExit(&rec)
    }
  }

  @inline(never)
  func handleRealmHVC(_ rec: inout RECView) -> Bool {
    rec.pc &-= 4
    injectUndefined(&rec)
    return false
  }

  @inline(never)
  func handleUnknownExit(_ rec: inout RECView) -> Bool {
    injectUndefined(&rec)
    return false
  }

  @inline(never)
  func handleSystemRegisterTrap(_ rec: inout RECView, esr: UInt64, _ exit: inout RECExit) -> Bool {
    switch SystemRegisterTraps.action(esr: esr, hardware: environment.cpu.hardwareIDRegisters,
                                      realm: rec.realmFeatures) {
    case .read(let value):
      let register = Int((esr >> 5) & 0x1F)
      if register != 31 { rec.setGPR(register, value) }
      rec.advancePC()
    case .ignoreWrite:
      rec.advancePC()
    case .undefined:
      injectUndefined(&rec)
    case .exitToHost:
      let register = Int((esr >> 5) & 0x1F)
      exit.reason = .sync
      exit.esr = SanitisedSyndrome.systemRegisterWrite(esr)
      exit.setGPR(0, register == 31 ? 0 : rec.gpr(register))
      rec.advancePC()
      return true
    }
    return false
  }

  @inline(never)
  func handleWFx(_ rec: inout RECView, esr: UInt64, _ exit: inout RECExit) -> Bool {
    exit.reason = .sync
    exit.esr = SanitisedSyndrome.wfx(esr)
    if esr & 0x2 != 0, esr & (1 << 2) != 0 {  // WFIT/WFET: the timeout register (RV, RN)
      let register = Int((esr >> 5) & 0x1F)
      exit.setGPR(0, register == 31 ? 0 : rec.gpr(register))
    }
    rec.advancePC()
    return true
  }

  /// A stage-2 abort. Unprotected IPA: the host emulates (MMIO) or maps; an
  /// instruction fetch there gets an SEA. Protected: RIPAS EMPTY gets an SEA from the
  /// RMM; unpopulated RAM and DESTROYED go to the host (A5.2.9).
  @inline(never)
  func handleRealmAbort(_ rec: inout RECView, _ running: inout RunningREC, _ s: RealmExitSyndrome,
                        _ exit: inout RECExit, instruction: Bool) -> Bool {
    let ipa = s.faultIPA
    let s2 = running.realm.stage2
    func injectSEA() -> Bool {
      if instruction { injectInstructionAbort(&rec, far: s.far) } else { injectDataAbort(&rec, far: s.far) }
      return false
    }
    guard s2.contains(ipa) else { return injectSEA() }
    if !s2.isProtected(ipa) {
      guard !instruction else { return injectSEA() }  // never executable
      exit.reason = .sync
      exit.hpfar = s.hpfar
      rec.setField(RECLayout.pendingIPA, s.far)
      if s.esr & ESR.isv != 0 {  // an emulatable single load or store
        // SRT and SSE stay private (the RMM completes the load); FAR to the page offset.
        exit.esr = SanitisedSyndrome.dataAbort(s.esr, emulatable: true, unprotected: true)
        exit.far = s.far & 0xFFF
        if s.esr & ESR.wnr != 0 {  // a write: the host needs the value
          let register = Int((s.esr >> 16) & 0x1F)
          var value = register == 31 ? 0 : rec.gpr(register)
          let size = (s.esr >> 22) & 0x3
          if size < 3 { value &= (1 << (8 << size)) - 1 }
          exit.setGPR(0, value)
        }
        rec.setField(RECLayout.pendingESR, s.esr)
        rec.setField(RECLayout.pending, PendingExit.emulatableMMIO.rawValue)
      } else {
        exit.esr = SanitisedSyndrome.dataAbort(s.esr, emulatable: false, unprotected: true)
        rec.setField(RECLayout.pending, PendingExit.unprotectedAbort.rawValue)
      }
      return true
    }
    switch ripas(of: s2, ipa: ipa) {
    case .empty:
      return injectSEA()
    case .ram?, .destroyed?:
      if isMapped(s2, ipa: ipa) { return false }  // populated meanwhile: just retry
      // Protected: no ISV, WnR, IL or address offset.
      exit.reason = .sync
      exit.esr = instruction ? SanitisedSyndrome.instructionAbort(s.esr)
        : SanitisedSyndrome.dataAbort(s.esr, emulatable: false, unprotected: false)
      exit.hpfar = s.hpfar
      exit.far = 0
      return true
    case nil:
      return injectSEA()
    }
  }

  func ripas(of s2: Stage2Config, ipa: UInt64) -> RIPAS? {
    guard let walk = try? self.walk(s2, ipa & ~(granuleSize - 1), to: RTTLevel.page) else { return nil }
    environment.granules.release(walk.table)
    return walk.entry.ripas
  }

  func isMapped(_ s2: Stage2Config, ipa: UInt64) -> Bool {
    guard let walk = try? self.walk(s2, ipa & ~(granuleSize - 1), to: RTTLevel.page) else { return false }
    environment.granules.release(walk.table)
    if case .assignedRAM = walk.entry { return true }
    return false
  }

  /// The exit a realm access to unpopulated RAM takes: a synthesised stage-2
  /// translation fault at level 3 on `ipa`, so the host populates the page and the
  /// RSI call is re-executed.
  func unpopulatedAbortExit(ipa: UInt64, _ exit: inout RECExit) -> Bool {
    exit.reason = .sync
    exit.esr = 0x24 << 26 | 0x07
    exit.hpfar = (ipa >> 12) << 4
    exit.far = 0
    return true
  }
}

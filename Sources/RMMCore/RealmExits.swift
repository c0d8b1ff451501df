// What a REC exit means: handled inside the RMM (return false: re-enter the realm),
// or reported to the host in a sanitised RmiRecExit (return true).

import RMMABI

extension RMIDispatcher {
  /// SError syndrome for the host: EC and IL, then either IDS alone (the rest of an
  /// IMPLEMENTATION DEFINED syndrome may carry anything) or the architected fields
  /// IESB, AET, EA and DFSC; nothing else of the realm's state.
  static func sanitisedSErrorSyndrome(_ esr: UInt64) -> UInt64 {
    let ecAndIL: UInt64 = 0xFE00_0000
    let ids: UInt64 = 1 << 24
    if esr & ids != 0 { return esr & (ecAndIL | ids) }
    let iesb: UInt64 = 1 << 13, aet: UInt64 = 0x7 << 10, ea: UInt64 = 1 << 9, dfsc: UInt64 = 0x3F
    return esr & (ecAndIL | iesb | aet | ea | dfsc)
  }

  func handleExit(_ rec: inout Environment.CPU.RECPage, _ running: inout RunningREC, _ s: RealmExitSyndrome,
                  _ exit: inout RECExit) -> Bool {
    switch s.kind {
    case .irq:
      exit.reason = .irq
      return true
    case .fiq:
      exit.reason = .fiq
      return true
    case .serror:
      exit.reason = .serror
      exit.esr = Self.sanitisedSErrorSyndrome(s.esr)
      return true
    case .sync:
      break
    }
    switch s.esr >> 26 {
    case 0x17:  // SMC64 trapped by HCR_EL2.TSC: RSI, PSCI, SMCCC
      return handleRealmSMC(&rec, &running, &exit)
    case 0x13:  // SMC32
      rec.finishSMC(smcUnknown)
      return false
    case 0x16, 0x12:  // HVC: realms have no hypervisor calls; Undefined at the HVC itself
      rec.pc &-= 4
      injectUndefined(&rec)
      return false
    case 0x01:  // WFI/WFE trapped at the host's request
      exit.reason = .sync
      exit.esr = s.esr & (0xFC00_0000 | 1 << 25 | 0x3)  // EC, IL, TI
      rec.advancePC()
      return true
    case 0x24:
      return handleRealmAbort(&rec, &running, s, &exit, instruction: false)
    case 0x20:
      return handleRealmAbort(&rec, &running, s, &exit, instruction: true)
    default:
      injectUndefined(&rec)
      return false
    }
  }

  /// A stage-2 abort. Unprotected IPA: the host emulates (MMIO) or maps. Protected:
  /// RIPAS EMPTY gets an SEA from the RMM; unpopulated RAM and DESTROYED go to the host.
  func handleRealmAbort(_ rec: inout Environment.CPU.RECPage, _ running: inout RunningREC, _ s: RealmExitSyndrome,
                        _ exit: inout RECExit, instruction: Bool) -> Bool {
    let ipa = s.faultIPA
    let s2 = running.realm.stage2
    let ec = s.esr >> 26
    let dfsc = s.esr & 0x3F
    guard s2.contains(ipa) else {
      injectDataAbort(&rec, far: s.far)
      return false
    }
    if !s2.isProtected(ipa) {
      guard !instruction else {  // never executable
        injectDataAbort(&rec, far: s.far)
        return false
      }
      exit.reason = .sync
      exit.hpfar = s.hpfar
      rec.setField(RECLayout.pendingIPA, s.far)
      if s.esr & (1 << 24) != 0 {  // ISV: an emulatable single load or store
        // EC, IL, ISV, SAS, SF, WnR, DFSC; SRT stays private, FAR to the page offset.
        exit.esr = ec << 26 | 1 << 25 | (s.esr & (1 << 24 | 0x3 << 22 | 1 << 15 | 1 << 6 | 0x3F))
        exit.far = s.far & 0xFFF
        if s.esr & (1 << 6) != 0 {  // a write: the host needs the value
          let register = Int((s.esr >> 16) & 0x1F)
          var value = register == 31 ? 0 : rec.gpr(register)
          let size = (s.esr >> 22) & 0x3
          if size < 3 { value &= (1 << (8 << size)) - 1 }
          exit.gprs[0] = value
        }
        rec.setField(RECLayout.pendingESR, s.esr)
        rec.setField(RECLayout.pending, PendingExit.emulatableMMIO.rawValue)
      } else {
        exit.esr = ec << 26 | 1 << 25 | (s.esr & (1 << 6 | 0x3F))
        rec.setField(RECLayout.pending, PendingExit.unprotectedAbort.rawValue)
      }
      return true
    }
    switch ripas(of: s2, ipa: ipa) {
    case .empty:
      injectDataAbort(&rec, far: s.far)
      return false
    case .ram?, .destroyed?:
      if isMapped(s2, ipa: ipa) { return false }  // populated meanwhile: just retry
      // Protected: only the class and fault status; no ISV, no WnR, no address offset.
      exit.reason = .sync
      exit.esr = ec << 26 | 1 << 25 | dfsc
      exit.hpfar = s.hpfar
      exit.far = 0
      return true
    case nil:
      injectDataAbort(&rec, far: s.far)
      return false
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
    exit.esr = 0x24 << 26 | 1 << 25 | 0x07
    exit.hpfar = (ipa >> 12) << 4
    exit.far = 0
    return true
  }
}

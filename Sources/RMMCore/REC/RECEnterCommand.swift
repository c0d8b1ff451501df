// RMI_REC_ENTER: run a REC until something needs the host, and report why.
//
// The REC is marked running (refcount 1 on its granule) for the whole call, so no
// other CPU can enter, destroy or change it; its lock is not held while the realm
// runs. Calls the RMM can finish itself (most RSI calls, PSCI_VERSION, ...) go
// straight back into the realm without leaving REC_ENTER, and without saving and
// reloading the REC's EL1 state.

import RMMABI

/// The aux granules that hold an SVE realm's registers (after the attestation
/// workspace), read from the REC at entry; nil for a realm without SVE.
struct SVEAuxGranules {
  /// At the largest vector length (2048 bits) the registers take 8,736 bytes.
  static let maximum = 3
  var granules: InlineArray<3, UInt64> = .init(repeating: 0)
  var count: Int
  var vectorLength: UInt64

  init(_ rec: borrowing RECView, vectorLength length: UInt64) {
    count = RealmFeatures(sveVectorLength: length).sveAuxGranules
    vectorLength = length
    let recorded = rec.field(RECLayout.auxCount)  // REC_CREATE checked it against the realm
    precondition(count <= Self.maximum && UInt64(attestationAuxGranules + count) <= recorded)
    for i in 0..<count { granules[i] = rec.field(RECLayout.aux + 8 * (attestationAuxGranules + i)) }
  }
}

/// The realm a REC_ENTER runs, as read at entry.
struct RunningREC {
  var rd: UInt64
  var realm: RunningRealm
}

// ---- the REC's registers and fields, in its mapped granule ---------------------------

extension WritablePage {
  @inline(__always) func field(_ offset: Int) -> UInt64 { load64(at: offset) }
  @inline(__always) mutating func setField(_ offset: Int, _ value: UInt64) { store64(value, at: offset) }
  @inline(__always) func gpr(_ n: Int) -> UInt64 { load64(at: RECLayout.context + RECContextLayout.gprs + 8 * n) }
  @inline(__always) mutating func setGPR(_ n: Int, _ value: UInt64) {
    store64(value, at: RECLayout.context + RECContextLayout.gprs + 8 * n)
  }
  public var pc: UInt64 {
    get { load64(at: RECLayout.context + RECContextLayout.elr) }
    set { store64(newValue, at: RECLayout.context + RECContextLayout.elr) }
  }
  mutating func advancePC() { pc &+= 4 }

  /// What REALM_CREATE gave the REC's realm, as REC_CREATE copied it into the REC.
  public var realmFeatures: RealmFeatures {
    RealmFeatures(breakpoints: field(RECLayout.breakpoints), watchpoints: field(RECLayout.watchpoints),
                  sveVectorLength: RealmDescriptor.optionalFeature(field(RECLayout.sveVectorLength)),
                  pmuCounters: RealmDescriptor.optionalFeature(field(RECLayout.pmuCounters)))
  }

  /// Results into x0..., PC past the SMC (trapped SMCs leave ELR at the SMC itself).
  mutating func finishSMC(_ x0: UInt64, _ x1: UInt64? = nil, _ x2: UInt64? = nil) {
    setGPR(0, x0)
    if let x1 { setGPR(1, x1) }
    if let x2 { setGPR(2, x2) }
    advancePC()
  }

}

extension RMIDispatcher {
  func injectUndefined(_ rec: inout RECView) {
    environment.cpu.injectException(&rec, esr: 1 << 25, far: 0)  // EC 0 (unknown reason), IL
  }

  /// What an emulated load writes to its register (A4.4): the host's value cut to the
  /// access size (SAS), sign-extended when the load was signed (SSE; the RMM's job, the
  /// host never sees SSE), and cut to 32 bits for a W register (SF = 0).
  static func emulatedLoadValue(_ hostValue: UInt64, esr: UInt64) -> UInt64 {
    let bits = UInt64(8) << ((esr & ESR.sas) >> 22)
    var value = hostValue
    if bits < 64 {
      value &= (1 << bits) - 1
      if esr & ESR.sse != 0, value & (1 << (bits - 1)) != 0 { value |= ~((1 << bits) - 1) }
    }
    if esr & ESR.sf == 0 { value &= 0xFFFF_FFFF }
    return value
  }

  /// A synchronous external abort (A5.2.7: ESR_EL1.EA is 1) on a data access: EC 0x25
  /// (same EL) or 0x24 (from EL0), IL, EA, DFSC 0x10.
  func injectDataAbort(_ rec: inout RECView, far: UInt64) {
    let fromEL0 = rec.load64(at: RECLayout.context + RECContextLayout.spsr) & 0xF == 0
    environment.cpu.injectException(&rec, esr: (fromEL0 ? 0x24 : 0x25) << 26 | 1 << 25 | 1 << 9 | 0x10, far: far)
  }

  /// The same on an instruction fetch: EC 0x21 (same EL) or 0x20 (from EL0), IL, EA,
  /// IFSC 0x10.
  func injectInstructionAbort(_ rec: inout RECView, far: UInt64) {
    let fromEL0 = rec.load64(at: RECLayout.context + RECContextLayout.spsr) & 0xF == 0
    environment.cpu.injectException(&rec, esr: (fromEL0 ? 0x20 : 0x21) << 26 | 1 << 25 | 1 << 9 | 0x10, far: far)
  }

  /// REC fields through the gate, for RMI commands on RECs that are not running.
  func recLoad(_ rec: borrowing LockedGranule, _ offset: Int) -> UInt64 {
    (try? environment.gate.reading(rec, AccessIntent(.recRead, .read, expecting: .rec)) { page in
      page.load64(at: offset)
    }) ?? 0
  }

  func recStore(_ rec: borrowing LockedGranule, _ offset: Int, _ value: UInt64) {
    _ = try? environment.gate.writing(rec, AccessIntent(.recWrite, .write, expecting: .rec)) { page in
      page.store64(value, at: offset)
    }
  }

  // ---- the command -------------------------------------------------------------------

  public func recEnter(rec: UInt64, runPA: UInt64) throws(RMIError) {
    // The `enter` fields, copied once from the host's page straight into `enter`.
    var enter = RECEnter()
    do throws(GateError) {
      guard isGranuleAligned(runPA), environment.granules.state(of: runPA) == .undelegated else { throw .notDRAM }
      try environment.gate.copyFromNonSecure(
        runPA, AccessIntent(.recRunEnter, .read, expecting: .undelegated, length: UInt16(RECEnter.copiedBytes)),
        into: &enter.words)
    } catch { throw .input }

    // Claim the REC: running from here until the end of the call.
    let claim = try RECRunClaim(rec, in: environment.granules)
    var exit = RECExit()
    let outcome: RMIError?
    do throws(GateError) {
      outcome = try environment.gate.writingRunningREC(claim) { page in
        do throws(RMIError) {
          try runREC(&page, &enter, &exit)
          return nil
        } catch { return error }
      }
    } catch {
      claim.end(in: environment.granules)
      environment.halt(.refusedOwnAccess)
    }
    claim.end(in: environment.granules)
    if let outcome { throw outcome }

    do throws(GateError) {
      try environment.gate.copyToNonSecure(runPA, AccessIntent(.recRunExit, .write, expecting: .undelegated,
                                                               offset: UInt16(RecRunLayout.exit), length: 0x800),
                                           from: &exit.words)
    } catch { throw .input }
  }

  /// Everything REC_ENTER does while the REC's granule is mapped.
  func runREC(_ page: inout RECView, _ enter: inout RECEnter, _ exit: inout RECExit) throws(RMIError) {
    let owner = page.field(RECLayout.owner)
    environment.gate.noteCall(function: RMICommand.recEnter.rawValue, realm: owner, ipa: 0)
    guard let rdGranule = environment.granules.lock(owner, expecting: .rd) else { environment.halt(.granuleState) }
    let loaded: RunningRealm?
    do throws(GateError) {
      loaded = try environment.gate.reading(rdGranule, AccessIntent(.rdRead, .read, expecting: .rd)) { page in
        RealmDescriptor.loadForRunning(from: page)
      }
    } catch { environment.halt(.refusedOwnAccess) }
    environment.granules.release(rdGranule)
    guard let realm = loaded else { environment.halt(.realmDescriptor) }
    guard realm.state != .new else { throw .realm(index: 0) }
    guard realm.state != .systemOff else { throw .realm(index: 1) }

    // The REC must be able to run, and the flags must fit what its last exit left.
    let flags = enter.flags
    let pending = PendingExit(rawValue: page.field(RECLayout.pending)) ?? .none
    guard page.field(RECLayout.flags) & RECLayout.flagRunnable != 0 else { throw .rec }
    guard page.field(RECLayout.psciTarget) & RECLayout.psciPendingBit == 0 else { throw .rec }
    // rec_mmio (B4.3.14): EMUL_MMIO needs an emulatable abort to complete. INJECT_SEA
    // has no failure condition: it takes effect only after an abort at an unprotected
    // IPA, and there EMUL_MMIO is ignored (A4.2.3).
    let emulate = flags & RecRunLayout.flagEmulatedMMIO != 0
    guard !emulate || pending == .emulatableMMIO else { throw .rec }
    guard RECEnter.gicIsValid(enter.words.span, listRegisters: environment.cpu.listRegisterCount) else { throw .rec }

    var lrs: InlineArray<16, UInt64> = .init(repeating: 0)
    do {
      let entered = enter.words.span
      for i in 0..<16 { lrs[i] = entered[RecRunLayout.enterGICv3LRs / 8 + i] }
    }
    // The realm's SVE and PMU, as REC_CREATE copied them (0: the realm has none).
    let sveWord = page.field(RECLayout.sveVectorLength)
    let pmuWord = page.field(RECLayout.pmuCounters)
    let control = RECEntryControl(stage2: realm.stage2, trapWFI: flags & RecRunLayout.flagTrapWFI != 0,
                                  trapWFE: flags & RecRunLayout.flagTrapWFE != 0, gicHCR: enter.gicHCR, gicLRs: lrs,
                                  pmuCounters: RealmDescriptor.optionalFeature(pmuWord))
    let cpu = environment.cpu
    // From here the REC's EL1, FP/SIMD (or SVE) and PMU state lives in the CPU.
    let sve = sveWord == 0 ? nil : SVEAuxGranules(page, vectorLength: sveWord & ~RECLayout.featureEnabledBit)
    if let sve {
      withSVERegisters(sve) { area in cpu.load(&page, control, sve: area) }
    } else {
      cpu.load(&page, control, sve: nil)
    }
    var running = RunningREC(rd: owner, realm: realm)
    var exitBeforeRunning = completePendingExit(&page, &running, pending, &enter, &exit)
    while true {
      if exitBeforeRunning { break }
      let syndrome = cpu.resume(&page)
      exitBeforeRunning = handleExit(&page, &running, syndrome, &exit)
      if exitBeforeRunning { break }
      if cpu.interruptPending {
        // A physical interrupt for the host arrived while the RMM served the realm.
        exit.clear()
        exit.reason = .irq
        break
      }
    }
    if let sve {
      withSVERegisters(sve) { area in cpu.save(&page, into: &exit, sve: area) }
    } else {
      cpu.save(&page, into: &exit, sve: nil)
    }
  }

  /// Maps the SVE aux granules of the running REC for `body`, through the gate. They
  /// belong to the REC, which this CPU holds running: any failure is corruption.
  func withSVERegisters(_ aux: SVEAuxGranules, _ body: (SVERegisterArea) -> Void) {
    var order: InlineArray<16, UInt64> = .init(repeating: 0)
    var addresses: InlineArray<18, UInt64> = .init(repeating: 0)
    for i in 0..<aux.count {
      order[i] = aux.granules[i]
      addresses[i] = aux.granules[i]
    }
    var locked = GranuleLockSet()
    guard environment.granules.lockAll(addresses, count: aux.count, into: &locked) else {
      environment.halt(.recAuxGranule)
    }
    for i in 0..<aux.count where locked.state(of: order[i]) != .recAux { environment.halt(.recAuxGranule) }
    do throws(GateError) {
      try environment.gate.withAuxiliaryWindow(order, count: aux.count, locked: &locked,
                                               AccessIntent(.recSVEState, .write, expecting: .recAux)) { window in
        body(SVERegisterArea(vectorLength: aux.vectorLength, window: window))
      }
    } catch { environment.halt(.refusedOwnAccess) }
    environment.granules.releaseAll(locked)
  }

  /// Finishes what the previous exit left open, with the host's answer in `enter`.
  /// Returns true when the host must see an exit before the realm can run (the
  /// RsiHostCall page vanished while the host served the call: A4.2.2).
  func completePendingExit(_ page: inout RECView, _ running: inout RunningREC, _ pending: PendingExit,
                           _ enter: inout RECEnter, _ exit: inout RECExit) -> Bool {
    switch pending {
    case .none, .psci:
      break
    case .hostCall:
      // The host's results go back into the realm's RsiHostCall structure.
      let ipa = page.field(RECLayout.pendingIPA)
      switch lockRealmPage(running.realm.stage2, ipa: ipa) {
      case .data(let data):
        let offset = Int(ipa & (granuleSize - 1))
        let results = enter.words.span
        _ = try? environment.gate.writing(data, AccessIntent(.rsiHostCallWrite, .write, expecting: .data, offset: UInt16(offset), length: 0x100)) { p in
          results.withUnsafeBytes { raw in
            p.storeBytes(UnsafeRawBufferPointer(rebasing: raw[RecRunLayout.enterGPRs..<(RecRunLayout.enterGPRs + 31 * 8)]),
                         at: offset + RSIHostCallLayout.gprs)
          }
        }
        environment.granules.release(data)
      case .dataAbortToHost:
        // The page went away while the host served the call: a data abort exit, and
        // the call stays pending until the results can be written (A4.2.2).
        return unpopulatedAbortExit(ipa: ipa & ~(granuleSize - 1), &exit)
      case .invalid:
        break  // the realm itself made it EMPTY: nothing to write the results to
      }
      page.finishSMC(RSIStatus.success.rawValue)
    case .emulatableMMIO:
      let esr = page.field(RECLayout.pendingESR)
      if enter.flags & RecRunLayout.flagInjectSEA != 0 {
        injectDataAbort(&page, far: page.field(RECLayout.pendingIPA))
      } else if enter.flags & RecRunLayout.flagEmulatedMMIO != 0 {
        let isWrite = esr & ESR.wnr != 0
        let register = Int((esr >> 16) & 0x1F)
        if !isWrite && register != 31 {
          page.setGPR(register, Self.emulatedLoadValue(enter.gpr(0), esr: esr))
        }
        page.advancePC()
      }
    case .unprotectedAbort:
      if enter.flags & RecRunLayout.flagInjectSEA != 0 {
        injectDataAbort(&page, far: page.field(RECLayout.pendingIPA))
      }
    case .ripasChange:
      // new_base is how far the host got (rec.ripas_addr); the host can refuse only an
      // unfinished change to RAM (A5.4, RecRipasChangeResponse).
      let reached = page.field(RECLayout.ripasAddr)
      let rejected = enter.flags & RecRunLayout.flagRIPASResponseReject != 0
        && page.field(RECLayout.ripasValue) == RIPAS.ram.rawValue && reached != page.field(RECLayout.ripasTop)
      page.setField(RECLayout.ripasAddr, 0)
      page.setField(RECLayout.ripasTop, 0)
      page.finishSMC(RSIStatus.success.rawValue, reached, rejected ? RSIResponse.reject : RSIResponse.accept)
    }
    page.setField(RECLayout.pending, PendingExit.none.rawValue)
    return false
  }
}

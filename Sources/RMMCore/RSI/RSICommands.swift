// One handler per RSI command (DEN0137 B5.3), measurements aside (RSIMeasurements.swift)
// and the attestation token (AttestationCommands.swift). RSI_VERSION and RSI_FEATURES
// are inlined into the dispatch; the others are called, so that the dispatch path
// keeps no frame for them.

import RMMABI

extension RMIDispatcher {
  @inline(__always)
  func rsiVersion(_ rec: inout RECView) -> Bool {
    let implemented = rsiABIVersion.encoded
    rec.finishSMC(rec.gpr(1) == implemented ? RSIStatus.success.rawValue : RSIStatus.errorInput.rawValue,
                  implemented, implemented)
    return false
  }

  @inline(__always)
  func rsiFeatures(_ rec: inout RECView) -> Bool {
    rec.finishSMC(RSIStatus.success.rawValue, 0)
    return false
  }

  @inline(never)
  func rsiRealmConfig(_ rec: inout RECView, _ running: inout RunningREC, _ exit: inout RECExit) -> Bool {
    let ipa = rec.gpr(1)
    guard isGranuleAligned(ipa) else { rec.finishSMC(RSIStatus.errorInput.rawValue); return false }
    // The RPV given at REALM_CREATE, read from the RD before the realm's page is
    // locked (one granule lock at a time).
    var rpv: InlineArray<8, UInt64> = .init(repeating: 0)
    if let rd = environment.granules.lock(running.rd, expecting: .rd) {
      _ = try? environment.gate.reading(rd, AccessIntent(.rdRead, .read, expecting: .rd)) { page in
        for i in 0..<8 { rpv[i] = page.load64(at: RDLayout.personalizationValue + 8 * i) }
      }
      environment.granules.release(rd)
    }
    let s2 = running.realm.stage2
    switch lockRealmPage(s2, ipa: ipa) {
    case .data(let page):
      let hash = UInt64(running.realm.hashAlgorithm.rawValue)
      _ = try? environment.gate.writing(page, AccessIntent(.rsiRealmConfig, .write, expecting: .data)) { p in
        for i in 0..<512 { p.store64(0, at: 8 * i) }
        p.store64(s2.ipaWidth, at: RSIRealmConfigLayout.ipaWidth)
        p.store64(hash, at: RSIRealmConfigLayout.hashAlgorithm)
        for i in 0..<8 { p.store64(rpv[i], at: RSIRealmConfigLayout.personalizationValue + 8 * i) }
      }
      environment.granules.release(page)
      rec.finishSMC(RSIStatus.success.rawValue)
      return false
    case .dataAbortToHost:
      return unpopulatedAbortExit(ipa: ipa, &exit)  // the SMC runs again once populated
    case .invalid:
      rec.finishSMC(RSIStatus.errorInput.rawValue)
      return false
    }
  }

  @inline(never)
  func rsiHostCall(_ rec: inout RECView, _ running: inout RunningREC, _ exit: inout RECExit) -> Bool {
    let ipa = rec.gpr(1)
    guard ipa & (UInt64(RSIHostCallLayout.size) - 1) == 0 else { rec.finishSMC(RSIStatus.errorInput.rawValue); return false }
    switch lockRealmPage(running.realm.stage2, ipa: ipa) {
    case .data(let page):
      let offset = Int(ipa & (granuleSize - 1))
      _ = try? environment.gate.reading(page, AccessIntent(.rsiHostCallRead, .read, expecting: .data, offset: UInt16(offset), length: 0x100)) { p in
        exit.imm = p.load64(at: offset + RSIHostCallLayout.imm) & 0xFFFF
        exit.withGPRBytes { p.loadWords(at: offset + RSIHostCallLayout.gprs, into: $0) }
      }
      environment.granules.release(page)
      exit.reason = .hostCall
      rec.setField(RECLayout.pendingIPA, ipa)
      rec.setField(RECLayout.pending, PendingExit.hostCall.rawValue)
      return true
    case .dataAbortToHost:
      return unpopulatedAbortExit(ipa: ipa, &exit)
    case .invalid:
      rec.finishSMC(RSIStatus.errorInput.rawValue)
      return false
    }
  }

  @inline(never)
  func rsiIPAStateSet(_ rec: inout RECView, _ running: inout RunningREC, _ exit: inout RECExit) -> Bool {
    let base = rec.gpr(1), top = rec.gpr(2), value = rec.gpr(3), flags = rec.gpr(4)
    guard isGranuleAligned(base), isGranuleAligned(top), base < top, top <= running.realm.stage2.unprotectedBase,
          value == RIPAS.empty.rawValue || value == RIPAS.ram.rawValue,
          flags & ~RSIResponse.changeDestroyed == 0 else {
      rec.finishSMC(RSIStatus.errorInput.rawValue)
      return false
    }
    rec.setField(RECLayout.ripasAddr, base)
    rec.setField(RECLayout.ripasTop, top)
    rec.setField(RECLayout.ripasValue, value)
    rec.setField(RECLayout.ripasFlags, flags)
    rec.setField(RECLayout.pendingIPA, base)
    rec.setField(RECLayout.pending, PendingExit.ripasChange.rawValue)
    exit.reason = .ripasChange
    exit.ripasBase = base
    exit.ripasTop = top
    exit.ripasValue = value
    return true
  }

  @inline(never)
  func rsiIPAStateGet(_ rec: inout RECView, _ running: inout RunningREC) -> Bool {
    let base = rec.gpr(1), end = rec.gpr(2)
    let s2 = running.realm.stage2
    guard isGranuleAligned(base), isGranuleAligned(end), base < end, end <= s2.unprotectedBase,
          let (top, ripas) = ripasRegion(s2, base: base, end: end) else {
      rec.finishSMC(RSIStatus.errorInput.rawValue)
      return false
    }
    rec.finishSMC(RSIStatus.success.rawValue, top, ripas.rawValue)
    return false
  }

  /// From `base`, the end of the region whose entries share `base`'s RIPAS (within
  /// its table and below `end`), and that RIPAS.
  func ripasRegion(_ s2: Stage2Config, base: UInt64, end: UInt64) -> (UInt64, RIPAS)? {
    guard let walk = try? self.walk(s2, base, to: RTTLevel.page) else { return nil }
    let ripas = walk.entry.ripas
    let size = RTTLevel.size(walk.level)
    var address = (base & ~(size - 1)) + size
    var index = walk.index + 1
    while address < end && index < 512 {
      guard let raw = try? readEntry(walk.table, index),
            let entry = S2TTE.decode(raw, level: walk.level, protected: true, format: walk.format), entry.ripas == ripas else { break }
      if case .table = entry { break }
      address += size
      index += 1
    }
    walk.finish(in: environment.granules)
    return (min(address, end), ripas)
  }

  @inline(never)
  func rsiAttestTokenInit(_ rec: inout RECView, _ running: inout RunningREC) -> Bool {
    attestTokenInit(&rec, &running)
    return false
  }

  @inline(never)
  func rsiAttestTokenContinue(_ rec: inout RECView, _ running: inout RunningREC,
                              _ exit: inout RECExit) -> Bool {
    attestTokenContinue(&rec, &running, &exit)
  }
}

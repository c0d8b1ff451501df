// The RSI (realm -> RMM) and the SMCCC/PSCI calls a realm makes with SMC. Arguments
// come from the REC's saved registers; every one is validated; results go back into
// them and the realm resumes after its SMC.

import RMMABI

extension RMIDispatcher {
  func handleRealmSMC(_ rec: inout GranuleWriter, _ running: inout RunningREC, _ exit: inout RECExit) -> Bool {
    let fid = rec.gpr(0) & ~smcSVEHintBit
    environment.gate.noteCall(function: fid, realm: running.rd, ipa: rec.gpr(1))
    if let command = RSICommand(rawValue: fid) {
      return handleRSI(command, &rec, &running, &exit)
    }
    if fid == SMCCCFunction.version.rawValue {
      rec.finishSMC(smcccVersionForRealms.encoded)
      return false
    }
    if let psci = PSCIFunction(rawValue: fid) ?? PSCIFunction(rawValue: fid & ~PSCIFunction.smc64Bit),
       fid == psci.rawValue || (fid == psci.smc64 && psci.hasSMC64Form) {
      return handlePSCI(psci, &rec, &running, &exit)
    }
    rec.finishSMC(smcUnknown)
    return false
  }

  func handleRSI(_ command: RSICommand, _ rec: inout GranuleWriter, _ running: inout RunningREC,
                 _ exit: inout RECExit) -> Bool {
    let s2 = running.realm.stage2
    let input = RSIStatus.errorInput.rawValue
    switch command {
    case .version:
      let implemented = rsiABIVersion.encoded
      rec.finishSMC(rec.gpr(1) == implemented ? RSIStatus.success.rawValue : input, implemented, implemented)
      return false

    case .features:
      rec.finishSMC(RSIStatus.success.rawValue, 0)
      return false

    case .measurementRead:
      let index = rec.gpr(1)
      guard index <= 4 else { rec.finishSMC(input); return false }
      var words: InlineArray<8, UInt64> = .init(repeating: 0)
      withRealmMeasurements(running.rd) { page in
        let offset = index == 0 ? RDLayout.rim : RDLayout.rems + 64 * Int(index - 1)
        for i in 0..<8 { words[i] = page.load64(at: offset + 8 * i) }
      }
      for i in 0..<8 { rec.setGPR(1 + i, words[i]) }
      rec.finishSMC(RSIStatus.success.rawValue)
      return false

    case .measurementExtend:
      let index = rec.gpr(1)
      let size = rec.gpr(2)
      guard index >= 1, index <= 4, size <= 64 else { rec.finishSMC(input); return false }
      var value: InlineArray<8, UInt64> = .init(repeating: 0)
      for i in 0..<8 { value[i] = rec.gpr(3 + i) }
      let algorithm = running.realm.hashAlgorithm
      withRealmMeasurements(running.rd) { page in
        let offset = RDLayout.rems + 64 * Int(index - 1)
        var current = Digest64()
        for i in 0..<8 { current.words[i] = page.load64(at: offset + 8 * i) }
        current.length = MeasurementHash.digestLength(algorithm)
        let extended = MeasurementHash.digest(algorithm) { h in
          withUnsafeBytes(of: &current.words) { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<current.length])) }
          withUnsafeBytes(of: &value) { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<Int(size)])) }
        }
        for i in 0..<8 { page.store64(extended.words[i], at: offset + 8 * i) }
      }
      rec.finishSMC(RSIStatus.success.rawValue)
      return false

    case .realmConfig:
      let ipa = rec.gpr(1)
      guard isGranuleAligned(ipa) else { rec.finishSMC(input); return false }
      // The RPV given at REALM_CREATE, read from the RD before the realm's page is
      // locked (one granule lock at a time).
      var rpv: InlineArray<8, UInt64> = .init(repeating: 0)
      if let rd = environment.granules.lock(running.rd, expecting: .rd) {
        _ = try? environment.gate.reading(rd, AccessIntent(.rdRead, .read, expecting: .rd)) { page in
          for i in 0..<8 { rpv[i] = page.load64(at: RDLayout.personalizationValue + 8 * i) }
        }
        environment.granules.release(rd)
      }
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
        rec.finishSMC(input)
        return false
      }

    case .hostCall:
      let ipa = rec.gpr(1)
      guard ipa & (UInt64(RSIHostCallLayout.size) - 1) == 0 else { rec.finishSMC(input); return false }
      switch lockRealmPage(s2, ipa: ipa) {
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
        rec.finishSMC(input)
        return false
      }

    case .ipaStateSet:
      let base = rec.gpr(1), top = rec.gpr(2), value = rec.gpr(3), flags = rec.gpr(4)
      guard isGranuleAligned(base), isGranuleAligned(top), base < top, top <= s2.unprotectedBase,
            value == RIPAS.empty.rawValue || value == RIPAS.ram.rawValue,
            flags & ~RSIResponse.changeDestroyed == 0 else {
        rec.finishSMC(input)
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

    case .ipaStateGet:
      let base = rec.gpr(1), end = rec.gpr(2)
      guard isGranuleAligned(base), isGranuleAligned(end), base < end, end <= s2.unprotectedBase else {
        rec.finishSMC(input)
        return false
      }
      guard let (top, ripas) = ripasRegion(s2, base: base, end: end) else {
        rec.finishSMC(input)
        return false
      }
      rec.finishSMC(RSIStatus.success.rawValue, top, ripas.rawValue)
      return false

    case .attestTokenInit:
      attestTokenInit(&rec, &running)
      return false

    case .attestTokenContinue:
      return attestTokenContinue(&rec, &running, &exit)
    }
  }

  /// The REM/RIM slots of the realm's RD, under the RD lock.
  func withRealmMeasurements(_ rd: UInt64, _ body: (inout GranuleWriter) -> Void) {
    guard let granule = environment.granules.lock(rd, expecting: .rd) else { return }
    _ = try? environment.gate.writing(granule, AccessIntent(.rdWrite, .write, expecting: .rd)) { page in
      body(&page)
    }
    environment.granules.release(granule)
  }

  /// From `base`, the end of the region whose entries share `base`'s RIPAS (within
  /// its table and below `end`), and that RIPAS.
  func ripasRegion(_ s2: Stage2Config, base: UInt64, end: UInt64) -> (UInt64, RIPAS)? {
    guard let walk = try? self.walk(s2, base, to: RTTLevel.page) else { return nil }
    defer { environment.granules.release(walk.table) }
    let ripas = walk.entry.ripas
    let size = RTTLevel.size(walk.level)
    var address = (base & ~(size - 1)) + size
    var index = walk.index + 1
    while address < end && index < 512 {
      guard let raw = try? readEntry(walk.table, index),
            let entry = S2TTE.decode(raw, level: walk.level, protected: true), entry.ripas == ripas else { break }
      if case .table = entry { break }
      address += size
      index += 1
    }
    return (min(address, end), ripas)
  }
}

extension PSCIFunction {
  /// Functions that also exist as SMC64 (DEN0022).
  var hasSMC64Form: Bool { self == .cpuSuspend || self == .cpuOn || self == .affinityInfo }
}

// The RSI (realm -> RMM) and the SMCCC/PSCI calls a realm makes with SMC: decoding
// and dispatch. One handler per RSI command (RSICommands.swift, RSIMeasurements.swift);
// arguments come from the REC's saved registers, every one is validated, results go
// back into them and the realm resumes after its SMC. A handler returns true when the
// host must see an exit (the RmiRecExit is in `exit`), false to re-enter the realm.

import RMMABI

extension RMIDispatcher {
  /// A trapped SMC64. Dispatches on the FID itself (one jump table over the RSI range):
  /// the calls a realm makes most, RSI_VERSION above all, then cost no decode call.
  @inline(__always)
  func handleRealmSMC(_ rec: inout RECView, _ running: inout RunningREC, _ exit: inout RECExit) -> Bool {
    let fid = rec.gpr(0) & ~smcSVEHintBit
    environment.gate.noteCall(function: fid, realm: running.rd, ipa: rec.gpr(1))
    switch fid {
    case RSICommand.version.rawValue: return rsiVersion(&rec)
    case RSICommand.features.rawValue: return rsiFeatures(&rec)
    case RSICommand.measurementRead.rawValue: return rsiMeasurementRead(&rec, &running)
    case RSICommand.measurementExtend.rawValue: return rsiMeasurementExtend(&rec, &running)
    case RSICommand.attestTokenInit.rawValue: return rsiAttestTokenInit(&rec, &running)
    case RSICommand.attestTokenContinue.rawValue: return rsiAttestTokenContinue(&rec, &running, &exit)
    case RSICommand.realmConfig.rawValue: return rsiRealmConfig(&rec, &running, &exit)
    case RSICommand.ipaStateSet.rawValue: return rsiIPAStateSet(&rec, &running, &exit)
    case RSICommand.ipaStateGet.rawValue: return rsiIPAStateGet(&rec, &running)
    case RSICommand.hostCall.rawValue: return rsiHostCall(&rec, &running, &exit)
    default: return handleNonRSISMC(fid, &rec, &running, &exit)
    }
  }

  /// SMCCC_VERSION, PSCI, and everything unknown (SMC_UNKNOWN).
  @inline(never)
  func handleNonRSISMC(_ fid: UInt64, _ rec: inout RECView, _ running: inout RunningREC,
                       _ exit: inout RECExit) -> Bool {
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
}

extension PSCIFunction {
  /// Functions that also exist as SMC64 (DEN0022).
  var hasSMC64Form: Bool { self == .cpuSuspend || self == .cpuOn || self == .affinityInfo }
}

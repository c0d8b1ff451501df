// Fuzz target: RmiRealmParams validation (RealmParameters.validate) on an arbitrary
// parameter page. Input: feature register 0 (8 bytes), maximum VMID (2 bytes), then the
// page. Half of the inputs (first byte even) use the fakes' feature register instead,
// the one the RMI tests run against.
import RMMABI
import RMMCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  var features = RMIFeatureRegister0(rawValue: input.u64())
  if features.rawValue & 1 == 0 {
    features = RMIFeatureRegister0(rawValue: 0)
    features.s2sz = 48
    features.numberOfBreakpoints = 5
    features.numberOfWatchpoints = 3
    features.sha256 = true
    features.sha512 = true
    features.maxRECsOrder = 10
  }
  let maximumVMID = input.u16()
  let page = input.page()
  typealias L = RealmParamsLayout
  let params: RealmParameters
  do throws(RealmParameters.Defect) {
    params = try RealmParameters.validate(page, features: features, maximumVMID: maximumVMID)
  } catch {
    return 0
  }
  // What REALM_CREATE relies on after validation.
  invariant(params.flags & ~(L.flagLPA2 | L.flagSVE | L.flagPMU) == 0, "reserved flags")
  invariant(params.ipaWidth >= RMIConstants.minIPAWidth && params.ipaWidth <= features.s2sz, "s2sz")
  invariant(params.breakpoints >= 1 && params.breakpoints <= features.numberOfBreakpoints, "breakpoints")
  invariant(params.watchpoints >= 1 && params.watchpoints <= features.numberOfWatchpoints, "watchpoints")
  invariant(params.hashAlgorithm == .sha256 ? features.sha256 : features.sha512, "hash algorithm")
  invariant(params.vmid <= maximumVMID, "vmid")
  invariant((-1...3).contains(params.startLevel), "start level")
  let lpa2 = params.flags & L.flagLPA2 != 0
  invariant(!lpa2 || features.lpa2, "LPA2 not offered")
  invariant(lpa2 || params.ipaWidth <= 48, "more than 48 bits without LPA2")
  invariant(lpa2 || params.startLevel >= 0, "level -1 without LPA2")
  let sve = params.flags & L.flagSVE != 0, pmu = params.flags & L.flagPMU != 0
  invariant(!sve || (features.sveEnabled && params.sveVectorLength <= features.sveVectorLength), "SVE beyond FEATURES")
  invariant(sve || params.sveVectorLength == 0, "sve_vl without flags.sve")
  invariant(!pmu || (features.pmuEnabled && params.pmuCounters <= features.pmuCounters), "PMU beyond FEATURES")
  invariant(pmu || params.pmuCounters == 0, "pmu_num_ctrs without flags.pmu")
  invariant((params.features.sveVectorLength != nil) == sve && (params.features.pmuCounters != nil) == pmu, "features")
  invariant(params.features.recAuxCount <= maximumRECAuxGranules && params.features.recAuxCount == attestationAuxGranules
              + (sve ? (RealmFeatures.sveStateBytes(vectorLength: params.sveVectorLength) + 4095) / 4096 : 0), "aux count")
  invariant([1, 2, 4, 8, 16].contains(params.rootTableCount), "root table count \(params.rootTableCount)")
  invariant(Stage2Config.rootTableCount(ipaWidth: params.ipaWidth, startLevel: params.startLevel) == params.rootTableCount,
            "root table count does not match the geometry")
  let span = UInt64(params.rootTableCount) * granuleSize
  invariant(params.rttBase % span == 0, "RTT base not aligned to the concatenated roots")
  invariant(params.rttBase <= UInt64.max - span, "RTT roots wrap")
  invariant(page.load64(at: L.rttNumStart) == UInt64(params.rootTableCount), "rtt_num_start")
  for i in 0..<8 { invariant(params.personalizationValue[i] == page.load64(at: L.personalizationValue + 8 * i), "RPV") }
  invariant((try? RealmParameters.validate(page, features: features, maximumVMID: maximumVMID)) == params, "not deterministic")
  return 0
}

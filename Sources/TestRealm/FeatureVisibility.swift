// What the realm sees of the CPU: only what its REALM_CREATE asked for (no SVE, SME,
// MTE, SPE, TRBE, BRBE, AMU, PMU; breakpoints and watchpoints as requested), and an
// Undefined exception for any use of what it was not given.

@_silgen_name("realm_read_id_registers") func realmReadIDRegisters(_ out: UnsafeMutablePointer<UInt64>)
@_silgen_name("realm_try_exec") func realmTryExec(_ target: UInt64) -> UInt64
@_silgen_name("realm_try_sve") func realmTrySVE() -> UInt64
@_silgen_name("realm_try_sme") func realmTrySME() -> UInt64
@_silgen_name("realm_try_pmcr") func realmTryPMCR() -> UInt64
@_silgen_name("realm_try_debug") func realmTryDebug() -> UInt64
@_silgen_name("realm_trap_far_value") func realmTrapFAR() -> UInt64
@_silgen_name("realm_pauth_key") func realmPAuthKey() -> UInt64
@_silgen_name("realm_set_pauth_key") func realmSetPAuthKey(_ key: UInt64)

/// Whether the realm may use pointer authentication (ID_AA64ISAR1_EL1 APA/API/GPA/GPI,
/// ID_AA64ISAR2_EL1 GPA3/APA3, as the RMM shows them).
func realmHasPAuth() -> Bool {
  var ids: InlineArray<16, UInt64> = .init(repeating: 0)
  withUnsafeMutablePointer(to: &ids) { pointer in
    pointer.withMemoryRebound(to: UInt64.self, capacity: 16) { realmReadIDRegisters($0) }
  }
  return ids[9] & 0xFF00_0FF0 != 0 || ids[10] & 0xFF00 != 0
}

func runFeatureVisibilityTests() {
  var ids: InlineArray<16, UInt64> = .init(repeating: 0xFFFF_FFFF_FFFF_FFFF)
  withUnsafeMutablePointer(to: &ids) { pointer in
    pointer.withMemoryRebound(to: UInt64.self, capacity: 16) { realmReadIDRegisters($0) }
  }
  func field(_ value: UInt64, _ shift: UInt64) -> UInt64 { (value >> shift) & 0xF }
  let pfr0 = ids[0], pfr1 = ids[1], dfr0 = ids[4]
  check(field(pfr0, 32) == 0, "ID_AA64PFR0_EL1.SVE = 0: no SVE (not requested)")
  check(field(pfr0, 40) == 0 && field(pfr0, 44) == 0 && field(pfr0, 52) == 0, "ID_AA64PFR0_EL1: no MPAM, AMU or RME")
  check(field(pfr0, 0) == 1 && field(pfr0, 4) == 1, "ID_AA64PFR0_EL1: EL0 and EL1 are AArch64 only")
  check(field(pfr0, 16) != 0xF && field(pfr0, 20) != 0xF && field(pfr0, 24) == 1,
        "ID_AA64PFR0_EL1: FP, AdvSIMD and the GICv3 system registers are there")
  check(field(pfr1, 8) == 0 && field(pfr1, 24) == 0 && field(pfr1, 44) == 0, "ID_AA64PFR1_EL1: no MTE, SME or GCS")
  check(ids[2] == 0 && ids[3] == 0, "ID_AA64ZFR0_EL1 and ID_AA64SMFR0_EL1 read as zero")
  check(field(dfr0, 8) == 0, "ID_AA64DFR0_EL1.PMUVer = 0: no PMU (not requested)")
  check(field(dfr0, 32) == 0 && field(dfr0, 44) == 0 && field(dfr0, 52) == 0 && field(dfr0, 4) == 0,
        "ID_AA64DFR0_EL1: no SPE, TRBE, BRBE or trace")
  check(field(dfr0, 12) == RealmLayout.breakpoints - 1 && field(dfr0, 20) == RealmLayout.watchpoints - 1,
        "ID_AA64DFR0_EL1: BRPs and WRPs as REALM_CREATE asked")
  check(ids[5] == 0 && ids[6] == 0 && ids[7] == 0, "ID_AA64DFR1_EL1, AFR0, AFR1 read as zero")
  check(ids[8] != 0, "ID_AA64ISAR0_EL1 passes the CPU's instructions through")
  check(ids[14] == 0 && ids[15] == 0, "ID_AA64MMFR3_EL1 and MMFR4 read as zero")

  check(realmTrySVE() >> 26 == 0, "an SVE instruction (RDVL) takes an Undefined exception")
  check(realmTrySME() >> 26 == 0, "an SME instruction (RDSVL) takes an Undefined exception")
  check(realmTryPMCR() >> 26 == 0 && realmTryPMCR() != 0, "a PMU register (PMCR_EL0) access takes an Undefined exception")
  check(realmTryDebug() == 0, "self-hosted debug registers read as zero and ignore writes")
  if realmHasPAuth() {
    realmSetPAuthKey(0x5245_414C_4D4B_4559)
    _ = hostCall(HostCallCode.echo, first: 1, text: "")
    check(realmPAuthKey() == 0x5245_414C_4D4B_4559, "the REC's pointer authentication key survives an exit to the host")
  }
  let unprotected = realmTryExec(RealmLayout.mmio)
  check(unprotected >> 26 == 0x21 && unprotected & 0x3F == 0x10 && realmTrapFAR() == RealmLayout.mmio,
        "an instruction fetch from an unprotected IPA takes an instruction abort SEA")
}

// The feature realm (REC 0 entered with x2 = 2): the same payload, created with SVE
// and a PMU (issue #15). x3 = LEN | 1 << 8 if it has SVE at (LEN + 1) x 128 bits,
// x4 = N | 1 << 8 if it has a PMU with N event counters. It checks that it sees
// exactly what REALM_CREATE gave it, that its vector and PMU registers are its own
// across exits while the host uses its own, and that its counters count only while
// it runs.

import AArch64Shim
import RMMABI

@_silgen_name("realm_sve_set_length") func realmSVESetLength(_ len: UInt64) -> UInt64
@_silgen_name("realm_sve_load") func realmSVELoad(_ buffer: UnsafeRawPointer)
@_silgen_name("realm_sve_store") func realmSVEStore(_ buffer: UnsafeMutableRawPointer)
@_silgen_name("realm_pmu_software_increment") func realmPMUSoftwareIncrement(_ counters: UInt64)

extension HostCallCode {
  static let sveScramble: UInt64 = 18    // x0: the host loads its own pattern at ZCR_EL2.LEN = x0
  static let sveHostIntact: UInt64 = 19  // the host answers 1 if its SVE pattern survived the realm
  static let hostSpin: UInt64 = 20       // the host spins x0 counter ticks before it re-enters
  static let pmuArmOverflow: UInt64 = 21  // the host enables the PMU interrupt (PPI 23) physically
  static let pmuOverflowExits: UInt64 = 22  // the host answers its count of IRQ exits with pmu_ovf_status 1
}

/// Z0-31 at up to 256 bytes, P0-15 and FFR at up to 32 each.
nonisolated(unsafe) var realmSVEWritten: InlineArray<1092, UInt64> = .init(repeating: 0)
nonisolated(unsafe) var realmSVERead: InlineArray<1092, UInt64> = .init(repeating: 0)

func runFeatureRealm(sve: UInt64, pmu: UInt64) {
  say("feature realm: SVE and PMU as REALM_CREATE gave them")
  var ids: InlineArray<16, UInt64> = .init(repeating: 0)
  withUnsafeMutablePointer(to: &ids) { pointer in
    pointer.withMemoryRebound(to: UInt64.self, capacity: 16) { realmReadIDRegisters($0) }
  }
  let hasSVE = sve & 1 << 8 != 0, hasPMU = pmu & 1 << 8 != 0
  if hasSVE {
    check((ids[0] >> 32) & 0xF != 0, "ID_AA64PFR0_EL1.SVE shows SVE (the realm asked for it)")
    check(ids[2] != 0, "ID_AA64ZFR0_EL1 shows the CPU's SVE features")
    runSVETests(length: sve & 0xF)
  } else {
    check((ids[0] >> 32) & 0xF == 0 && ids[2] == 0, "no SVE asked: ID_AA64PFR0_EL1.SVE and ZFR0 are zero")
    check(realmTrySVE() >> 26 == 0, "no SVE asked: RDVL takes an Undefined exception")
  }
  if hasPMU {
    check((ids[4] >> 8) & 0xF != 0, "ID_AA64DFR0_EL1.PMUVer shows a PMU (the realm asked for it)")
    runPMUTests(counters: pmu & 0x1F)
  } else {
    check((ids[4] >> 8) & 0xF == 0, "no PMU asked: ID_AA64DFR0_EL1.PMUVer is zero")
    check(realmTryPMCR() >> 26 == 0 && realmTryPMCR() != 0, "no PMU asked: PMCR_EL0 takes an Undefined exception")
  }
  say("feature realm done: PSCI SYSTEM_OFF")
  _ = rsi(PSCIFunction.systemOff.rawValue)
}

func runSVETests(length: UInt64) {
  let realmBytes = (length + 1) * 16
  // Before the realm writes any: its Z, P and FFR are zero, nothing of the host's
  // (which filled its own registers at another vector length before REC_ENTER).
  _ = realmSVESetLength(length)
  let zeroWords = Int(32 * realmBytes / 8 + 17 * realmBytes / 64)
  var allZero = true
  withUnsafeMutablePointer(to: &realmSVERead) { area in
    area.withMemoryRebound(to: UInt64.self, capacity: 1092) { words in
      realmSVEStore(words)
      for i in 0..<zeroWords where words[i] != 0 { allZero = false }
    }
  }
  check(allZero, "the REC's first Z0-Z31, P0-P15 and FFR are zero: nothing of the host's shows")

  // Every vector length the realm can select: never more than it was given, the
  // one asked for if the CPU has it, and all of it at LEN and above.
  var previous: UInt64 = 0
  var probeOK = true
  for len in 0..<UInt64(16) {
    let bytes = realmSVESetLength(len)
    if bytes % 16 != 0 || bytes < 16 || bytes > min((len + 1) * 16, realmBytes) || bytes < previous { probeOK = false }
    if len >= length && bytes != realmBytes { probeOK = false }
    previous = bytes
  }
  check(probeOK, "ZCR_EL1.LEN 0..15: RDVL never beyond the realm's vector length, exactly it from its LEN up")

  // A pattern in every register survives exits while the host uses its own registers
  // at another vector length (larger, then smaller than the realm's).
  _ = realmSVESetLength(length)
  let vectorWords = Int(realmBytes / 8)
  let predicateBytes = Int(realmBytes / 8)
  withUnsafeMutablePointer(to: &realmSVEWritten) { area in
    area.withMemoryRebound(to: UInt64.self, capacity: 1092) { words in
      for i in 0..<(32 * vectorWords) { words[i] = 0x5245_0000_0000_0000 | UInt64(i) &* 0x0003_0005_0007_0011 }
      let bytes = UnsafeMutableRawPointer(words + 32 * vectorWords).assumingMemoryBound(to: UInt8.self)
      for i in 0..<(16 * predicateBytes) { bytes[i] = UInt8(truncatingIfNeeded: i &* 29 &+ 3) }
      for i in 0..<predicateBytes { bytes[16 * predicateBytes + i] = i < predicateBytes / 4 ? 0xFF : 0 }
      realmSVELoad(words)
    }
  }
  _ = hostCall(HostCallCode.sveScramble, first: 15, text: "")
  let survivedLarger = sveMatches(words: zeroWords)
  _ = hostCall(HostCallCode.sveScramble, first: 0, text: "")
  let survivedSmaller = sveMatches(words: zeroWords)
  _ = rsi(.version, rsiABIVersion.encoded)
  let survivedRSI = sveMatches(words: zeroWords)
  check(survivedLarger && survivedSmaller, "Z0-Z31, P0-P15, FFR survive exits while the host runs at VL 2048, then 128")
  check(survivedRSI, "and an RSI call the RMM serves itself")
  check(hostCall(HostCallCode.sveHostIntact, text: "") == 1,
        "the host's own SVE registers came back whole from each entry of this realm")
}

/// Whether the registers still hold what the realm loaded (stores them to compare).
func sveMatches(words count: Int) -> Bool {
  var same = true
  withUnsafeMutablePointer(to: &realmSVERead) { area in
    area.withMemoryRebound(to: UInt64.self, capacity: 1092) { read in
      realmSVEStore(read)
      withUnsafeMutablePointer(to: &realmSVEWritten) { area in
        area.withMemoryRebound(to: UInt64.self, capacity: 1092) { written in
          for i in 0..<count where read[i] != written[i] { same = false }
        }
      }
    }
  }
  return same
}

func runPMUTests(counters: UInt64) {
  check((read_pmcr_el0() >> 11) & 0x1F == counters, "PMCR_EL0.N is the realm's pmu_num_ctrs")
  // An event counter (software increments: exact) and the cycle counter.
  write_pmcr_el0(1 << 6 | 1 << 1 | 1 << 2)  // LC, P and C: reset the counters
  isb()
  write_pmselr_el0(0)
  isb()
  write_pmxevtyper_el0(0x00)  // SW_INCR
  write_pmxevcntr_el0(0)
  write_pmccfiltr_el0(0)
  write_pmcntenset_el0(1 | 1 << 31)
  write_pmcr_el0(1 << 6 | 1)  // LC, E
  isb()
  for _ in 0..<100 { realmPMUSoftwareIncrement(1) }
  write_pmselr_el0(0)
  isb()
  check(read_pmxevcntr_el0() == 100, "an event counter counts the realm's 100 software increments")
  let cyclesBefore = read_pmccntr_el0()
  let counterBefore = read_cntvct_el0()
  // The host spins 5,000,000 ticks (80 ms here) before it re-enters: the realm's
  // counters stand still meanwhile.
  _ = hostCall(HostCallCode.hostSpin, first: 5_000_000, text: "")
  let elapsed = read_cntvct_el0() &- counterBefore
  let cycles = read_pmccntr_el0() &- cyclesBefore
  write_pmselr_el0(0)
  isb()
  check(read_pmxevcntr_el0() == 100, "the event counter kept its count across an exit (the host's PMU is its own)")
  check(elapsed >= 5_000_000 && cycles > 0 && cycles < 5_000_000,
        "the cycle counter counts the realm, not the host's 80 ms between two entries")

  // An overflow with its interrupt enabled: the exit reports it (pmu_ovf_status), the
  // host lists the PMU's interrupt (INTID 23) for the realm, which clears the overflow.
  _ = hostCall(HostCallCode.pmuArmOverflow, text: "")
  write_pmselr_el0(1)
  isb()
  write_pmxevtyper_el0(0x00)
  write_pmxevcntr_el0(0xFFFF_FFFF)
  write_pmintenset_el1(1 << 1)
  write_pmcntenset_el0(1 << 1)
  isb()
  write_icc_pmr_el1(0xFF)
  write_icc_igrpen1_el1(1)
  isb()
  realmPMUSoftwareIncrement(1 << 1)
  var acknowledged: UInt64 = 0x3FF
  let start = read_cntvct_el0()
  while read_cntvct_el0() &- start < 500_000_000 {
    acknowledged = read_icc_iar1_el1() & 0xFF_FFFF
    if acknowledged != 0x3FF { break }
  }
  let overflowed = read_pmovsset_el0() & 1 << 1 != 0
  write_pmovsclr_el0(1 << 1)
  write_pmintenclr_el1(1 << 1)
  isb()
  if acknowledged != 0x3FF { write_icc_eoir1_el1(acknowledged) }
  write_icc_igrpen1_el1(0)
  isb()
  check(overflowed, "counter 1 overflowed (PMOVSSET_EL0)")
  check(acknowledged == 23, "the host saw the overflow in the exit and listed the PMU interrupt: INTID 23 acknowledged")
  check(hostCall(HostCallCode.pmuOverflowExits, text: "") >= 1, "an IRQ exit reported pmu_ovf_status ACTIVE")
  write_pmcr_el0(0)
  write_pmcntenclr_el0(0xFFFF_FFFF)
  isb()
}

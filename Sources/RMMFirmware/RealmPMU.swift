// The PMU of a realm created with one (A8.1): its registers are the realm's while a
// REC runs and the host's otherwise. At entry the host's state is saved (every
// counter the CPU has) and the REC's loaded; at exit the REC's is saved, the exit
// reports whether its overflow interrupt was pending, and the host's comes back.
// While the realm runs, MDCR_EL2.HPMN gives it its pmu_num_ctrs counters, with
// neither TPM nor TPMCR; HPMD and HCCD stay set, so nothing counts while the RMM runs
// between the realm's exits. A realm without a PMU never gets here: its PMU accesses
// trap (configureRealmTraps) and the host's counters are untouched.

import AArch64Shim
import RMMCore

/// PMCR_EL0.N: event counters the CPU implements (read at boot; 0 without a PMU).
nonisolated(unsafe) var pmuCounterCount: UInt64 = 0
/// MDCR_EL2 of the RMM on each CPU while a PMU realm's controls are loaded.
nonisolated(unsafe) var savedMDCR: InlineArray<32, UInt64> = .init(repeating: 0)

enum RealmPMU {
  typealias L = RECPMULayout
  /// PMCR_EL0 bits software may set: E, P, C (write-only resets), D, X, DP, LC, LP.
  static let controlWritable: UInt64 = 0b1 | 0b1 << 3 | 0b1 << 4 | 0b1 << 5 | 0b1 << 6 | 0b1 << 7
  static let cycleCounterBit: UInt64 = 1 << 31

  /// Counter enable, interrupt enable and overflow bits of counters [0, n) and the
  /// cycle counter.
  @inline(__always) static func mask(_ n: UInt64) -> UInt64 { (1 << n) - 1 | cycleCounterBit }

  /// Saves `n` event counters and the control registers into `area`.
  static func save(_ area: UnsafeMutablePointer<UInt64>, counters n: UInt64) {
    area[L.control] = read_pmcr_el0()
    area[L.counterEnables] = read_pmcntenset_el0() & mask(n)
    area[L.interruptEnables] = read_pmintenset_el1() & mask(n)
    area[L.overflows] = read_pmovsset_el0() & mask(n)
    area[L.select] = read_pmselr_el0()
    area[L.userEnable] = read_pmuserenr_el0()
    area[L.cycleFilter] = read_pmccfiltr_el0()
    area[L.cycleCounter] = read_pmccntr_el0()
    for i in 0..<Int(n) {
      write_pmselr_el0(UInt64(i))
      isb()
      area[L.counters + 2 * i] = read_pmxevcntr_el0()
      area[L.counters + 2 * i + 1] = read_pmxevtyper_el0()
    }
  }

  /// Loads what `save` stored, for `n` counters; everything of the other world's that
  /// `area` does not cover ends disabled.
  static func restore(_ area: UnsafeMutablePointer<UInt64>, counters n: UInt64) {
    write_pmcr_el0(0)  // nothing counts while the state changes
    write_pmcntenclr_el0(0xFFFF_FFFF)
    write_pmintenclr_el1(0xFFFF_FFFF)
    write_pmovsclr_el0(0xFFFF_FFFF)
    isb()
    for i in 0..<Int(n) {
      write_pmselr_el0(UInt64(i))
      isb()
      write_pmxevtyper_el0(area[L.counters + 2 * i + 1])
      write_pmxevcntr_el0(area[L.counters + 2 * i])
    }
    write_pmselr_el0(area[L.select])
    write_pmuserenr_el0(area[L.userEnable])
    write_pmccfiltr_el0(area[L.cycleFilter])
    write_pmccntr_el0(area[L.cycleCounter])
    write_pmovsset_el0(area[L.overflows] & mask(n))
    write_pmintenset_el1(area[L.interruptEnables] & mask(n))
    write_pmcntenset_el0(area[L.counterEnables] & mask(n))
    // P and C read as 0: writing the saved value back resets nothing.
    write_pmcr_el0(area[L.control] & controlWritable)
    isb()
  }

  /// Whether the realm's PMU asserts its overflow interrupt: an enabled counter with
  /// its interrupt enabled has overflowed, and PMCR_EL0.E is set.
  static func overflowActive(_ area: UnsafeMutablePointer<UInt64>) -> Bool {
    area[L.control] & 1 != 0 && area[L.overflows] & area[L.interruptEnables] & area[L.counterEnables] != 0
  }

  /// MDCR_EL2 while the realm runs: its `n` counters, PMU registers not trapped, no
  /// EL2 counters (HPME clear).
  static func realmMDCR(_ rmm: UInt64, counters n: UInt64) -> UInt64 {
    (rmm & ~(0x1F | 1 << 5 | 1 << 6 | 1 << 7)) | n
  }
}

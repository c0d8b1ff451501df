// Entering a REC on this CPU: the EL2 controls around the world switch in
// boot/rec_switch.S, and saving what the exit must report.

import AArch64Shim
import RMMCore

/// ICH_VTR_EL2.ListRegs + 1, read at boot.
nonisolated(unsafe) var gicListRegisters = 0
/// How many ICH_AP0R<n>_EL2/ICH_AP1R<n>_EL2 the CPU has (1, 2 or 4: ICH_VTR_EL2.PREbits).
nonisolated(unsafe) var gicActivePriorityRegisters = 1
/// HCR_EL2 of the RMM itself, per CPU, while a REC's controls are loaded.
nonisolated(unsafe) var savedHCR: InlineArray<32, UInt64> = .init(repeating: 0)

struct FirmwareRealmCPU: RealmExecution {
  var listRegisterCount: Int { gicListRegisters }

  var interruptPending: Bool { read_isr_el1() & (1 << 7 | 1 << 6) != 0 }

  var hardwareIDRegisters: HardwareIDRegisters { hardwareIDs }

  /// HCR_EL2 while a REC runs: stage 2 on (VM), set/way invalidation upgraded (SWIO),
  /// physical FIQ/IRQ/SError to EL2 (FMO/IMO/AMO), broadcast maintenance (FB, BSU IS),
  /// SMC trapped (TSC: RSI), ID group 3 reads trapped (TID3: the RMM answers with the
  /// realm's view, IDRegisters.swift), implementation-defined and auxiliary control
  /// registers trapped (TIDCP, TACR), EL1 is AArch64 (RW), pointer authentication not
  /// trapped (APK, API), stage 2 forces Normal WB memory (FWB). WFI/WFE trapped on
  /// request. ATA stays 0: no allocation tags (MTE) for realms.
  static let realmHCR: UInt64 = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (3 << 10)
    | (1 << 18) | (1 << 19) | (1 << 20) | (1 << 21) | (1 << 31) | (1 << 40) | (1 << 41) | (1 << 46)

  /// VTCR_EL2 for the realm: T0SZ from its IPA width, the start level, Normal WB
  /// Inner Shareable walks, 4 KiB granule, PS, 16-bit VMIDs where there are, RES1.
  /// An LPA2 realm adds DS (bit 32: the LPA2 descriptor format, shareability from SH0)
  /// and SL2 (bit 33) for start level -1, and may have a 52-bit PS (0b110).
  static func vtcr(_ s2: Stage2Config) -> UInt64 {
    let sl0: UInt64
    switch s2.startLevel {
    case -1: sl0 = 0  // with SL2 = 1
    case 0: sl0 = 2
    case 1: sl0 = 1
    case 2: sl0 = 0
    default: sl0 = 3
    }
    let paRange = min(read_id_aa64mmfr0_el1() & 0xF, s2.lpa2 ? 6 : 5)
    let vmid16: UInt64 = maximumVMID > 0xFF ? 1 << 19 : 0
    let lpa2: UInt64 = s2.lpa2 ? 1 << 32 | (s2.startLevel == -1 ? 1 << 33 : 0) : 0
    return (64 - s2.ipaWidth) | sl0 << 6 | 1 << 8 | 1 << 10 | 3 << 12 | paRange << 16 | vmid16 | 1 << 31 | lpa2
  }

  /// VTTBR_EL2: VMID and the root's base. With DS = 1 the base's bits [51:48] go in
  /// VTTBR_EL2[5:2] (Arm ARM D8.2, TTBR_ELx[5:2] = PA[51:48] for 52-bit OAs).
  static func vttbr(_ s2: Stage2Config) -> UInt64 {
    let base = s2.lpa2 ? (s2.rttBase & 0x0000_FFFF_FFFF_F000) | ((s2.rttBase >> 48) & 0xF) << 2 : s2.rttBase
    return UInt64(s2.vmid) << 48 | base
  }

  /// Words of the REC granule at `offset` (a bounded view's raw pointer, for the
  /// register save and restore routines).
  private func words(_ rec: borrowing RECView, _ offset: Int, count: Int) -> UnsafeMutablePointer<UInt64> {
    rec.pointer(at: offset, count: count * 8)!.assumingMemoryBound(to: UInt64.self)
  }

  func load(_ rec: inout RECView, _ control: RECEntryControl, sve: SVERegisterArea?) {
    let ns = rmm_ns_fp_area(currentCPU())!
    let nsSVE = rmm_ns_sve_area(currentCPU())!
    if let sve {
      rmm_sve_enter_realm(ns, words(rec, RECLayout.fpState, count: RECLayout.fpStateSize / 8 + 1), nsSVE,
                          sve.registers, sve.vectorLength)
    } else {
      rmm_fp_enter_realm(ns, words(rec, RECLayout.fpState, count: RECLayout.fpStateSize / 8), nsSVE)
    }
    let timers = words(rec, RECLayout.timers, count: RECLayout.timersSize / 8)
    // The host's EL1/EL0 registers and EL1 timers are the host's to keep (SMCCC):
    // EL3 switches only EL2 state between the worlds.
    let host = rmm_ns_el1_area(currentCPU())!
    rmm_el1_save(host)
    host[RECSystemRegisters.count + RECSystemRegisters.cntvCTL] = read_cntv_ctl_el0()
    host[RECSystemRegisters.count + RECSystemRegisters.cntvCVAL] = read_cntv_cval_el0()
    host[RECSystemRegisters.count + RECSystemRegisters.cntpCTL] = read_cntp_ctl_el0()
    host[RECSystemRegisters.count + RECSystemRegisters.cntpCVAL] = read_cntp_cval_el0()
    rmm_el1_restore(words(rec, RECLayout.el1, count: RECSystemRegisters.count))
    write_cntvoff_el2(0)
    // EL1 may use the physical counter and timer; a timer whose interrupt the host has
    // already seen is masked (A6.2).
    write_cnthctl_el2(0b11 | RECSystemRegisters.entryTimerMasks(cntvCTL: timers[RECSystemRegisters.cntvCTL],
                                                                cntpCTL: timers[RECSystemRegisters.cntpCTL]))
    write_cntv_cval_el0(timers[RECSystemRegisters.cntvCVAL])
    write_cntv_ctl_el0(timers[RECSystemRegisters.cntvCTL])
    write_cntp_cval_el0(timers[RECSystemRegisters.cntpCVAL])
    write_cntp_ctl_el0(timers[RECSystemRegisters.cntpCTL])
    if let counters = control.pmuCounters {
      let cpu = currentCPU()
      savedMDCR[cpu] = read_mdcr_el2()
      RealmPMU.save(rmm_ns_pmu_area(cpu)!, counters: pmuCounterCount)
      write_mdcr_el2(RealmPMU.realmMDCR(savedMDCR[cpu], counters: counters))
      isb()
      RealmPMU.restore(words(rec, RECLayout.pmuState, count: RECPMULayout.words), counters: counters)
    }
    let s2 = control.stage2
    write_vttbr_el2(Self.vttbr(s2))
    write_vtcr_el2(Self.vtcr(s2))
    savedHCR[currentCPU()] = read_hcr_el2()
    var hcr = Self.realmHCR
    if control.trapWFI { hcr |= 1 << 13 }
    if control.trapWFE { hcr |= 1 << 14 }
    write_hcr_el2(hcr)
    writeListRegisters(control.gicLRs)
    write_ich_vmcr_el2(rec.load64(at: RECLayout.gic))
    restoreActivePriorities(rec)
    write_ich_hcr_el2(control.gicHCR | 1)  // En
    isb()
  }

  func resume(_ rec: inout RECView) -> RealmExitSyndrome {
    let context = words(rec, RECLayout.context, count: RECContextLayout.size / 8)
    let vector = rmm_run_realm(UInt64(UInt(bitPattern: context)))
    return RealmExitSyndrome(kind: RealmExitSyndrome.Kind(rawValue: UInt8(truncatingIfNeeded: vector)) ?? .serror,
                             esr: read_esr_el2(), far: read_far_el2(), hpfar: read_hpfar_el2())
  }

  func injectException(_ rec: inout RECView, esr: UInt64, far: UInt64) {
    let spsr = RECLayout.context + RECContextLayout.spsr
    let pstate = rec.load64(at: spsr)
    let fromEL0 = pstate & 0xF == 0
    write_esr_el1(esr)
    write_far_el1(far)
    write_elr_el1(rec.pc)
    write_spsr_el1(pstate)
    rec.pc = read_vbar_el1() + (fromEL0 ? 0x400 : 0x200)
    rec.store64(RECSystemRegisters.initialPSTATE, at: spsr)
  }

  func save(_ rec: inout RECView, into exit: inout RECExit, sve: SVERegisterArea?) {
    let timers = words(rec, RECLayout.timers, count: RECLayout.timersSize / 8)
    readListRegisters(into: &exit)
    exit.gicHCR = read_ich_hcr_el2() & ~UInt64(1)
    exit.gicMISR = read_ich_misr_el2()
    let vmcr = read_ich_vmcr_el2()
    exit.gicVMCR = vmcr
    rec.store64(vmcr, at: RECLayout.gic)
    saveActivePriorities(&rec)
    write_ich_hcr_el2(0)
    clearListRegisters()  // nothing of the realm's stays in the GIC
    let cntvCTL = read_cntv_ctl_el0(), cntvCVAL = read_cntv_cval_el0()
    let cntpCTL = read_cntp_ctl_el0(), cntpCVAL = read_cntp_cval_el0()
    exit.cntvCTL = cntvCTL
    exit.cntvCVAL = cntvCVAL
    exit.cntpCTL = cntpCTL
    exit.cntpCVAL = cntpCVAL
    timers[RECSystemRegisters.cntvCTL] = cntvCTL
    timers[RECSystemRegisters.cntvCVAL] = cntvCVAL
    timers[RECSystemRegisters.cntpCTL] = cntpCTL
    timers[RECSystemRegisters.cntpCVAL] = cntpCVAL
    rmm_el1_save(words(rec, RECLayout.el1, count: RECSystemRegisters.count))
    // The host's EL1 state back; its timers replace the realm's, which must not fire
    // in the host.
    let host = rmm_ns_el1_area(currentCPU())!
    rmm_el1_restore(host)
    write_cntv_ctl_el0(0)
    write_cntp_ctl_el0(0)
    write_cntv_cval_el0(host[RECSystemRegisters.count + RECSystemRegisters.cntvCVAL])
    write_cntp_cval_el0(host[RECSystemRegisters.count + RECSystemRegisters.cntpCVAL])
    write_cntv_ctl_el0(host[RECSystemRegisters.count + RECSystemRegisters.cntvCTL])
    write_cntp_ctl_el0(host[RECSystemRegisters.count + RECSystemRegisters.cntpCTL])
    write_hcr_el2(savedHCR[currentCPU()])
    if let counters = RealmDescriptor.optionalFeature(rec.load64(at: RECLayout.pmuCounters)) {
      let cpu = currentCPU()
      let realm = words(rec, RECLayout.pmuState, count: RECPMULayout.words)
      RealmPMU.save(realm, counters: counters)
      exit.pmuOverflowStatus = RealmPMU.overflowActive(realm) ? 1 : 0
      RealmPMU.restore(rmm_ns_pmu_area(cpu)!, counters: pmuCounterCount)
      write_mdcr_el2(savedMDCR[cpu])
    }
    let ns = rmm_ns_fp_area(currentCPU())!
    let nsSVE = rmm_ns_sve_area(currentCPU())!
    if let sve {
      rmm_sve_leave_realm(words(rec, RECLayout.fpState, count: RECLayout.fpStateSize / 8 + 1), ns, nsSVE, sve.registers)
    } else {
      rmm_fp_leave_realm(words(rec, RECLayout.fpState, count: RECLayout.fpStateSize / 8), ns, nsSVE)
    }
    isb()
  }

  /// The active priorities of the realm's virtual interrupts: restored with its LRs,
  /// saved and cleared at exit (an interrupt it acknowledged may end after the exit).
  @inline(__always) private func restoreActivePriorities(_ rec: borrowing RECView) {
    let ap0 = RECLayout.gicActivePriorities0, ap1 = RECLayout.gicActivePriorities1
    write_ich_ap0r0_el2(rec.load64(at: ap0))
    write_ich_ap1r0_el2(rec.load64(at: ap1))
    guard gicActivePriorityRegisters > 1 else { return }
    write_ich_ap0r1_el2(rec.load64(at: ap0 + 8))
    write_ich_ap1r1_el2(rec.load64(at: ap1 + 8))
    guard gicActivePriorityRegisters > 2 else { return }
    write_ich_ap0r2_el2(rec.load64(at: ap0 + 16))
    write_ich_ap1r2_el2(rec.load64(at: ap1 + 16))
    write_ich_ap0r3_el2(rec.load64(at: ap0 + 24))
    write_ich_ap1r3_el2(rec.load64(at: ap1 + 24))
  }

  @inline(__always) private func saveActivePriorities(_ rec: inout RECView) {
    let ap0 = RECLayout.gicActivePriorities0, ap1 = RECLayout.gicActivePriorities1
    rec.store64(read_ich_ap0r0_el2(), at: ap0)
    rec.store64(read_ich_ap1r0_el2(), at: ap1)
    write_ich_ap0r0_el2(0)
    write_ich_ap1r0_el2(0)
    guard gicActivePriorityRegisters > 1 else { return }
    rec.store64(read_ich_ap0r1_el2(), at: ap0 + 8)
    rec.store64(read_ich_ap1r1_el2(), at: ap1 + 8)
    write_ich_ap0r1_el2(0)
    write_ich_ap1r1_el2(0)
    guard gicActivePriorityRegisters > 2 else { return }
    rec.store64(read_ich_ap0r2_el2(), at: ap0 + 16)
    rec.store64(read_ich_ap1r2_el2(), at: ap1 + 16)
    rec.store64(read_ich_ap0r3_el2(), at: ap0 + 24)
    rec.store64(read_ich_ap1r3_el2(), at: ap1 + 24)
    write_ich_ap0r2_el2(0)
    write_ich_ap1r2_el2(0)
    write_ich_ap0r3_el2(0)
    write_ich_ap1r3_el2(0)
  }

  private func writeListRegisters(_ lrs: InlineArray<16, UInt64>) {
    let n = gicListRegisters
    if n > 0 { write_ich_lr0_el2(lrs[0]) }
    if n > 1 { write_ich_lr1_el2(lrs[1]) }
    if n > 2 { write_ich_lr2_el2(lrs[2]) }
    if n > 3 { write_ich_lr3_el2(lrs[3]) }
    if n > 4 { write_ich_lr4_el2(lrs[4]) }
    if n > 5 { write_ich_lr5_el2(lrs[5]) }
    if n > 6 { write_ich_lr6_el2(lrs[6]) }
    if n > 7 { write_ich_lr7_el2(lrs[7]) }
    if n > 8 { write_ich_lr8_el2(lrs[8]) }
    if n > 9 { write_ich_lr9_el2(lrs[9]) }
    if n > 10 { write_ich_lr10_el2(lrs[10]) }
    if n > 11 { write_ich_lr11_el2(lrs[11]) }
    if n > 12 { write_ich_lr12_el2(lrs[12]) }
    if n > 13 { write_ich_lr13_el2(lrs[13]) }
    if n > 14 { write_ich_lr14_el2(lrs[14]) }
    if n > 15 { write_ich_lr15_el2(lrs[15]) }
  }

  /// writeListRegisters of all zeros, without building (zeroing) an array of them.
  private func clearListRegisters() {
    let n = gicListRegisters
    if n > 0 { write_ich_lr0_el2(0) }
    if n > 1 { write_ich_lr1_el2(0) }
    if n > 2 { write_ich_lr2_el2(0) }
    if n > 3 { write_ich_lr3_el2(0) }
    if n > 4 { write_ich_lr4_el2(0) }
    if n > 5 { write_ich_lr5_el2(0) }
    if n > 6 { write_ich_lr6_el2(0) }
    if n > 7 { write_ich_lr7_el2(0) }
    if n > 8 { write_ich_lr8_el2(0) }
    if n > 9 { write_ich_lr9_el2(0) }
    if n > 10 { write_ich_lr10_el2(0) }
    if n > 11 { write_ich_lr11_el2(0) }
    if n > 12 { write_ich_lr12_el2(0) }
    if n > 13 { write_ich_lr13_el2(0) }
    if n > 14 { write_ich_lr14_el2(0) }
    if n > 15 { write_ich_lr15_el2(0) }
  }

  private func readListRegisters(into exit: inout RECExit) {
    let n = gicListRegisters
    if n > 0 { exit.setGICLR(0, read_ich_lr0_el2()) }
    if n > 1 { exit.setGICLR(1, read_ich_lr1_el2()) }
    if n > 2 { exit.setGICLR(2, read_ich_lr2_el2()) }
    if n > 3 { exit.setGICLR(3, read_ich_lr3_el2()) }
    if n > 4 { exit.setGICLR(4, read_ich_lr4_el2()) }
    if n > 5 { exit.setGICLR(5, read_ich_lr5_el2()) }
    if n > 6 { exit.setGICLR(6, read_ich_lr6_el2()) }
    if n > 7 { exit.setGICLR(7, read_ich_lr7_el2()) }
    if n > 8 { exit.setGICLR(8, read_ich_lr8_el2()) }
    if n > 9 { exit.setGICLR(9, read_ich_lr9_el2()) }
    if n > 10 { exit.setGICLR(10, read_ich_lr10_el2()) }
    if n > 11 { exit.setGICLR(11, read_ich_lr11_el2()) }
    if n > 12 { exit.setGICLR(12, read_ich_lr12_el2()) }
    if n > 13 { exit.setGICLR(13, read_ich_lr13_el2()) }
    if n > 14 { exit.setGICLR(14, read_ich_lr14_el2()) }
    if n > 15 { exit.setGICLR(15, read_ich_lr15_el2()) }
  }
}

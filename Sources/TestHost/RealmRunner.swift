// The host side of running a realm: build it from the realm test payload, run its
// RECs with REC_ENTER and serve every exit as a hypervisor would (host calls, MMIO
// emulation, pages populated on demand, RIPAS changes, PSCI), checking the exit
// fields on the way; then tear it down.

import AArch64Shim
import RMMABI
import RMMCore

enum RealmRunMemory {
  static let rd = Board.testGranules + 0x0500_0000
  static let rttBase = rd + 0x2000
  static let tables = rd + 0x10000         // L2, L3
  static let recs = rd + 0x20000           // REC 0, REC 1, 2 x 2 aux
  static let run = Board.testGranules + 0x0310_0000   // NS run page
  static let pool = rd + 0x10_0000         // DATA granules, handed out in order
  static let poolSize: UInt64 = 512
  static let populated: UInt64 = 0x8_0000  // IPAs [0, 512 KiB) populated before activation
  static let rejected: UInt64 = 0xB_0000
  static let mmio: UInt64 = (1 << 39) + 0x1000
}

struct RealmRunner {
  typealias M = RealmRunMemory
  var nextData: UInt64 = 0
  var realmPassed: UInt64 = 0
  var realmFailed: UInt64 = 0
  var armTimer = false
  /// Set by the realm (host call 13): the entry after the next IRQ exit runs on CPU 1,
  /// so that a preempted signature resumes on another CPU.
  var migrateAfterIRQ = false
  var migrateNow = false
  var migratedEntries: UInt64 = 0
  /// Timer delay of the next arming, in counter ticks (the realm may ask for a longer one).
  var timerDelay: UInt64 = 20_000
  var irqExits: UInt64 = 0
  var mmioWrite: UInt64 = 0
  var rec1Said = false
  var wfiExits: UInt64 = 0
  var wfeExits: UInt64 = 0
  var injectedSEAs: UInt64 = 0
  var lastSGIValue: UInt64 = 0
  /// Benchmark mode: the realm measures RSI_VERSION, then makes empty host calls that
  /// the host times from REC_ENTER to the next exit.
  var benchmark = false
  var rsiVersionInRealm: UInt64 = 0
  var attestationInRealm: UInt64 = 0
  var hostCallRoundTrips: UInt64 = 0
  var hostCallTicks: UInt64 = 0
  /// The feature realm (runFeatureRealmTests): SVE at ZCR LEN `sveLength` and/or a
  /// PMU with `pmuCounters` event counters; nil: without.
  var sveLength: UInt64? = nil
  var pmuCounters: UInt64? = nil
  /// RMI_REC_AUX_COUNT of the realm (read after REALM_CREATE).
  var auxCount: UInt64 = 2
  /// The host's SVE vector length (bytes) with its pattern loaded, and whether the
  /// pattern was intact at every check since.
  var hostSVEBytes: UInt64 = 0
  var hostSVEIntact = true
  var pmuOverflowExits: UInt64 = 0
  var isFeatureRealm: Bool { sveLength != nil || pmuCounters != nil }

  mutating func allocateData() -> UInt64 {
    let pa = M.pool + nextData * 0x1000
    nextData += 1
    _ = rmi(.granuleDelegate, pa)
    return pa
  }

  // ---- run page ------------------------------------------------------------------------
  func exitField(_ offset: Int) -> UInt64 { mmio_read64(M.run + UInt64(offset)) }
  func exitGPR(_ i: Int) -> UInt64 { exitField(RecRunLayout.exitGPRs + 8 * i) }
  func setEnter(flags: UInt64, gprs: InlineArray<31, UInt64>? = nil) {
    mmio_write64(M.run + UInt64(RecRunLayout.enterFlags), flags)
    if let gprs { for i in 0..<31 { mmio_write64(M.run + UInt64(RecRunLayout.enterGPRs + 8 * i), gprs[i]) } }
  }
  func enter(_ rec: UInt64) -> UInt64 { rmi(.recEnter, rec, M.run).x0 }

  /// Prints text the realm packed into registers (from register `first`).
  func printRealmText(from first: Int) {
    for r in first..<31 {
      let word = exitGPR(r)
      for b in 0..<8 {
        let byte = UInt8(truncatingIfNeeded: word >> UInt64(8 * b))
        if byte == 0 { return }
        console.put(byte)
      }
    }
  }

  // ---- building ----------------------------------------------------------------------
  mutating func build() -> Bool {
    var ok = rmi(.granuleDelegate, M.rd).x0 == 0
    for i in 0..<UInt64(2) { ok = ok && rmi(.granuleDelegate, M.rttBase + i * 0x1000).x0 == 0 }
    for i in 0..<UInt64(4) { ok = ok && rmi(.granuleDelegate, M.tables + i * 0x1000).x0 == 0 }
    let flags = (sveLength != nil ? RealmParamsLayout.flagSVE : 0) | (pmuCounters != nil ? RealmParamsLayout.flagPMU : 0)
    writeRealmParams(rttBase: M.rttBase, vmid: 5, flags: flags, sveLength: sveLength ?? 0, pmuCounters: pmuCounters ?? 0)
    ok = ok && rmi(.realmCreate, M.rd, LifecycleMemory.realmParams).x0 == 0
    auxCount = rmi(.recAuxCount, M.rd).x1
    for i in 0..<(2 + 2 * auxCount) { ok = ok && rmi(.granuleDelegate, M.recs + i * 0x1000).x0 == 0 }
    ok = ok && rmi(.rttCreate, M.rd, M.tables, 0, 2).x0 == 0
    ok = ok && rmi(.rttCreate, M.rd, M.tables + 0x1000, 0, 3).x0 == 0
    ok = ok && rmi(.rttInitRIPAS, M.rd, 0, 0x20_0000).x1 == 0x20_0000
    // The payload, measured, then zero pages for its .bss, stacks and test pages.
    let image = testrealm_image_address()
    let pages = testrealm_image_size() / 0x1000
    for i in 0..<pages {
      ok = ok && rmi(.dataCreate, M.rd, allocateData(), i * 0x1000, image + i * 0x1000, 1).x0 == 0
    }
    var ipa = pages * 0x1000
    while ipa < M.populated {
      ok = ok && rmi(.dataCreateUnknown, M.rd, allocateData(), ipa).x0 == 0
      ipa += 0x1000
    }
    writeRECParams(mpidr: 0, runnable: true, pc: 0, aux: M.recs + 0x2000, count: auxCount)
    mmio_write64(LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs), 0x1111)
    mmio_write64(LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs) + 8, 0x2222)
    mmio_write64(LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs) + 16, benchmark ? 1 : isFeatureRealm ? 2 : 0)
    if isFeatureRealm && !benchmark {
      // x3, x4: what the realm was given (RealmMain.swift, runFeatureRealm).
      mmio_write64(LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs) + 24, sveLength.map { $0 | 1 << 8 } ?? 0)
      mmio_write64(LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs) + 32, pmuCounters.map { $0 | 1 << 8 } ?? 0)
      ok = ok && rmi(.recCreate, M.rd, M.recs, LifecycleMemory.recParams).x0 == 0
      writeRECParams(mpidr: 1, runnable: false, pc: 0, aux: M.recs + 0x2000 + auxCount * 0x1000, count: auxCount)
      ok = ok && rmi(.recCreate, M.rd, M.recs + 0x1000, LifecycleMemory.recParams).x0 == 0
      return ok
    }
    // x3: the benchmark leaves out the attestation token (scripts/profile).
    let skipAttestation = benchmark && (BenchmarkSelection.chosen & BenchmarkSelection.skipAttestation != 0 || isFeatureRealm)
    mmio_write64(LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs) + 24, skipAttestation ? 1 : 0)
    // x4: rounds of the realm's own loops (0: its default).
    mmio_write64(LifecycleMemory.recParams + UInt64(RecParamsLayout.gprs) + 32, benchmark ? RunConfiguration.argument(1) : 0)
    ok = ok && rmi(.recCreate, M.rd, M.recs, LifecycleMemory.recParams).x0 == 0
    writeRECParams(mpidr: 1, runnable: false, pc: 0, aux: M.recs + 0x2000 + auxCount * 0x1000, count: auxCount)
    ok = ok && rmi(.recCreate, M.rd, M.recs + 0x1000, LifecycleMemory.recParams).x0 == 0
    return ok
  }

  // ---- running ------------------------------------------------------------------------
  /// Runs `rec` until SYSTEM_OFF (REC 0) or CPU_OFF (REC 1); serves every exit.
  mutating func run(_ rec: UInt64) -> Bool {
    setEnter(flags: 0)
    var rounds = 0
    while rounds < 10_000 {
      rounds += 1
      if armTimer {
        armTimer = false
        write_cnthp_tval_el2(timerDelay)
        write_cnthp_ctl_el2(1)
      }
      let start = counter()
      let status: UInt64
      if migrateNow {
        migrateNow = false
        migratedEntries += 1
        status = enterOnSecondCPU(rec, run: M.run)
      } else {
        status = enter(rec)
      }
      let ticks = counter() &- start
      guard status == 0 else {
        console.write("TESTHOST: REC_ENTER failed: ")
        console.hex(status)
        console.newline()
        return false
      }
      // What the realm did with LR 0 carries into the next entry, whatever the exit (a
      // VMM must not re-list an interrupt the realm has taken as pending again).
      let lr0 = exitField(RecRunLayout.exitGICv3LRs)
      mmio_write64(M.run + UInt64(RecRunLayout.enterGICv3LRs), lr0 >> 62 == 0 ? 0 : lr0)
      let reason = exitField(RecRunLayout.exitReason) & 0xFF
      switch RecExitReason(rawValue: UInt8(reason)) {
      case .hostCall?:
        if exitField(RecRunLayout.exitImm) == 6 {
          hostCallRoundTrips += 1
          hostCallTicks &+= ticks
        }
        serveHostCall()
      case .sync?:
        serveSync(rec)
      case .irq?, .fiq?:
        irqExits += 1
        if exitField(RecRunLayout.exitPMUOverflow) == 1 {
          // The realm's PMU overflowed: hold the physical PPI off (it stays asserted
          // while the realm's state is loaded) and give the realm its virtual one.
          pmuOverflowExits += 1
          mmio_write32(Board.gicRedistributor + 0x10000 + 0x180, 1 << 23)  // ICENABLER0
          mmio_write64(M.run + UInt64(RecRunLayout.enterGICv3LRs), 1 << 62 | 1 << 60 | 0x80 << 48 | 23)
        }
        if migrateAfterIRQ {
          migrateAfterIRQ = false
          migrateNow = true
        }
        write_cnthp_ctl_el2(0)  // our timer: done; the realm resumes
        setEnter(flags: 0)
      case .ripasChange?:
        serveRIPASChange(rec)
      case .psci?:
        let fid = exitGPR(0)
        if fid == PSCIFunction.systemOff.rawValue || fid == PSCIFunction.systemReset.rawValue { return true }
        if fid == PSCIFunction.cpuOff.rawValue { return true }
        if fid == PSCIFunction.cpuOn.smc64 || fid == PSCIFunction.affinityInfo.smc64 {
          let target = M.recs + exitGPR(1) * 0x1000
          check(rmi(.psciComplete, rec, target, 0).x0 == 0, "PSCI_COMPLETE for the realm's CPU_ON / AFFINITY_INFO")
        } else if fid == PSCIFunction.cpuSuspend.smc64 {
          // The realm waits: run its other REC meanwhile.
          rec1Said = run(M.recs + 0x1000)
        }
        setEnter(flags: 0)
      case .serror?, nil:
        console.write("TESTHOST: unexpected REC exit reason ")
        console.decimal(reason)
        console.newline()
        return false
      }
    }
    return false
  }

  mutating func serveHostCall() {
    let imm = exitField(RecRunLayout.exitImm)
    var reply: InlineArray<31, UInt64> = .init(repeating: 0)
    switch imm {
    case 1:
      console.write("REALM: ")
      printRealmText(from: 0)
      console.newline()
    case 2:
      let ok = exitGPR(0) == 1
      console.write(ok ? "[ PASS ] realm: " : "[ FAIL ] realm: ")
      printRealmText(from: 1)
      console.newline()
      if ok { realmPassed += 1 } else { realmFailed += 1 }
    case 3:
      reply[0] = exitGPR(0) + 1
    case 4:
      armTimer = true
      timerDelay = exitGPR(0) != 0 ? exitGPR(0) : 20_000
    case 10:
      printTokenChunk()
    case 11:
      reply[0] = irqExits
    case 12:
      attestationInRealm = exitGPR(0)
    case 13:
      migrateAfterIRQ = true
    case 14:
      reply[0] = migratedEntries
    case 15:  // list a virtual interrupt, pending, Group 1, priority 0x80
      mmio_write64(M.run + UInt64(RecRunLayout.enterGICv3LRs), 1 << 62 | 1 << 60 | 0x80 << 48 | exitGPR(0) & 0xFFFF_FFFF)
    case 17:
      reply[0] = lastSGIValue
    case 18:  // the host's own SVE registers at another vector length, with a new pattern
      if hostSVEBytes != 0 { hostSVEIntact = hostSVEIntact && sveStateIntact(hostSVEBytes, skippingV0V17: false) }
      hostSVEBytes = testhost_fp_sve_setup(exitGPR(0))
      fillSVEPattern(hostSVEBytes)
    case 19:
      if hostSVEBytes != 0 { hostSVEIntact = hostSVEIntact && sveStateIntact(hostSVEBytes, skippingV0V17: false) }
      reply[0] = hostSVEIntact ? 1 : 0
    case 20:  // spin before re-entering (the realm's counters must not count this)
      let start = counter()
      while counter() &- start < exitGPR(0) {}
    case 21:  // the PMU's overflow interrupt (PPI 23) reaches this CPU: group 1, enabled
      let sgiBase = Board.gicRedistributor + 0x10000
      mmio_write32(sgiBase + 0x080, mmio_read32(sgiBase + 0x080) | 1 << 23)
      mmio_write32(sgiBase + 0x100, 1 << 23)
    case 22:
      reply[0] = pmuOverflowExits
    case 16:  // LR 0 of the exit, listed again as it is (as a VMM does)
      let lr = exitField(RecRunLayout.exitGICv3LRs)
      reply[0] = lr
    case 5:
      rsiVersionInRealm = exitGPR(0)
    case 9:
      setEnter(flags: RecRunLayout.flagTrapWFI | RecRunLayout.flagTrapWFE, gprs: reply)
      return
    case 7:
      console.write("REALM FUZZ: RSI/PSCI fuzzer seed ")
      console.hex(exitGPR(0))
      console.newline()
    case 8:
      console.write("REALM FUZZ: ")
      console.decimal(exitGPR(0))
      console.write(" calls, ")
      console.decimal(exitGPR(1))
      console.write(" results not as the spec gives")
      if exitGPR(1) != 0 {
        console.write("; first: FID ")
        console.hex(exitGPR(2))
        console.write(" -> x0 ")
        console.hex(exitGPR(3))
      }
      console.newline()
    default:
      break
    }
    setEnter(flags: 0, gprs: reply)
  }

  /// An attestation token from the realm, 224 bytes per host call, printed for
  /// scripts/verify-token: CCA_TOKEN_BEGIN, lines of hex, CCA_TOKEN_END.
  func printTokenChunk() {
    let total = exitGPR(1), offset = exitGPR(2)
    if offset == 0 {
      console.write("CCA_TOKEN_BEGIN name=realm")
      console.decimal(exitGPR(0))
      console.write(" length=")
      console.decimal(total)
      console.newline()
    }
    let count = min(224, total &- offset)
    var i: UInt64 = 0
    while i < count {
      console.write("CCA_TOKEN ")
      var j: UInt64 = 0
      while j < 32 && i + j < count {
        let at = i + j
        let byte = UInt8(truncatingIfNeeded: exitGPR(3 + Int(at / 8)) >> (8 * (at % 8)))
        console.hexByte(byte)
        j += 1
      }
      console.newline()
      i += 32
    }
    if offset + count >= total {
      console.write("CCA_TOKEN_END")
      console.newline()
    }
  }

  mutating func serveSync(_ rec: UInt64) {
    let esr = exitField(RecRunLayout.exitESR)
    let hpfar = exitField(RecRunLayout.exitHPFAR)
    let ipa = ((hpfar >> 4) << 12) | exitField(RecRunLayout.exitFAR)
    if esr >> 26 == 0x01 {  // WFI (TI = 0) or WFE (TI = 1), trapped because we asked
      if esr & 1 == 0 { wfiExits += 1 } else { wfeExits += 1 }
      setEnter(flags: RecRunLayout.flagTrapWFI | RecRunLayout.flagTrapWFE)
      return
    }
    if esr >> 26 == 0x18 {  // a GIC CPU interface write the RMM forwards (ICC_SGI1R_EL1 here)
      check(esr & 0x3F_FFFF == (3 << 20 | 5 << 17 | 12 << 10 | 11 << 1) && (esr >> 5) & 0x1F == 0,
            "ICC_SGI1R_EL1 exit: EC 0x18, the register's encoding, a write, Rt hidden")
      lastSGIValue = exitGPR(0)
      setEnter(flags: 0)
      return
    }
    guard esr >> 26 == 0x24 else {
      setEnter(flags: 0)
      return
    }
    if ipa == M.mmio + 0x800 {  // a device we refuse: inject an SEA instead of emulating
      injectedSEAs += 1
      setEnter(flags: RecRunLayout.flagInjectSEA)
      return
    }
    if ipa >= (1 << 39) {  // unprotected: emulate the device
      var reply: InlineArray<31, UInt64> = .init(repeating: 0)
      let isWrite = esr & (1 << 6) != 0
      check(esr & (1 << 24) != 0 && (esr >> 16) & 0x1F == 0, "MMIO exit: ISV set, SRT hidden")
      if isWrite {
        mmioWrite = exitGPR(0)
      } else {
        reply[0] = 0x1234_5678
      }
      setEnter(flags: RecRunLayout.flagEmulatedMMIO, gprs: reply)
    } else {  // protected RAM the realm touched before we populated it
      _ = rmi(.dataCreateUnknown, M.rd, allocateData(), ipa & ~0xFFF)
      setEnter(flags: 0)
    }
  }

  mutating func serveRIPASChange(_ rec: UInt64) {
    let base = exitField(RecRunLayout.exitRIPASBase)
    let top = exitField(RecRunLayout.exitRIPASTop)
    if base == M.rejected {
      setEnter(flags: RecRunLayout.flagRIPASResponseReject)
      return
    }
    var next = base
    var guardRounds = 0
    while next < top && guardRounds < 64 {
      let r = rmi(.rttSetRIPAS, M.rd, rec, next, top)
      if r.x0 != 0 { break }
      next = r.x1
      guardRounds += 1
    }
    setEnter(flags: 0)
  }

  // ---- teardown ------------------------------------------------------------------------
  mutating func tearDown() -> Bool {
    var ok = rmi(.recDestroy, M.recs).x0 == 0 && rmi(.recDestroy, M.recs + 0x1000).x0 == 0
    var ipa: UInt64 = 0
    while ipa < 0x20_0000 {
      let r = rmi(.dataDestroy, M.rd, ipa)
      ipa = r.x0 == 0 || r.x2 > ipa ? max(r.x2, ipa + 0x1000) : ipa + 0x1000
    }
    ok = ok && rmi(.rttDestroy, M.rd, 0, 3).x0 == 0 && rmi(.rttDestroy, M.rd, 0, 2).x0 == 0
    ok = ok && rmi(.realmDestroy, M.rd).x0 == 0
    for i in 0..<nextData { ok = ok && rmi(.granuleUndelegate, M.pool + i * 0x1000).x0 == 0 }
    ok = ok && rmi(.granuleUndelegate, M.rd).x0 == 0
    for i in 0..<UInt64(2) { ok = ok && rmi(.granuleUndelegate, M.rttBase + i * 0x1000).x0 == 0 }
    for i in 0..<UInt64(4) { ok = ok && rmi(.granuleUndelegate, M.tables + i * 0x1000).x0 == 0 }
    for i in 0..<(2 + 2 * auxCount) { ok = ok && rmi(.granuleUndelegate, M.recs + i * 0x1000).x0 == 0 }
    return ok
  }
}

/// Lets the hypervisor timer (PPI 26) and the realm's EL1 virtual timer (PPI 27, while
/// the realm runs) reach this CPU: GICv3 redistributor of CPU 0 (QEMU virt: GICR at
/// 0x080A0000), group 1, enabled; priority mask open.
func enableHostTimerInterrupt() {
  // TF-A enables only the secure groups; enabling Group 1 NS is the NS host's job.
  mmio_write32(Board.gicDistributor, mmio_read32(Board.gicDistributor) | 1 << 1)  // GICD_CTLR.EnableGrp1A (NS view)
  let sgiBase = Board.gicRedistributor + 0x10000
  mmio_write32(sgiBase + 0x080, mmio_read32(sgiBase + 0x080) | 1 << 26 | 1 << 27)  // IGROUPR0: group 1
  mmio_write32(sgiBase + 0x100, 1 << 26 | 1 << 27)                                  // ISENABLER0
  write_icc_pmr_el1(0xFF)
  write_icc_igrpen1_el1(1)
}

func runRealmExecutionTests() {
  typealias M = RealmRunMemory
  enableHostTimerInterrupt()

  section("REC_ENTER: running the realm test payload")
  var runner = RealmRunner()
  check(runner.build(), "build a realm from the payload (measured DATA_CREATE), 2 RECs")
  fillPage(M.run) { _ in 0 }
  expect(rmi(.recEnter, M.recs, M.run), RMIStatus(.errorRealm, index: 0), "REC_ENTER before activation: ERROR_REALM index 0")
  expect(rmi(.realmActivate, M.rd), .success, "REALM_ACTIVATE")
  expect(rmi(.recEnter, M.recs + 0x1000, M.run), RMIStatus(.errorREC), "REC_ENTER of a REC that is not runnable: ERROR_REC")
  expect(rmi(.recEnter, M.recs, M.run + 8), inputError, "REC_ENTER with an unaligned run page: ERROR_INPUT")
  expect(rmi(.recEnter, M.recs, M.rd), inputError, "REC_ENTER with a delegated run page: ERROR_INPUT")
  expect(rmi(.recEnter, M.rd, M.run), inputError, "REC_ENTER of a non-REC: ERROR_INPUT")
  runner.setEnter(flags: RecRunLayout.flagEmulatedMMIO)
  expect(rmi(.recEnter, M.recs, M.run), RMIStatus(.errorREC), "REC_ENTER with EMUL_MMIO before any exit: ERROR_REC")
  runner.setEnter(flags: 0)
  mmio_write64(M.run + UInt64(RecRunLayout.enterGICv3HCR), 1 << 10)  // TC: not the host's
  expect(rmi(.recEnter, M.recs, M.run), RMIStatus(.errorREC), "REC_ENTER with ICH_HCR.TC set: ERROR_REC")
  mmio_write64(M.run + UInt64(RecRunLayout.enterGICv3HCR), 0)
  mmio_write64(M.run + UInt64(RecRunLayout.enterGICv3LRs), 1 << 61 | 1 << 62 | 27)  // HW = 1
  expect(rmi(.recEnter, M.recs, M.run), RMIStatus(.errorREC), "REC_ENTER with a hardware list register: ERROR_REC")
  mmio_write64(M.run + UInt64(RecRunLayout.enterGICv3LRs), 0)

  // The host's own SVE state at a vector length of its choice (512 bits), then its
  // FP/SIMD state on top; both must come back whole after the realm ran.
  let vectorBytes = testhost_fp_sve_setup(3)
  fillSVEPattern(vectorBytes)
  testhost_fp_set(0x4E53_5F48_4F53_5421)  // the host's own FP/SIMD state
  let hostEL1Pattern: UInt64 = 0x4E53_454C_3100_0000
  testhost_el1_set(hostEL1Pattern)         // and its EL1/EL0 system registers
  let finished = runner.run(M.recs)
  expectValue(testhost_el1_mismatches(hostEL1Pattern), 0,
              "the host's EL1/EL0 registers (TPIDRs, MAIR, CONTEXTIDR, VBAR, CNTV_CVAL, PAuth keys) are intact")
  check(finished, "the realm ran to PSCI SYSTEM_OFF")
  expectValue(testhost_fp_get(), 0x4E53_5F48_4F53_5421, "the host's FP/SIMD registers are intact after the realm ran")
  if vectorBytes != 0 {
    check(sveStateIntact(vectorBytes, skippingV0V17: true),
          "the host's SVE state (Z0-Z31, P0-P15, FFR at VL 512) is intact after the realm ran")
  }
  passed += runner.realmPassed
  failed += runner.realmFailed
  check(runner.realmPassed > 40 && runner.realmFailed == 0, "every check inside the realm passed")
  check(runner.rec1Said, "REC 1 ran after CPU_ON and switched itself off")
  expectValue(runner.mmioWrite, 0xCAFE_F00D, "an MMIO write reached the host with its value")
  check(runner.irqExits >= 1, "a physical timer interrupt made the running realm exit (IRQ)")
  console.write("TESTHOST: WFI exits ")
  console.decimal(runner.wfiExits)
  console.write(", WFE exits ")
  console.decimal(runner.wfeExits)
  console.newline()
  check(runner.wfiExits == 1 && runner.wfeExits <= 1, "trapped WFI exits to the host (EC 0x01, TI = WFI); WFE at most once")
  check(runner.injectedSEAs == 1, "the host injected one SEA in place of an MMIO emulation")
  expect(rmi(.recEnter, M.recs, M.run), RMIStatus(.errorRealm, index: 1), "REC_ENTER after SYSTEM_OFF: ERROR_REALM index 1")
  check(runner.tearDown(), "tear the realm down, every granule back to NS")
}

// ---- one REC_ENTER on CPU 1 ------------------------------------------------------------
nonisolated(unsafe) var migrationREC: UInt64 = 0
nonisolated(unsafe) var migrationRun: UInt64 = 0
nonisolated(unsafe) var migrationStatus: UInt64 = 0
nonisolated(unsafe) var migrationDone: UInt64 = 0

/// Runs one REC_ENTER of `rec` on CPU 1 (switched on for it, off afterwards) and returns
/// its status; the exit is in the run page as usual. CPU 1's audit records are staged
/// there and printed here.
func enterOnSecondCPU(_ rec: UInt64, run: UInt64) -> UInt64 {
  let cpu1Off = { smc(PSCIFunction.affinityInfo.smc64, 1, 0).x0 == 1 }
  guard wait(upTo: 2_000_000_000, until: cpu1Off) else { return 0xDEAD_0001 }
  mmio_write64(sharedAddress(&migrationREC), rec)
  mmio_write64(sharedAddress(&migrationRun), run)
  mmio_write64(sharedAddress(&migrationDone), 0)
  mmio_write64(sharedAddress(&secondaryTask), 3)
  dsb_sy()
  AuditCollector.drainAndPrint()
  AuditCollector.deferred = true
  guard smc(PSCIFunction.cpuOn.smc64, 1, testhost_secondary_entry_address(), 1).x0 == 0 else {
    AuditCollector.deferred = false
    return 0xDEAD_0002
  }
  let finished = wait(upTo: 20_000_000_000) { mmio_read64(sharedAddress(&migrationDone)) != 0 }
  AuditCollector.deferred = false
  guard finished else { return 0xDEAD_0003 }
  AuditCollector.printStaged(cpu: 1, pages: mmio_read64(sharedAddress(&secondaryStaged)))
  return mmio_read64(sharedAddress(&migrationStatus))
}

func runSecondaryRECEntry() {
  let status = rmi(.recEnter, mmio_read64(sharedAddress(&migrationREC)), mmio_read64(sharedAddress(&migrationRun))).x0
  AuditCollector.drainToStaging()
  mmio_write64(sharedAddress(&secondaryStaged), AuditCollector.stagedPages[1])
  mmio_write64(sharedAddress(&migrationStatus), status)
  dsb_sy()
  mmio_write64(sharedAddress(&migrationDone), 1)
  dsb_sy()
}

// ---- the host's SVE state ------------------------------------------------------------

/// Z0-31 at up to 256 bytes, P0-15 and FFR at up to 32: the layout of testhost_fp_sve_*.
nonisolated(unsafe) var sveLoaded: InlineArray<1092, UInt64> = .init(repeating: 0)
nonisolated(unsafe) var sveStored: InlineArray<1092, UInt64> = .init(repeating: 0)

/// A pattern in every Z and P register and FFR (monotonic: WRFFR wants leading ones).
func fillSVEPattern(_ vectorBytes: UInt64) {
  guard vectorBytes != 0 else { return }
  let vectorWords = Int(vectorBytes / 8)
  let predicateBytes = Int(vectorBytes / 8)
  withUnsafeMutablePointer(to: &sveLoaded) { area in
    area.withMemoryRebound(to: UInt64.self, capacity: 1092) { words in
      for i in 0..<(32 * vectorWords) { words[i] = 0x5A00_0000_0000_0000 | UInt64(i) &* 0x0001_0003_0007_000B }
      let bytes = UnsafeMutableRawPointer(words + 32 * vectorWords).assumingMemoryBound(to: UInt8.self)
      for i in 0..<(16 * predicateBytes) { bytes[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
      for i in 0..<predicateBytes { bytes[16 * predicateBytes + i] = i < predicateBytes / 2 ? 0xFF : 0 }
      testhost_fp_sve_load(words)
    }
  }
}

/// Whether the registers still hold the pattern (V0 and V17, which testhost_fp_set
/// changed since, aside).
func sveStateIntact(_ vectorBytes: UInt64, skippingV0V17: Bool) -> Bool {
  let vectorWords = Int(vectorBytes / 8)
  let total = 32 * vectorWords + 17 * vectorWords / 8
  var intact = true
  withUnsafeMutablePointer(to: &sveStored) { area in
    area.withMemoryRebound(to: UInt64.self, capacity: 1092) { stored in
      testhost_fp_sve_store(stored)
      withUnsafeMutablePointer(to: &sveLoaded) { area in
        area.withMemoryRebound(to: UInt64.self, capacity: 1092) { loaded in
          for i in 0..<total {
            let register = i / vectorWords
            // testhost_fp_set wrote D0 (zeroing the rest of Z0) and V17.d[1] (the rest of Z17).
            if skippingV0V17 && i < 32 * vectorWords && (register == 0 || register == 17) { continue }
            if stored[i] != loaded[i] { intact = false }
          }
        }
      }
    }
  }
  return intact
}

// ---- realms with SVE and a PMU (issue #15) ---------------------------------------------

/// Runs the realm payload's feature tests in a realm created with SVE at 512 bits and
/// a PMU with every counter, and in one with SVE at the largest vector length only:
/// each sees what it asked for and nothing else, its vector and PMU registers stay
/// its own, and the host's stay the host's.
func runFeatureRealmTests() {
  typealias M = RealmRunMemory
  section("Realms with SVE and a PMU")
  let fr0 = RMIFeatureRegister0(rawValue: rmi(.features, 0).x1)
  let counters = fr0.pmuCounters
  // (A realm with neither is the main test realm: runRealmExecutionTests.)
  let configurations: InlineArray<2, (sve: UInt64?, pmu: UInt64?)> = [(3, counters), (15, nil)]
  for c in 0..<configurations.count {
    let configuration = configurations[c]
    var runner = RealmRunner()
    runner.sveLength = configuration.sve
    runner.pmuCounters = configuration.pmu
    console.write("TESTHOST: feature realm: SVE LEN ")
    console.decimal(configuration.sve ?? 0)
    console.write(configuration.sve == nil ? " (no SVE), PMU counters " : ", PMU counters ")
    console.decimal(configuration.pmu ?? 0)
    console.write(configuration.pmu == nil ? " (no PMU)\n" : "\n")
    check(runner.build(), "build the feature realm (REALM_CREATE with its flags, 2 RECs)")
    let sveGranules = configuration.sve.map { (RealmFeatures.sveStateBytes(vectorLength: $0) + 4095) / 4096 } ?? 0
    expectValue(runner.auxCount, UInt64(2 + sveGranules), "REC_AUX_COUNT: the attestation workspace and the SVE registers")
    // A REC with one aux granule too few or too many is refused.
    for more in 0..<2 {
      let more = more == 1
      let count = more ? runner.auxCount + 1 : runner.auxCount - 1
      _ = rmi(.granuleDelegate, M.recs + (2 + 2 * runner.auxCount) * 0x1000)
      _ = rmi(.granuleDelegate, M.recs + 0x0F_0000)
      writeRECParams(mpidr: 2, runnable: false, pc: 0, aux: M.recs + (2 + 2 * runner.auxCount) * 0x1000, count: count)
      expect(rmi(.recCreate, M.rd, M.recs + 0x0F_0000, LifecycleMemory.recParams), inputError,
             more ? "REC_CREATE with one aux granule more than REC_AUX_COUNT: ERROR_INPUT"
                  : "REC_CREATE with one aux granule fewer than REC_AUX_COUNT: ERROR_INPUT")
      _ = rmi(.granuleUndelegate, M.recs + (2 + 2 * runner.auxCount) * 0x1000)
      _ = rmi(.granuleUndelegate, M.recs + 0x0F_0000)
    }
    expect(rmi(.realmActivate, M.rd), .success, "REALM_ACTIVATE")
    fillPage(M.run) { _ in 0 }
    // The host's own state before the realm runs: SVE at VL 512 with a pattern, and
    // its PMU counter 0 and cycle counter holding values (not counting).
    runner.hostSVEBytes = testhost_fp_sve_setup(3)
    fillSVEPattern(runner.hostSVEBytes)
    write_pmcntenclr_el0(0xFFFF_FFFF)
    write_pmselr_el0(0)
    isb()
    write_pmxevtyper_el0(0x11)
    write_pmxevcntr_el0(0x1234_5678)
    write_pmccntr_el0(0x4E53_4359_434C_4553)
    isb()
    let finished = runner.run(M.recs)
    check(finished, "the feature realm ran to PSCI SYSTEM_OFF")
    passed += runner.realmPassed
    failed += runner.realmFailed
    check(runner.realmPassed >= 4 && runner.realmFailed == 0, "every check inside the feature realm passed")
    if runner.hostSVEBytes != 0 {
      check(runner.hostSVEIntact && sveStateIntact(runner.hostSVEBytes, skippingV0V17: false),
            "the host's SVE registers are its own after the realm ran")
      // The last vector length the host chose (ZCR_EL2.LEN 0, at the realm's request)
      // is still its own, whatever the realm's was.
      expectValue(testhost_fp_sve_zcr() & 0xF, 0, "the host's ZCR_EL2 is the host's after the realm ran")
    }
    write_pmselr_el0(0)
    isb()
    check(read_pmxevcntr_el0() == 0x1234_5678 && read_pmxevtyper_el0() & 0x3FF == 0x11
            && read_pmccntr_el0() == 0x4E53_4359_434C_4553,
          "the host's PMU counter 0, its event type and the cycle counter are the host's after the realm ran")
    check(runner.tearDown(), "tear the feature realm down, every granule back to NS")
  }
  mmio_write32(Board.gicRedistributor + 0x10000 + 0x180, 1 << 23)  // PPI 23 off again
}

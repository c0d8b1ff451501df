// The NS host as a small VMM: builds a realm from a Linux kernel Image, an initramfs and
// a generated device tree, runs its REC and serves every exit (MMIO to the emulated
// GICv3 and PL011, pages populated on first touch, RIPAS changes, SGIs, timers, PSCI),
// then tears the realm down and checks that every granule went back to NS.
// scripts/run-linux (and scripts/run) load the images with QEMU's loader and say where
// in the run configuration page (mode .linux).

import AArch64Shim
import RMMABI
import RMMCore
import RealmVMM

/// What the scripts asked for: where QEMU's loader put the images, how to boot.
struct LinuxBootRequest {
  var kernelPA: UInt64
  var kernelSize: UInt64
  var initrdPA: UInt64
  var initrdSize: UInt64
  /// b0: interactive (poll the UART for input, keep the realm's console responsive);
  /// b1: QEMU answers semihosting: the audit stream goes to the file named at +0xF00.
  var flags: UInt64
  var ramSize: UInt64
  /// The kernel command line: a NUL-terminated string in the run configuration page.
  var commandLine: UInt64 { Board.runConfigurationPA + 0x800 }
  var commandLineLength: Int {
    var n = 0
    while n < 0x7FF && mmio_read8(commandLine + UInt64(n)) != 0 { n += 1 }
    return n
  }
  var interactive: Bool { flags & 1 != 0 }
  var auditToFile: Bool { flags & 2 != 0 }
  var auditFileName: UInt64 { Board.runConfigurationPA + 0xF00 }

  static func fromRunConfiguration() -> LinuxBootRequest {
    let ram = RunConfiguration.argument(5)
    return LinuxBootRequest(kernelPA: RunConfiguration.argument(0), kernelSize: RunConfiguration.argument(1),
                            initrdPA: RunConfiguration.argument(2), initrdSize: RunConfiguration.argument(3),
                            flags: RunConfiguration.argument(4), ramSize: ram == 0 ? 128 << 20 : ram)
  }
}

/// NS granules for the realm, handed out in order from the board's pool and delegated.
struct GranulePool {
  let base: UInt64 = Board.linuxPool
  let count: UInt64 = Board.linuxPoolSize / 0x1000
  var used: UInt64 = 0

  var delegations: UInt64 = 0
  var undelegations: UInt64 = 0

  mutating func delegated() -> UInt64? {
    guard used < count else { return nil }
    let pa = base + used * 0x1000
    delegations += 1
    guard rmi(.granuleDelegate, pa).x0 == 0 else { return nil }
    used += 1
    return pa
  }

  /// Back to NS, all of them (after the realm is destroyed). The count that refused.
  mutating func undelegateAll() -> UInt64 {
    var refused: UInt64 = 0
    for i in 0..<used where rmi(.granuleUndelegate, base + i * 0x1000).x0 != 0 { refused += 1 }
    undelegations += used
    return refused
  }
}

/// Counters for the README's numbers.
struct LinuxRealmStatistics {
  var exits: InlineArray<8, UInt64> = .init(repeating: 0)   // by RecExitReason
  var mmio: UInt64 = 0
  var populated: UInt64 = 0
  var ripasCalls: UInt64 = 0
  var sgis: UInt64 = 0
  var wfx: UInt64 = 0
  var timerInjections: UInt64 = 0
  var rmiCalls: InlineArray<32, UInt64> = .init(repeating: 0)  // by FID - 0x150
}

struct LinuxRealm {
  typealias R = RecRunLayout
  let request: LinuxBootRequest
  var layout = RealmLayout()
  var devices: RealmDevices
  var pool = GranulePool()
  var rd: UInt64 = 0
  var rec: UInt64 = 0
  let run = Board.linuxWork             // the REC's run page
  let params = Board.linuxWork + 0x1000 // realm and REC parameters
  let treeBuffer = Board.linuxWork + 0x2000
  var treeSize: UInt64 = 0
  var listRegisters = 4
  var stats = LinuxRealmStatistics()
  /// The realm's console, a line at a time, so that audit records print between lines.
  var line: InlineArray<1024, UInt8> = .init(repeating: 0)
  var lineLength = 0
  var powerOff = false

  init(request: LinuxBootRequest) {
    self.request = request
    layout.ramSize = request.ramSize
    devices = RealmDevices(layout: layout)
  }

  mutating func call(_ command: RMICommand, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0,
                     _ a4: UInt64 = 0, _ a5: UInt64 = 0) -> SMCResult {
    let index = Int(truncatingIfNeeded: command.rawValue & 0xFF) - 0x50
    if index >= 0 && index < 32 { stats.rmiCalls[index] += 1 }
    return rmi(command, a1, a2, a3, a4, a5)
  }

  // ---- building --------------------------------------------------------------------

  mutating func build() -> Bool {
    let features = RMIFeatureRegister0(rawValue: call(.features, 0).x1)
    listRegisters = Int(features.gicv3ListRegisters) + 1
    // The two concatenated root tables first: they must be one 8 KiB-aligned block.
    guard let root0 = pool.delegated(), let root1 = pool.delegated(), root1 == root0 + 0x1000, root0 & 0x1FFF == 0,
          let rd = pool.delegated()
    else { return fail("delegating the RD and the root tables") }
    self.rd = rd
    fillPage(params) { _ in 0 }
    mmio_write64(params + UInt64(RealmParamsLayout.s2sz), layout.ipaBits)
    mmio_write64(params + UInt64(RealmParamsLayout.numberOfBreakpoints), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.numberOfWatchpoints), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.hashAlgorithm), UInt64(HashAlgorithm.sha256.rawValue))
    mmio_write64(params + UInt64(RealmParamsLayout.vmid), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.rttBase), root0)
    mmio_write64(params + UInt64(RealmParamsLayout.rttLevelStart), 1)
    mmio_write64(params + UInt64(RealmParamsLayout.rttNumStart), 2)
    let created = call(.realmCreate, rd, params).x0
    guard created == 0 else {
      console.hex(created)
      return fail(" REALM_CREATE")
    }

    // Tables for all of RAM (level 2 for its GiB, level 3 for every 2 MiB), then RAM
    // is RIPAS RAM before activation (the kernel's RSI setup expects it, arm-cca.rst).
    var ipa = layout.ramBase & ~0x3FFF_FFFF
    while ipa < layout.ramTop {
      guard let table = pool.delegated(), call(.rttCreate, rd, table, ipa, 2).x0 == 0 else { return fail("RTT_CREATE level 2") }
      ipa += 0x4000_0000
    }
    ipa = layout.ramBase
    while ipa < layout.ramTop {
      guard let table = pool.delegated(), call(.rttCreate, rd, table, ipa, 3).x0 == 0 else { return fail("RTT_CREATE level 3") }
      ipa += 0x20_0000
    }
    var base = layout.ramBase
    while base < layout.ramTop {
      let r = call(.rttInitRIPAS, rd, base, layout.ramTop)
      guard r.x0 == 0, r.x1 > base else { return fail("RTT_INIT_RIPAS") }
      base = r.x1
    }

    // The images, measured: kernel, initramfs, device tree.
    guard load(from: request.kernelPA, size: request.kernelSize, at: layout.kernel) else { return fail("loading the kernel") }
    if request.initrdSize > 0 {
      guard load(from: request.initrdPA, size: request.initrdSize, at: layout.initrd) else { return fail("loading the initramfs") }
    }
    guard let size = RealmDeviceTree.build(into: treeBuffer, capacity: 0x4000, layout: layout, commandLine: request.commandLine,
                                           commandLineLength: request.commandLineLength, initrdSize: request.initrdSize)
    else { return fail("writing the device tree (libfdt)") }
    treeSize = size
    printDeviceTree()
    guard load(from: treeBuffer, size: size, at: layout.deviceTree) else { return fail("loading the device tree") }

    // REC 0: the boot CPU at the kernel's entry, x0 = the device tree.
    let auxCount = call(.recAuxCount, rd).x1
    guard let rec = pool.delegated() else { return fail("delegating the REC") }
    self.rec = rec
    fillPage(params) { _ in 0 }
    mmio_write64(params + UInt64(RecParamsLayout.flags), RecParamsLayout.flagRunnable)
    mmio_write64(params + UInt64(RecParamsLayout.mpidr), 0)
    mmio_write64(params + UInt64(RecParamsLayout.pc), layout.kernel)
    mmio_write64(params + UInt64(RecParamsLayout.gprs), layout.deviceTree)
    mmio_write64(params + UInt64(RecParamsLayout.numberOfAux), auxCount)
    for i in 0..<auxCount {
      guard let aux = pool.delegated() else { return fail("delegating aux granules") }
      mmio_write64(params + UInt64(RecParamsLayout.aux) + 8 * i, aux)
    }
    guard call(.recCreate, rd, rec, params).x0 == 0 else { return fail("REC_CREATE") }
    guard call(.realmActivate, rd).x0 == 0 else { return fail("REALM_ACTIVATE") }
    return true
  }

  /// DATA_CREATE (measured) of `size` bytes at NS `source` to IPA `ipa`; the last
  /// granule's tail is zeroed first, so the measurement is of the image and zeros.
  mutating func load(from source: UInt64, size: UInt64, at ipa: UInt64) -> Bool {
    var tail = size
    while tail & 0xFFF != 0 {
      mmio_write8(source + tail, 0)
      tail += 1
    }
    var offset: UInt64 = 0
    while offset < size {
      guard let granule = pool.delegated(),
            call(.dataCreate, rd, granule, ipa + offset, source + offset, 1).x0 == 0 else { return false }
      offset += 0x1000
    }
    return true
  }

  /// The tree the realm boots with, in hex, for scripts/lib/realm_rim.py.
  func printDeviceTree() {
    var i: UInt64 = 0
    while i < treeSize {
      console.write("LINUX_DTB ")
      var j: UInt64 = 0
      while j < 32 && i + j < treeSize {
        console.hexByte(mmio_read8(treeBuffer + i + j))
        j += 1
      }
      console.newline()
      i += 32
    }
  }

  func fail(_ what: StaticString) -> Bool {
    console.write("VMM: failed: ")
    console.write(what)
    console.newline()
    return false
  }

  // ---- running ---------------------------------------------------------------------

  func exitField(_ offset: Int) -> UInt64 { mmio_read64(run + UInt64(offset)) }

  /// Runs the realm until it powers off. False if it could not run on.
  mutating func runUntilPowerOff() -> Bool {
    var flags: UInt64 = 0
    var reply: UInt64 = 0
    while !powerOff {
      // Entry: the host's answer to the last exit and the interrupts to deliver.
      mmio_write64(run + UInt64(R.enterFlags), flags)
      mmio_write64(run + UInt64(R.enterGPRs), reply)
      mmio_write64(run + UInt64(R.enterGICv3HCR), 0)
      let lrs = devices.gic.listRegisters(0, count: listRegisters)
      for i in 0..<16 { mmio_write64(run + UInt64(R.enterGICv3LRs + 8 * i), lrs[i]) }
      if request.interactive {
        write_cnthp_tval_el2(10_000_000)  // 10 ms: exit now and then to look for input
        write_cnthp_ctl_el2(1)
      }
      let status = call(.recEnter, rec, run).x0
      if request.interactive { write_cnthp_ctl_el2(0) }
      guard status == 0 else {
        console.write("VMM: REC_ENTER failed ")
        console.hex(status)
        console.newline()
        return false
      }
      flags = 0
      reply = 0
      var exitLRs: InlineArray<16, UInt64> = .init(repeating: 0)
      for i in 0..<16 { exitLRs[i] = exitField(R.exitGICv3LRs + 8 * i) }
      devices.gic.retire(0, exitLRs: exitLRs, count: listRegisters)
      // Every exit shows the realm's timers (A6.2): their lines follow.
      let vtimer = RECSystemRegisters.timerAsserted(exitField(R.exitCNTVCTL))
      let ptimer = RECSystemRegisters.timerAsserted(exitField(R.exitCNTPCTL))
      if vtimer && !devices.gic.isPending(0, VirtualGIC.virtualTimerINTID) { stats.timerInjections += 1 }
      devices.gic.setLine(0, VirtualGIC.virtualTimerINTID, high: vtimer)
      devices.gic.setLine(0, VirtualGIC.physicalTimerINTID, high: ptimer)
      if request.interactive { pollInput() }

      let reason = exitField(R.exitReason) & 0xFF
      if reason < 8 { stats.exits[Int(reason)] += 1 }
      switch RecExitReason(rawValue: UInt8(reason)) {
      case .sync?:
        guard serveSync(&flags, &reply) else { return false }
      case .irq?, .fiq?:
        break  // the line states above are what the host had to learn
      case .ripasChange?:
        guard serveRIPASChange(&flags) else { return false }
      case .psci?:
        guard servePSCI() else { return false }
      case .hostCall?:
        break
      case .serror?, nil:
        console.write("VMM: SError or unknown exit ")
        console.hex(exitField(R.exitESR))
        console.newline()
        return false
      }
    }
    flushLine()
    return true
  }

  mutating func serveSync(_ flags: inout UInt64, _ reply: inout UInt64) -> Bool {
    let esr = exitField(R.exitESR)
    switch esr >> 26 {
    case 0x24, 0x20:  // data or instruction abort
      let ipa = (exitField(R.exitHPFAR) >> 4) << 12 | exitField(R.exitFAR) & 0xFFF
      if ipa & layout.sharedBit != 0 {
        guard esr >> 26 == 0x24, esr & (1 << 24) != 0 else {
          flags = R.flagInjectSEA  // not a single emulatable load or store
          return true
        }
        stats.mmio += 1
        let access = MMIOAccess(address: ipa & ~layout.sharedBit, esr: esr)
        switch devices.access(cpu: 0, access, value: exitField(R.exitGPRs)) {
        case .value(let value):
          reply = value
          flags = R.flagEmulatedMMIO
        case .written(let byte):
          if let byte { output(byte) }
          flags = R.flagEmulatedMMIO
        case .noDevice:
          flags = R.flagInjectSEA
        }
        return true
      }
      // Protected RAM the realm touched first: back it now.
      guard layout.isRAM(ipa) else { return fail("a protected abort outside RAM") }
      guard let granule = pool.delegated(), call(.dataCreateUnknown, rd, granule, ipa & ~0xFFF).x0 == 0 else {
        return fail("populating a page (DATA_CREATE_UNKNOWN)")
      }
      stats.populated += 1
      return true
    case 0x18:  // a GIC CPU interface write the RMM forwarded
      let encoding = SystemRegisterEncoding(iss: esr)
      if encoding.isHostEmulatedGICRegister && encoding.op2 == 5 {  // ICC_SGI1R_EL1
        stats.sgis += 1
        devices.gic.generateSGI(from: 0, exitField(R.exitGPRs))
      }
      return true
    case 0x01:
      stats.wfx += 1
      return true
    default:
      console.write("VMM: unexpected sync exit, ESR ")
      console.hex(esr)
      console.newline()
      return false
    }
  }

  /// RSI_IPA_STATE_SET: the host makes the change with RTT_SET_RIPAS, as far as it
  /// goes, and accepts.
  mutating func serveRIPASChange(_ flags: inout UInt64) -> Bool {
    var base = exitField(R.exitRIPASBase)
    let top = exitField(R.exitRIPASTop)
    while base < top {
      stats.ripasCalls += 1
      let r = call(.rttSetRIPAS, rd, rec, base, top)
      guard r.x0 == 0, r.x1 > base else {
        // A range without tables (outside RAM): accept what was done; the realm sees
        // how far it got.
        break
      }
      base = r.x1
    }
    flags = 0
    return true
  }

  mutating func servePSCI() -> Bool {
    let fid = exitField(R.exitGPRs)
    if fid == PSCIFunction.systemOff.rawValue || fid == PSCIFunction.systemReset.rawValue {
      powerOff = true
      return true
    }
    // One vCPU: CPU_ON and AFFINITY_INFO name no other REC; the realm's own CPU_OFF or
    // CPU_SUSPEND just run on.
    if fid == PSCIFunction.cpuOn.smc64 || fid == PSCIFunction.affinityInfo.smc64 || fid == PSCIFunction.cpuOn.rawValue {
      return call(.psciComplete, rec, rec, 0).x0 == 0 || true
    }
    return true
  }

  // ---- console -----------------------------------------------------------------------

  mutating func output(_ byte: UInt8) {
    line[lineLength] = byte
    lineLength += 1
    if byte == 10 || lineLength == 1024 { flushLine() }
  }

  mutating func flushLine() {
    guard lineLength > 0 else { return }
    for i in 0..<lineLength where line[i] != 13 { console.put(line[i]) }
    // The console stays at a line boundary between the realm's lines (audit records
    // may print there), except for the interactive shell's prompt.
    if line[lineLength - 1] != 10 && !request.interactive { console.newline() }
    lineLength = 0
  }

  /// Bytes typed at the host's UART go to the realm's.
  mutating func pollInput() {
    let uart = UInt64(Board.uartBase)
    // Only while the realm's FIFO has room: what stays in ours waits for the next look.
    while !devices.uart.receiveFull && mmio_read32(uart + 0x18) & (1 << 4) == 0 {
      _ = devices.receive(UInt8(truncatingIfNeeded: mmio_read32(uart)))
      flushLine()  // echo and prompts show at once
    }
  }

  // ---- teardown ----------------------------------------------------------------------

  /// Destroys everything and returns every granule to NS. The count that did not go back.
  mutating func tearDown() -> UInt64 {
    var refused: UInt64 = 0
    if call(.recDestroy, rec).x0 != 0 { refused += 1 }
    var ipa = layout.ramBase
    while ipa < layout.ramTop {
      let r = call(.dataDestroy, rd, ipa)
      ipa = r.x0 == 0 || r.x2 > ipa ? max(r.x2, ipa + 0x1000) : ipa + 0x1000
    }
    ipa = layout.ramBase
    while ipa < layout.ramTop {
      if call(.rttDestroy, rd, ipa, 3).x0 != 0 { refused += 1 }
      ipa += 0x20_0000
    }
    ipa = layout.ramBase & ~0x3FFF_FFFF
    while ipa < layout.ramTop {
      if call(.rttDestroy, rd, ipa, 2).x0 != 0 { refused += 1 }
      ipa += 0x4000_0000
    }
    if call(.realmDestroy, rd).x0 != 0 { refused += 1 }
    return refused + pool.undelegateAll()
  }

  func printStatistics() {
    console.write("VMM-STATS exits sync=")
    console.decimal(stats.exits[0])
    console.write(" irq=")
    console.decimal(stats.exits[1])
    console.write(" psci=")
    console.decimal(stats.exits[3])
    console.write(" ripas=")
    console.decimal(stats.exits[4])
    console.write(" mmio=")
    console.decimal(stats.mmio)
    console.write(" populated=")
    console.decimal(stats.populated)
    console.write(" sgi=")
    console.decimal(stats.sgis)
    console.write(" timer-injections=")
    console.decimal(stats.timerInjections)
    console.write(" granules=")
    console.decimal(pool.used)
    console.newline()
    console.write("VMM-STATS rmi")
    let names: InlineArray<8, (Int, StaticString)> = [
      (0x51, " delegate="), (0x52, " undelegate="), (0x53, " data_create="), (0x54, " data_create_unknown="),
      (0x5C, " rec_enter="), (0x5D, " rtt_create="), (0x69, " rtt_set_ripas="), (0x55, " data_destroy="),
    ]
    for i in 0..<8 {
      console.write(names[i].1)
      let index = names[i].0 - 0x50
      console.decimal(index == 1 ? pool.delegations : index == 2 ? pool.undelegations : stats.rmiCalls[index])
    }
    console.newline()
  }
}

/// Mode .linux: boot the images as a realm, run it to power-off, tear it down.
func runLinuxRealm() {
  let request = LinuxBootRequest.fromRunConfiguration()
  let platform = PlatformDescription.read(at: Board.platformDeviceTree)
  console.write("VMM: platform device tree ")
  console.write(platform.fromDeviceTree ? "read: memory " : "absent: board constants; memory ")
  console.hex(platform.memoryBase)
  console.write(" + ")
  console.hex(platform.memorySize)
  console.write(", UART ")
  console.hex(platform.uart)
  console.write(", GICD ")
  console.hex(platform.distributor)
  console.write(", GICR ")
  console.hex(platform.redistributor)
  console.newline()
  guard request.kernelSize > 0, request.kernelPA != 0 else {
    console.write("VMM: no kernel in the run configuration\nTESTHOST: 0 passed, 1 failed\n")
    return
  }
  enableRealmInterrupts(platform)
  // The audit log of the whole run, drained every few RMI calls (nothing lost); not in
  // the interactive shell, whose console it would flood.
  AuditCollector.enabled = !request.interactive
  if request.auditToFile && !AuditFile.open(path: request.auditFileName) {
    console.write("VMM: cannot open the audit file (semihosting)\n")
  }
  var realm = LinuxRealm(request: request)
  console.write("VMM: building the realm: kernel ")
  console.decimal(request.kernelSize)
  console.write(" bytes, initramfs ")
  console.decimal(request.initrdSize)
  console.write(" bytes, RAM ")
  console.decimal(request.ramSize >> 20)
  console.write(" MiB\n")
  let start = counter()
  guard realm.build() else {
    console.write("TESTHOST: 0 passed, 1 failed\n")
    return
  }
  let built = counter()
  console.write("VMM: realm built and activated (")
  console.decimal(realm.pool.used)
  console.write(" granules); entering\n")
  let ran = realm.runUntilPowerOff()
  AuditCollector.drainAndPrint()
  let finished = counter()
  console.write(ran ? "VMM: the realm powered off\n" : "VMM: the realm stopped\n")
  let refused = realm.tearDown()
  realm.printStatistics()
  console.write("VMM-STATS build-ticks=")
  console.decimal(built &- start)
  console.write(" run-ticks=")
  console.decimal(finished &- built)
  console.newline()
  AuditCollector.drainAndPrint()
  console.write("VMM: teardown: ")
  console.decimal(refused)
  console.write(" granules not returned to NS\n")
  AuditFile.finish()
  // A signed checkpoint over the whole run's records (on the console, after them).
  if AuditCollector.enabled { AuditCollector.printCheckpoint(nonce: 0x5357_4946_5452_4D4D) }
  AuditCollector.printStatistics()
  console.write("TESTHOST: ")
  console.decimal(ran && refused == 0 ? 1 : 0)
  console.write(" passed, ")
  console.decimal(ran && refused == 0 ? 0 : 1)
  console.write(" failed\n")
}

/// The physical interrupts that make the realm exit: the GIC maintenance interrupt
/// (PPI 25, the realm ended a level interrupt), the hypervisor timer (PPI 26, the
/// host's own tick while interactive), the EL1 virtual and physical timers (PPIs 27,
/// 30, the realm's timers while it runs), Group 1 on this CPU.
func enableRealmInterrupts(_ platform: PlatformDescription) {
  mmio_write32(platform.distributor, mmio_read32(platform.distributor) | 1 << 1)
  let sgiBase = platform.redistributor + 0x10000
  let ppis: UInt32 = 1 << 25 | 1 << 26 | 1 << 27 | 1 << 30
  mmio_write32(sgiBase + 0x080, mmio_read32(sgiBase + 0x080) | ppis)
  mmio_write32(sgiBase + 0x100, ppis)
  write_icc_pmr_el1(0xFF)
  write_icc_igrpen1_el1(1)
}

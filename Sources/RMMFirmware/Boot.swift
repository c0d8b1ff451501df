// Cold and warm boot, called from boot/rmm_entry.S with the MMU and caches on.

import AArch64Shim
import RMMABI
import RMMCore

/// Set once a CPU has finished booting: from then on a crash on it ends an RMI call.
nonisolated(unsafe) var cpuServesRMI: InlineArray<32, Bool> = .init(repeating: false)
nonisolated(unsafe) var bootCPUCount: UInt64 = 0

/// The shared page as EL3 left it, mapped at a fixed VA by early_mmu.c.
struct SharedPage: ReadablePage {
  func load64(at offset: Int) -> UInt64 {
    precondition(offset >= 0 && offset < 4096 && offset & 7 == 0)
    return UnsafePointer<UInt64>(bitPattern: UInt(RMM_SHARED_PAGE_VA) + UInt(offset))!.pointee
  }
}

@_cdecl("rmm_cold_boot")
public func rmmColdBoot(_ cpu: UInt64, _ interfaceVersion: UInt64, _ cpuCount: UInt64, _ sharedPA: UInt64) -> Int64 {
  do throws(BootStatus) {
    try BootArguments.validateColdBoot(cpu: cpu, interfaceVersion: interfaceVersion, cpuCount: cpuCount,
                                       sharedPage: sharedPA, supportedCPUs: UInt64(RMM_MAX_CPUS))
  } catch {
    return error.rawValue
  }

  // Copy the manifest once into RMM memory; parse and validate only the copy.
  var manifestCopy = PageBuffer()
  let shared = SharedPage()
  for offset in stride(from: 0, to: 4096, by: 8) { manifestCopy.store64(shared.load64(at: offset), at: offset) }
  let manifest: BootManifest
  do throws(ManifestError) {
    manifest = try BootManifestParser.parse(manifestCopy, pagePA: sharedPA)
  } catch {
    return error.bootStatus.rawValue
  }
  guard manifest.console.name == ConsoleInfo.pl011Name else { return BootStatus.manifestDataError.rawValue }
  mapConsole(manifest.console)

  var out = Console()
  out.write("\nRMM: Embedded Swift Realm Management Monitor, RMI ")
  printVersion(&out, rmiABIVersion)
  out.write(" / RSI ")
  printVersion(&out, rsiABIVersion)
  out.write("\nRMM: cold boot on CPU ")
  out.decimal(cpu)
  out.write(", RMM-EL3 interface ")
  printVersion(&out, InterfaceVersion(encoded: interfaceVersion))
  out.write(", boot manifest ")
  printVersion(&out, manifest.version)
  out.write(", CPUs ")
  out.decimal(cpuCount)
  out.write("\nRMM: image ")
  printRange(&out, rmm_image_start(), rmm_image_end())
  out.write(" (text ")
  printRange(&out, rmm_image_start(), rmm_text_end())
  out.write(", rodata ..")
  out.hex(rmm_rodata_end(), digits: 8)
  out.write(")\nRMM: shared page ")
  out.hex(sharedPA, digits: 8)
  out.write(", console pl011 at ")
  out.hex(manifest.console.base, digits: 8)
  out.newline()
  for i in 0..<manifest.dram.bankCount {
    out.write("RMM: NS DRAM bank ")
    out.decimal(UInt64(i))
    out.write(": ")
    out.hex(manifest.dram.banks[i].base, digits: 10)
    out.write(" size ")
    out.hex(manifest.dram.banks[i].size, digits: 10)
    out.newline()
  }

  guard let table = GranuleTable(storage: FirmwareDescriptors(), dram: manifest.dram) else {
    out.write("RMM: DRAM has more granules than the descriptor table holds\n")
    return BootStatus.manifestDataError.rawValue
  }
  granuleTable = table
  out.write("RMM: granule table: ")
  out.decimal(manifest.dram.granuleCount)
  out.write(" granules, ")
  out.decimal(manifest.dram.granuleCount * 2 / 1024)
  out.write(" KiB\n")

  // The audit storage in boot/runtime.c is sized for these types.
  guard auditInitialise() else { return BootStatus.unknown.rawValue }
  featureRegister0 = detectFeatures()
  configureRealmTraps()
  out.write(installSHA256Instructions() ? "RMM: SHA-256 with the CPU's SHA instructions (known-answer test passed)\n"
                                        : "RMM: SHA-256 in software\n")
  out.write(installSHA512Instructions() ? "RMM: SHA-512 with the CPU's SHA-512 instructions (known-answer test passed)\n"
                                        : "RMM: SHA-512 in software\n")
  sharedPagePA = sharedPA
  attestationAvailable = initialiseAttestation(&out)
  bootCPUCount = cpuCount
  cpuServesRMI[Int(cpu)] = true
  out.write("RMM: cold boot complete, features ")
  out.hex(featureRegister0.rawValue)
  out.newline()
  return BootStatus.success.rawValue
}

@_cdecl("rmm_warm_boot")
public func rmmWarmBoot(_ cpu: UInt64, _ x1: UInt64, _ x2: UInt64, _ x3: UInt64) -> Int64 {
  do throws(BootStatus) {
    try BootArguments.validateWarmBoot(cpu: cpu, x1: x1, x2: x2, x3: x3, cpuCount: bootCPUCount)
  } catch {
    return error.rawValue
  }
  cpuServesRMI[Int(cpu)] = true
  configureRealmTraps()
  var out = Console()
  out.write("RMM: warm boot on CPU ")
  out.decimal(cpu)
  out.newline()
  return BootStatus.success.rawValue
}

/// RMI feature register 0 from what this CPU and this RMM support.
func detectFeatures() -> RMIFeatureRegister0 {
  var features = RMIFeatureRegister0(rawValue: 0)
  let paBits: InlineArray<7, UInt64> = [32, 36, 40, 42, 44, 48, 52]
  let mmfr0 = read_id_aa64mmfr0_el1()
  let paRange = Int(mmfr0 & 0xF)
  // FEAT_LPA2 at stage 2 with 4 KiB granules: TGran4_2 (bits 43:40) 0b0011, or 0b0000
  // (as stage 1) with TGran4 (bits 31:28) 0b0001. 52 bits need PARange 0b0110 as well.
  let tgran4 = (mmfr0 >> 28) & 0xF, tgran4Stage2 = (mmfr0 >> 40) & 0xF
  features.lpa2 = paRange == 6 && (tgran4Stage2 == 0b0011 || (tgran4Stage2 == 0 && tgran4 == 0b0001))
  features.s2sz = features.lpa2 ? 52 : min(paRange < 7 ? paBits[paRange] : 48, 48)
  let debug = read_id_aa64dfr0_el1()
  features.numberOfBreakpoints = (debug >> 12) & 0xF   // BRPs: count - 1
  features.numberOfWatchpoints = (debug >> 20) & 0xF   // WRPs: count - 1
  features.sha256 = true   // both in software, with the CPU's SHA instructions where present
  features.sha512 = true
  features.maxRECsOrder = 10
  // SVE: the largest vector length, as ZCR_ELx.LEN ((LEN + 1) x 128 bits).
  let vectorBytes = rmm_sve_max_vector_bytes()
  if vectorBytes >= 16 {
    features.sveEnabled = true
    features.sveVectorLength = min(vectorBytes / 16 - 1, 15)
  }
  // PMU: PMUv3 (PMUVer neither 0 nor IMPLEMENTATION DEFINED), its PMCR_EL0.N counters.
  let pmuVersion = (debug >> 8) & 0xF
  if pmuVersion != 0 && pmuVersion != 0xF {
    pmuCounterCount = (read_pmcr_el0() >> 11) & 0x1F
    features.pmuEnabled = true
    features.pmuCounters = pmuCounterCount
  }
  gicListRegisters = Int(read_ich_vtr_el2() & 0x1F) + 1
  let preemptionBits = Int((read_ich_vtr_el2() >> 26) & 0x7) + 1  // PREbits
  gicActivePriorityRegisters = preemptionBits >= 7 ? 4 : preemptionBits == 6 ? 2 : 1
  features.gicv3ListRegisters = UInt64(gicListRegisters - 1)
  maximumVMID = (read_id_aa64mmfr1_el1() >> 4) & 0xF == 0b0010 ? 0xFFFF : 0xFF
  hardwareIDs.pfr0 = read_id_aa64pfr0_el1()
  hardwareIDs.pfr1 = read_id_aa64pfr1_el1()
  hardwareIDs.dfr0 = debug
  hardwareIDs.isar0 = read_id_aa64isar0_el1()
  hardwareIDs.isar1 = read_id_aa64isar1_el1()
  hardwareIDs.isar2 = read_id_aa64isar2_el1()
  hardwareIDs.mmfr0 = read_id_aa64mmfr0_el1()
  hardwareIDs.mmfr1 = read_id_aa64mmfr1_el1()
  hardwareIDs.mmfr2 = read_id_aa64mmfr2_el1()
  hardwareIDs.zfr0 = (hardwareIDs.pfr0 >> 32) & 0xF != 0 ? read_id_aa64zfr0_el1() : 0
  return features
}

/// The CPU's ID registers (the same on every CPU of the machine), for the realms' view.
nonisolated(unsafe) var hardwareIDs = HardwareIDRegisters()

/// MDCR_EL2 of this CPU, which EL3 keeps per world: realms get no PMU (TPM, TPMCR;
/// no event or cycle counting at EL2: HPMD, HCCD), no SPE (TPMS; E2PB 0b00) and no
/// trace buffer (E2TB 0b00), no trace filter control (TTRF), and their self-hosted
/// debug register accesses come to the RMM (TDA, TDOSA, TDRA), which emulates them.
/// HPMN is left as EL3 set it: with TPM every PMU access traps anyway. Bits of
/// features the CPU lacks are RES0 and stay clear.
func configureRealmTraps() {
  let dfr0 = read_id_aa64dfr0_el1()
  let pmuVersion = (dfr0 >> 8) & 0xF
  var mdcr = read_mdcr_el2() & 0x1F  // HPMN
  mdcr |= 1 << 5 | 1 << 6 | 1 << 9 | 1 << 10 | 1 << 11  // TPMCR, TPM, TDA, TDOSA, TDRA
  if pmuVersion != 0 && pmuVersion != 0xF {
    if pmuVersion >= 4 { mdcr |= 1 << 17 }  // HPMD (PMUv3p1)
    if pmuVersion >= 6 { mdcr |= 1 << 23 }  // HCCD (PMUv3p5)
  }
  if (dfr0 >> 32) & 0xF != 0 { mdcr |= 1 << 14 }  // TPMS (SPE)
  if (dfr0 >> 40) & 0xF != 0 { mdcr |= 1 << 19 }  // TTRF (FEAT_TRF)
  write_mdcr_el2(mdcr)
  isb()
}

func printVersion<Sink: ByteSink>(_ out: inout Sink, _ version: InterfaceVersion) {
  out.decimal(UInt64(version.major))
  out.put(UInt8(ascii: "."))
  out.decimal(UInt64(version.minor))
}

func printRange<Sink: ByteSink>(_ out: inout Sink, _ start: UInt64, _ end: UInt64) {
  out.hex(start, digits: 8)
  out.write("..")
  out.hex(end, digits: 8)
}

// Shared by the rmi_dispatcher and run_page targets: a small fake machine (the fakes of
// Tests/RMMCoreTests/Fakes.swift), decoders that turn input bytes into addresses and
// values that hit real states, and the invariants checked after every RMI call.
import RMMABI
@testable import RMMCore

let allCommands: [RMICommand] = [
  .version, .granuleDelegate, .granuleUndelegate, .dataCreate, .dataCreateUnknown, .dataDestroy,
  .realmActivate, .realmCreate, .realmDestroy, .recCreate, .recDestroy, .recEnter, .rttCreate,
  .rttDestroy, .rttMapUnprotected, .rttReadEntry, .rttUnmapUnprotected, .psciComplete, .features,
  .rttFold, .recAuxCount, .rttInitRIPAS, .rttSetRIPAS,
]

/// 64 granules at 0x8000_0000 and 32 at 0x1_0000_0000 (FakeEnvironment's default banks).
let bank0Granules: UInt64 = 64
let granuleTotal = 96

func granulePA(_ index: Int) -> UInt64 {
  index < Int(bank0Granules) ? 0x8000_0000 + UInt64(index) * 4096
                             : 0x1_0000_0000 + UInt64(index - Int(bank0Granules)) * 4096
}

/// x0 of the RSI/PSCI calls a scripted realm makes.
let realmFIDs: [UInt64] = [
  0xC400_0190, 0xC400_0191, 0xC400_0192, 0xC400_0193, 0xC400_0194, 0xC400_0195, 0xC400_0196,
  0xC400_0197, 0xC400_0198, 0xC400_0199,
  0x8400_0000, 0x8400_0001, 0x8400_0002, 0x8400_0003, 0x8400_0004, 0x8400_0008, 0x8400_0009,
  0xC400_0003, 0xC400_0004, 0x8400_000A, 0xC400_0182,
]

/// Addresses the host used in successful calls so far (this input only): arguments may
/// pick them again, as a host reuses its RDs, RECs and tables.
nonisolated(unsafe) var history: [UInt64] = []

func remember(_ call: SMCArguments) {
  for v in [call.x1, call.x2, call.x3] where v != 0 && history.count < 64 && !history.contains(v) { history.append(v) }
}

extension FuzzInput {
  /// A PA: mostly a granule of the fake DRAM, sometimes just outside it or unaligned.
  mutating func granuleAddress() -> UInt64 {
    let b = byte()
    if b < 0xF0 { return granulePA(Int(b) % granuleTotal) }
    switch b & 0xF {
    case 0: return 0
    case 1: return 0x8000_0000 - 4096
    case 2: return 0x8000_0000 + bank0Granules * 4096
    case 3: return 0x1_0000_0000 + 32 * 4096
    case 4: return granulePA(Int(byte()) % granuleTotal) + UInt64(byte() & 0xF8)
    case 5: return UInt64.max & ~0xFFF
    default: return u64()
    }
  }

  /// An IPA: page-, block- or table-sized steps, or the unprotected half of common widths.
  mutating func ipa() -> UInt64 {
    let b = byte()
    switch b >> 5 {
    case 0, 1: return UInt64(b & 63) << 12
    case 2: return UInt64(b & 31) << 21
    case 3: return UInt64(b & 31) << 30
    case 4: return (1 << 31) | UInt64(b & 31) << 12
    case 5: return (1 << 39) | UInt64(b & 31) << 12
    case 6: return b & 16 == 0 ? (1 << 47) | UInt64(b & 15) << 21 : UInt64(b & 15) << 48  // and 52-bit (LPA2) realms
    default: return u64()
    }
  }

  /// An argument register: one of the above, a small number (levels, indices), or anything.
  mutating func argument() -> UInt64 {
    switch byte() % 7 {
    case 0: return granuleAddress()
    case 1: return history.isEmpty ? granuleAddress() : history[Int(byte()) % history.count]
    case 6: return history.isEmpty ? ipa() : history[Int(byte()) % history.count] &+ UInt64(byte() % 3) * 4096
    case 2: return ipa()
    case 3: return UInt64(bitPattern: Int64(byte() % 6) - 1)  // levels -1 to 4
    case 4: return UInt64(bitPattern: Int64(Int8(bitPattern: byte())))
    default: return u64()
    }
  }

  /// An RD, REC or table address: one the host used before, or a granule.
  mutating func object() -> UInt64 {
    history.isEmpty || byte() & 3 == 0 ? granuleAddress() : history[Int(byte()) % history.count]
  }

  /// An x0 for RMI: mostly one of the commands, sometimes a neighbour in the range.
  mutating func functionID() -> UInt64 {
    let b = byte()
    if b < 0xD8 { return allCommands[Int(b) % allCommands.count].rawValue }
    switch b & 7 {
    case 0: return 0xC400_0150 + UInt64(byte() & 0x3F)        // the forwarded range, gaps included
    case 1: return allCommands[Int(byte()) % allCommands.count].rawValue | smcSVEHintBit
    case 2: return allCommands[Int(byte()) % allCommands.count].rawValue & ~(1 << 30)  // SMC32
    case 3: return realmFIDs[Int(byte()) % realmFIDs.count]
    case 4: return 0xC400_0182                                  // the audit interface
    default: return u64()
    }
  }
}

/// The host pages the templates fill: plausible parameter structures, so that the
/// fuzzer quickly reaches realms, RECs and RTTs and then mutates from there.
extension FakeEnvironment {
  func writePage(_ pa: UInt64, _ fields: [(Int, UInt64)]) {
    let frame = memory.frame(pa)
    for (offset, value) in fields { frame[(offset & 0xFF8) / 8] = value }
  }

  func writeRealmParams(_ input: inout FuzzInput, at pa: UInt64) {
    typealias L = RealmParamsLayout
    // Half LPA2 realms: up to 52 bits, and start level -1 (bits 51:48) for 49 or more.
    let lpa2 = input.byte() & 1 != 0
    let s2sz = 32 + UInt64(input.byte() % (lpa2 ? 21 : 17))
    let level = Int(input.byte() % 5) - (lpa2 && s2sz > 48 ? 1 : 0)
    let roots = Stage2Config.rootTableCount(ipaWidth: s2sz, startLevel: level) ?? 1
    // A third with SVE (any length, one beyond the largest now and then), a third with
    // a PMU (up to one counter too many).
    let features = input.byte()
    let sve = features % 3 == 0, pmu = features % 3 == 1 || features & 0x80 != 0
    let flags = (lpa2 ? L.flagLPA2 : 0) | (sve ? L.flagSVE : 0) | (pmu ? L.flagPMU : 0)
    var fields: [(Int, UInt64)] = [
      (L.flags, flags), (L.s2sz, s2sz), (L.sveVectorLength, sve ? UInt64(input.byte() % 17) : 0),
      (L.numberOfBreakpoints, 1 + UInt64(input.byte() % 5)),
      (L.numberOfWatchpoints, 1 + UInt64(input.byte() % 3)), (L.pmuCounters, pmu ? UInt64(input.byte() % 8) : 0),
      (L.hashAlgorithm, UInt64(input.byte() & 1)), (L.vmid, UInt64(input.byte())),
      (L.rttBase, input.granuleAddress()), (L.rttLevelStart, UInt64(bitPattern: Int64(level))), (L.rttNumStart, UInt64(roots)),
    ]
    for i in 0..<8 { fields.append((L.personalizationValue + 8 * i, UInt64(input.byte()))) }
    writePage(pa, fields)
  }

  func writeRECParams(_ input: inout FuzzInput, at pa: UInt64) {
    typealias L = RecParamsLayout
    let mpidr = UInt64(input.byte() % 4)
    // 2 aux granules (a realm without SVE), 3 to 5 (with SVE), or any other count.
    let count = UInt64(2 + input.byte() % 4)
    var fields: [(Int, UInt64)] = [(L.flags, UInt64(input.byte() & 1)), (L.mpidr, mpidr), (L.pc, UInt64(input.byte()) << 12),
                                   (L.gprs, input.argument()), (L.numberOfAux, count)]
    for i in 0..<Int(count) { fields.append((L.aux + 8 * i, input.granuleAddress())) }
    writePage(pa, fields)
  }

  func writeRunPage(_ input: inout FuzzInput, at pa: UInt64) {
    let flags = UInt64(input.byte() & 0x1F)
    var fields: [(Int, UInt64)] = [(RecRunLayout.enterFlags, flags)]
    for i in 0..<4 { fields.append((RecRunLayout.enterGPRs + 8 * i, input.argument())) }
    if input.byte() & 1 != 0 {
      fields.append((RecRunLayout.enterGICv3HCR, input.u64() & RECEnter.hostGICHCRBits))
      fields.append((RecRunLayout.enterGICv3LRs, input.u64() & ~(1 << 61)))
    }
    writePage(pa, fields)
  }

  /// Queues one realm exit: its syndrome, and x0...x3 as the realm left them.
  func scriptExit(_ input: inout FuzzInput) {
    let kindByte = input.byte()
    let kind: RealmExitSyndrome.Kind = [.sync, .sync, .sync, .sync, .irq, .fiq, .serror, .sync][Int(kindByte & 7)]
    let esr: UInt64
    switch kindByte >> 3 & 7 {
    case 0, 1, 2: esr = 0x17 << 26 | 1 << 25                       // SMC
    case 3: esr = 0x16 << 26 | 1 << 25                             // HVC
    case 4: esr = 0x24 << 26 | 1 << 25 | 1 << 24 | UInt64(input.byte() & 0x7F) << 16 | 0x07 // data abort, ISV
    case 5: esr = 0x20 << 26 | 1 << 25 | 0x07                      // instruction abort
    case 6: esr = UInt64(input.byte() & 0x3F) << 26 | 1 << 25      // any EC
    default: esr = input.u64()
    }
    let ipa = input.ipa()
    let registers = [realmFIDs[Int(input.byte()) % realmFIDs.count], input.argument(), input.argument(), input.argument()]
    var syndrome = RealmExitSyndrome(kind: kind, esr: esr, far: ipa & 0xFFF, hpfar: (ipa >> 12) << 4)
    syndrome.far = ipa
    cpu.state.script.append(({ frame in
      for (i, v) in registers.enumerated() { frame[(RECLayout.context + 8 * i) / 8] = v }
    }, syndrome))
  }
}

/// The granule descriptors and the GPT as seen after the previous call, to check
/// transitions. Read straight from the fake storage (index i is granulePA(i), checked
/// once): a GranuleTable lookup per granule per call was most of the fuzzer's time.
struct MachineView {
  var descriptors: [UInt16]
  /// A copy of EL3's Realm PAS: shares storage with it until EL3 changes it.
  var gpt: Set<UInt64>
  init(_ env: FakeEnvironment) {
    _ = indexLayoutChecked
    descriptors = env.granules.storage.box.words
    gpt = env.monitor.state.realmPAS
  }
  func state(_ i: Int) -> GranuleState? { GranuleDescriptor(rawValue: descriptors[i]).state }
}

let indexLayoutChecked: Bool = {
  let env = FakeEnvironment()
  invariant(env.granules.storage.count == granuleTotal, "descriptor count")
  for i in 0..<granuleTotal { invariant(env.granules.index(of: granulePA(i)) == i, "granule \(i) is not descriptor \(i)") }
  return true
}()

/// The invariants every RMI call must leave behind, whatever it was asked.
func checkCall(_ env: FakeEnvironment, _ call: SMCArguments, _ result: RMIResult, before: inout MachineView) {
  let fid = call.fid
  if let command = RMICommand(rawValue: fid & ~smcSVEHintBit) {
    guard let status = RMIStatus(encoded: result.x0) else {
      fatalError("invariant violated: \(command) returned x0 = \(result.x0), not an RMI 1.0 status")
    }
    if command.resultCount < 4 {
      invariant(result.x4 == call.x4, "\(command) clobbered x4 (callee-saved)")
    }
    if status.code == .success {
      for (i, output) in [result.x1, result.x2, result.x3].enumerated() where i >= command.resultCount && output != 0 {
        fatalError("invariant violated: \(command) leaks x\(i + 1) = \(output) beyond its \(command.resultCount) results")
      }
    } else {
      invariant(result.x3 == 0, "\(command) failed with x3 = \(result.x3)")
      if command != .version && command != .rttUnmapUnprotected {
        invariant(result.x1 == 0, "\(command) failed with x1 = \(result.x1)")
      }
      if command != .version && command != .rttDestroy && command != .dataDestroy {
        invariant(result.x2 == 0, "\(command) failed with x2 = \(result.x2)")
      }
    }
  } else {
    invariant(result == RMIResult(smcUnknown, 0, 0, 0, call.x4), "unknown FID \(fid): \(result)")
  }

  // No lock is left held, no REC is left running, and the GPT agrees with the descriptors:
  // every granule not UNDELEGATED is in the Realm PAS, and nothing else is. What did not
  // change since the previous call was checked then.
  let after = MachineView(env)
  let gptChanged = after.gpt != before.gpt  // O(1) while EL3 has not touched its set
  // Most calls fail and change nothing: the previous call's checks still hold.
  if !gptChanged && after.descriptors == before.descriptors { return }
  for i in 0..<granuleTotal {
    let raw = after.descriptors[i]
    invariant(raw & GranuleDescriptor.lockBit == 0, "granule \(i)'s lock is still held after \(fid)")
    if raw == before.descriptors[i] { continue }
    guard let state = after.state(i) else { fatalError("invariant violated: granule \(i) has no state") }
    let pa = granulePA(i)
    if !gptChanged {
      invariant((state != .undelegated) == after.gpt.contains(pa),
                "granule \(i) is \(state) but the GPT says \(after.gpt.contains(pa) ? "realm" : "NS")")
    }
    if state == .rec {
      invariant(GranuleDescriptor(rawValue: raw).refcount == 0, "REC \(i) still marked running")
    }
    if state == .undelegated && before.state(i) != .undelegated {
      // What returns to the host must have been scrubbed.
      invariant(env.memory.isZero(pa), "granule \(i) returned to NS unscrubbed")
    }
    if state == .delegated && before.state(i) != .delegated {
      invariant(env.memory.isZero(pa), "granule \(i) became DELEGATED but is not zero")
    }
  }
  if gptChanged {
    var realmGranules = 0
    for i in 0..<granuleTotal where after.state(i) != .undelegated {
      realmGranules += 1
      invariant(after.gpt.contains(granulePA(i)), "granule \(i) is \(after.state(i).map { "\($0)" } ?? "?") but the GPT says NS")
    }
    invariant(after.gpt.count == realmGranules,
              "the GPT has \(after.gpt.count) realm granules, the descriptors \(realmGranules): \(after.gpt.map { String($0, radix: 16) }.sorted())")
  }
  before = after
}

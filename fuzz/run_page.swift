// Fuzz target: REC_ENTER's run page (RmiRecEnter: flags, x0-x30, ICH_HCR, 16 list
// registers) validated and acted on, for a REC of an ACTIVE realm on the fake machine,
// over up to 4 rounds so that the pending exits the host answers (MMIO emulation,
// SEA injection, host call, RIPAS change, PSCI) are real ones the scripted realm caused.
//
// Each round: one byte N (N % 4 scripted realm exits follow, see FuzzMachine.scriptExit),
// one byte of mode (bit 0: keep flags and GIC fields plausible, bit 1: enter REC 1
// instead of REC 0, bit 2: call PSCI_COMPLETE first), then 392 bytes of run page:
// flags, x0-x30, ICH_HCR, LR0-15.
#if canImport(Glibc)
import Glibc
#endif
import RMMABI
@testable import RMMCore
@testable import FuzzMachine

/// FUZZ_VERBOSE=1: print each REC_ENTER's status and exit reason.
let verbose = getenv("FUZZ_VERBOSE") != nil

private func g(_ i: Int) -> UInt64 { granulePA(i) }

/// The machine, and the realm every input starts from: built once (through the
/// dispatcher, checked), restored before each input.
nonisolated(unsafe) let env = FakeEnvironment()
nonisolated(unsafe) let prototype: FakeCheckpoint = {
  let dispatcher = env.dispatcher
  var view = MachineView(env)
  func setup(_ command: RMICommand, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0, _ e: UInt64 = 0) {
    let call = SMCArguments(command.rawValue, a, b, c, d, e)
    let result = dispatcher.handle(call)
    checkCall(env, call, result, before: &view)
    invariant(result.x0 == 0, "setup: \(command) failed with \(result.x0)")
  }
  // An ACTIVE realm (s2sz 40, start level 1, roots at granules 32-33, RD 16), IPA
  // [0, 2 MiB) RAM with DATA at 0x1000 and 0x2000, REC 0 (runnable, 46) and REC 1 (47).
  let rd = g(16), params = g(0), recParams = g(1), source = g(2)
  for i in [16, 32, 33, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49] { setup(.granuleDelegate, g(i)) }
  typealias P = RealmParamsLayout
  env.writePage(params, [(P.s2sz, 40), (P.numberOfBreakpoints, 2), (P.numberOfWatchpoints, 2), (P.vmid, 1),
                         (P.rttBase, g(32)), (P.rttLevelStart, 1), (P.rttNumStart, 2)])
  setup(.realmCreate, rd, params)
  setup(.rttCreate, rd, g(40), 0, 2)
  setup(.rttCreate, rd, g(41), 0, 3)
  setup(.rttInitRIPAS, rd, 0, 0x20_0000)
  env.writePage(source, [(0, 0x1234)])
  setup(.dataCreate, rd, g(42), 0x1000, source, 0)
  setup(.dataCreateUnknown, rd, g(43), 0x2000)
  typealias R = RecParamsLayout
  env.writePage(recParams, [(R.flags, 1), (R.mpidr, 0), (R.pc, 0x1000), (R.numberOfAux, 2), (R.aux, g(44)), (R.aux + 8, g(45))])
  setup(.recCreate, rd, g(46), recParams)
  env.writePage(recParams, [(R.flags, 0), (R.mpidr, 1), (R.pc, 0), (R.numberOfAux, 2), (R.aux, g(48)), (R.aux + 8, g(49))])
  setup(.recCreate, rd, g(47), recParams)
  setup(.realmActivate, rd)
  return env.checkpoint()
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  env.restore(prototype)
  let dispatcher = env.dispatcher
  var view = MachineView(env)
  let run = g(3)
  history = [g(16), g(46), g(47), run, 0x1000, 0x2000, 1 << 39]
  @discardableResult
  func call(_ command: RMICommand, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0,
            _ e: UInt64 = 0) -> RMIResult {
    let call = SMCArguments(command.rawValue, a, b, c, d, e)
    let result = dispatcher.handle(call)
    checkCall(env, call, result, before: &view)
    return result
  }

  for _ in 0..<4 where !input.isEmpty {
    let exits = input.byte() % 4
    for _ in 0..<exits { env.scriptExit(&input) }
    let mode = input.byte()
    let rec = mode & 2 == 0 ? g(46) : g(47)
    if mode & 4 != 0 { call(.psciComplete, g(46), g(47), UInt64(input.byte() % 4)) }

    var words = [UInt64](repeating: 0, count: 512)
    var flags = input.u64()
    var hcr: UInt64 = 0
    for i in 0..<31 { words[RecRunLayout.enterGPRs / 8 + i] = input.u64() }
    hcr = input.u64()
    var lrs = (0..<16).map { _ in input.u64() }
    if mode & 1 != 0 {
      flags &= 0x1F
      hcr &= RECEnter.hostGICHCRBits
      for i in 0..<16 { lrs[i] = i < env.cpu.listRegisterCount ? lrs[i] & ~(1 << 61) : 0 }
    }
    words[RecRunLayout.enterFlags / 8] = flags
    words[RecRunLayout.enterGICv3HCR / 8] = hcr
    for i in 0..<16 { words[RecRunLayout.enterGICv3LRs / 8 + i] = lrs[i] }
    env.memory.setPage(run, words)

    let result = call(.recEnter, rec, run)
    let page = env.memory.page(run)
    if verbose { print("REC_ENTER: status \(result.x0), exit reason \(page[RecRunLayout.exitReason / 8])") }
    if result.x0 == 0 {
      let reason = page[RecRunLayout.exitReason / 8]
      invariant(reason <= 0xFF && RecExitReason(rawValue: UInt8(reason)) != nil, "exit reason \(reason)")
    } else {
      // A refused entry writes nothing back.
      invariant(Array(page[(RecRunLayout.exit / 8)...]) == Array(words[(RecRunLayout.exit / 8)...]),
                "REC_ENTER failed (\(result.x0)) but wrote the exit part of the run page")
    }
    // The host's half of the page is only read.
    invariant(Array(page[..<(RecRunLayout.exit / 8)]) == Array(words[..<(RecRunLayout.exit / 8)]),
              "REC_ENTER changed the enter part of the run page")
  }
  return 0
}

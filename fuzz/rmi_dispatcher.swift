// Fuzz target: the RMI dispatcher (RMIDispatcher.handle) driven by a sequence of host
// operations decoded from the input, on the fake machine of Tests/RMMCoreTests/Fakes.swift
// (96 granules, so the fuzzer reaches delegate, REALM_CREATE, RTT_CREATE, DATA_CREATE,
// REC_CREATE, REC_ENTER ...). The invariants of checkCall hold after every call.
//
// Operations (first byte of each, low 3 bits):
//   0-3  an RMI call: FID, then x1...x7 (see FuzzInput.functionID / argument)
//   4    the host writes up to 16 words of an NS page (arbitrary parameter pages)
//   5    the host fills an NS page with a plausible RmiRealmParams / RmiRecParams / RmiRecRun
//   6    the realm's next exit for REC_ENTER (syndrome and registers), up to 16 queued
//   7    a host "macro" (a run of calls a real host makes, each checked like the others):
//        build a realm (delegate RD and roots, params, REALM_CREATE), a REC with its aux
//        granules, an RTT, a DATA granule; or a physical interrupt pending on / off
#if canImport(Glibc)
import Glibc
#endif
import RMMABI
@testable import RMMCore
@testable import FuzzMachine

/// FUZZ_VERBOSE=1: print the first success of each command (how deep the fuzzer gets).
let verbose = getenv("FUZZ_VERBOSE") != nil
nonisolated(unsafe) var succeeded: Set<UInt64> = []

/// One machine for all inputs, reset to as-built before each (cheaper than a new one:
/// only the pages the previous input touched are zeroed).
/// A machine that offers LPA2 and 52-bit IPAs, so that realms of both descriptor formats occur.
nonisolated(unsafe) let machine: FakeEnvironment = {
  var env = FakeEnvironment()
  env.features.lpa2 = true
  env.features.s2sz = 52
  // SVE up to 2048 bits and a PMU with 6 counters, as on QEMU -cpu max.
  env.features.sveEnabled = true
  env.features.sveVectorLength = 15
  env.features.pmuEnabled = true
  env.features.pmuCounters = 6
  return env
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzInput(data, size)
  let env = machine
  env.restore(nil)
  let dispatcher = env.dispatcher
  var view = MachineView(env)
  history.removeAll(keepingCapacity: true)
  func call(_ command: RMICommand, _ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0, _ d: UInt64 = 0,
            _ e: UInt64 = 0) -> Bool {
    let call = SMCArguments(command.rawValue, a, b, c, d, e)
    let result = dispatcher.handle(call)
    checkCall(env, call, result, before: &view)
    if result.x0 == 0 { remember(call) }
    if verbose && result.x0 == 0 && succeeded.insert(call.fid).inserted { print("first success: \(command) (macro)") }
    return result.x0 == 0
  }
  /// An undelegated granule for a host page (parameters, data source).
  func hostPage(_ input: inout FuzzInput) -> UInt64? {
    let pa = granulePA(Int(input.byte()) % granuleTotal)
    return env.granules.state(of: pa) == .undelegated ? pa : nil
  }
  var operations = 0
  while !input.isEmpty && operations < 96 {
    operations += 1
    let op = input.byte()
    switch op & 7 {
    case 0...3:
      var call = SMCArguments(input.functionID())
      call.x1 = input.argument(); call.x2 = input.argument(); call.x3 = input.argument()
      call.x4 = input.argument(); call.x5 = input.argument()
      if op & 0x80 != 0 { call.x6 = input.u64(); call.x7 = input.u64() }
      let result = dispatcher.handle(call)
      checkCall(env, call, result, before: &view)
      if result.x0 == 0 { remember(call) }
      if verbose && result.x0 == 0 && succeeded.insert(call.fid).inserted {
        print("first success: \(RMICommand(rawValue: call.fid & ~smcSVEHintBit).map { "\($0)" } ?? "?") after \(operations) operations")
      }
    case 4:
      let pa = granulePA(Int(input.byte()) % granuleTotal)
      guard env.granules.state(of: pa) == .undelegated else { continue }  // the GPT stops the host
      let count = Int(input.byte() % 16) + 1
      var fields: [(Int, UInt64)] = []
      for _ in 0..<count { fields.append((Int(input.u16() % 512) * 8, input.argument())) }
      env.writePage(pa, fields)
    case 5:
      let pa = granulePA(Int(input.byte()) % granuleTotal)
      guard env.granules.state(of: pa) == .undelegated else { continue }
      switch input.byte() % 3 {
      case 0: env.writeRealmParams(&input, at: pa)
      case 1: env.writeRECParams(&input, at: pa)
      default: env.writeRunPage(&input, at: pa)
      }
    case 6:
      if env.cpu.state.script.count < 16 { env.scriptExit(&input) }
    default:
      let which = input.byte()
      switch which % 6 {
      case 0:  // a realm
        guard let params = hostPage(&input) else { continue }
        let rd = input.granuleAddress()
        env.writeRealmParams(&input, at: params)
        let base = env.memory.load64(params, word: RealmParamsLayout.rttBase / 8)
        let roots = env.memory.load64(params, word: RealmParamsLayout.rttNumStart / 8)
        _ = call(.granuleDelegate, rd)
        for i in 0..<roots { _ = call(.granuleDelegate, base &+ i * 4096) }
        _ = call(.realmCreate, rd, params)
      case 1:  // a REC
        guard let params = hostPage(&input) else { continue }
        let rd = input.object()
        env.writeRECParams(&input, at: params)
        let rec = input.granuleAddress()
        let count = min(Int(env.memory.load64(params, word: RecParamsLayout.numberOfAux / 8)), 16)
        _ = call(.granuleDelegate, rec)
        for i in 0..<count { _ = call(.granuleDelegate, env.memory.load64(params, word: RecParamsLayout.aux / 8 + i)) }
        _ = call(.recCreate, rd, rec, params)
      case 2:  // an RTT
        let rd = input.object(), rtt = input.granuleAddress()
        _ = call(.granuleDelegate, rtt)
        _ = call(.rttCreate, rd, rtt, input.ipa(), UInt64(input.byte() % 4))
      case 3:  // a DATA granule
        let rd = input.object(), granule = input.granuleAddress()
        _ = call(.granuleDelegate, granule)
        if let source = hostPage(&input), input.byte() & 1 == 0 {
          _ = call(.dataCreate, rd, granule, input.ipa(), source, UInt64(input.byte() & 1))
        } else {
          _ = call(.dataCreateUnknown, rd, granule, input.ipa())
        }
      case 4:  // RIPAS and activation
        let rd = input.object()
        _ = call(.rttInitRIPAS, rd, input.ipa(), input.ipa())
        if input.byte() & 1 == 0 { _ = call(.realmActivate, rd) }
      default:
        env.cpu.state.interruptPending = input.byte() & 1 != 0
      }
    }
  }
  return 0
}

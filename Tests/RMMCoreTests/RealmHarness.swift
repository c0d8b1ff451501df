import CCATokenVerifier
import Foundation
import RMMABI
@testable import RMMCore

/// A fake machine with enough DRAM for realms, and helpers that act like a host.
struct RealmHarness {
  var env = FakeEnvironment(bank0Granules: 2048)  // 8 MiB at 0x8000_0000 (2 MiB aligned)

  static func granule(_ i: UInt64) -> UInt64 { 0x8000_0000 + i * 4096 }
  /// NS pages the host uses for parameters and data sources.
  let paramsPA = granule(0)
  let recParamsPA = granule(1)
  let sourcePA = granule(2)
  let rd = granule(16)
  let rttBase = granule(32)       // 2 concatenated roots (s2sz 40, start level 1): 8 KiB aligned
  var nextFree: UInt64 = 64

  mutating func allocateDelegated() -> UInt64 {
    let pa = Self.granule(nextFree)
    nextFree += 1
    precondition(env.call(.granuleDelegate, pa).x0 == success)
    return pa
  }

  func delegate(_ pa: UInt64) { precondition(env.call(.granuleDelegate, pa).x0 == success) }

  /// Writes a host page (NS memory).
  func writeHostPage(_ pa: UInt64, _ fields: [Int: UInt64]) {
    var page = [UInt64](repeating: 0, count: 512)
    for (offset, value) in fields { page[offset / 8] = value }
    env.memory.setPage(pa, page)
  }

  struct RealmConfig {
    var flags: UInt64 = 0
    var s2sz: UInt64 = 40
    var sveVL: UInt64 = 0
    var bps: UInt64 = 2
    var wps: UInt64 = 2
    var pmu: UInt64 = 0
    var hash: UInt64 = 0
    var vmid: UInt64 = 7
    var rttBase: UInt64 = RealmHarness.granule(32)
    var level: UInt64 = 1
    var numStart: UInt64 = 2
    var rpv: [UInt64] = [0x1111, 0x2222, 0, 0, 0, 0, 0, 0x8888]
  }

  func writeRealmParams(_ c: RealmConfig, at pa: UInt64? = nil) {
    var fields: [Int: UInt64] = [
      RealmParamsLayout.flags: c.flags, RealmParamsLayout.s2sz: c.s2sz,
      RealmParamsLayout.sveVectorLength: c.sveVL, RealmParamsLayout.numberOfBreakpoints: c.bps,
      RealmParamsLayout.numberOfWatchpoints: c.wps, RealmParamsLayout.pmuCounters: c.pmu,
      RealmParamsLayout.hashAlgorithm: c.hash, RealmParamsLayout.vmid: c.vmid,
      RealmParamsLayout.rttBase: c.rttBase, RealmParamsLayout.rttLevelStart: c.level,
      RealmParamsLayout.rttNumStart: c.numStart,
    ]
    for (i, w) in c.rpv.enumerated() { fields[RealmParamsLayout.personalizationValue + 8 * i] = w }
    writeHostPage(pa ?? paramsPA, fields)
  }

  /// Delegates the RD and root RTTs and creates the realm; returns the status.
  @discardableResult
  mutating func createRealm(_ c: RealmConfig = RealmConfig()) -> UInt64 {
    delegate(rd)
    for i in 0..<c.numStart { delegate(c.rttBase + i * 4096) }
    writeRealmParams(c)
    return env.call(.realmCreate, rd, paramsPA).x0
  }

  func writeRECParams(flags: UInt64 = 1, mpidr: UInt64, pc: UInt64 = 0x8000_0000, gprs: [UInt64] = [], aux: [UInt64]) {
    var fields: [Int: UInt64] = [RecParamsLayout.flags: flags, RecParamsLayout.mpidr: mpidr,
                                 RecParamsLayout.pc: pc, RecParamsLayout.numberOfAux: UInt64(aux.count)]
    for (i, g) in gprs.enumerated() { fields[RecParamsLayout.gprs + 8 * i] = g }
    for (i, a) in aux.enumerated() { fields[RecParamsLayout.aux + 8 * i] = a }
    writeHostPage(recParamsPA, fields)
  }

  func state(_ pa: UInt64) -> GranuleState? { env.granules.state(of: pa) }

  func readEntry(_ ipa: UInt64, _ level: UInt64) -> RMIResult { env.call(.rttReadEntry, rd, ipa, level) }

  func realm() -> RealmDescriptor {
    var g = env.granules.lock(rd)!
    g.setState(.rd)
    let page = FakePage(memory: env.memory, pa: rd)
    let realm = RealmDescriptor.load(from: page)!
    env.granules.release(g)
    return realm
  }

  /// Every granule's state and every page's contents: what "nothing changed" compares.
  func snapshot() -> [String] {
    var out: [String] = []
    for i in 0..<UInt64(2048) {
      let pa = Self.granule(i)
      out.append("\(i):\(state(pa)!):\(env.granules.storage.peek(Int(i)).refcount):\(env.memory.page(pa).hashValue)")
    }
    out.append("vmids:\(env.vmids.state.used.sorted())")
    return out
  }
}

func status(_ code: RMIStatusCode, _ index: UInt8 = 0) -> UInt64 { RMIStatus(code, index: index).encoded }

/// SHA-256/512 computed by coreutils, independently of the RMM's own implementation.
func coreutilsDigest(_ bytes: [UInt8], sha512: Bool = false) -> [UInt8] {
  let tool = sha512 ? "/usr/bin/sha512sum" : "/usr/bin/sha256sum"
  let process = Process()
  process.executableURL = URL(fileURLWithPath: tool)
  let input = Pipe(), output = Pipe()
  process.standardInput = input
  process.standardOutput = output
  try! process.run()
  input.fileHandleForWriting.write(Data(bytes))
  try! input.fileHandleForWriting.close()
  let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  process.waitUntilExit()
  return decodeHex(String(text.prefix(sha512 ? 128 : 64)))
}

/// Bytes from hex digits (the verifier's parser; a malformed string is a test bug).
func decodeHex(_ hex: String) -> [UInt8] { hexBytes(hex)! }

func bytes(of digest: Digest64) -> [UInt8] { (0..<digest.length).map { digest.byte($0) } }

/// Little-endian bytes of 64-bit words.
func leBytes(_ words: [UInt64]) -> [UInt8] { words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } } }

/// A digest padded to its 64-byte slot.
func slot(_ digest: [UInt8]) -> [UInt8] { digest + [UInt8](repeating: 0, count: 64 - digest.count) }

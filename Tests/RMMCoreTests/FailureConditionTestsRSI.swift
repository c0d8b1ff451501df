// RSI failure and success conditions on the host (docs/spec-notes/rsi-failure-conditions.md):
// the realm's SMC is scripted on the fake CPU; the RMM answers it without a REC exit.
// Failures must leave the realm's memory (RD, RTTs, DATA) unchanged and make no exit.

import XCTest
import RMMABI
@testable import RMMCore

final class FailureConditionRSITests: XCTestCase {
  // ---- dispatch ----

  /// The RMM dispatches on the raw FID (RSIHandlers.swift), which the compiler cannot
  /// check against RSICommand: every FID of the RSI range reaches its command's handler
  /// (here with arguments it answers without an exit), the others are SMC_UNKNOWN. A
  /// new RSICommand case fails to compile here until it has arguments.
  func testRsiDispatch_every_command_reaches_its_handler() {
    func answered(_ command: RSICommand) -> (arguments: [UInt64], x0: UInt64) {
      switch command {
      case .version: return ([0x1_0000], rsiOK)
      case .features: return ([0], rsiOK)
      case .measurementRead: return ([5], rsiInputError)
      case .measurementExtend: return ([0, 8], rsiInputError)
      case .attestTokenInit: return ([1, 2, 3, 4, 5, 6, 7, 8], rsiOK)
      case .attestTokenContinue: return ([1, 0, 4096], rsiInputError)
      case .realmConfig: return ([1], rsiInputError)
      case .ipaStateSet: return ([0x1000, 0x1000, RIPAS.ram.rawValue, 0], rsiInputError)
      case .ipaStateGet: return ([0x1000, 0x1000], rsiInputError)
      case .hostCall: return ([1], rsiInputError)
      }
    }
    let n = RunFixture()
    var served = 0
    for fid: UInt64 in 0xC400_0190...0xC400_01AF {
      for hint in [0, smcSVEHintBit] {
        guard let command = RSICommand(rawValue: fid) else {
          XCTAssertEqual(n.realmCall([fid | hint], unchanged: true)[0], smcUnknown, "FID \(String(fid, radix: 16))")
          continue
        }
        let call = answered(command)
        XCTAssertEqual(n.realmCall([fid | hint] + call.arguments)[0], call.x0, "\(command), hint \(hint != 0)")
        served += 1
      }
    }
    XCTAssertEqual(served, 2 * 10, "ten RSI 1.0 commands")
  }

  // ---- RSI_VERSION ----

  func testRsiVersion_success() {
    let n = RunFixture()
    XCTAssertEqual(Array(n.realmCall([RSICommand.version.rawValue, 0x1_0000]).prefix(3)), [rsiOK, 0x1_0000, 0x1_0000])
  }

  func testRsiVersion_unsupported_revision() {
    let n = RunFixture()
    for req: UInt64 in [0, 0x1_0001, 0x2_0000, UInt64.max] {
      XCTAssertEqual(Array(n.realmCall([RSICommand.version.rawValue, req], unchanged: true).prefix(3)),
                     [rsiInputError, 0x1_0000, 0x1_0000], "request \(String(req, radix: 16))")
    }
  }

  // ---- RSI_FEATURES ----

  func testRsiFeatures_success_index() {
    let n = RunFixture()
    for index: UInt64 in [0, 1, 7, UInt64.max] {
      XCTAssertEqual(Array(n.realmCall([RSICommand.features.rawValue, index, 0xFF]).prefix(2)), [rsiOK, 0], "index \(index)")
    }
  }

  // ---- RSI_MEASUREMENT_READ ----

  func testRsiMeasurementRead_index_bound() {
    let n = RunFixture()
    for index: UInt64 in [5, 0x100, UInt64.max] {
      XCTAssertEqual(n.realmCall([RSICommand.measurementRead.rawValue, index], unchanged: true)[0], rsiInputError, "index \(index)")
    }
  }

  func testRsiMeasurementRead_success() {
    let n = RunFixture()
    let rim = (0..<8).map { n.f.h.peek(n.f.h.rd, RDLayout.rim + 8 * $0) }
    XCTAssertEqual(n.realmCall([RSICommand.measurementRead.rawValue, 0]), [rsiOK] + rim, "x1..x8 = the RIM")
    XCTAssertEqual(Array(rim[4...]), [0, 0, 0, 0], "SHA-256: padded with zeroes")
    XCTAssertEqual(n.realmCall([RSICommand.measurementRead.rawValue, 4]), [rsiOK] + [UInt64](repeating: 0, count: 8), "REM 3 zero")
  }

  // ---- RSI_MEASUREMENT_EXTEND ----

  func testRsiMeasurementExtend_index_bound() {
    let n = RunFixture()
    for index: UInt64 in [0, 5, UInt64.max] {
      XCTAssertEqual(n.realmCall([RSICommand.measurementExtend.rawValue, index, 8, 1], unchanged: true)[0], rsiInputError,
                     "index \(index)")
    }
  }

  func testRsiMeasurementExtend_size_bound() {
    let n = RunFixture()
    for size: UInt64 in [65, 4096, UInt64.max] {
      XCTAssertEqual(n.realmCall([RSICommand.measurementExtend.rawValue, 1, size, 1], unchanged: true)[0], rsiInputError,
                     "size \(size)")
    }
  }

  func testRsiMeasurementExtend_success() {
    let n = RunFixture()
    let value: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]
    XCTAssertEqual(n.realmCall([RSICommand.measurementExtend.rawValue, 2, 20] + value)[0], rsiOK)
    // REM 2 := SHA-256(REM 2 (32 zero bytes) || first 20 bytes of the value).
    let expected = coreutilsDigest([UInt8](repeating: 0, count: 32) + Array(leBytes(value).prefix(20)))
    let rem = (0..<4).map { n.f.h.peek(n.f.h.rd, RDLayout.rems + 64 + 8 * $0) }
    XCTAssertEqual(leBytes(rem), expected)
    XCTAssertEqual(n.realmCall([RSICommand.measurementExtend.rawValue, 2, 0] + value)[0], rsiOK, "size 0 is allowed")
  }

  // ---- RSI_REALM_CONFIG ----

  func configFixture() -> (RunFixture, UInt64) {
    let n = RunFixture()
    let data = n.f.h.allocateDelegatedCopy()
    precondition(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0 == success)
    return (n, data)
  }

  func testRsiRealmConfig_addr_align() {
    let (n, _) = configFixture()
    XCTAssertEqual(n.realmCall([RSICommand.realmConfig.rawValue, 0x2008], unchanged: true)[0], rsiInputError)
    XCTAssertEqual(n.realmCall([RSICommand.realmConfig.rawValue, 0x2800], unchanged: true)[0], rsiInputError)
  }

  func testRsiRealmConfig_addr_bound() {
    let (n, _) = configFixture()
    XCTAssertEqual(n.realmCall([RSICommand.realmConfig.rawValue, 1 << 39], unchanged: true)[0], rsiInputError, "unprotected")
    XCTAssertEqual(n.realmCall([RSICommand.realmConfig.rawValue, 1 << 40], unchanged: true)[0], rsiInputError, "beyond")
  }

  func testRsiRealmConfig_success() {
    let (n, data) = configFixture()
    n.f.h.poke(data, 0x10, 0xFFFF)
    XCTAssertEqual(n.realmCall([RSICommand.realmConfig.rawValue, 0x2000])[0], rsiOK)
    let page = n.env.memory.page(data)
    XCTAssertEqual(page[0], 40, "ipa_width")
    XCTAssertEqual(page[1], UInt64(HashAlgorithm.sha256.rawValue), "hash_algo")
    XCTAssertEqual(page[2], 0, "the rest of the granule is written (zero)")
  }

  // ---- RSI_IPA_STATE_SET ----

  func ipaStateSet(_ n: RunFixture, _ base: UInt64, _ top: UInt64, _ ripas: UInt64, _ flags: UInt64 = 0) -> UInt64 {
    let r = n.realmCall([RSICommand.ipaStateSet.rawValue, base, top, ripas, flags], unchanged: true)
    XCTAssertEqual([n.f.h.peek(n.rec0, RECLayout.ripasAddr), n.f.h.peek(n.rec0, RECLayout.ripasTop),
                    n.f.h.peek(n.rec0, RECLayout.pending)], [0, 0, 0], "no RIPAS change recorded")
    return r[0]
  }

  func testRsiIpaStateSet_base_align() {
    XCTAssertEqual(ipaStateSet(RunFixture(), 0x1008, 0x3000, 0), rsiInputError)
  }

  func testRsiIpaStateSet_top_align() {
    XCTAssertEqual(ipaStateSet(RunFixture(), 0x1000, 0x3008, 0), rsiInputError)
  }

  func testRsiIpaStateSet_size_valid() {
    let n = RunFixture()
    XCTAssertEqual(ipaStateSet(n, 0x3000, 0x3000, 0), rsiInputError, "top == base")
    XCTAssertEqual(ipaStateSet(n, 0x4000, 0x3000, 0), rsiInputError, "top < base")
  }

  func testRsiIpaStateSet_rgn_bound() {
    let n = RunFixture()
    XCTAssertEqual(ipaStateSet(n, 0x1000, (1 << 39) + 0x1000, 1), rsiInputError, "top in the unprotected half")
    XCTAssertEqual(ipaStateSet(n, 1 << 39, (1 << 39) + 0x1000, 1), rsiInputError, "all unprotected")
    XCTAssertEqual(ipaStateSet(n, 1 << 40, (1 << 40) + 0x1000, 1), rsiInputError, "beyond the IPA space")
  }

  func testRsiIpaStateSet_ripas_valid() {
    let n = RunFixture()
    XCTAssertEqual(ipaStateSet(n, 0x1000, 0x2000, RIPAS.destroyed.rawValue), rsiInputError, "DESTROYED")
    XCTAssertEqual(ipaStateSet(n, 0x1000, 0x2000, 3), rsiInputError, "3")
  }

  func testRsiIpaStateSet_success() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.ipaStateSet.rawValue, 0x1000, 0x3000, RIPAS.empty.rawValue, 0])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.ripasChange.rawValue))
    XCTAssertEqual([n.exitField(RecRunLayout.exitRIPASBase), n.exitField(RecRunLayout.exitRIPASTop),
                    n.exitField(RecRunLayout.exitRIPASValue)], [0x1000, 0x3000, RIPAS.empty.rawValue], "exit.ripas_*")
    XCTAssertEqual([n.f.h.peek(n.rec0, RECLayout.ripasAddr), n.f.h.peek(n.rec0, RECLayout.ripasTop)], [0x1000, 0x3000],
                   "rec.ripas_addr, rec.ripas_top")
    XCTAssertEqual(n.env.call(.rttSetRIPAS, n.f.h.rd, n.rec0, 0x1000, 0x2000).x1, 0x2000, "the host does half")
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(Array(n.gprs(n.rec0, 3)), [rsiOK, 0x2000, RSIResponse.accept], "new_base = rec.ripas_addr, ACCEPT")
    XCTAssertEqual([n.f.h.peek(n.rec0, RECLayout.ripasAddr), n.f.h.peek(n.rec0, RECLayout.ripasTop)], [0, 0],
                   "cleared on the next exit")
  }

  // ---- RSI_IPA_STATE_GET ----

  func testRsiIpaStateGet_base_align() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([RSICommand.ipaStateGet.rawValue, 0x1008, 0x3000], unchanged: true)[0], rsiInputError)
  }

  func testRsiIpaStateGet_size_valid() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([RSICommand.ipaStateGet.rawValue, 0x3000, 0x3000], unchanged: true)[0], rsiInputError)
    XCTAssertEqual(n.realmCall([RSICommand.ipaStateGet.rawValue, 0x3000, 0x1000], unchanged: true)[0], rsiInputError)
  }

  func testRsiIpaStateGet_rgn_bound() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([RSICommand.ipaStateGet.rawValue, 0, (1 << 39) + 0x1000], unchanged: true)[0], rsiInputError)
    XCTAssertEqual(n.realmCall([RSICommand.ipaStateGet.rawValue, 1 << 40, (1 << 40) + 0x1000], unchanged: true)[0],
                   rsiInputError)
  }

  func testRsiIpaStateGet_success() {
    let n = RunFixture()
    XCTAssertEqual(Array(n.realmCall([RSICommand.ipaStateGet.rawValue, 0, 0x4000]).prefix(3)), [rsiOK, 0x4000, RIPAS.ram.rawValue],
                   "out_top <= top")
    XCTAssertEqual(Array(n.realmCall([RSICommand.ipaStateGet.rawValue, 0x1F_F000, 0x40_0000]).prefix(3)),
                   [rsiOK, 0x20_0000, RIPAS.ram.rawValue], "out_top > base, the end of the RAM run")
    XCTAssertEqual(Array(n.realmCall([RSICommand.ipaStateGet.rawValue, 0x20_0000, 0x40_0000]).prefix(3)),
                   [rsiOK, 0x40_0000, RIPAS.empty.rawValue])
  }

  // ---- RSI_HOST_CALL ----

  func testRsiHostCall_addr_align() {
    let n = RunFixture()
    let data = n.f.h.allocateDelegatedCopy()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0, success)
    for ipa: UInt64 in [0x2008, 0x2080, 0x20F8] {
      XCTAssertEqual(n.realmCall([RSICommand.hostCall.rawValue, ipa], unchanged: true)[0], rsiInputError,
                     "\(String(ipa, radix: 16)) not 256-byte aligned")
    }
  }

  func testRsiHostCall_addr_bound() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([RSICommand.hostCall.rawValue, 1 << 39], unchanged: true)[0], rsiInputError, "unprotected")
    XCTAssertEqual(n.realmCall([RSICommand.hostCall.rawValue, 1 << 40], unchanged: true)[0], rsiInputError, "beyond")
  }

  // ---- beyond the spec's conditions: realm memory the RMM writes for the realm ----

  /// RIPAS RAM but no DATA yet: a synthesised stage-2 data abort exit (level 3) at the IPA;
  /// the SMC runs again once the host has populated the page (reference RMM behaviour).
  func testRsiRealmConfig_unpopulated_ram() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.realmConfig.rawValue, 0x6000])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x24 << 26 | 0x07)
    XCTAssertEqual(n.exitField(RecRunLayout.exitHPFAR), 0x6000 >> 8)
    XCTAssertEqual(n.pc(n.rec0), 0x1000, "the SMC is not completed")
  }

  /// RIPAS EMPTY (outside the RAM range): RSI_ERROR_INPUT, no exit.
  func testRsiRealmConfig_ripas_empty() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([RSICommand.realmConfig.rawValue, 0x40_0000], unchanged: true)[0], rsiInputError)
  }

  /// Not specified: RIPAS DESTROYED (DATA_DESTROY of RAM in an active realm). A realm
  /// access there takes a REC exit due to Data Abort (A5.2.3), so the RSI access does the
  /// same: the SMC is not completed.
  func testRsiRealmConfig_ripas_destroyed() {
    let n = RunFixture()
    destroy(n, 0x6000)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.realmConfig.rawValue, 0x6000])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR), 0x24 << 26 | 0x07)
    XCTAssertEqual(n.exitField(RecRunLayout.exitHPFAR), 0x6000 >> 8)
    XCTAssertEqual(n.pc(n.rec0), 0x1000, "the SMC is not completed")
  }

  func testRsiAttestTokenContinue_ripas_destroyed() {
    let n = RunFixture()
    destroy(n, 0x6000)
    XCTAssertEqual(n.realmCall([RSICommand.attestTokenInit.rawValue, 1, 2, 3, 4, 5, 6, 7, 8])[0], rsiOK)
    let pc = n.pc(n.rec0)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.attestTokenContinue.rawValue, 0x6000, 0, 4096])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue))
    XCTAssertEqual(n.exitField(RecRunLayout.exitESR) >> 26, 0x24)
    XCTAssertEqual(n.exitField(RecRunLayout.exitHPFAR), 0x6000 >> 8)
    XCTAssertEqual(n.pc(n.rec0), pc, "the SMC is not completed")
  }

  /// Not specified: while REC 0 waits for the host's results, another REC has the
  /// RsiHostCall page made RIPAS EMPTY (ASSIGNED EMPTY: the realm asked for it). There is
  /// no realm memory to write the results to: they are dropped and the call returns
  /// RSI_SUCCESS (not a Data Abort exit: the host cannot map it back).
  func testRsiHostCall_results_to_a_page_made_empty() {
    let n = RunFixture()
    let data = n.f.h.allocateDelegatedCopy()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, 0x2000).x0, success)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 0x2000])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.hostCall.rawValue))
    // REC 1's RSI_IPA_STATE_SET(0x2000, 0x3000, EMPTY), as its exit would have recorded it.
    n.f.h.poke(n.rec1, RECLayout.ripasAddr, 0x2000)
    n.f.h.poke(n.rec1, RECLayout.ripasTop, 0x3000)
    n.f.h.poke(n.rec1, RECLayout.ripasValue, RIPAS.empty.rawValue)
    XCTAssertEqual(n.env.call(.rttSetRIPAS, n.f.h.rd, n.rec1, 0x2000, 0x3000).x0, success)
    XCTAssertEqual(n.f.h.readEntry(0x2000, 3).x4, RIPAS.empty.rawValue)
    let page = n.env.memory.page(data)
    let pc = n.pc(n.rec0)
    n.setEnter(RecRunLayout.enterGPRs, 0x1234)
    n.script(.irq)
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.irq.rawValue), "no Data Abort exit")
    XCTAssertEqual(n.gpr(n.rec0, 0), rsiOK)
    XCTAssertEqual(n.pc(n.rec0), pc + 4, "the SMC completed")
    XCTAssertEqual(n.env.memory.page(data), page, "nothing written")
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.pending), PendingExit.none.rawValue, "no host call pending")
  }

  /// RIPAS RAM with a DATA granule, then DATA_DESTROY: RIPAS DESTROYED at `ipa`.
  func destroy(_ n: RunFixture, _ ipa: UInt64) {
    let data = n.f.h.allocateDelegatedCopy()
    XCTAssertEqual(n.env.call(.dataCreateUnknown, n.f.h.rd, data, ipa).x0, success)
    XCTAssertEqual(n.env.call(.dataDestroy, n.f.h.rd, ipa).x0, success)
    XCTAssertEqual(n.f.h.readEntry(ipa, 3).x4, RIPAS.destroyed.rawValue)
  }

  func testRsiHostCall_unpopulated_ram() {
    let n = RunFixture()
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 0x6100])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue), "not a host-call exit")
    XCTAssertEqual(n.exitField(RecRunLayout.exitHPFAR), 0x6000 >> 8)
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.pending), PendingExit.none.rawValue, "no host call pending")
  }

  func testRsiHostCall_ripas_destroyed() {
    let n = RunFixture()
    destroy(n, 0x6000)
    n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.hostCall.rawValue, 0x6100])
    XCTAssertEqual(n.enter(), success)
    XCTAssertEqual(n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue), "not a host-call exit")
    XCTAssertEqual(n.exitField(RecRunLayout.exitHPFAR), 0x6000 >> 8)
    XCTAssertEqual(n.f.h.peek(n.rec0, RECLayout.pending), PendingExit.none.rawValue, "no host call pending")
    XCTAssertEqual(n.pc(n.rec0), 0x1000, "the SMC is not completed")
  }

  func testRsiHostCall_ripas_empty() {
    let n = RunFixture()
    XCTAssertEqual(n.realmCall([RSICommand.hostCall.rawValue, 0x40_0000], unchanged: true)[0], rsiInputError)
  }
}

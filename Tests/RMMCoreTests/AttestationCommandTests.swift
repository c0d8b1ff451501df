import CCATokenVerifier
import RMMABI
import XCTest

@testable import RMMCore

/// RSI_ATTEST_TOKEN_INIT / CONTINUE through REC_ENTER on the fake machine, with a
/// signer that signs for real (OpenSSL, QEMU's test RAK) in a number of steps whose
/// state lives in the REC's aux window. The tokens are checked with the independent
/// verifier (CCATokenVerifier).
final class AttestationCommandTests: XCTestCase {
  /// Realm IPA of a DATA page for the token, and one left unpopulated (RIPAS RAM).
  let tokenIPA: UInt64 = 0x4000
  let unpopulatedIPA: UInt64 = 0x9000
  let challenge: [UInt64] = (0..<8).map { 0x0706_0504_0302_0100 &+ UInt64($0) &* 0x0808_0808_0808_0808 }
  var challengeBytes: [UInt8] { Array(0..<64) }

  struct Machine {
    var n = RunFixture()
    var tokenPage: UInt64 = 0
    var attestation: FakeAttestationState { n.env.attestation.state }
  }

  func machine() throws -> Machine {
    var m = Machine()
    m.tokenPage = m.n.f.h.allocateDelegated()
    XCTAssertEqual(m.n.env.call(.dataCreateUnknown, m.n.f.h.rd, m.tokenPage, tokenIPA).x0, success)
    let rak = try QEMUTestRAK.privateKey()
    let builder = CCATokenBuilder(realmKey: rak, platformKey: try ES384PrivateKey())
    m.attestation.publicKey = RealmPublicKey(rak.publicKey).encoded
    m.attestation.platformToken = try CCATokenBuilder.sign(payload: CBOREncoder.encode(.map(builder.platformClaimEntries())),
                                                            with: builder.platformKey)
    m.attestation.sign = { digest in (try? rak.signDigest(digest)) ?? [] }
    return m
  }

  /// One RSI call in one REC_ENTER; returns x0, x1 and the exit reason.
  @discardableResult
  func rsi(_ m: Machine, _ command: RSICommand, _ args: [UInt64]) -> (x0: UInt64, x1: UInt64, exit: UInt64) {
    m.n.env.cpu.state.script.removeAll()  // an exit the last call did not reach (an IRQ exit came first)
    m.n.script(.sync, esr: RunFixture.smc, registers: [command.rawValue] + args)
    m.n.script(.irq)
    XCTAssertEqual(m.n.enter(), success)
    return (m.n.gpr(m.n.rec0, 0), m.n.gpr(m.n.rec0, 1), m.n.exitField(RecRunLayout.exitReason))
  }

  func initToken(_ m: Machine) -> (x0: UInt64, x1: UInt64, exit: UInt64) { rsi(m, .attestTokenInit, challenge) }

  func token(_ m: Machine, length: Int) -> [UInt8] {
    let words = m.n.env.memory.page(m.tokenPage)
    return (0..<length).map { UInt8(truncatingIfNeeded: words[$0 / 8] >> UInt64(8 * ($0 % 8))) }
  }

  /// The RIM the RD holds, as bytes.
  func rim(_ m: Machine) -> [UInt8] {
    let rd = m.n.env.memory.page(m.n.f.h.rd)
    return (0..<32).map { UInt8(truncatingIfNeeded: rd[(0x100 + $0) / 8] >> UInt64(8 * ($0 % 8))) }
  }

  func testTheTokenVerifiesWithTheChallengeAndTheRealmsRIM() throws {
    let m = try machine()
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096]).x0, RSIStatus.errorState.rawValue, "no INIT")
    let start = initToken(m)
    XCTAssertEqual(start.x0, RSIStatus.success.rawValue)
    let total = Int(start.x1)
    XCTAssertEqual(total, CCATokenCollection.length(platformTokenLength: m.attestation.platformToken.count,
                                                    realmTokenLength: 590), "the exact size: SHA-256 realm token")
    XCTAssertEqual(m.attestation.started, 0, "INIT does not sign")
    let done = rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096])
    XCTAssertEqual([done.x0, done.x1], [RSIStatus.success.rawValue, UInt64(total)])
    let bytes = token(m, length: total)
    XCTAssertNoThrow(try CCATokenVerifier.verify(bytes, expecting: CCATokenExpectations(challenge: challengeBytes,
                                                                                       initialMeasurement: rim(m))))
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096]).x0, RSIStatus.errorState.rawValue,
                   "the token was delivered whole: a new INIT is needed")
    // What the RMM touched: the two aux granules as its workspace, the token page; it
    // read no realm DATA.
    let accesses = m.n.env.memory.accesses
    XCTAssertTrue(accesses.allSatisfy(\.allowed))
    XCTAssertTrue(accesses.contains { $0.pa == m.tokenPage && $0.intent.purpose == .attestationTokenWrite })
    XCTAssertEqual(Set(accesses.filter { $0.intent.purpose == .attestationWorkspace }.map(\.pa)).count, 2)
    XCTAssertFalse(accesses.contains { $0.intent.expectedState == .data && $0.intent.direction == .read })
  }

  func testBadArgumentsAreRefusedBeforeAnyWork() throws {
    let m = try machine()
    XCTAssertEqual(initToken(m).x0, RSIStatus.success.rawValue)
    let input = RSIStatus.errorInput.rawValue
    let cases: [(String, [UInt64])] = [
      ("unaligned IPA", [tokenIPA + 8, 0, 8]),
      ("unprotected IPA", [(1 << 39) + tokenIPA, 0, 8]),
      ("beyond the IPA space", [1 << 48, 0, 8]),
      ("RIPAS EMPTY (outside the initialised range)", [0x40_0000, 0, 8]),
      ("offset = granule size", [tokenIPA, 4096, 0]),
      ("offset + size beyond the granule", [tokenIPA, 4000, 97]),
      ("size that wraps", [tokenIPA, 8, UInt64.max - 4]),
      ("offset that wraps", [tokenIPA, UInt64.max, 2]),
    ]
    for (name, args) in cases {
      XCTAssertEqual(rsi(m, .attestTokenContinue, args).x0, input, name)
    }
    XCTAssertEqual(m.attestation.started, 0, "no signature was started")
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096]).x0, RSIStatus.success.rawValue,
                   "and the token still comes")
  }

  func testAnInterruptDuringTheSignatureExitsAndTheNextCallResumes() throws {
    let m = try machine()
    m.attestation.stepsPerSignature = 6
    _ = initToken(m)
    m.n.env.cpu.state.interruptPending = true
    let preempted = rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096])
    XCTAssertEqual([preempted.x0, preempted.x1], [RSIStatus.incomplete.rawValue, 0], "INCOMPLETE, nothing copied")
    XCTAssertEqual(preempted.exit, UInt64(RecExitReason.irq.rawValue), "an IRQ exit to the host")
    XCTAssertEqual(m.n.pc(m.n.rec0), 0x1004 + 4, "past the SMC: the realm sees INCOMPLETE and calls again")
    m.n.env.cpu.state.interruptPending = false
    let resumed = rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096])
    XCTAssertEqual(resumed.x0, RSIStatus.success.rawValue)
    XCTAssertEqual(m.attestation.started, 1, "resumed, not restarted")
    XCTAssertNoThrow(try CCATokenVerifier.verify(token(m, length: Int(resumed.x1)),
                                                 expecting: CCATokenExpectations(challenge: challengeBytes)))
  }

  func testAnUnpopulatedDestinationGoesToTheHostFirst() throws {
    let m = try machine()
    _ = initToken(m)
    let pcBefore = m.n.pc(m.n.rec0)
    m.n.script(.sync, esr: RunFixture.smc, registers: [RSICommand.attestTokenContinue.rawValue, unpopulatedIPA, 0, 4096])
    XCTAssertEqual(m.n.enter(), success)
    XCTAssertEqual(m.n.exitField(RecRunLayout.exitReason), UInt64(RecExitReason.sync.rawValue))
    XCTAssertEqual(m.n.exitField(RecRunLayout.exitESR), 0x24 << 26 | 0x07, "a stage-2 data abort, level 3 (IL hidden)")
    XCTAssertEqual(m.n.exitField(RecRunLayout.exitHPFAR), unpopulatedIPA >> 8)
    XCTAssertEqual(m.n.pc(m.n.rec0), pcBefore, "the SMC runs again once the page is there")
    XCTAssertEqual(m.attestation.started, 0)
  }

  func testSmallPiecesAndARestartingInit() throws {
    let m = try machine()
    let total = Int(initToken(m).x1)
    var offset: UInt64 = 0
    var answers: [UInt64] = []
    while offset < UInt64(total) {
      let r = rsi(m, .attestTokenContinue, [tokenIPA, offset, 100])
      answers.append(r.x0)
      XCTAssertEqual(r.x1, min(100, UInt64(total) - offset))
      offset += r.x1
      if r.x0 != RSIStatus.incomplete.rawValue { break }
    }
    XCTAssertEqual(answers.last, RSIStatus.success.rawValue)
    XCTAssertTrue(answers.dropLast().allSatisfy { $0 == RSIStatus.incomplete.rawValue })
    let whole = token(m, length: total)
    XCTAssertNoThrow(try CCATokenVerifier.verify(whole))
    // INIT in the middle of a delivery starts over from the first byte.
    _ = initToken(m)
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 64]).x1, 64)
    _ = initToken(m)
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096]).x1, UInt64(total))
    XCTAssertEqual(token(m, length: total).prefix(16), whole.prefix(16))
  }

  func testAnInitDuringASignatureAbandonsIt() throws {
    let m = try machine()
    m.attestation.stepsPerSignature = 6
    _ = initToken(m)
    m.n.env.cpu.state.interruptPending = true
    _ = rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096])
    m.n.env.cpu.state.interruptPending = false
    XCTAssertEqual(initToken(m).x0, RSIStatus.success.rawValue)
    XCTAssertEqual(m.attestation.abandoned, 1, "the half-done signature is scrubbed")
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096]).x0, RSIStatus.success.rawValue)
    XCTAssertEqual(m.attestation.started, 2)
  }

  /// No attestation service: RSI_ERROR_STATE at INIT. A signer that fails: RSI_ERROR_UNKNOWN
  /// (B5.3.1 `unknown`), and the token is gone (RSI_ERROR_STATE until a new INIT).
  func testNoAttestationOrAFailingSignerGiveErrorState() throws {
    let m = try machine()
    m.attestation.available = false
    XCTAssertEqual(initToken(m).x0, RSIStatus.errorState.rawValue)
    m.attestation.available = true
    m.attestation.beginFails = true
    XCTAssertEqual(initToken(m).x0, RSIStatus.success.rawValue)
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096]).x0, RSIStatus.errorUnknown.rawValue)
    m.attestation.beginFails = false
    XCTAssertEqual(rsi(m, .attestTokenContinue, [tokenIPA, 0, 4096]).x0, RSIStatus.errorState.rawValue,
                   "a failed signature needs a new INIT")
  }
}

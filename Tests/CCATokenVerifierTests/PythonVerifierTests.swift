// The independent Python verifier (scripts/lib/verify_cca_token.py) must reach the same
// verdict as this one, on good tokens and on each kind of bad one.
import CCATokenVerifier
import Foundation
import RMMABI
import XCTest

final class PythonVerifierTests: XCTestCase {
  private let script = repositoryRoot.appendingPathComponent("scripts/lib/verify_cca_token.py").path
  private var directory: URL!

  override func setUpWithError() throws {
    let probe = try python(["-c", "import cbor2, cryptography"])
    guard probe.status == 0 else { throw XCTSkip("python3 with cbor2 and cryptography not available") }
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("cca-token-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    if let directory { try? FileManager.default.removeItem(at: directory) }
  }

  private func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
  }

  /// Python's verdict on `contents` (a token or a log), with verifier arguments.
  private func pythonAccepts(_ contents: [UInt8], _ arguments: [String] = []) throws -> Bool {
    let file = directory.appendingPathComponent("token")
    try Data(contents).write(to: file)
    let result = try python([script, "--quiet", file.path] + arguments)
    XCTAssertTrue(result.status == 0 || result.status == 1, "clean verdict, not a crash: \(result.output)")
    XCTAssertTrue(result.output.hasSuffix(result.status == 0 ? "verified\n" : "\n"), result.output)
    return result.status == 0
  }

  func testAgreesOnGoodAndBadTokens() throws {
    var builder = CCATokenBuilder(realmKey: try QEMUTestRAK.privateKey(), platformKey: try ES384PrivateKey())
    let good = try builder.build()
    let hex = { (b: [UInt8]) in hexString(b) }
    var wrongChallenge = builder.challenge
    wrongChallenge[5] ^= 1

    var cases: [(what: String, token: [UInt8], expectations: CCATokenExpectations)] = [
      ("good", good, .init()),
      ("good with expectations", good, .init(challenge: builder.challenge, initialMeasurement: builder.initialMeasurement)),
      ("flipped claim byte", flip(good, at: good.ranges(of: builder.challenge)[0].lowerBound + 1), .init()),
      ("flipped signature byte", flip(good, at: good.count - 20), .init()),
      ("wrong expected challenge", good, .init(challenge: wrongChallenge)),
      ("wrong expected RIM", good, .init(initialMeasurement: [UInt8](repeating: 0, count: 32))),
      ("truncated", Array(good.dropLast(7)), .init()),
      ("trailing bytes", good + [0xf6], .init()),
      ("wrong outer tag", [0xd9, 0x01, 0x90] + good.dropFirst(3), .init()),
      // The collection map's head in two bytes instead of one.
      ("over-long encoding", [0xd9, 0x01, 0x8f, 0xb8, 0x02] + good.dropFirst(4), .init()),
      ("missing claim", try builder.build(realmClaims: builder.realmClaimEntries().filter {
        $0.key != .unsigned(RealmClaim.personalizationValue)
      }), .init()),
    ]
    builder.platformChallenge = [UInt8](repeating: 0, count: 32)
    cases.append(("broken binding", try builder.build(), .init()))
    builder.platformChallenge = nil
    builder.hashAlgorithm = "sha-512"
    cases.append(("RIM size not matching the hash algorithm", try builder.build(), .init()))

    for (what, token, expectations) in cases {
      let swiftAccepts = (try? CCATokenVerifier.verify(token, expecting: expectations)) != nil
      var arguments: [String] = []
      if let challenge = expectations.challenge { arguments += ["--challenge", hex(challenge)] }
      if let rim = expectations.initialMeasurement { arguments += ["--rim", hex(rim)] }
      XCTAssertEqual(try pythonAccepts(token, arguments), swiftAccepts, what)
      XCTAssertEqual(swiftAccepts, what.hasPrefix("good"), what)
    }
  }

  func testReadsConsoleOutput() throws {
    let builder = CCATokenBuilder(realmKey: try QEMUTestRAK.privateKey(), platformKey: try ES384PrivateKey())
    let good = try builder.build()
    let bad = flip(good, at: good.count - 1)
    let log = "noise\n" + ConsoleCapture.format(bad, name: "bad") + "more noise\r\n"
      + ConsoleCapture.format(good, name: "good").replacingOccurrences(of: "\n", with: "\r\n")
    XCTAssertTrue(try pythonAccepts(Array(log.utf8), ["--name", "good"]))
    XCTAssertFalse(try pythonAccepts(Array(log.utf8), ["--name", "bad"]))
    XCTAssertFalse(try pythonAccepts(Array(log.utf8)))  // the first is the bad one
    XCTAssertFalse(try pythonAccepts(Array(log.utf8), ["--name", "other"]))
  }

  private func flip(_ token: [UInt8], at offset: Int) -> [UInt8] {
    var copy = token
    copy[offset] ^= 0x01
    return copy
  }
}

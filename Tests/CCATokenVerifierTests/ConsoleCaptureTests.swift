// Tokens picked out of console output: labels, interleaved lines, damaged blocks.
import CCATokenVerifier
import XCTest

final class ConsoleCaptureTests: XCTestCase {
  private let first: [UInt8] = (0..<100).map { UInt8($0) }
  private let second: [UInt8] = [0xd9, 0x01, 0x8f, 0xa0]

  func testFormatRoundTrips() throws {
    let text = ConsoleCapture.format(first, name: "one")
    XCTAssertTrue(text.hasPrefix("CCA_TOKEN_BEGIN name=one length=100\nCCA_TOKEN 000102"))
    XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.count <= "CCA_TOKEN ".count + 64 })
    XCTAssertEqual(try ConsoleCapture.token(in: text, named: nil), first)
  }

  func testPicksByNameAmongOtherOutput() throws {
    let log = "boot...\r\n" + ConsoleCapture.format(first, name: "one").replacingOccurrences(of: "\n", with: "\r\n")
      + "TEST ok\n[cpu1] " + ConsoleCapture.format(second, name: "two").replacingOccurrences(of: "CCA_TOKEN ", with: "[cpu1] CCA_TOKEN ")
      + "done\n"
    XCTAssertEqual(try ConsoleCapture.token(in: log, named: nil), first)
    XCTAssertEqual(try ConsoleCapture.token(in: log, named: "one"), first)
    XCTAssertEqual(try ConsoleCapture.token(in: log, named: "two"), second)
    XCTAssertThrowsError(try ConsoleCapture.token(in: log, named: "three")) {
      XCTAssertEqual($0 as? ConsoleCaptureError, .noTokenNamed("three", available: ["one", "two"]))
    }
    XCTAssertThrowsError(try ConsoleCapture.token(in: "nothing here\n", named: nil)) {
      XCTAssertEqual($0 as? ConsoleCaptureError, .noTokens)
    }
  }

  func testDamagedBlocksSayWhy() {
    let full = ConsoleCapture.format(first, name: "one")
    var lines = full.split(separator: "\n").map(String.init)
    func reason(_ text: String) -> String? {
      do { _ = try ConsoleCapture.token(in: text, named: "one"); return nil } catch { return error.description }
    }
    XCTAssertNotNil(reason(lines.dropLast().joined(separator: "\n"))?.range(of: "no CCA_TOKEN_END"))
    XCTAssertNotNil(reason(lines.enumerated().filter { $0.offset != 2 }.map(\.element).joined(separator: "\n"))?
      .range(of: "68 bytes, but CCA_TOKEN_BEGIN said 100"))
    lines[1] = "CCA_TOKEN 00zz"
    XCTAssertNotNil(reason(lines.joined(separator: "\n"))?.range(of: "not a valid data line"))
    lines[1] = "CCA_TOKEN " + String(repeating: "00", count: 33)
    XCTAssertNotNil(reason(lines.joined(separator: "\n"))?.range(of: "not a valid data line"))
    XCTAssertNotNil(reason(full.replacingOccurrences(of: "length=100", with: "length=99"))?.range(of: "more bytes than"))
    XCTAssertNotNil(reason(full.replacingOccurrences(of: "length=100", with: "length=x"))?.range(of: "valid length"))
    // A new block before the end of the previous one: the previous one is broken, the new one fine.
    let restarted = full.replacingOccurrences(of: "CCA_TOKEN_END\n", with: "") + ConsoleCapture.format(second, name: "two")
    XCTAssertNotNil(reason(restarted)?.range(of: "no CCA_TOKEN_END before the next"))
    XCTAssertEqual(try ConsoleCapture.token(in: restarted, named: "two"), second)
  }

  func testBinaryDetection() {
    XCTAssertTrue(ConsoleCapture.isBinaryToken(second))
    XCTAssertFalse(ConsoleCapture.isBinaryToken(Array("CCA_TOKEN_BEGIN".utf8)))
    XCTAssertFalse(ConsoleCapture.isBinaryToken([0xd9, 0x01]))
  }
}

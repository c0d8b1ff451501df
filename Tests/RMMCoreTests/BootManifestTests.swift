import XCTest
import RMMABI
@testable import RMMCore

/// Builds manifest pages the way TF-A 2.12.1's plat/qemu/common/qemu_common.c does.
struct ManifestBuilder {
  var pagePA: UInt64 = 0x418F_F000
  var version: UInt32 = 0x3
  var banks: [(UInt64, UInt64)] = [(0x4000_0000, 0xC000_0000)]
  var consoles: [(base: UInt64, pages: UInt64, clock: UInt64, baud: UInt64)] = [(0x0900_0000, 1, 1, 115_200)]
  var dramChecksumDelta: UInt64 = 0
  var consoleChecksumDelta: UInt64 = 0
  var banksOffset = 64
  var consolesOffset: Int? = nil
  /// TF-A's FVP platform sums every word of a console entry (name and flags too, flags
  /// zeroed); its QEMU platform leaves the name and flags out.
  var fvpConsoleChecksum = false

  func build() -> PageBuffer {
    var page = PageBuffer()
    page.store64(UInt64(version), at: 0)
    let banksPA = pagePA + UInt64(banksOffset)
    var sum = UInt64(banks.count) &+ banksPA
    for (i, bank) in banks.enumerated() {
      if banksOffset + i * 16 + 8 < 4096 {
        page.store64(bank.0, at: banksOffset + i * 16)
        page.store64(bank.1, at: banksOffset + i * 16 + 8)
      }
      sum = sum &+ bank.0 &+ bank.1
    }
    page.store64(UInt64(banks.count), at: 16)
    page.store64(banksPA, at: 24)
    page.store64((0 &- sum) &+ dramChecksumDelta, at: 32)
    let cOffset = consolesOffset ?? (banksOffset + banks.count * 16)
    let consolesPA = pagePA + UInt64(cOffset)
    sum = UInt64(consoles.count) &+ consolesPA
    for (i, c) in consoles.enumerated() where cOffset + i * 48 + 40 < 4096 {
      let e = cOffset + i * 48
      page.store64(c.base, at: e)
      page.store64(c.pages, at: e + 8)
      page.store64(ConsoleInfo.pl011Name, at: e + 16)
      page.store64(c.clock, at: e + 24)
      page.store64(c.baud, at: e + 32)
      page.store64(fvpConsoleChecksum ? 0 : 0xFFFF, at: e + 40)  // flags: QEMU leaves them out of the sum
      sum = sum &+ c.base &+ c.pages &+ c.clock &+ c.baud
      if fvpConsoleChecksum { sum = sum &+ ConsoleInfo.pl011Name }
    }
    page.store64(UInt64(consoles.count), at: 40)
    page.store64(consolesPA, at: 48)
    page.store64((0 &- sum) &+ consoleChecksumDelta, at: 56)
    return page
  }

  func parse() -> Result<BootManifest, ManifestError> {
    do throws(ManifestError) {
      return .success(try BootManifestParser.parse(build(), pagePA: pagePA))
    } catch { return .failure(error) }
  }
}

final class BootManifestTests: XCTestCase {
  func testTFAQEMUManifest() throws {
    let m = try ManifestBuilder().parse().get()
    XCTAssertEqual(m.version, InterfaceVersion(major: 0, minor: 3))
    XCTAssertEqual(m.dram.bankCount, 1)
    XCTAssertEqual(m.dram.banks[0], PhysicalRange(base: 0x4000_0000, size: 0xC000_0000))
    XCTAssertEqual(m.dram.granuleCount, 0xC0000)
    XCTAssertEqual(m.console, ConsoleInfo(base: 0x0900_0000, mapPages: 1, name: ConsoleInfo.pl011Name,
                                          clockHz: 1, baudRate: 115_200))
  }

  func testFVPStyleTwoBanks() throws {
    var b = ManifestBuilder()
    b.banks = [(0x8000_0000, 0x7C00_0000), (0x8_8000_0000, 0x8000_0000)]
    let m = try b.parse().get()
    XCTAssertEqual(m.dram.bankCount, 2)
    XCTAssertEqual(m.dram.granuleCount, (0x7C00_0000 + 0x8000_0000) >> 12)
  }

  func testLaterMinorVersionAccepted() throws {
    var b = ManifestBuilder()
    b.version = 0x4
    XCTAssertNoThrow(try b.parse().get())
  }

  func testVersionErrors() {
    for version: UInt32 in [0x2, 0x1_0003, 0x0] {
      var b = ManifestBuilder()
      b.version = version
      XCTAssertEqual(b.parse().failure, .versionNotSupported, "version \(String(version, radix: 16))")
      XCTAssertEqual(b.parse().failure?.bootStatus, .manifestVersionNotSupported)
    }
  }

  func testChecksumErrors() {
    var b = ManifestBuilder()
    b.dramChecksumDelta = 1
    XCTAssertEqual(b.parse().failure, .dataError(.dramChecksum))
    XCTAssertEqual(b.parse().failure?.bootStatus, .manifestDataError)
    b = ManifestBuilder()
    b.consoleChecksumDelta = 0x1000
    XCTAssertEqual(b.parse().failure, .dataError(.consoleChecksum))
  }

  func testConsoleChecksumExcludesNameAndFlags() throws {
    // TF-A 2.12.1 leaves name[] and flags out of the console checksum (TF-RMM v0.6
    // includes the name and fails to boot: the reference's deviation we must not copy).
    var page = ManifestBuilder().build()
    page.store64(0x4141_4141_4141_4141, at: 64 + 16 + 16)  // console name
    page.store64(0x1234, at: 64 + 16 + 40)                  // console flags
    XCTAssertNoThrow(try BootManifestParser.parse(page, pagePA: 0x418F_F000))
  }

  func testFVPConsoleChecksumCoversTheWholeEntry() throws {
    var b = ManifestBuilder()
    b.fvpConsoleChecksum = true
    b.pagePA = 0xFFFF_F000
    b.banks = [(0x8000_0000, 0x7C00_0000), (0x8_8000_0000, 0x8000_0000)]
    b.consoles = [(0x1C0C_0000, 1, 24_000_000, 115_200)]
    let m = try b.parse().get()
    XCTAssertEqual(m.console.base, 0x1C0C_0000)
    // The name is covered in this form: one changed byte fails the checksum.
    var page = b.build()
    page.store64(ConsoleInfo.pl011Name ^ 0x100, at: 64 + 32 + 16)
    do throws(ManifestError) {
      _ = try BootManifestParser.parse(page, pagePA: b.pagePA)
      XCTFail("a changed console name passed the FVP checksum")
    } catch { XCTAssertEqual(error, .dataError(.consoleChecksum)) }
    // And a flags word that is not zero.
    page = b.build()
    page.store64(1, at: 64 + 32 + 40)
    XCTAssertThrowsError(try BootManifestParser.parse(page, pagePA: b.pagePA))
  }

  func testBankErrors() {
    var b = ManifestBuilder()
    b.banks = []
    XCTAssertEqual(b.parse().failure, .dataError(.noDRAMBanks))
    b.banks = Array(repeating: (0x4000_0000, 0x1000), count: 9)
    XCTAssertEqual(b.parse().failure, .dataError(.tooManyDRAMBanks))
    b.banks = [(0x4000_0000, 0)]
    XCTAssertEqual(b.parse().failure, .dataError(.bankEmpty))
    b.banks = [(0x4000_0800, 0x1000)]
    XCTAssertEqual(b.parse().failure, .dataError(.bankUnaligned))
    b.banks = [(0x4000_0000, 0x1800)]
    XCTAssertEqual(b.parse().failure, .dataError(.bankUnaligned))
    b.banks = [(0xFFFF_FFFF_FFFF_F000, 0x2000)]
    XCTAssertEqual(b.parse().failure, .dataError(.bankWraps))
    b.banks = [(0x4000_0000, 0x2000), (0x4000_1000, 0x1000)]
    XCTAssertEqual(b.parse().failure, .dataError(.banksOverlapOrUnsorted), "overlapping")
    b.banks = [(0x8000_0000, 0x1000), (0x4000_0000, 0x1000)]
    XCTAssertEqual(b.parse().failure, .dataError(.banksOverlapOrUnsorted), "unsorted")
  }

  func testPointersMustStayInThePage() {
    var b = ManifestBuilder()
    b.banksOffset = 32  // inside the header
    XCTAssertEqual(b.parse().failure, .dataError(.bankArrayOutsidePage))
    b = ManifestBuilder()
    b.banksOffset = 4096 - 8  // array runs off the page
    XCTAssertEqual(b.parse().failure, .dataError(.bankArrayOutsidePage))
    b = ManifestBuilder()
    b.banksOffset = 68  // misaligned
    XCTAssertEqual(b.parse().failure, .dataError(.bankArrayOutsidePage))
    b = ManifestBuilder()
    b.consolesOffset = 4096 - 40
    XCTAssertEqual(b.parse().failure, .dataError(.consoleArrayOutsidePage))
  }

  func testConsoleErrors() {
    var b = ManifestBuilder()
    b.consoles = []
    XCTAssertEqual(b.parse().failure, .dataError(.noConsole))
    b.consoles = [(0x0900_0100, 1, 1, 115_200)]
    XCTAssertEqual(b.parse().failure, .dataError(.consoleUnaligned))
    b.consoles = [(0x0900_0000, 0, 1, 115_200)]
    XCTAssertEqual(b.parse().failure, .dataError(.consoleUnaligned))
    b.consoles = Array(repeating: (0x0900_0000, 1, 1, 115_200), count: 5)
    XCTAssertEqual(b.parse().failure, .dataError(.tooManyConsoles))
  }
}

extension Result {
  var failure: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}

// Parsing and validation of the boot manifest v0.3 that EL3 leaves in the shared
// page. The page is copied once into RMM memory; this code only sees the copy.
// Every pointer inside the manifest must point back into that same page: the RMM
// never follows an EL3-supplied pointer anywhere else.

import RMMABI

public let maxDRAMBanks = 8
public let maxConsoles = 4

/// The platform's NS DRAM, as the manifest describes it: sorted, disjoint,
/// granule-aligned banks.
public struct DRAMLayout: Equatable, Sendable {
  public var bankCount: Int
  public var banks: InlineArray<8, PhysicalRange>

  public init() {
    bankCount = 0
    banks = .init(repeating: PhysicalRange(base: 0, size: 0))
  }

  public static func == (lhs: DRAMLayout, rhs: DRAMLayout) -> Bool {
    guard lhs.bankCount == rhs.bankCount else { return false }
    for i in 0..<lhs.bankCount where lhs.banks[i] != rhs.banks[i] { return false }
    return true
  }

  /// Total number of 4 KiB granules over all banks.
  public var granuleCount: UInt64 {
    var total: UInt64 = 0
    for i in 0..<bankCount { total += banks[i].size >> granuleShift }
    return total
  }
}

public struct ConsoleInfo: Equatable, Sendable {
  public var base: UInt64
  public var mapPages: UInt64
  /// First 8 bytes of the console's name ("pl011"), little endian.
  public var name: UInt64
  public var clockHz: UInt64
  public var baudRate: UInt64
  public init(base: UInt64 = 0, mapPages: UInt64 = 0, name: UInt64 = 0, clockHz: UInt64 = 0, baudRate: UInt64 = 0) {
    self.base = base; self.mapPages = mapPages; self.name = name
    self.clockHz = clockHz; self.baudRate = baudRate
  }
  /// The name the manifest uses for an Arm PL011 UART.
  public static let pl011Name: UInt64 = 0x0000_0031_3130_6C70  // "pl011\0\0\0"
}

public struct BootManifest: Equatable, Sendable {
  public var version: InterfaceVersion
  public var platformData: UInt64
  public var dram: DRAMLayout
  public var console: ConsoleInfo
}

public enum ManifestError: Error, Equatable {
  case versionNotSupported
  case dataError(ManifestDefect)

  public var bootStatus: BootStatus {
    switch self {
    case .versionNotSupported: return .manifestVersionNotSupported
    case .dataError: return .manifestDataError
    }
  }
}

/// What exactly was wrong, for the boot log and the tests.
public enum ManifestDefect: Equatable, Sendable {
  case noDRAMBanks, tooManyDRAMBanks, bankArrayOutsidePage, dramChecksum
  case bankUnaligned, bankEmpty, bankWraps, banksOverlapOrUnsorted
  case noConsole, tooManyConsoles, consoleArrayOutsidePage, consoleChecksum, consoleUnaligned
}

public enum BootManifestParser {
  /// Parses the copy `page` of the shared page that EL3 placed at physical address `pagePA`.
  public static func parse(_ page: borrowing PageBuffer, pagePA: UInt64) throws(ManifestError) -> BootManifest {
    typealias L = BootManifestLayout
    let version = InterfaceVersion(encoded: UInt64(page.load32(at: L.version)))
    guard version.major == bootManifestVersion.major, version.minor >= bootManifestVersion.minor else {
      throw .versionNotSupported
    }

    // DRAM banks. Checksum (TF-A 2.12.1): num + ptr + sum(base + size) + checksum == 0.
    let bankCount = page.load64(at: L.dramBankCount)
    let banksPA = page.load64(at: L.dramBanksPointer)
    guard bankCount != 0 else { throw .dataError(.noDRAMBanks) }
    guard bankCount <= UInt64(maxDRAMBanks) else { throw .dataError(.tooManyDRAMBanks) }
    guard let banksOffset = offsetInPage(banksPA, length: bankCount * UInt64(L.bankSize), pagePA: pagePA) else {
      throw .dataError(.bankArrayOutsidePage)
    }
    var sum = bankCount &+ banksPA
    var dram = DRAMLayout()
    for i in 0..<Int(bankCount) {
      let base = page.load64(at: banksOffset + i * L.bankSize)
      let size = page.load64(at: banksOffset + i * L.bankSize + 8)
      sum = sum &+ base &+ size
      dram.banks[i] = PhysicalRange(base: base, size: size)
    }
    dram.bankCount = Int(bankCount)
    guard sum &+ page.load64(at: L.dramChecksum) == 0 else { throw .dataError(.dramChecksum) }
    for i in 0..<dram.bankCount {
      let bank = dram.banks[i]
      guard bank.size != 0 else { throw .dataError(.bankEmpty) }
      guard isGranuleAligned(bank.base), isGranuleAligned(bank.size) else { throw .dataError(.bankUnaligned) }
      guard bank.base <= UInt64.max - bank.size else { throw .dataError(.bankWraps) }
      // Banks must be sorted and disjoint: the granule index depends on it.
      if i > 0 && dram.banks[i - 1].end > bank.base { throw .dataError(.banksOverlapOrUnsorted) }
    }

    // Consoles. TF-A 2.12.1 computes this checksum in two ways, and the RMM accepts
    // either: num + ptr + sum(every word of each entry) + checksum == 0 on FVP
    // (plat/arm/board/fvp/fvp_common.c), and the same without the name and flags words
    // on QEMU (plat/qemu/common/qemu_common.c).
    let consoleCount = page.load64(at: L.consoleCount)
    let consolesPA = page.load64(at: L.consolesPointer)
    guard consoleCount != 0 else { throw .dataError(.noConsole) }
    guard consoleCount <= UInt64(maxConsoles) else { throw .dataError(.tooManyConsoles) }
    guard let consolesOffset = offsetInPage(consolesPA, length: consoleCount * UInt64(L.consoleSize), pagePA: pagePA) else {
      throw .dataError(.consoleArrayOutsidePage)
    }
    var qemuSum = consoleCount &+ consolesPA
    var wholeSum = qemuSum
    for i in 0..<Int(consoleCount) {
      let entry = consolesOffset + i * L.consoleSize
      let fields = page.load64(at: entry + L.consoleBase) &+ page.load64(at: entry + L.consoleMapPages)
        &+ page.load64(at: entry + L.consoleClock) &+ page.load64(at: entry + L.consoleBaud)
      qemuSum = qemuSum &+ fields
      wholeSum = wholeSum &+ fields &+ page.load64(at: entry + L.consoleName) &+ page.load64(at: entry + L.consoleFlags)
    }
    let consoleChecksum = page.load64(at: L.consoleChecksum)
    guard qemuSum &+ consoleChecksum == 0 || wholeSum &+ consoleChecksum == 0 else {
      throw .dataError(.consoleChecksum)
    }
    let console = ConsoleInfo(
      base: page.load64(at: consolesOffset + L.consoleBase),
      mapPages: page.load64(at: consolesOffset + L.consoleMapPages),
      name: page.load64(at: consolesOffset + L.consoleName),
      clockHz: page.load64(at: consolesOffset + L.consoleClock),
      baudRate: page.load64(at: consolesOffset + L.consoleBaud))
    guard isGranuleAligned(console.base), console.mapPages >= 1, console.mapPages <= 16 else {
      throw .dataError(.consoleUnaligned)
    }

    return BootManifest(version: version, platformData: page.load64(at: L.platformData), dram: dram, console: console)
  }

  /// The byte offset of `[pa, pa + length)` inside the page at `pagePA`, if it lies
  /// wholly inside it, past the fixed header, and is 8-byte aligned.
  static func offsetInPage(_ pa: UInt64, length: UInt64, pagePA: UInt64) -> Int? {
    guard pa >= pagePA + UInt64(BootManifestLayout.headerSize), pa & 7 == 0 else { return nil }
    let offset = pa - pagePA
    guard offset <= granuleSize, length <= granuleSize - offset else { return nil }
    return Int(offset)
  }
}

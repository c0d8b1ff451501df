import XCTest
@testable import RMMABI

final class FunctionIDTests: XCTestCase {
  func testRMIFunctionIDsMatchSpec() {
    // DEN0137 1.0-rel0 function numbers; 0x156, 0x160 and 0x163 are unused in 1.0.
    let expected: [(RMICommand, UInt64)] = [
      (.version, 0x150), (.granuleDelegate, 0x151), (.granuleUndelegate, 0x152),
      (.dataCreate, 0x153), (.dataCreateUnknown, 0x154), (.dataDestroy, 0x155),
      (.realmActivate, 0x157), (.realmCreate, 0x158), (.realmDestroy, 0x159),
      (.recCreate, 0x15A), (.recDestroy, 0x15B), (.recEnter, 0x15C), (.rttCreate, 0x15D),
      (.rttDestroy, 0x15E), (.rttMapUnprotected, 0x15F), (.rttReadEntry, 0x161),
      (.rttUnmapUnprotected, 0x162), (.psciComplete, 0x164), (.features, 0x165),
      (.rttFold, 0x166), (.recAuxCount, 0x167), (.rttInitRIPAS, 0x168), (.rttSetRIPAS, 0x169),
    ]
    XCTAssertEqual(expected.count, RMICommand.allCases.count)
    for (command, number) in expected {
      XCTAssertEqual(command.rawValue, 0xC400_0000 | number, "\(command)")
      XCTAssertTrue(RMICommand.forwardedRange.contains(command.rawValue))
    }
    for unused: UInt64 in [0x156, 0x160, 0x163, 0x16A, 0x170, 0x18E] {
      XCTAssertNil(RMICommand(rawValue: 0xC400_0000 | unused))
    }
  }

  func testArgumentAndResultCounts() {
    XCTAssertEqual(RMICommand.version.argumentCount, 1)
    XCTAssertEqual(RMICommand.version.resultCount, 2)
    XCTAssertEqual(RMICommand.dataCreate.argumentCount, 5)
    XCTAssertEqual(RMICommand.rttReadEntry.resultCount, 4)
    XCTAssertEqual(RMICommand.rttSetRIPAS.argumentCount, 4)
    XCTAssertEqual(RMICommand.dataDestroy.resultCount, 2)
    for command in RMICommand.allCases {
      XCTAssertTrue((1...5).contains(command.argumentCount))
      XCTAssertTrue((0...4).contains(command.resultCount))
    }
  }

  func testRSIAndEL3FunctionIDs() {
    XCTAssertEqual(RSICommand.version.rawValue, 0xC400_0190)
    XCTAssertEqual(RSICommand.hostCall.rawValue, 0xC400_0199)
    XCTAssertEqual(EL3Call.rmiRequestComplete.rawValue, 0xC400_018F)
    XCTAssertEqual(EL3Call.bootComplete.rawValue, 0xC400_01CF)
    XCTAssertEqual(EL3Call.gtsiDelegate.rawValue, 0xC400_01B0)
    XCTAssertEqual(PSCIFunction.cpuOn.smc64, 0xC400_0003)
  }
}

final class StatusTests: XCTestCase {
  func testStatusPacking() {
    XCTAssertEqual(RMIStatus.success.encoded, 0)
    XCTAssertEqual(RMIStatus(.errorRealm, index: 1).encoded, 0x102)
    XCTAssertEqual(RMIStatus(.errorRTT, index: 2).encoded, 0x204)
    XCTAssertEqual(RMIStatus(encoded: 0x304), RMIStatus(.errorRTT, index: 3))
    XCTAssertNil(RMIStatus(encoded: 0xFFFF_FFFF_FFFF_FFFF))
    XCTAssertNil(RMIStatus(encoded: 5))
  }

  func testVersionEncoding() {
    XCTAssertEqual(rmiABIVersion.encoded, 0x1_0000)
    XCTAssertEqual(InterfaceVersion(encoded: 0x0000_0004), InterfaceVersion(major: 0, minor: 4))
    // Bit 31 is RES0 in the RMM-EL3 interface version and must not leak into the major.
    XCTAssertEqual(InterfaceVersion(encoded: 0x8001_0002).major, 1)
  }

  func testFeatureRegisterFields() {
    var fr = RMIFeatureRegister0(rawValue: 0)
    fr.s2sz = 48
    fr.sha256 = true
    fr.sha512 = true
    fr.numberOfBreakpoints = 2
    fr.numberOfWatchpoints = 2
    fr.gicv3ListRegisters = 3
    let expected: UInt64 = 48 | (1 << 32) | (1 << 33) | (2 << 14) | (2 << 20) | (3 << 34)
    XCTAssertEqual(fr.rawValue, expected)
    fr.s2sz = 0x1FF  // too wide: truncated to its 8-bit field
    XCTAssertEqual(fr.s2sz, 0xFF)
    XCTAssertTrue(fr.sha256)
  }

  func testManifestLayout() {
    XCTAssertEqual(BootManifestLayout.headerSize, 64)
    XCTAssertEqual(BootManifestLayout.consoleSize, 48)
    XCTAssertEqual(BootManifestLayout.consoleChecksum, 56)
  }
}

import XCTest
import RMMABI
@testable import RMMCore

final class DispatcherTests: XCTestCase {
  func testVersion() {
    let env = FakeEnvironment()
    let ok = env.call(.version, 0x1_0000)
    XCTAssertEqual(ok, RMIResult(success, 0x1_0000, 0x1_0000, 0, 0))
    for requested: UInt64 in [0, 0x1_0001, 0x2_0000, 0xFFFF_FFFF_FFFF_FFFF] {
      XCTAssertEqual(env.call(.version, requested), RMIResult(errorInput, 0x1_0000, 0x1_0000, 0, 0))
    }
  }

  func testUnknownFunctionIDs() {
    let env = FakeEnvironment()
    for fid: UInt64 in [0xC400_0156, 0xC400_0160, 0xC400_0163, 0xC400_016A, 0xC400_018E, 0xC400_018F,
                        0x8400_0000, 0, 0xFFFF_FFFF_FFFF_FFFF, 0xC400_0190] {
      let r = env.dispatcher.handle(SMCArguments(fid, 1, 2, 3, 0x44))
      XCTAssertEqual(r, RMIResult(smcUnknown, 0, 0, 0, 0x44), "FID \(String(fid, radix: 16))")
    }
  }

  /// The ABI table covers the whole RMI range EL3 forwards (0x150-0x18F): every FID is
  /// a command with a consistent description, or SMC_UNKNOWN with nothing but x4 kept.
  /// Every command's failure `top`, x4 preservation and audit attribution follow it.
  func testTheABITableCoversTheWholeRMIRange() {
    var commands = 0
    for fid in RMICommand.forwardedRange {
      let env = FakeEnvironment()
      let r = env.dispatcher.handle(SMCArguments(fid, 0x1001, 0x2002, 0x3003, 0x44, 0x55, 0x66, 0x77))
      guard let command = RMICommand(rawValue: fid) else {
        XCTAssertEqual(r, RMIResult(smcUnknown, 0, 0, 0, 0x44), "FID \(String(fid, radix: 16)) is no RMI 1.0 command")
        continue
      }
      commands += 1
      let abi = command.abi
      XCTAssertTrue((1...5).contains(abi.arguments), "\(command)")
      XCTAssertTrue((0...4).contains(abi.results), "\(command)")
      XCTAssertTrue(abi.topOnFailure == .none || abi.results >= abi.topOnFailure.rawValue, "\(command): top is a result")
      XCTAssertEqual(r.x4, abi.preservesX4 ? 0x44 : r.x4, "\(command): x4 kept unless it carries a result")
      XCTAssertNotEqual(r.x0, smcUnknown, "\(command) is served")
      XCTAssertEqual(RMICommand.takesRealmFirst(fid), abi.realmFirst)
    }
    XCTAssertEqual(commands, 23, "the 23 commands of RMI 1.0")
    // The failure `top` lands where the table says: RTT_UNMAP_UNPROTECTED in x1.
    var f = RTTFixture()
    _ = f.createTable(1 << 39, 2)
    _ = f.createTable(1 << 39, 3)
    let unmapped = f.h.env.call(.rttUnmapUnprotected, f.h.rd, 1 << 39, 3)
    XCTAssertEqual(unmapped.x0, status(.errorRTT, 3))
    XCTAssertEqual(unmapped.x1, (1 << 39) + 0x20_0000, "top in x1: the end of the table, no live entry")
    XCTAssertEqual(unmapped.x2, 0)
  }

  func testSVEHintBitIsIgnored() {
    let env = FakeEnvironment()
    let r = env.dispatcher.handle(SMCArguments(RMICommand.version.rawValue | smcSVEHintBit, 0x1_0000))
    XCTAssertEqual(r.x0, success)
    XCTAssertEqual(r.x1, 0x1_0000)
  }

  func testX4PreservedUnlessAResult() {
    let env = FakeEnvironment()
    XCTAssertEqual(env.dispatcher.handle(SMCArguments(RMICommand.version.rawValue, 0x1_0000, 0, 0, 0xABCD)).x4, 0xABCD)
    XCTAssertEqual(env.dispatcher.handle(SMCArguments(RMICommand.granuleDelegate.rawValue, 1, 0, 0, 0xABCD)).x4, 0xABCD)
  }

  func testFeatures() {
    var env = FakeEnvironment()
    env.features = RMIFeatureRegister0(rawValue: 0)
    env.features.s2sz = 48
    env.features.sha256 = true
    XCTAssertEqual(env.call(.features, 0), RMIResult(success, 48 | 1 << 32))
    XCTAssertEqual(env.call(.features, 1), RMIResult(success, 0))
    XCTAssertEqual(env.call(.features, 0xFFFF), RMIResult(success, 0))
  }

  func testUnusedResultRegistersAreZero() {
    let env = FakeEnvironment()
    let r = env.dispatcher.handle(SMCArguments(RMICommand.granuleDelegate.rawValue, 0x8000_0000, 0x11, 0x22, 0x33))
    XCTAssertEqual(r.x1, 0)
    XCTAssertEqual(r.x2, 0)
    XCTAssertEqual(r.x3, 0)
  }
}

final class BootArgumentTests: XCTestCase {
  func validate(_ cpu: UInt64, _ version: UInt64, _ cpus: UInt64, _ shared: UInt64) -> BootStatus? {
    do throws(BootStatus) {
      try BootArguments.validateColdBoot(cpu: cpu, interfaceVersion: version, cpuCount: cpus,
                                         sharedPage: shared, supportedCPUs: 32)
      return nil
    } catch { return error }
  }

  func testColdBoot() {
    XCTAssertNil(validate(0, 0x4, 32, 0x418F_F000), "TF-A 2.12.1 on QEMU")
    XCTAssertNil(validate(0, 0x3, 1, 0x418F_F000), "interface 0.3")
    XCTAssertEqual(validate(0, 0x1_0000, 32, 0x418F_F000), .versionNotValid, "major 1")
    XCTAssertEqual(validate(0, 0x8000_0004, 32, 0x418F_F000), .versionNotValid, "RES0 bit 31 set")
    XCTAssertEqual(validate(0, 0x4, 33, 0x418F_F000), .cpusOutOfRange)
    XCTAssertEqual(validate(0, 0x4, 0, 0x418F_F000), .cpusOutOfRange)
    XCTAssertEqual(validate(4, 0x4, 4, 0x418F_F000), .cpuIDOutOfRange)
    XCTAssertEqual(validate(0, 0x4, 4, 0), .invalidSharedBuffer)
    XCTAssertEqual(validate(0, 0x4, 4, 0x418F_F008), .invalidSharedBuffer)
  }

  func testWarmBoot() {
    func warm(_ cpu: UInt64, _ x1: UInt64) -> BootStatus? {
      do throws(BootStatus) {
        try BootArguments.validateWarmBoot(cpu: cpu, x1: x1, x2: 0, x3: 0, cpuCount: 32)
        return nil
      } catch { return error }
    }
    XCTAssertNil(warm(31, 0))
    XCTAssertEqual(warm(32, 0), .cpuIDOutOfRange)
    XCTAssertEqual(warm(1, 4), .unknown)
  }
}

final class AccessPolicyTests: XCTestCase {
  /// The whole policy, restated independently: (purpose, direction, state) that are allowed.
  static let allowed: Set<String> = [
    "delegateScrub write delegated", "undelegateScrub write delegated",
    "realmParams read undelegated", "recParams read undelegated", "dataSource read undelegated",
    "rttRead read rtt", "rttWrite write rtt", "rdRead read rd", "rdWrite write rd",
    "recRead read rec", "recWrite write rec", "dataCreateWrite write data",
    "destroyScrub write rd", "destroyScrub write rec", "destroyScrub write recAux",
    "destroyScrub write data", "destroyScrub write rtt",
    "recRunEnter read undelegated", "recRunExit write undelegated", "recRun write rec",
    "rsiRealmConfig write data", "rsiHostCallRead read data", "rsiHostCallWrite write data",
    "auditDrain write undelegated",
    "attestationWorkspace write recAux", "attestationTokenWrite write data",
    "recSVEState write recAux",
  ]

  func testEveryCombination() {
    var allowedCount = 0
    for purpose in AccessPurpose.allCases {
      for direction in [AccessDirection.read, .write] {
        for expected in GranuleState.allCases {
          for actual in GranuleState.allCases {
            let intent = AccessIntent(purpose, direction, expecting: expected, length: 8)
            let allowed = AccessPolicy.permits(intent, actualState: actual)
            let key = "\(purpose) \(direction) \(actual)"
            let shouldAllow = expected == actual && Self.allowed.contains(key)
            XCTAssertEqual(allowed, shouldAllow, "\(purpose) \(direction) expecting \(expected), actual \(actual)")
            if allowed { allowedCount += 1 }
          }
        }
      }
    }
    XCTAssertEqual(allowedCount, Self.allowed.count)
    XCTAssertFalse(AccessPolicy.permits(AccessIntent(.delegateScrub, .write, expecting: .delegated), actualState: nil))
    XCTAssertFalse(AccessPolicy.permits(AccessIntent(.delegateScrub, .write, expecting: .delegated, length: 4097),
                                        actualState: .delegated))
  }

  func testRealmDataIsReadOnlyForRsiHostCall() {
    for purpose in AccessPurpose.allCases where purpose != .rsiHostCallRead {
      XCTAssertFalse(AccessPolicy.permits(AccessIntent(purpose, .read, expecting: .data), actualState: .data),
                     "\(purpose) must not read DATA")
    }
    XCTAssertTrue(AccessPolicy.permits(AccessIntent(.rsiHostCallRead, .read, expecting: .data, length: 0x100), actualState: .data))
    XCTAssertFalse(AccessPolicy.permits(AccessIntent(.rsiHostCallRead, .read, expecting: .data, length: 0x101), actualState: .data),
                   "no more than the RsiHostCall structure")
  }
}

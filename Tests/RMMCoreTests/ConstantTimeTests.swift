import XCTest
@testable import RMMCore

final class ConstantTimeTests: XCTestCase {
  func testEqual() {
    var a: [UInt64] = [1, 2, 3, 4]
    var b: [UInt64] = [1, 2, 3, 4]
    XCTAssertTrue(ConstantTime.equal(&a, &b, count: 4))
    b[3] = 5
    XCTAssertFalse(ConstantTime.equal(&a, &b, count: 4), "a difference in the last word counts")
    XCTAssertTrue(ConstantTime.equal(&a, &b, count: 3))
    b[0] = 0
    XCTAssertFalse(ConstantTime.equal(&a, &b, count: 3), "and in the first")
  }

  func testDigests() {
    var x = SHA256(); x.update(byte: 1)
    var y = SHA256(); y.update(byte: 1)
    var z = SHA512(); z.update(byte: 1)
    let dx = x.finalize(), dy = y.finalize(), dz = z.finalize()
    XCTAssertTrue(ConstantTime.equal(dx, dy))
    XCTAssertFalse(ConstantTime.equal(dx, dz))
    var shorter = dx
    shorter.length = 31
    XCTAssertFalse(ConstantTime.equal(dx, shorter), "lengths count too")
  }

  func testSelectAndScrub() {
    XCTAssertEqual(ConstantTime.select(true, 7, 9), 7)
    XCTAssertEqual(ConstantTime.select(false, 7, 9), 9)
    var key: [UInt64] = [0xDEAD, 0xBEEF, 0xF00D]
    ConstantTime.scrub(&key, count: 3)
    XCTAssertEqual(key, [0, 0, 0])
  }
}

import XCTest
@testable import RealmVMM

final class VirtualGICTests: XCTestCase {
  /// A GIC as Linux leaves it after probing: distributor on (Group 1, ARE), the timer
  /// PPI and the UART SPI enabled in Group 1 at priority 0xA0, SGIs enabled.
  func linuxConfigured(cpus: Int = 1) -> VirtualGIC {
    var gic = VirtualGIC(cpuCount: cpus)
    gic.distributorWrite(0x0000, size: 4, 0b1_0010)
    gic.distributorWrite(0x0084, size: 4, 0xFFFF_FFFF)               // SPIs: Group 1
    gic.distributorWrite(0x0104, size: 4, 1 << 1)                     // INTID 33
    gic.distributorWrite(0x0420, size: 4, 0xA0A0_A0A0)
    for cpu in 0..<cpus {
      gic.redistributorWrite(cpu, 0x1_0080, size: 4, 0xFFFF_FFFF)     // SGIs, PPIs: Group 1
      gic.redistributorWrite(cpu, 0x1_0100, size: 4, 1 << 27 | 0xFFFF)
      for n in 0..<8 { gic.redistributorWrite(cpu, 0x1_0400 + UInt64(4 * n), size: 4, 0xA0A0_A0A0) }
    }
    return gic
  }

  func testIdentificationRegistersLinuxChecks() {
    var gic = VirtualGIC(cpuCount: 2)
    XCTAssertEqual(gic.distributorRead(0xFFE8, size: 4) >> 4 & 0xF, 3, "GICD_PIDR2.ArchRev: GICv3")
    XCTAssertEqual(gic.redistributorRead(0, 0xFFE8, size: 4) >> 4 & 0xF, 3, "GICR_PIDR2.ArchRev")
    let typer = gic.distributorRead(0x0004, size: 4)
    XCTAssertEqual(typer & 0x1F, 1, "ITLinesNumber 1: 32 SPIs")
    XCTAssertEqual(typer >> 19 & 0x1F, 9, "10 INTID bits")
    XCTAssertEqual(typer >> 17 & 1, 0, "no LPIs")
    XCTAssertEqual(gic.distributorRead(0x0000, size: 4) & (1 << 6), 1 << 6, "DS: one security state")
    // GICR_TYPER (64-bit): Affinity = the vCPU's MPIDR, Last on the last frame only.
    let t0 = gic.redistributorRead(0, 0x0008, size: 8), t1 = gic.redistributorRead(1, 0x0008, size: 8)
    XCTAssertEqual(t0 >> 32, 0)
    XCTAssertEqual(t1 >> 32, 1)
    XCTAssertEqual(t0 & (1 << 4), 0)
    XCTAssertEqual(t1 & (1 << 4), 1 << 4)
    XCTAssertEqual(gic.redistributorRead(1, 0x000C, size: 4), 1, "the upper half alone")
  }

  func testWakerHandshake() {
    var gic = VirtualGIC(cpuCount: 1)
    XCTAssertEqual(gic.redistributorRead(0, 0x0014, size: 4) & 0b110, 0b110, "asleep at reset")
    gic.redistributorWrite(0, 0x0014, size: 4, 0)
    XCTAssertEqual(gic.redistributorRead(0, 0x0014, size: 4) & 0b110, 0, "ChildrenAsleep follows ProcessorSleep")
  }

  func testLevelInterruptTravelsThroughTheListRegisters() {
    var gic = linuxConfigured()
    XCTAssertFalse(gic.hasWork(0))
    gic.setLine(0, VirtualGIC.virtualTimerINTID, high: true)
    XCTAssertTrue(gic.isPending(0, 27))
    var lrs = gic.listRegisters(0, count: 4)
    XCTAssertEqual(lrs[0] & 0xFFFF_FFFF, 27)
    XCTAssertEqual(lrs[0] & VirtualGIC.lrPending, VirtualGIC.lrPending)
    XCTAssertEqual(lrs[0] & VirtualGIC.lrGroup1, VirtualGIC.lrGroup1)
    XCTAssertEqual(lrs[0] >> 48 & 0xFF, 0xA0, "priority")
    XCTAssertEqual(lrs[0] & VirtualGIC.lrEOIMaintenance, VirtualGIC.lrEOIMaintenance,
                   "a level interrupt asks for a maintenance interrupt when it ends")
    XCTAssertEqual(lrs[1], 0, "nothing else")
    // The realm acknowledged it, then exited (an MMIO access in its handler).
    var exitLRs = lrs
    exitLRs[0] = lrs[0] & ~VirtualGIC.lrPending | VirtualGIC.lrActive
    gic.retire(0, exitLRs: exitLRs, count: 4)
    XCTAssertTrue(gic.isActive(0, 27))
    gic.setLine(0, 27, high: false)  // the handler moved the timer on
    lrs = gic.listRegisters(0, count: 4)
    XCTAssertEqual(lrs[0] & (VirtualGIC.lrActive | VirtualGIC.lrPending), VirtualGIC.lrActive,
                   "active, and carried again so that the realm can end it")
    // It ended it: the LR comes back invalid.
    exitLRs[0] = lrs[0] & 0x0FFF_FFFF_FFFF_FFFF
    gic.retire(0, exitLRs: exitLRs, count: 4)
    XCTAssertFalse(gic.isActive(0, 27))
    XCTAssertFalse(gic.hasWork(0))
    XCTAssertEqual(gic.listRegisters(0, count: 4)[0], 0)
  }

  func testDisabledOrUngroupedInterruptsStayOut() {
    var gic = linuxConfigured()
    gic.setLine(0, 30, high: true)  // physical timer PPI: not enabled
    XCTAssertTrue(gic.isPending(0, 30))
    XCTAssertEqual(gic.listRegisters(0, count: 4)[0], 0, "pending but not enabled")
    gic.redistributorWrite(0, 0x1_0100, size: 4, 1 << 30)
    XCTAssertEqual(gic.listRegisters(0, count: 4)[0] & 0xFFFF_FFFF, 30)
    gic.retire(0, exitLRs: .init(repeating: 0), count: 4)
    gic.distributorWrite(0x0000, size: 4, 0b1_0000)  // Group 1 off
    XCTAssertEqual(gic.listRegisters(0, count: 4)[0], 0, "its group is disabled")
  }

  func testSGIsAreEdgesConsumedOnce() {
    var gic = linuxConfigured(cpus: 2)
    // ICC_SGI1R_EL1: INTID 5 to the caller itself (TargetList bit 0).
    XCTAssertEqual(gic.generateSGI(from: 0, 5 << 24 | 1), 0b01)
    var lrs = gic.listRegisters(0, count: 4)
    XCTAssertEqual(lrs[0] & 0xFFFF_FFFF, 5)
    XCTAssertEqual(lrs[0] & VirtualGIC.lrEOIMaintenance, 0, "edges need no maintenance interrupt")
    XCTAssertEqual(gic.listRegisters(1, count: 4)[0], 0, "not for vCPU 1")
    // Taken and ended inside one run: the LR is invalid at exit, the edge is consumed.
    gic.retire(0, exitLRs: .init(repeating: 0), count: 4)
    XCTAssertFalse(gic.isPending(0, 5))
    // Still pending at exit (not yet taken): it stays pending.
    gic.generateSGI(from: 0, 5 << 24 | 1)
    lrs = gic.listRegisters(0, count: 4)
    gic.retire(0, exitLRs: lrs, count: 4)
    XCTAssertTrue(gic.isPending(0, 5))
    // IRM: every vCPU but the caller.
    XCTAssertEqual(gic.generateSGI(from: 0, 1 << 40 | 2 << 24), 0b10)
    XCTAssertTrue(gic.isPending(1, 2))
    XCTAssertFalse(gic.isPending(0, 2))
    // Another affinity or range names nobody here.
    XCTAssertEqual(gic.generateSGI(from: 0, 1 << 16 | 3 << 24 | 1), 0)
    XCTAssertEqual(gic.generateSGI(from: 0, 1 << 44 | 3 << 24 | 1), 0)
  }

  func testAnSGIThatArrivesWhileTheFirstIsHandledIsNotLost() {
    var gic = linuxConfigured(cpus: 2)
    gic.generateSGI(from: 1, 1 << 24 | 1)  // IPI 1 to vCPU 0
    let lrs = gic.listRegisters(0, count: 4)
    XCTAssertEqual(lrs[0] & 0xFFFF_FFFF, 1)
    // vCPU 1 sends it again while vCPU 0 runs its handler (between two of its exits).
    gic.generateSGI(from: 1, 1 << 24 | 1)
    // vCPU 0 acknowledged and ended the first: its LR comes back invalid.
    gic.retire(0, exitLRs: .init(repeating: 0), count: 4)
    XCTAssertTrue(gic.isPending(0, 1), "the second IPI is still pending")
    XCTAssertEqual(gic.listRegisters(0, count: 4)[0] & (0xFFFF_FFFF | VirtualGIC.lrPending), VirtualGIC.lrPending | 1)
    // And a second one arriving while the first is active goes in as pending + active.
    gic.retire(0, exitLRs: .init(repeating: 0), count: 4)
    gic.generateSGI(from: 1, 1 << 24 | 1)
    var taken = gic.listRegisters(0, count: 4)
    taken[0] = taken[0] & ~VirtualGIC.lrPending | VirtualGIC.lrActive
    gic.retire(0, exitLRs: taken, count: 4)
    gic.generateSGI(from: 1, 1 << 24 | 1)
    let both = gic.listRegisters(0, count: 4)[0]
    XCTAssertEqual(both & (VirtualGIC.lrPending | VirtualGIC.lrActive), VirtualGIC.lrPending | VirtualGIC.lrActive)
  }

  func testSPIRoutingAndPriorityOrder() {
    var gic = linuxConfigured(cpus: 2)
    gic.distributorWrite(0x6000 + 8 * 33, size: 8, 1)  // IROUTER33 -> vCPU 1
    XCTAssertEqual(gic.distributorRead(0x6000 + 8 * 33, size: 8), 1)
    gic.setLine(0, 33, high: true)
    XCTAssertEqual(gic.listRegisters(0, count: 4)[0], 0, "routed away from vCPU 0")
    XCTAssertEqual(gic.listRegisters(1, count: 4)[0] & 0xFFFF_FFFF, 33)
    gic.retire(1, exitLRs: .init(repeating: 0), count: 4)
    // Two pending on vCPU 1: the higher priority (lower value) goes first.
    gic.redistributorWrite(1, 0x1_0418, size: 1, 0x80)  // INTID 24... priority byte of INTID 24
    gic.redistributorWrite(1, 0x1_0400 + 27, size: 1, 0x40)
    gic.setLine(1, 27, high: true)
    let lrs = gic.listRegisters(1, count: 4)
    XCTAssertEqual(lrs[0] & 0xFFFF_FFFF, 27, "priority 0x40 before 0xA0")
    XCTAssertEqual(lrs[1] & 0xFFFF_FFFF, 33)
    // With one list register only the first fits.
    gic.retire(1, exitLRs: .init(repeating: 0), count: 4)
    gic.setLine(1, 27, high: true)
    let one = gic.listRegisters(1, count: 1)
    XCTAssertEqual(one[0] & 0xFFFF_FFFF, 27)
    XCTAssertEqual(one[1], 0)
  }

  func testEnableRegistersReadBack() {
    var gic = linuxConfigured()
    XCTAssertEqual(gic.redistributorRead(0, 0x1_0100, size: 4), UInt64(1 << 27 | 0xFFFF))
    gic.redistributorWrite(0, 0x1_0180, size: 4, 1 << 27)
    XCTAssertEqual(gic.redistributorRead(0, 0x1_0180, size: 4), 0xFFFF)
    XCTAssertEqual(gic.distributorRead(0x0104, size: 4), 1 << 1)
    XCTAssertEqual(gic.distributorRead(0x0100, size: 4), 0, "the private word is the redistributor's")
    // ICFGR: PPIs configurable, SGIs fixed edge.
    gic.redistributorWrite(0, 0x1_0C04, size: 4, 2 << 22)  // INTID 27 edge
    XCTAssertEqual(gic.redistributorRead(0, 0x1_0C04, size: 4), 2 << 22)
    XCTAssertEqual(gic.redistributorRead(0, 0x1_0C00, size: 4), 0xAAAA_AAAA)
    gic.setLine(0, 27, high: true)
    gic.setLine(0, 27, high: false)
    XCTAssertTrue(gic.isPending(0, 27), "an edge latches")
  }
}

final class VirtualPL011Tests: XCTestCase {
  func testIdentificationAndFlags() {
    var uart = VirtualPL011()
    let cellID = (0..<4).map { uart.read(0xFF0 + UInt64(4 * $0)) }
    XCTAssertEqual(cellID, [0x0D, 0xF0, 0x05, 0xB1], "PrimeCell ID 0xB105F00D, which the AMBA bus checks")
    XCTAssertEqual(uart.read(0xFE0) & 0xFF, 0x11, "PL011 part number")
    let fr = uart.read(0x018)
    XCTAssertEqual(fr & (1 << 7), 1 << 7, "TXFE")
    XCTAssertEqual(fr & (1 << 5), 0, "never TXFF")
    XCTAssertEqual(fr & (1 << 4), 1 << 4, "RXFE")
  }

  func testTransmitAndItsInterrupt() {
    var uart = VirtualPL011()
    XCTAssertFalse(uart.interruptLine, "masked")
    _ = uart.write(0x038, VirtualPL011.transmitInterrupt)
    XCTAssertTrue(uart.interruptLine, "the empty FIFO raises TX")
    _ = uart.write(0x044, VirtualPL011.transmitInterrupt)
    XCTAssertFalse(uart.interruptLine, "ICR clears it")
    XCTAssertEqual(uart.write(0x000, 0x41), 0x41, "DR: the byte goes out")
    XCTAssertTrue(uart.interruptLine, "and drains at once")
    XCTAssertEqual(uart.read(0x040), VirtualPL011.transmitInterrupt, "MIS")
  }

  func testReceiveFIFO() {
    var uart = VirtualPL011()
    _ = uart.write(0x038, VirtualPL011.receiveInterrupt | VirtualPL011.receiveTimeoutInterrupt)
    XCTAssertFalse(uart.interruptLine)
    XCTAssertTrue(uart.receive(0x6C))
    XCTAssertTrue(uart.receive(0x73))
    XCTAssertTrue(uart.interruptLine)
    XCTAssertEqual(uart.read(0x018) & (1 << 4), 0, "not empty")
    XCTAssertEqual(uart.read(0x000), 0x6C)
    XCTAssertEqual(uart.read(0x000), 0x73)
    XCTAssertFalse(uart.interruptLine, "empty again")
    XCTAssertEqual(uart.read(0x000), 0, "reading an empty FIFO")
    for i in 0..<32 { XCTAssertTrue(uart.receive(UInt8(i))) }
    XCTAssertFalse(uart.receive(99), "full: the host keeps the byte")
    XCTAssertEqual(uart.read(0x018) & (1 << 6), 1 << 6, "RXFF")
  }
}

final class RealmDevicesTests: XCTestCase {
  func testRoutingAndSizes() {
    var layout = RealmLayout()
    layout.cpuCount = 2
    var devices = RealmDevices(layout: layout)
    // A 32-bit read of the UART's FR, at the alias's stripped address.
    let esrRead32: UInt64 = 0x24 << 26 | 1 << 24 | 2 << 22
    XCTAssertEqual(devices.access(cpu: 0, MMIOAccess(address: 0x0900_0018, esr: esrRead32), value: 0), .value(0x90))
    // A byte write of DR transmits.
    let esrWrite8: UInt64 = 0x24 << 26 | 1 << 24 | 0 << 22 | 1 << 6
    XCTAssertEqual(devices.access(cpu: 0, MMIOAccess(address: 0x0900_0000, esr: esrWrite8), value: 0x141), .written(transmit: 0x41))
    // 64-bit GICR_TYPER of vCPU 1's frame.
    let esrRead64: UInt64 = 0x24 << 26 | 1 << 24 | 3 << 22
    XCTAssertEqual(devices.access(cpu: 0, MMIOAccess(address: 0x080C_0008, esr: esrRead64), value: 0), .value(1 << 32 | 1 << 8 | 1 << 4))
    XCTAssertEqual(devices.access(cpu: 0, MMIOAccess(address: 0x080E_0008, esr: esrRead64), value: 0), .noDevice, "no third frame")
    XCTAssertEqual(devices.access(cpu: 0, MMIOAccess(address: 0x0A00_0000, esr: esrRead32), value: 0), .noDevice)
    XCTAssertEqual(devices.access(cpu: 0, MMIOAccess(address: 0x0900_0000, esr: esrRead64), value: 0), .noDevice,
                   "the UART has no 64-bit registers")
  }

  func testUARTInterruptReachesTheGIC() {
    var devices = RealmDevices(layout: RealmLayout())
    devices.gic.distributorWrite(0x0000, size: 4, 0b1_0010)
    devices.gic.distributorWrite(0x0084, size: 4, 0xFFFF_FFFF)
    devices.gic.distributorWrite(0x0104, size: 4, 1 << 1)
    let esrWrite32: UInt64 = 0x24 << 26 | 1 << 24 | 2 << 22 | 1 << 6
    _ = devices.access(cpu: 0, MMIOAccess(address: 0x0900_0038, esr: esrWrite32), value: UInt64(VirtualPL011.receiveInterrupt))
    XCTAssertFalse(devices.gic.isPending(0, 33))
    XCTAssertTrue(devices.receive(0x0D))
    XCTAssertTrue(devices.gic.isPending(0, 33), "RX raised the SPI's line")
    XCTAssertEqual(devices.gic.listRegisters(0, count: 4)[0] & 0xFFFF_FFFF, 33)
    let esrRead32: UInt64 = 0x24 << 26 | 1 << 24 | 2 << 22
    XCTAssertEqual(devices.access(cpu: 0, MMIOAccess(address: 0x0900_0000, esr: esrRead32), value: 0), .value(0x0D))
    XCTAssertFalse(devices.gic.isPending(0, 33), "reading the byte lowered it")
  }

  func testLayout() {
    let layout = RealmLayout()
    XCTAssertEqual(layout.sharedBit, 1 << 39)
    XCTAssertEqual(layout.kernel % 0x20_0000, 0, "the Image at a 2 MiB boundary")
    XCTAssertGreaterThanOrEqual(layout.initrd - layout.kernel, 0x0324_0000, "past the Debian Image's image_size")
    XCTAssertLessThan(layout.deviceTree, layout.ramTop)
    XCTAssertTrue(layout.isRAM(layout.deviceTree))
    XCTAssertFalse(layout.isRAM(layout.uart))
  }
}

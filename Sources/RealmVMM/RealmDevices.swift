// The realm's address map as its Linux sees it (the device tree the host generates says
// the same), and the routing of an MMIO exit to the device model it reaches.
// Protected IPAs below `sharedBit` are RAM; devices sit at their usual low addresses,
// RIPAS EMPTY, so the guest reaches them through the unprotected alias (address |
// sharedBit) and every access is an emulatable data abort the host completes here.

public struct RealmLayout: Sendable {
  /// Stage-2 input size of the realm (RmiRealmParams.s2sz).
  public var ipaBits: UInt64 = 40
  public var ramBase: UInt64 = 0x4000_0000
  public var ramSize: UInt64 = 128 << 20
  public var distributor: UInt64 = 0x0800_0000
  public var redistributors: UInt64 = 0x080A_0000
  public var uart: UInt64 = 0x0900_0000
  /// The UART's SPI (INTID 32 + n).
  public var uartSPI: UInt64 = 1
  public var cpuCount = 1

  public init() {}

  public var sharedBit: UInt64 { 1 << (ipaBits - 1) }
  public var ramTop: UInt64 { ramBase + ramSize }
  /// The kernel Image at the start of RAM (2 MiB aligned, text_offset 0).
  public var kernel: UInt64 { ramBase }
  /// The initramfs 64 MiB in (past the Debian Image's 50 MiB image_size).
  public var initrd: UInt64 { ramBase + 0x0400_0000 }
  /// The device tree in the last 2 MiB of RAM.
  public var deviceTree: UInt64 { ramTop - 0x20_0000 }

  public func isRAM(_ ipa: UInt64) -> Bool { ipa >= ramBase && ipa < ramTop }
}

/// An emulatable data abort decoded from the exit's ESR (ISV set): its size and
/// direction; the write value is exit.gprs[0].
public struct MMIOAccess: Sendable, Equatable {
  public var address: UInt64
  public var size: Int
  public var isWrite: Bool

  public init(address: UInt64, esr: UInt64) {
    self.address = address
    size = 1 << Int((esr >> 22) & 0x3)
    isWrite = esr & (1 << 6) != 0
  }
}

public enum MMIOResult: Equatable, Sendable {
  /// A read: the value for enter.gprs[0].
  case value(UInt64)
  /// A write the device took (with a byte to send out, for the UART's DR).
  case written(transmit: UInt8?)
  /// No device here: the host injects an SEA.
  case noDevice
}

public struct RealmDevices: Sendable {
  public let layout: RealmLayout
  public var gic: VirtualGIC
  public var uart = VirtualPL011()

  public init(layout: RealmLayout) {
    self.layout = layout
    gic = VirtualGIC(cpuCount: layout.cpuCount)
  }

  /// Completes one MMIO access of vCPU `cpu` at IPA `access.address` (shared bit
  /// already stripped).
  public mutating func access(cpu: Int, _ access: MMIOAccess, value: UInt64) -> MMIOResult {
    let a = access.address
    if a >= layout.uart && a < layout.uart + VirtualPL011.size {
      guard access.size <= 4 else { return .noDevice }
      let offset = a - layout.uart
      if access.isWrite {
        let transmitted = uart.write(offset, UInt32(truncatingIfNeeded: value))
        updateUARTLine()
        return .written(transmit: transmitted)
      }
      let result = uart.read(offset & ~3)
      updateUARTLine()
      return .value(UInt64(result >> UInt32(8 * (offset & 3))) & mask(access.size))
    }
    if a >= layout.distributor && a < layout.distributor + 0x1_0000 {
      let offset = a - layout.distributor
      if access.isWrite {
        gic.distributorWrite(offset, size: access.size, value & mask(access.size))
        return .written(transmit: nil)
      }
      return .value(gic.distributorRead(offset, size: access.size) & mask(access.size))
    }
    let frames = VirtualGIC.redistributorStride * UInt64(layout.cpuCount)
    if a >= layout.redistributors && a < layout.redistributors + frames {
      let target = Int((a - layout.redistributors) / VirtualGIC.redistributorStride)
      let offset = (a - layout.redistributors) % VirtualGIC.redistributorStride
      if access.isWrite {
        gic.redistributorWrite(target, offset, size: access.size, value & mask(access.size))
        return .written(transmit: nil)
      }
      return .value(gic.redistributorRead(target, offset, size: access.size) & mask(access.size))
    }
    return .noDevice
  }

  /// The UART's interrupt line into the GIC.
  public mutating func updateUARTLine() {
    gic.setLine(0, 32 + Int(layout.uartSPI), high: uart.interruptLine)
  }

  /// Bytes from the outside world for the realm's console.
  public mutating func receive(_ byte: UInt8) -> Bool {
    let taken = uart.receive(byte)
    updateUARTLine()
    return taken
  }

  func mask(_ size: Int) -> UInt64 { size >= 8 ? ~0 : (1 << UInt64(8 * size)) - 1 }
}

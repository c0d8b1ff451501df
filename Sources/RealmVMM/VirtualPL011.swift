// The PL011 UART a realm's Linux drives (its console): registers emulated from the
// realm's MMIO exits. Transmission is immediate (the host forwards each byte to its own
// UART), so the transmit FIFO always reads empty; received bytes wait in a small FIFO.
// The interrupt line (an SPI) is high while a raised interrupt is unmasked (MIS != 0).
// Pure Swift: host-tested.

public struct VirtualPL011: Sendable {
  public static let size: UInt64 = 0x1000
  static let fifoDepth = 32

  // Interrupt bits (RIS/MIS/IMSC/ICR).
  public static let receiveInterrupt: UInt32 = 1 << 4
  public static let transmitInterrupt: UInt32 = 1 << 5
  public static let receiveTimeoutInterrupt: UInt32 = 1 << 6

  var control: UInt32 = 0x300      // CR: TXE, RXE
  var lineControl: UInt32 = 0
  var integerBaud: UInt32 = 0
  var fractionalBaud: UInt32 = 0
  var fifoLevels: UInt32 = 0x12
  var interruptMask: UInt32 = 0
  var dmaControl: UInt32 = 0
  /// The transmit interrupt: raised when the FIFO drains (at once, after every byte),
  /// cleared through ICR.
  var transmitRaised = true
  var receiveFIFO: InlineArray<32, UInt8> = .init(repeating: 0)
  var receiveHead = 0
  var receiveCount = 0

  public init() {}

  public var receiveEmpty: Bool { receiveCount == 0 }
  public var receiveFull: Bool { receiveCount == Self.fifoDepth }

  /// Raw interrupt status: receive and receive-timeout while bytes wait, transmit as raised.
  public var rawInterrupts: UInt32 {
    (receiveEmpty ? 0 : Self.receiveInterrupt | Self.receiveTimeoutInterrupt) | (transmitRaised ? Self.transmitInterrupt : 0)
  }

  public var interruptLine: Bool { rawInterrupts & interruptMask != 0 }

  /// A byte from the outside world for the realm. False if the FIFO is full (the host
  /// keeps it and offers it again later).
  public mutating func receive(_ byte: UInt8) -> Bool {
    guard !receiveFull else { return false }
    receiveFIFO[(receiveHead + receiveCount) % Self.fifoDepth] = byte
    receiveCount += 1
    return true
  }

  public mutating func read(_ offset: UInt64) -> UInt32 {
    switch offset {
    case 0x000:  // DR
      guard receiveCount > 0 else { return 0 }
      let byte = receiveFIFO[receiveHead]
      receiveHead = (receiveHead + 1) % Self.fifoDepth
      receiveCount -= 1
      return UInt32(byte)
    case 0x018:  // FR: TXFE always; RXFE/RXFF from the FIFO; never TXFF or BUSY
      return 1 << 7 | (receiveFull ? 1 << 6 : 0) | (receiveEmpty ? 1 << 4 : 0)
    case 0x024: return integerBaud
    case 0x028: return fractionalBaud
    case 0x02C: return lineControl
    case 0x030: return control
    case 0x034: return fifoLevels
    case 0x038: return interruptMask
    case 0x03C: return rawInterrupts
    case 0x040: return rawInterrupts & interruptMask
    case 0x048: return dmaControl
    // PeriphID (PL011 r1p5) and PrimeCell ID: the AMBA bus matches the device on them.
    case 0xFE0: return 0x11
    case 0xFE4: return 0x10
    case 0xFE8: return 0x34
    case 0xFEC: return 0x00
    case 0xFF0: return 0x0D
    case 0xFF4: return 0xF0
    case 0xFF8: return 0x05
    case 0xFFC: return 0xB1
    default: return 0
    }
  }

  /// A register write; returns the byte to transmit for a write to DR.
  public mutating func write(_ offset: UInt64, _ value: UInt32) -> UInt8? {
    switch offset {
    case 0x000:
      transmitRaised = true
      return UInt8(truncatingIfNeeded: value)
    case 0x024: integerBaud = value & 0xFFFF
    case 0x028: fractionalBaud = value & 0x3F
    case 0x02C: lineControl = value & 0xFF
    case 0x030: control = value & 0xFF87
    case 0x034: fifoLevels = value & 0x3F
    case 0x038: interruptMask = value & 0x7FF
    case 0x044:  // ICR: receive interrupts follow the FIFO, so only transmit clears
      if value & Self.transmitInterrupt != 0 { transmitRaised = false }
    case 0x048: dmaControl = value & 0x7
    default: break
    }
    return nil
  }
}

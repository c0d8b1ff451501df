// PL011 output for the NS test payload (MMU off: physical address).

import RMMCore
import _Volatile

struct Console: ByteSink {
  mutating func put(_ byte: UInt8) {
    if byte == 10 { emit(13) }
    emit(byte)
  }

  private func emit(_ byte: UInt8) {
    let flags = VolatileMappedRegister<UInt32>(unsafeBitPattern: Board.uartBase + 0x18)
    while flags.load() & (1 << 5) != 0 {}
    VolatileMappedRegister<UInt32>(unsafeBitPattern: Board.uartBase).store(UInt32(byte))
  }
}

nonisolated(unsafe) var console = Console()

extension Console {
  /// " name=value" in decimal, for the statistics lines.
  mutating func counter(_ label: StaticString, _ value: UInt64) {
    write(label)
    decimal(value)
  }

  /// A label and an address in hex.
  mutating func address(_ label: StaticString, _ value: UInt64) {
    write(label)
    hex(value)
  }
}

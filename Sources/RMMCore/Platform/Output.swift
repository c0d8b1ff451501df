// Heap-free text output for the console and the test payloads: anything that takes bytes.

public protocol ByteSink {
  mutating func put(_ byte: UInt8)
}

extension ByteSink {
  public mutating func write(_ text: StaticString) {
    text.withUTF8Buffer { bytes in
      for byte in bytes { put(byte) }
    }
  }

  /// `0x` followed by `digits` lower-case hex digits.
  public mutating func hex(_ value: UInt64, digits: Int = 16) {
    put(UInt8(ascii: "0"))
    put(UInt8(ascii: "x"))
    var shift = (digits - 1) * 4
    while shift >= 0 {
      let nibble = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
      put(nibble < 10 ? nibble + 48 : nibble + 87)
      shift -= 4
    }
  }

  /// Two lowercase hex digits, no prefix.
  public mutating func hexByte(_ byte: UInt8) {
    let high = byte >> 4, low = byte & 0xF
    put(high < 10 ? high + 48 : high + 87)
    put(low < 10 ? low + 48 : low + 87)
  }

  public mutating func decimal(_ value: UInt64) {
    var digits: InlineArray<20, UInt8> = .init(repeating: 0)
    var rest = value
    var count = 0
    repeat {
      digits[count] = UInt8(truncatingIfNeeded: rest % 10) + 48
      rest /= 10
      count += 1
    } while rest != 0
    while count > 0 {
      count -= 1
      put(digits[count])
    }
  }

  public mutating func signedDecimal(_ value: Int64) {
    if value < 0 {
      put(UInt8(ascii: "-"))
      decimal(UInt64(bitPattern: 0 &- value))
    } else {
      decimal(UInt64(value))
    }
  }

  public mutating func newline() { put(10) }
}

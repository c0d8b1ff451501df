// CBOR (RFC 8949) encoding for the attestation token: only what the token needs
// (unsigned and negative integers, byte and text strings, arrays, maps, tags), always in
// the deterministic form of §4.2.1 (shortest heads, definite lengths). The writer
// never allocates and never writes past its buffer: an overflow is remembered and the
// caller checks it once at the end.

/// A bounded output buffer: the one accessor through which the token encoder writes
/// bytes. Every write is checked against the capacity.
public struct BoundedByteWriter {
  @usableFromInline let base: UnsafeMutableRawPointer?
  public let capacity: Int
  public private(set) var count: Int = 0
  public private(set) var overflowed = false

  public init(_ buffer: UnsafeMutableRawBufferPointer) {
    base = buffer.baseAddress
    capacity = buffer.count
  }

  public mutating func append(_ byte: UInt8) {
    guard count < capacity, let base else { overflowed = true; return }
    base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
    count += 1
  }

  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    guard bytes.count <= capacity - count, let base, let source = bytes.baseAddress else { overflowed = true; return }
    (base + count).copyMemory(from: source, byteCount: bytes.count)
    count += bytes.count
  }

  public mutating func append(_ text: StaticString) {
    append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
  }

  /// The bytes written so far.
  public var written: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

public enum CBOR {
  /// Major types (RFC 8949 §3.1).
  public enum Major: UInt8, Sendable {
    case unsigned = 0, negative = 1, bytes = 2, text = 3, array = 4, map = 5, tag = 6
  }

  /// The length of the head that encodes `value` (1, 2, 3, 5 or 9 bytes).
  public static func headLength(_ value: UInt64) -> Int {
    switch value {
    case 0..<24: return 1
    case 24...0xFF: return 2
    case 0x100...0xFFFF: return 3
    case 0x1_0000...0xFFFF_FFFF: return 5
    default: return 9
    }
  }

  /// The shortest head for major type `major` and argument `value`.
  public static func head(_ major: Major, _ value: UInt64, into out: inout BoundedByteWriter) {
    let type = major.rawValue << 5
    switch headLength(value) {
    case 1:
      out.append(type | UInt8(value))
    case 2:
      out.append(type | 24)
      out.append(UInt8(value))
    case 3:
      out.append(type | 25)
      bigEndian(value, bytes: 2, into: &out)
    case 5:
      out.append(type | 26)
      bigEndian(value, bytes: 4, into: &out)
    default:
      out.append(type | 27)
      bigEndian(value, bytes: 8, into: &out)
    }
  }

  static func bigEndian(_ value: UInt64, bytes: Int, into out: inout BoundedByteWriter) {
    var shift = (bytes - 1) * 8
    while shift >= 0 {
      out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
      shift -= 8
    }
  }

  /// A signed integer: major 0 for >= 0, major 1 (-1 - n) for < 0.
  public static func integer(_ value: Int64, into out: inout BoundedByteWriter) {
    if value >= 0 {
      head(.unsigned, UInt64(value), into: &out)
    } else {
      head(.negative, UInt64(-(value + 1)), into: &out)
    }
  }

  public static func byteString(_ bytes: UnsafeRawBufferPointer, into out: inout BoundedByteWriter) {
    head(.bytes, UInt64(bytes.count), into: &out)
    out.append(bytes)
  }

  public static func textString(_ text: StaticString, into out: inout BoundedByteWriter) {
    head(.text, UInt64(text.utf8CodeUnitCount), into: &out)
    out.append(text)
  }

  /// Encoded size of a byte or text string of `length` bytes.
  public static func stringLength(_ length: Int) -> Int { headLength(UInt64(length)) + length }
}

// A strict CBOR (RFC 8949) decoder for attestation tokens. A token is hostile input
// until its signature checks, and the signature covers bytes, not values: so every
// value must have exactly one accepted encoding, or two verifiers could read
// different claims from the same signed bytes. Hence only definite lengths, only the
// shortest argument encodings, no duplicate map keys, no trailing bytes, a nesting
// limit, and no floating point (a token never carries one).
//
// Pure Swift with no imports, so it can be compiled into a fuzz target on its own. It
// must not trap on any input: lengths are checked against the bytes left before
// anything is allocated or read, and recursion is bounded by the nesting limit.

/// A decoded CBOR data item.
public indirect enum CBORValue: Hashable, Sendable {
  case unsigned(UInt64)
  /// A negative integer: the value is -1 - n, so CBOR's whole range fits.
  case negative(UInt64)
  case bytes([UInt8])
  case text(String)
  case array([CBORValue])
  /// Entries in encoded order (a token's claims are not required to be sorted).
  case map([CBORMapEntry])
  case tagged(UInt64, CBORValue)
  case bool(Bool)
  case null
  case undefined
}

public struct CBORMapEntry: Hashable, Sendable {
  public var key: CBORValue
  public var value: CBORValue
  public init(_ key: CBORValue, _ value: CBORValue) {
    self.key = key
    self.value = value
  }
}

public enum CBORError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The input ends inside an item (or a length claims more bytes than are left).
  case truncated(offset: Int)
  /// Bytes follow the top-level item.
  case trailingBytes(offset: Int)
  /// Indefinite-length item or a "break" stop code.
  case indefiniteLength(offset: Int)
  /// An argument encoded in more bytes than needed.
  case nonMinimalArgument(offset: Int)
  /// Additional information 28-30, which RFC 8949 leaves unassigned.
  case reservedAdditionalInformation(offset: Int)
  case unsupportedSimpleValue(offset: Int)
  case floatingPoint(offset: Int)
  case invalidUTF8(offset: Int)
  case duplicateMapKey(offset: Int)
  /// Map keys are restricted to integers, text and byte strings.
  case unsupportedMapKey(offset: Int)
  case nestingTooDeep(offset: Int, limit: Int)

  public var description: String {
    switch self {
    case .truncated(let o): return "truncated CBOR at offset \(o)"
    case .trailingBytes(let o): return "trailing bytes after the CBOR item, from offset \(o)"
    case .indefiniteLength(let o): return "indefinite-length item or break at offset \(o)"
    case .nonMinimalArgument(let o): return "over-long (non-minimal) encoding at offset \(o)"
    case .reservedAdditionalInformation(let o): return "reserved additional information at offset \(o)"
    case .unsupportedSimpleValue(let o): return "unsupported simple value at offset \(o)"
    case .floatingPoint(let o): return "floating-point value at offset \(o)"
    case .invalidUTF8(let o): return "text string with invalid UTF-8 at offset \(o)"
    case .duplicateMapKey(let o): return "duplicate map key at offset \(o)"
    case .unsupportedMapKey(let o): return "map key that is not an integer, text or byte string at offset \(o)"
    case .nestingTooDeep(let o, let limit): return "nesting deeper than \(limit) at offset \(o)"
    }
  }
}

public struct CBORDecoder {
  /// Deep enough for any CCA token (3 levels in the platform token's software components).
  public static let defaultMaxDepth = 16

  private let input: [UInt8]
  private let maxDepth: Int
  private var position = 0

  private init(_ input: [UInt8], maxDepth: Int) {
    self.input = input
    self.maxDepth = maxDepth
  }

  /// Decodes exactly one item that spans all of `bytes`.
  public static func decode(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(CBORError) -> CBORValue {
    var decoder = CBORDecoder(bytes, maxDepth: maxDepth)
    let value = try decoder.item(depth: 0)
    guard decoder.position == bytes.count else { throw .trailingBytes(offset: decoder.position) }
    return value
  }

  private var remaining: Int { input.count - position }

  private mutating func byte() throws(CBORError) -> UInt8 {
    guard position < input.count else { throw .truncated(offset: position) }
    defer { position += 1 }
    return input[position]
  }

  private mutating func take(_ count: UInt64) throws(CBORError) -> ArraySlice<UInt8> {
    guard count <= UInt64(remaining) else { throw .truncated(offset: position) }
    let start = position
    position += Int(count)
    return input[start..<position]
  }

  private mutating func bigEndian(_ size: Int) throws(CBORError) -> UInt64 {
    var value: UInt64 = 0
    for byte in try take(UInt64(size)) { value = value << 8 | UInt64(byte) }
    return value
  }

  /// The argument of a head whose major type is 0-6; rejects what has a shorter form.
  private mutating func argument(_ additionalInformation: UInt8, headOffset: Int) throws(CBORError) -> UInt64 {
    let value: UInt64
    let smallestForSize: UInt64
    switch additionalInformation {
    case 0..<24: return UInt64(additionalInformation)
    case 24: value = try bigEndian(1); smallestForSize = 24
    case 25: value = try bigEndian(2); smallestForSize = 0x100
    case 26: value = try bigEndian(4); smallestForSize = 0x1_0000
    case 27: value = try bigEndian(8); smallestForSize = 0x1_0000_0000
    case 31: throw .indefiniteLength(offset: headOffset)
    default: throw .reservedAdditionalInformation(offset: headOffset)
    }
    guard value >= smallestForSize else { throw .nonMinimalArgument(offset: headOffset) }
    return value
  }

  private mutating func item(depth: Int) throws(CBORError) -> CBORValue {
    let headOffset = position
    let initial = try byte()
    let major = initial >> 5
    let additionalInformation = initial & 0x1f
    if major == 7 { return try simpleValue(additionalInformation, headOffset: headOffset) }
    let argument = try argument(additionalInformation, headOffset: headOffset)
    switch major {
    case 0:
      return .unsigned(argument)
    case 1:
      return .negative(argument)
    case 2:
      return .bytes(Array(try take(argument)))
    case 3:
      let utf8 = try take(argument)
      guard let text = String(validating: utf8, as: UTF8.self) else { throw .invalidUTF8(offset: headOffset) }
      return .text(text)
    case 4:
      try enterContainer(depth: depth, headOffset: headOffset)
      // Every element takes at least one byte: bounds the allocation by the input size.
      guard argument <= UInt64(remaining) else { throw .truncated(offset: position) }
      var elements: [CBORValue] = []
      elements.reserveCapacity(Int(argument))
      for _ in 0..<argument { elements.append(try item(depth: depth + 1)) }
      return .array(elements)
    case 5:
      try enterContainer(depth: depth, headOffset: headOffset)
      guard argument <= UInt64(remaining / 2) else { throw .truncated(offset: position) }
      var entries: [CBORMapEntry] = []
      entries.reserveCapacity(Int(argument))
      // Keys are scalars in their only accepted encoding, so equal keys have equal bytes.
      var seenKeys = Set<ArraySlice<UInt8>>()
      for _ in 0..<argument {
        let keyOffset = position
        let key = try item(depth: depth + 1)
        switch key {
        case .unsigned, .negative, .text, .bytes: break
        default: throw .unsupportedMapKey(offset: keyOffset)
        }
        guard seenKeys.insert(input[keyOffset..<position]).inserted else {
          throw .duplicateMapKey(offset: keyOffset)
        }
        entries.append(CBORMapEntry(key, try item(depth: depth + 1)))
      }
      return .map(entries)
    default:  // 6
      try enterContainer(depth: depth, headOffset: headOffset)
      return .tagged(argument, try item(depth: depth + 1))
    }
  }

  private func enterContainer(depth: Int, headOffset: Int) throws(CBORError) {
    guard depth < maxDepth else { throw .nestingTooDeep(offset: headOffset, limit: maxDepth) }
  }

  private func simpleValue(_ additionalInformation: UInt8, headOffset: Int) throws(CBORError) -> CBORValue {
    switch additionalInformation {
    case 20: return .bool(false)
    case 21: return .bool(true)
    case 22: return .null
    case 23: return .undefined
    case 25, 26, 27: throw .floatingPoint(offset: headOffset)
    case 28, 29, 30: throw .reservedAdditionalInformation(offset: headOffset)
    case 31: throw .indefiniteLength(offset: headOffset)
    default: throw .unsupportedSimpleValue(offset: headOffset)  // 0-19 unassigned; 24 (one-byte) none assigned
    }
  }
}

// MARK: - Reading values

extension CBORValue {
  /// Builds an integer value (COSE labels are signed).
  public init(_ value: Int64) {
    self = value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
  }

  /// The integer, if it is one that fits an Int64.
  public var int64Value: Int64? {
    switch self {
    case .unsigned(let n) where n <= UInt64(Int64.max): return Int64(n)
    case .negative(let n) where n <= UInt64(Int64.max): return -1 - Int64(n)
    default: return nil
    }
  }

  public var unsignedValue: UInt64? {
    if case .unsigned(let n) = self { return n }
    return nil
  }

  public var bytesValue: [UInt8]? {
    if case .bytes(let b) = self { return b }
    return nil
  }

  public var textValue: String? {
    if case .text(let t) = self { return t }
    return nil
  }

  public var arrayValue: [CBORValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  public var mapEntries: [CBORMapEntry]? {
    if case .map(let m) = self { return m }
    return nil
  }

  /// The value under `key` in a map (keys are unique, the decoder saw to that).
  public subscript(key: CBORValue) -> CBORValue? {
    mapEntries?.first { $0.key == key }?.value
  }

  public subscript(key: UInt64) -> CBORValue? { self[.unsigned(key)] }
}

// MARK: - Diagnostic notation (RFC 8949 section 8), for printing

extension CBORValue: CustomStringConvertible {
  public var description: String {
    switch self {
    case .unsigned(let n): return String(n)
    case .negative(let n): return n == UInt64.max ? "-18446744073709551616" : "-\(n + 1)"
    case .bytes(let b): return "h'\(hexString(b))'"
    case .text(let t):
      return "\"" + t.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
    case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
    case .map(let m): return "{" + m.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    case .tagged(let tag, let v): return "\(tag)(\(v))"
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    case .undefined: return "undefined"
    }
  }
}

/// Lowercase hex, two digits a byte.
public func hexString<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  for byte in bytes {
    out.append(digits[Int(byte >> 4)])
    out.append(digits[Int(byte & 0xf)])
  }
  return String(decoding: out, as: UTF8.self)
}

extension String {
  // Foundation-free replacement, so this file stays importable on its own.
  fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for c in self { if c == target { out += replacement } else { out.append(c) } }
    return out
  }
}

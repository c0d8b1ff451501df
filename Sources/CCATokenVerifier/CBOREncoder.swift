// CBOR encoding, shortest form and definite lengths (the one form CBORDecoder accepts).
// The verifier needs it for COSE's Sig_structure and for the canonical form of the
// realm's COSE_Key; the tests and `cca-token sample` build tokens with it. Maps keep
// the order given: the caller decides it.

public enum CBOREncoder {
  public static func encode(_ value: CBORValue) -> [UInt8] {
    var out: [UInt8] = []
    append(value, to: &out)
    return out
  }

  private static func append(_ value: CBORValue, to out: inout [UInt8]) {
    switch value {
    case .unsigned(let n): head(major: 0, n, to: &out)
    case .negative(let n): head(major: 1, n, to: &out)
    case .bytes(let b):
      head(major: 2, UInt64(b.count), to: &out)
      out += b
    case .text(let t):
      head(major: 3, UInt64(t.utf8.count), to: &out)
      out += t.utf8
    case .array(let a):
      head(major: 4, UInt64(a.count), to: &out)
      for element in a { append(element, to: &out) }
    case .map(let m):
      head(major: 5, UInt64(m.count), to: &out)
      for entry in m {
        append(entry.key, to: &out)
        append(entry.value, to: &out)
      }
    case .tagged(let tag, let v):
      head(major: 6, tag, to: &out)
      append(v, to: &out)
    case .bool(let b): out.append(b ? 0xf5 : 0xf4)
    case .null: out.append(0xf6)
    case .undefined: out.append(0xf7)
    }
  }

  private static func head(major: UInt8, _ argument: UInt64, to out: inout [UInt8]) {
    let type = major << 5
    switch argument {
    case 0..<24: out.append(type | UInt8(argument))
    case 24...0xff: out += [type | 24, UInt8(argument)]
    case 0x100...0xffff: out.append(type | 25); appendBigEndian(argument, size: 2, to: &out)
    case 0x1_0000...0xffff_ffff: out.append(type | 26); appendBigEndian(argument, size: 4, to: &out)
    default: out.append(type | 27); appendBigEndian(argument, size: 8, to: &out)
    }
  }

  private static func appendBigEndian(_ value: UInt64, size: Int, to out: inout [UInt8]) {
    for i in stride(from: size - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
  }
}

// Tokens printed on the UART by the NS test payload, between other output:
//
//   CCA_TOKEN_BEGIN name=<label> length=<bytes>
//   CCA_TOKEN <up to 64 hex digits>
//   ...
//   CCA_TOKEN_END
//
// A marker is looked for anywhere in a line, since another CPU's output or a log
// prefix may precede it. A block that is cut short, overruns its length or has a
// garbled line is kept as broken rather than dropped, so that asking for it reports why.
import RMMABI

public struct CapturedToken: Sendable, Equatable {
  public let name: String
  /// 1-based line of the CCA_TOKEN_BEGIN.
  public let line: Int
  /// The token, or what is wrong with the block.
  public let contents: Result<[UInt8], ConsoleCaptureError>
}

public enum ConsoleCaptureError: Error, Equatable, Sendable, CustomStringConvertible {
  case noTokens
  case noTokenNamed(String, available: [String])
  case brokenBlock(name: String, line: Int, String)

  public var description: String {
    switch self {
    case .noTokens:
      return "no CCA_TOKEN_BEGIN block in the input"
    case .noTokenNamed(let name, let available):
      return "no token named \"\(name)\" (tokens: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
    case .brokenBlock(let name, let line, let why):
      return "token \"\(name)\" (line \(line)): \(why)"
    }
  }
}

public enum ConsoleCapture {
  public static let beginMarker = "CCA_TOKEN_BEGIN"
  public static let dataMarker = "CCA_TOKEN"
  public static let endMarker = "CCA_TOKEN_END"
  public static let hexDigitsPerLine = 64

  /// The binary form starts with the CBOR head of tag 399 (0xd9 0x01 0x8f).
  public static func isBinaryToken(_ bytes: [UInt8]) -> Bool {
    let tag = CCATokenCollectionHead.bytes
    return bytes.count >= tag.count && Array(bytes.prefix(tag.count)) == tag
  }

  /// Every block in the text, in order.
  public static func tokens(in text: String) -> [CapturedToken] {
    var found: [CapturedToken] = []
    var open: (name: String, line: Int, length: Int, bytes: [UInt8])? = nil
    var openProblem: String? = nil

    func close(_ problem: String?) {
      guard let block = open else { return }
      let contents: Result<[UInt8], ConsoleCaptureError> =
        problem.map { .failure(.brokenBlock(name: block.name, line: block.line, $0)) } ?? .success(block.bytes)
      found.append(CapturedToken(name: block.name, line: block.line, contents: contents))
      open = nil
      openProblem = nil
    }

    var lineNumber = 0
    // "\r\n" is a single Character in Swift, so it is a separator of its own.
    for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
      lineNumber += 1
      guard let markerRange = rawLine.firstRange(of: dataMarker) else { continue }
      let line = trimmed(rawLine[markerRange.lowerBound...])
      if line.hasPrefix(beginMarker) {
        if open != nil { close(openProblem ?? "no \(endMarker) before the next \(beginMarker)") }
        var name: String? = nil
        var length: Int? = nil
        for field in line.dropFirst(beginMarker.count).split(separator: " ") {
          if field.hasPrefix("name=") { name = String(field.dropFirst(5)) }
          if field.hasPrefix("length=") { length = Int(field.dropFirst(7)) }
        }
        open = (name ?? "", lineNumber, length ?? -1, [])
        if name == nil || name == "" { openProblem = "\(beginMarker) without a name" }
        if length == nil || length! < 0 { openProblem = openProblem ?? "\(beginMarker) without a valid length" }
      } else if line.hasPrefix(endMarker) {
        guard let block = open else { continue }  // a stray end: nothing to close
        if openProblem == nil && block.bytes.count != block.length {
          openProblem = "\(block.bytes.count) bytes, but \(beginMarker) said \(block.length)"
        }
        close(openProblem)
      } else if line == dataMarker || line.hasPrefix(dataMarker + " ") {
        guard open != nil, openProblem == nil else { continue }
        let hex = trimmed(line.dropFirst(dataMarker.count))
        guard hex.count <= hexDigitsPerLine, let bytes = hexBytes(String(hex)) else {
          openProblem = "line \(lineNumber) is not a valid data line (at most \(hexDigitsPerLine) hex digits)"
          continue
        }
        open!.bytes += bytes
        if open!.bytes.count > open!.length { openProblem = "more bytes than the \(open!.length) announced" }
      }
    }
    close(openProblem ?? "no \(endMarker) (capture cut short?)")
    return found
  }

  /// The token named `name`, or the first one if `name` is nil.
  public static func token(in text: String, named name: String?) throws(ConsoleCaptureError) -> [UInt8] {
    let all = tokens(in: text)
    guard !all.isEmpty else { throw .noTokens }
    let chosen: CapturedToken
    if let name {
      guard let match = all.first(where: { $0.name == name }) else {
        throw .noTokenNamed(name, available: all.map(\.name))
      }
      chosen = match
    } else {
      chosen = all[0]
    }
    return try chosen.contents.get()
  }

  /// The console form of a token, as the NS payload prints it.
  public static func format(_ bytes: [UInt8], name: String) -> String {
    var out = "\(beginMarker) name=\(name) length=\(bytes.count)\n"
    var start = 0
    while start < bytes.count {
      let end = min(start + hexDigitsPerLine / 2, bytes.count)
      out += "\(dataMarker) \(hexString(bytes[start..<end]))\n"
      start = end
    }
    return out + "\(endMarker)\n"
  }

  private static func trimmed(_ s: Substring) -> Substring {
    var s = s
    while let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
    while let first = s.first, first == " " || first == "\t" { s.removeFirst() }
    return s
  }
}

/// The first bytes of every CCA token: the CBOR head of tag 399.
enum CCATokenCollectionHead {
  static let bytes = CBOREncoder.encode(.tagged(CCAToken.collectionTag, .null)).dropLast(1).map { $0 }
}

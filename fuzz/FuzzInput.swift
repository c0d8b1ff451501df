// A cursor over the fuzzer's bytes: every read succeeds (zero once the input is used up),
// so any input decodes to some sequence of operations.
import RMMCore

struct FuzzInput {
  let data: UnsafeBufferPointer<UInt8>
  var position = 0

  init(_ data: UnsafePointer<UInt8>, _ size: Int) { self.data = UnsafeBufferPointer(start: data, count: size) }

  var isEmpty: Bool { position >= data.count }
  var remaining: Int { max(0, data.count - position) }

  mutating func byte() -> UInt8 {
    guard position < data.count else { return 0 }
    defer { position += 1 }
    return data[position]
  }

  mutating func u16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }

  mutating func u64() -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(byte()) << (8 * UInt64(i)) }
    return v
  }

  /// A page built from the rest of the input (little-endian words; zero past the end).
  mutating func page(maxBytes: Int = 4096) -> PageBuffer {
    var page = PageBuffer()
    let n = min(remaining, maxBytes)
    var word: UInt64 = 0
    for i in 0..<n {
      word |= UInt64(data[position + i]) << (8 * UInt64(i & 7))
      if i & 7 == 7 || i == n - 1 {
        page.store64(word, at: i & ~7)
        word = 0
      }
    }
    position += n
    return page
  }
}

/// Stops the fuzzer with a message (libFuzzer reports the deadly signal and saves the input).
/// Inlined, so that a check that holds costs a branch, not a call and two closures.
@inline(__always)
func invariant(_ condition: Bool, _ message: @autoclosure () -> String,
               file: StaticString = #file, line: UInt = #line) {
  if !condition { invariantViolated(message(), file: file, line: line) }
}

@inline(never)
func invariantViolated(_ message: String, file: StaticString, line: UInt) -> Never {
  fatalError("invariant violated: \(message)", file: file, line: line)
}

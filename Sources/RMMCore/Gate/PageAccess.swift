// How the core reads and writes the bytes of one 4 KiB page without knowing where
// the page lives. The firmware implements these over a transient per-CPU mapping
// (the gate); the host tests over plain arrays. Offsets are always checked by the
// implementation against the page size: a bad offset is a bug, never a stray access.

public protocol ReadablePage {
  /// Little-endian 64-bit load; `offset` must be 8-byte aligned and < 4096.
  func load64(at offset: Int) -> UInt64
  /// Copies `destination.count` bytes from `offset` (8-byte aligned words); the whole
  /// range must lie in the page.
  func loadWords(at offset: Int, into destination: UnsafeMutableRawBufferPointer)
  /// The index of the first of the page's 512 words, at or after `start`, with any bit
  /// of `mask` set; 512 if there is none (table scans: the next live RTT entry).
  func firstWord(from start: Int, withAnyOf mask: UInt64) -> Int
}

extension ReadablePage {
  /// Word by word through load64: for pages without a faster scan.
  public func firstWord(from start: Int, withAnyOf mask: UInt64) -> Int {
    precondition(start >= 0 && start <= 512)
    var index = start
    while index < 512 && load64(at: index * 8) & mask == 0 { index += 1 }
    return index
  }

  /// Word by word: for pages without a faster copy.
  public func loadWords(at offset: Int, into destination: UnsafeMutableRawBufferPointer) {
    precondition(offset >= 0 && offset & 7 == 0 && destination.count & 7 == 0 && destination.count <= 4096 - offset)
    for i in 0..<(destination.count / 8) { destination.storeBytes(of: load64(at: offset + 8 * i), toByteOffset: 8 * i, as: UInt64.self) }
  }
}

public protocol WritablePage: ReadablePage {
  mutating func store64(_ value: UInt64, at offset: Int)
  /// Copies `bytes` to `offset` (any alignment); the whole range must lie in the page.
  mutating func storeBytes(_ bytes: UnsafeRawBufferPointer, at offset: Int)
  /// Stores `first &+ i &* step` into each of the page's 512 words i (a new RTT
  /// unfolded from its parent entry: `step` 0 for 512 copies).
  mutating func fillWords(first: UInt64, step: UInt64)
}

extension WritablePage {
  /// Word by word through store64: for pages without a faster fill.
  public mutating func fillWords(first: UInt64, step: UInt64) {
    for i in 0..<512 { store64(first &+ UInt64(i) &* step, at: i * 8) }
  }
}

extension WritablePage {
  /// Byte by byte through aligned words: for pages without a faster copy.
  public mutating func storeBytes(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
    precondition(offset >= 0 && bytes.count <= 4096 - offset)
    for i in 0..<bytes.count {
      let position = offset + i
      let word = position & ~7
      let shift = UInt64((position & 7) * 8)
      let old = load64(at: word)
      store64((old & ~(0xFF << shift)) | UInt64(bytes[i]) << shift, at: word)
    }
  }
}

extension ReadablePage {
  @inlinable public func load32(at offset: Int) -> UInt32 {
    let word = load64(at: offset & ~7)
    return UInt32(truncatingIfNeeded: word >> UInt64((offset & 4) * 8))
  }
  @inlinable public func load8(at offset: Int) -> UInt8 {
    let word = load64(at: offset & ~7)
    return UInt8(truncatingIfNeeded: word >> UInt64((offset & 7) * 8))
  }
}

/// A 4 KiB page held in RMM memory: where NS structures land after the single copy.
public struct PageBuffer: WritablePage, BitwiseCopyable {
  public var words: InlineArray<512, UInt64>
  @inlinable public init() { words = .init(repeating: 0) }
  @inlinable public func load64(at offset: Int) -> UInt64 {
    withUnsafeBytes(of: words) { $0.load(fromByteOffset: offset, as: UInt64.self) }
  }
  @inlinable public mutating func store64(_ value: UInt64, at offset: Int) {
    words[offset >> 3] = value
  }
}

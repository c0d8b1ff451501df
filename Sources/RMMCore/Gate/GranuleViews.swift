// What the gate hands to the code that needs a granule: a view bounded to the byte
// range the intent declared, `[offset, offset + length)`. A read intent yields a
// `GranuleReader` (no way to store through it; the firmware also maps the granule
// read-only at stage 1), a write intent a `GranuleWriter`. Every access is checked
// against the bounds; one outside them is not made (a load returns 0, a store is
// dropped) and is marked, and the gate reports the whole access as a refused one
// (alert, violation count, audit record) when the body returns. An out-of-bounds
// access is an RMM bug: the point is that it can neither reach memory the intent did
// not declare nor go unnoticed.

/// Where a view reports an access outside its bounds: a flag on the gate's stack for
/// the duration of one access.
public typealias ViewFault = UnsafeMutablePointer<Bool>

public struct GranuleReader: ReadablePage {
  @usableFromInline let base: UnsafeRawPointer
  @usableFromInline let lower: Int
  @usableFromInline let upper: Int
  @usableFromInline let fault: ViewFault

  @inlinable init(base: UnsafeRawPointer, lower: Int, upper: Int, fault: ViewFault) {
    self.base = base
    self.lower = lower
    self.upper = upper
    self.fault = fault
  }

  /// Whether `[offset, offset + count)` lies in the view (and `offset` is 8-byte aligned
  /// when `aligned`); marks the fault otherwise.
  @inlinable @inline(__always) func admits(_ offset: Int, _ count: Int, aligned: Bool = true) -> Bool {
    let inside = offset >= lower && count >= 0 && offset <= upper &- count && (!aligned || offset & 7 == 0)
    if !inside { fault.pointee = true }
    return inside
  }

  /// The declared range.
  @inlinable public var bounds: Range<Int> { lower..<upper }

  @inlinable @inline(__always) public func load64(at offset: Int) -> UInt64 {
    guard admits(offset, 8) else { return 0 }
    return base.load(fromByteOffset: offset, as: UInt64.self)
  }

  // Bulk copies stay out of line: inlined at the end of a throwing gate call, the
  // copy becomes a tail call that leaves x21 stale (scripts/check-image).
  @inline(never) public func loadWords(at offset: Int, into destination: UnsafeMutableRawBufferPointer) {
    guard admits(offset, destination.count), let target = destination.baseAddress, destination.count > 0 else { return }
    target.copyMemory(from: base + offset, byteCount: destination.count)
  }

  /// The first word from `start` (a word index) with any bit of `mask`, four at a time
  /// while four are left (an RTT scan is mostly empty entries). The whole scan must be
  /// inside the view.
  @inlinable public func firstWord(from start: Int, withAnyOf mask: UInt64) -> Int {
    guard start >= 0, start <= 512, admits(start &* 8, (512 &- start) &* 8) else { return 512 }
    let words = base.assumingMemoryBound(to: UInt64.self)
    var index = start
    while index + 4 <= 512 {
      if (words[index] | words[index + 1] | words[index + 2] | words[index + 3]) & mask != 0 { break }
      index += 4
    }
    while index < 512 && words[index] & mask == 0 { index += 1 }
    return index
  }
}

public struct GranuleWriter: WritablePage {
  @usableFromInline var reader: GranuleReader

  @inlinable init(base: UnsafeMutableRawPointer, lower: Int, upper: Int, fault: ViewFault) {
    reader = GranuleReader(base: base, lower: lower, upper: upper, fault: fault)
  }

  @inlinable var mutableBase: UnsafeMutableRawPointer { UnsafeMutableRawPointer(mutating: reader.base) }
  @inlinable public var bounds: Range<Int> { reader.bounds }

  @inlinable @inline(__always) public func load64(at offset: Int) -> UInt64 { reader.load64(at: offset) }
  @inline(__always) public func loadWords(at offset: Int, into destination: UnsafeMutableRawBufferPointer) {
    reader.loadWords(at: offset, into: destination)
  }
  @inlinable public func firstWord(from start: Int, withAnyOf mask: UInt64) -> Int {
    reader.firstWord(from: start, withAnyOf: mask)
  }

  @inlinable @inline(__always) public mutating func store64(_ value: UInt64, at offset: Int) {
    guard reader.admits(offset, 8) else { return }
    mutableBase.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
  }

  @inline(never) public mutating func storeBytes(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
    guard reader.admits(offset, bytes.count, aligned: false), let source = bytes.baseAddress, bytes.count > 0 else { return }
    (mutableBase + offset).copyMemory(from: source, byteCount: bytes.count)
  }

  /// `count` words starting at `offset`, all set to `value` (a new table's entries).
  @inline(never) public mutating func fill(_ value: UInt64, words count: Int, at offset: Int) {
    guard reader.admits(offset, count &* 8) else { return }
    (mutableBase + offset).assumingMemoryBound(to: UInt64.self).update(repeating: value, count: count)
  }

  /// A raw pointer to `[offset, offset + count)`, for the world switch's assembly (the
  /// REC's saved registers, its FP/SIMD area). nil, and a fault, outside the view.
  @inlinable public func pointer(at offset: Int, count: Int) -> UnsafeMutableRawPointer? {
    guard reader.admits(offset, count) else { return nil }
    return mutableBase + offset
  }
}

/// The running REC's granule for the whole REC_ENTER (`Gate.writingRunningREC`): a
/// writable view of the whole page. Its bounds are constants, so the checks on the
/// fixed offsets of the REC's fields (nearly every access) fold away at compile time;
/// a computed offset is still checked like any view's.
public struct RECView: WritablePage {
  @usableFromInline let base: UnsafeMutableRawPointer
  @usableFromInline let fault: ViewFault

  @inlinable init(base: UnsafeMutableRawPointer, fault: ViewFault) {
    self.base = base
    self.fault = fault
  }

  @inlinable @inline(__always) func admits(_ offset: Int, _ count: Int, aligned: Bool = true) -> Bool {
    let inside = offset >= 0 && count >= 0 && offset <= 4096 &- count && (!aligned || offset & 7 == 0)
    if !inside { fault.pointee = true }
    return inside
  }

  @inlinable @inline(__always) public func load64(at offset: Int) -> UInt64 {
    guard admits(offset, 8) else { return 0 }
    return UnsafeRawPointer(base).load(fromByteOffset: offset, as: UInt64.self)
  }

  @inlinable @inline(__always) public mutating func store64(_ value: UInt64, at offset: Int) {
    guard admits(offset, 8) else { return }
    base.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
  }

  // Bulk copies out of line, as GranuleReader's (scripts/check-image).
  @inline(never) public func loadWords(at offset: Int, into destination: UnsafeMutableRawBufferPointer) {
    guard admits(offset, destination.count), let target = destination.baseAddress, destination.count > 0 else { return }
    target.copyMemory(from: base + offset, byteCount: destination.count)
  }

  @inline(never) public mutating func storeBytes(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
    guard admits(offset, bytes.count, aligned: false), let source = bytes.baseAddress, bytes.count > 0 else { return }
    (base + offset).copyMemory(from: source, byteCount: bytes.count)
  }

  /// A raw pointer to `[offset, offset + count)`, for the world switch's assembly.
  @inlinable @inline(__always) public func pointer(at offset: Int, count: Int) -> UnsafeMutableRawPointer? {
    guard admits(offset, count) else { return nil }
    return base + offset
  }
}

/// The entries `Gate.mapEntry` mapped: the declared `[lower, upper)` of a table (the
/// entry a walk stopped at, and for a command that then looks for the next live entry,
/// the rest of the table), read and written by word index inside those bounds only.
public struct MappedEntry {
  @usableFromInline let page: UnsafeMutableRawPointer
  /// The first entry and one past the last of the declared range.
  @usableFromInline let first: Int, end: Int
  @inlinable init(page: UnsafeMutableRawPointer, first: Int, end: Int) {
    self.page = page
    self.first = first
    self.end = end
  }
  @inlinable @inline(__always) func word(_ index: Int) -> UnsafeMutablePointer<UInt64> {
    precondition(index >= first && index < end)
    return page.assumingMemoryBound(to: UInt64.self) + index
  }
  /// The first entry (the one the walk stopped at).
  @inlinable @inline(__always) public func load() -> UInt64 { word(first).pointee }
  @inlinable @inline(__always) public func store(_ value: UInt64) { word(first).pointee = value }
  /// Whether the range reaches the end of the table from entry `index` on.
  @inlinable public func coversRest(from index: Int) -> Bool { index >= first && end == 512 }
  /// The index of the first entry from `start` (inside the range, up to its end) with
  /// any bit of `mask`, or the end.
  @inlinable public func firstWord(from start: Int, withAnyOf mask: UInt64) -> Int {
    var index = start
    while index < end && word(index).pointee & mask == 0 { index += 1 }
    return index
  }
}

/// The whole granule `Gate.mapPage` mapped for a whole-page write intent: every aligned
/// word of the page is inside it (checked), nothing beyond.
public struct MappedPage: WritablePage {
  @usableFromInline let base: UnsafeMutableRawPointer
  @inlinable init(base: UnsafeMutableRawPointer) { self.base = base }
  @inlinable @inline(__always) public func load64(at offset: Int) -> UInt64 {
    precondition(offset >= 0 && offset <= 4088 && offset & 7 == 0)
    return base.load(fromByteOffset: offset, as: UInt64.self)
  }
  @inlinable @inline(__always) public mutating func store64(_ value: UInt64, at offset: Int) {
    precondition(offset >= 0 && offset <= 4088 && offset & 7 == 0)
    base.storeBytes(of: value, toByteOffset: offset, as: UInt64.self)
  }
}

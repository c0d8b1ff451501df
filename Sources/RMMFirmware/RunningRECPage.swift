// The running REC's granule, as RMMCore sees it during REC_ENTER (RealmExecution.RECPage).
//
// The same mapping as the gate's SlotPage, with the word accessors inlined: the
// REC exit paths the RMM finishes itself (RSI_VERSION, ...) read and write a few
// saved registers each, and an out-of-line call per register costs more than the
// access. Offsets are still checked; with the constant offsets of those paths the
// checks fold away.

import RMMCore

struct RunningRECPage: WritablePage {
  var slot: SlotPage
  var base: UInt { slot.base }

  init(_ slot: SlotPage) { self.slot = slot }

  @inline(__always) func load64(at offset: Int) -> UInt64 {
    precondition(offset >= 0 && offset < 4096 && offset & 7 == 0)
    return UnsafePointer<UInt64>(bitPattern: slot.base &+ UInt(offset)).unsafelyUnwrapped.pointee
  }

  @inline(__always) mutating func store64(_ value: UInt64, at offset: Int) {
    precondition(offset >= 0 && offset < 4096 && offset & 7 == 0)
    UnsafeMutablePointer<UInt64>(bitPattern: slot.base &+ UInt(offset)).unsafelyUnwrapped.pointee = value
  }

  func loadWords(at offset: Int, into destination: UnsafeMutableRawBufferPointer) {
    slot.loadWords(at: offset, into: destination)
  }

  func firstWord(from start: Int, withAnyOf mask: UInt64) -> Int { slot.firstWord(from: start, withAnyOf: mask) }

  mutating func storeBytes(_ bytes: UnsafeRawBufferPointer, at offset: Int) { slot.storeBytes(bytes, at: offset) }
}

// PL011 console, taken from the boot manifest and mapped as Device memory in the
// high window. Output is dropped until the console is mapped.

import AArch64Shim
import RMMCore
import _Volatile

nonisolated(unsafe) var consoleMapped = false

struct Console: ByteSink {
  private static let dataRegister = UInt(RMM_CONSOLE_VA)
  private static let flagRegister = UInt(RMM_CONSOLE_VA) + 0x18
  private static let transmitFIFOFull: UInt32 = 1 << 5

  mutating func put(_ byte: UInt8) {
    guard consoleMapped else { return }
    if byte == 10 { emit(13) }
    emit(byte)
  }

  private func emit(_ byte: UInt8) {
    let flags = VolatileMappedRegister<UInt32>(unsafeBitPattern: Self.flagRegister)
    while flags.load() & Self.transmitFIFOFull != 0 {}
    VolatileMappedRegister<UInt32>(unsafeBitPattern: Self.dataRegister).store(UInt32(byte))
  }
}

/// Maps the console's MMIO pages (Device-nGnRE, Realm PAS as TF-RMM does) into the
/// fixed part of the high window.
func mapConsole(_ console: ConsoleInfo) {
  let l3 = rmm_l3_fixed()!
  let firstIndex = Int((UInt64(RMM_CONSOLE_VA) >> 12) & 511)
  for page in 0..<Int(console.mapPages) {
    l3[firstIndex + page] = (console.base + UInt64(page) * granuleSize) | s1_device_rw_attributes()
  }
  dsb_ishst()
  isb()
  consoleMapped = true
}

// Board constants of the NS test payload. They must agree with the platform
// description in scripts/lib/board-*.sh and TF-A's memory map for that board.

#if BOARD_FVP
enum Board {
  static let uartBase: UInt = 0x1C09_0000
  static let rmmBase: UInt64 = 0xFC00_0000  // TODO(issue 7): from the FVP platform description
  static let sharedPage: UInt64 = 0xFC00_0000
  static let testGranules: UInt64 = 0x8800_0000
  static let securePA: UInt64 = 0x0400_0000
  static let mmioPA: UInt64 = 0x1C09_0000
  static let beyondDRAM: UInt64 = 0x10_0000_0000
  static let runConfigurationPA: UInt64 = 0x87FF_F000
  static let topOfRAM: UInt64 = 0xFFFF_F000
  static let gicRedistributor: UInt64 = 0x2F10_0000
  static let gicDistributor: UInt64 = 0x2F00_0000
}
#else
/// QEMU virt with TF-A PLAT=qemu (plat/qemu/qemu/include/platform_def.h) and `-m 1G`.
enum Board {
  static let uartBase: UInt = 0x0900_0000
  /// The RMM's own carve-out: Realm PAS, never delegable or undelegable.
  static let rmmBase: UInt64 = 0x4010_0000
  static let sharedPage: UInt64 = 0x418F_F000
  /// NS DRAM the tests delegate (below 1 GiB of RAM, above BL33's image).
  static let testGranules: UInt64 = 0x7000_0000
  /// Secure SRAM (EL3 images), MMIO (UART0), and a PA past the manifest's DRAM bank.
  static let securePA: UInt64 = 0x0E00_1000
  static let mmioPA: UInt64 = 0x0900_0000
  static let beyondDRAM: UInt64 = 0x1_0000_0000
  /// Written by QEMU's loader before reset: what this run should do (RunConfiguration).
  static let runConfigurationPA: UInt64 = 0x5FFF_F000
  /// Inside the manifest's DRAM bank but past the RAM QEMU has (-m 1G): no memory there.
  static let topOfRAM: UInt64 = 0xFFFF_F000
  /// GICv3 redistributor of CPU 0.
  static let gicRedistributor: UInt64 = 0x080A_0000
  static let gicDistributor: UInt64 = 0x0800_0000
}
#endif

// Boot manifest v0.3 as TF-A 2.12.1 writes it into the EL3<->RMM shared page
// (include/services/rmm_core_manifest.h). Byte offsets; all fields little endian.

public enum BootManifestLayout {
  public static let version = 0            // u32: bits [30:16] major, [15:0] minor
  public static let platformData = 8       // u64: PA or 0
  public static let dramBankCount = 16     // u64
  public static let dramBanksPointer = 24  // u64: PA of the bank array
  public static let dramChecksum = 32      // u64
  public static let consoleCount = 40      // u64
  public static let consolesPointer = 48   // u64: PA of the console array
  public static let consoleChecksum = 56   // u64
  public static let headerSize = 64

  /// One DRAM bank: {base, size}.
  public static let bankSize = 16
  /// One console: {base, map_pages, name[8], clk_in_hz, baud_rate, flags}.
  public static let consoleSize = 48
  public static let consoleBase = 0
  public static let consoleMapPages = 8
  public static let consoleName = 16
  public static let consoleClock = 24
  public static let consoleBaud = 32
  public static let consoleFlags = 40
}

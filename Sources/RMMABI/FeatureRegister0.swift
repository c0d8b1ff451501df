// RMI feature register 0 (RMI_FEATURES index 0), RMM specification 1.0-rel0.

public struct RMIFeatureRegister0: Equatable, Sendable {
  public var rawValue: UInt64
  @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

  @inlinable func field(_ shift: UInt64, _ width: UInt64) -> UInt64 {
    (rawValue >> shift) & ((1 << width) - 1)
  }
  @inlinable mutating func setField(_ shift: UInt64, _ width: UInt64, _ value: UInt64) {
    let mask: UInt64 = ((1 << width) - 1) << shift
    rawValue = (rawValue & ~mask) | ((value << shift) & mask)
  }

  /// Maximum IPA width (bits) a realm may request.
  public var s2sz: UInt64 { get { field(0, 8) } set { setField(0, 8, newValue) } }
  public var lpa2: Bool { get { field(8, 1) != 0 } set { setField(8, 1, newValue ? 1 : 0) } }
  public var sveEnabled: Bool { get { field(9, 1) != 0 } set { setField(9, 1, newValue ? 1 : 0) } }
  public var sveVectorLength: UInt64 { get { field(10, 4) } set { setField(10, 4, newValue) } }
  public var numberOfBreakpoints: UInt64 { get { field(14, 6) } set { setField(14, 6, newValue) } }
  public var numberOfWatchpoints: UInt64 { get { field(20, 6) } set { setField(20, 6, newValue) } }
  public var pmuEnabled: Bool { get { field(26, 1) != 0 } set { setField(26, 1, newValue ? 1 : 0) } }
  public var pmuCounters: UInt64 { get { field(27, 5) } set { setField(27, 5, newValue) } }
  public var sha256: Bool { get { field(32, 1) != 0 } set { setField(32, 1, newValue ? 1 : 0) } }
  public var sha512: Bool { get { field(33, 1) != 0 } set { setField(33, 1, newValue ? 1 : 0) } }
  public var gicv3ListRegisters: UInt64 { get { field(34, 4) } set { setField(34, 4, newValue) } }
  public var maxRECsOrder: UInt64 { get { field(38, 4) } set { setField(38, 4, newValue) } }
}

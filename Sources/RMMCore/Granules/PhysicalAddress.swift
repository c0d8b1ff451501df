// Granule-sized physical memory arithmetic.

public let granuleShift: UInt64 = 12
public let granuleSize: UInt64 = 1 << granuleShift

@inlinable public func isGranuleAligned(_ address: UInt64) -> Bool {
  address & (granuleSize - 1) == 0
}

/// A half-open range of physical memory `[base, base + size)`.
public struct PhysicalRange: Equatable, Sendable {
  public var base: UInt64
  public var size: UInt64
  @inlinable public init(base: UInt64, size: UInt64) { self.base = base; self.size = size }
  /// First byte past the end; only meaningful when `base + size` does not overflow.
  @inlinable public var end: UInt64 { base &+ size }
  @inlinable public func contains(_ address: UInt64) -> Bool {
    address >= base && address - base < size
  }
  @inlinable public func overlaps(_ other: PhysicalRange) -> Bool {
    base < other.end && other.base < end
  }
}

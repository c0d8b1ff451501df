// Stage-2 translation table entries (4 KiB granule, levels -1 to 3) in the realm's
// descriptor format (S2TTEFormat: without LPA2, or with it for realms created with
// flags.lpa2), and the realm-specific states the RMM keeps in them.
//
// Valid descriptors are what the hardware walks: protected ASSIGNED RAM entries map
// Realm PAS memory (Normal WB with HCR_EL2.FWB), unprotected ASSIGNED_NS entries map
// the host's descriptor into the NS PAS (bit 55). Invalid descriptors (bit 0 clear)
// carry the RMM's state in software bits:
//   [4:2] kind: 0 unassigned, 1 assigned (EMPTY or DESTROYED, not mapped)
//   [6:5] RIPAS: 0 EMPTY, 1 RAM, 2 DESTROYED
//   output address of an assigned entry where the format keeps it ([47:12], or with
//   LPA2 [49:12] and [9:8] for OA[51:50]: a 52-bit PA fits in an invalid entry too)
// An all-zero entry is UNASSIGNED EMPTY in the protected half and UNASSIGNED_NS in the
// unprotected half, so a zero (freshly delegated) granule is a valid empty table.

import RMMABI

public enum RTTLevel {
  public static let page = 3
  /// The lowest level there is: -1, which only LPA2 realms (VTCR_EL2.DS = 1) start at.
  public static let lowest = -1
  /// log2 of the bytes an entry at `level` maps: 48, 39, 30, 21, 12 for levels -1 to 3.
  @inlinable public static func shift(_ level: Int) -> UInt64 { UInt64(bitPattern: Int64(39 - 9 * level)) }
  @inlinable public static func size(_ level: Int) -> UInt64 { 1 << shift(level) }
  @inlinable public static func isAligned(_ address: UInt64, to level: Int) -> Bool {
    address & (size(level) - 1) == 0
  }
  /// Block (or page) mappings exist at levels 1-3 with a 4 KiB granule. (With DS = 1
  /// the architecture also has 512 GiB blocks at level 0; this RMM maps none, for
  /// LPA2 realms as for the others, so that fold and unfold are the same for both.)
  @inlinable public static func allowsBlock(_ level: Int) -> Bool { level >= 1 && level <= 3 }
}

/// The descriptor format of a realm's stage-2 tables, fixed at REALM_CREATE (flags.lpa2).
///
/// `standard` (VTCR_EL2.DS = 0): OA[47:12] in [47:12]; SH[1:0] in [9:8] of block and
/// page entries. `lpa2` (FEAT_LPA2, VTCR_EL2.DS = 1): OA[49:12] in [49:12] and
/// OA[51:50] in [9:8], in table entries as in block and page entries. No SH field: the
/// shareability of Normal cacheable memory comes from VTCR_EL2.SH0 (Inner Shareable),
/// and Device and Normal Non-cacheable memory is Outer Shareable whatever the
/// descriptor says (Arm ARM R_HTSGQ, R_YHCTP), which is what A5.5.11 asks of
/// unprotected mappings.
///
/// The format is masks, not a case to branch on: every walk, encode and decode of
/// every realm goes through it, and a realm without LPA2 pays nothing for the other.
public struct S2TTEFormat: Equatable, Sendable {
  /// 0b11 with LPA2 (OA[51:50] and OA[49:48] exist), 0 without.
  @usableFromInline let wideAddress: UInt64

  @inlinable init(wideAddress: UInt64) { self.wideAddress = wideAddress }
  public static let standard = S2TTEFormat(wideAddress: 0)
  public static let lpa2 = S2TTEFormat(wideAddress: 0b11)
  @inlinable public static func of(lpa2: Bool) -> S2TTEFormat { S2TTEFormat(wideAddress: lpa2 ? 0b11 : 0) }

  /// OA[49:12] (LPA2) or OA[47:12], where the descriptor holds them.
  @inlinable var lowAddressMask: UInt64 { 0x0000_FFFF_FFFF_F000 | wideAddress << 48 }
  /// The bits of a descriptor that hold the output address.
  @inlinable public var addressField: UInt64 { lowAddressMask | wideAddress << 8 }
  /// The SH field of block and page descriptors: [9:8] without LPA2, none with it.
  @inlinable var shareabilityField: UInt64 { ~(wideAddress << 8) & 0b11 << 8 }
  /// Output addresses this format can hold: up to 2^52, or 2^48.
  @inlinable public var addressLimit: UInt64 { 1 << (48 + 4 * (wideAddress & 1)) }
  /// `pa` (granule aligned, below `addressLimit`) in the descriptor's address bits.
  @inlinable public func packAddress(_ pa: UInt64) -> UInt64 {
    (pa & lowAddressMask) | ((pa >> 50) & wideAddress) << 8
  }
  /// The output address held in `raw`.
  @inlinable public func address(of raw: UInt64) -> UInt64 {
    (raw & lowAddressMask) | ((raw >> 8) & wideAddress) << 50
  }
}

/// The state of one entry, as the RMM sees it.
public enum S2TTE: Equatable, Sendable {
  case unassigned(RIPAS)
  case assignedEmpty(pa: UInt64)
  case assignedRAM(pa: UInt64)
  case assignedDestroyed(pa: UInt64)
  case unassignedNS
  /// Unprotected mapping: `descriptor` holds the host's fields (PA, MemAttr, S2AP), in
  /// the realm's format (RMI_RTT_MAP_UNPROTECTED and RMI_RTT_READ_ENTRY use it).
  case assignedNS(descriptor: UInt64)
  case table(pa: UInt64)

  static let valid: UInt64 = 1 << 0
  static let tableOrPage: UInt64 = 1 << 1
  static let kindShift: UInt64 = 2
  static let kindMask: UInt64 = 0x7 << 2
  static let kindAssigned: UInt64 = 1 << 2
  static let ripasShift: UInt64 = 5
  static let ripasMask: UInt64 = 0x3 << 5
  /// MemAttr[3:0] = 0b0110: Normal Write-Back (FWB), S2AP RW, AF; inner shareable
  /// (in the descriptor without LPA2, from VTCR_EL2.SH0 with it).
  static let protectedAttributes: UInt64 = (0b0110 << 2) | (0b11 << 6) | (1 << 10)
  static let accessFlag: UInt64 = 1 << 10
  static let innerShareable: UInt64 = 0b11 << 8
  static let outerShareable: UInt64 = 0b10 << 8
  /// A5.5.11: an unprotected mapping is Inner Shareable if it is cacheable (FWB
  /// MemAttr[4:2] 0b110/0b111: Normal Write-Back) and Outer Shareable if not (Device,
  /// Normal Non-cacheable).
  static func shareability(_ descriptor: UInt64) -> UInt64 {
    (descriptor >> 2) & 0b111 >= 0b110 ? innerShareable : outerShareable
  }
  static let nonSecure: UInt64 = 1 << 55
  /// XN[1:0] (bits 54:53) = 0b10: the realm may never execute from unprotected memory.
  static let executeNever: UInt64 = 0b10 << 53
  /// The fields of an unprotected descriptor the host chooses (RMI_RTT_MAP_UNPROTECTED):
  /// MemAttr[4:2] (FWB encoding) and S2AP[7:6]; the PA is checked separately.
  public static let hostAttributeMask: UInt64 = (0x7 << 2) | (0x3 << 6)

  /// Decodes `raw` found at `level` of a table in `format`; `protected` says which IPA
  /// half the entry maps. nil: an encoding the RMM never writes (memory corruption).
  public static func decode(_ raw: UInt64, level: Int, protected: Bool, format: S2TTEFormat) -> S2TTE? {
    if raw & valid != 0 {
      let isTable = raw & tableOrPage != 0 && level < 3
      if isTable { return .table(pa: format.address(of: raw)) }
      let isPageOrBlock = level == 3 ? raw & tableOrPage != 0 : raw & tableOrPage == 0
      guard isPageOrBlock, RTTLevel.allowsBlock(level) else { return nil }
      if protected { return .assignedRAM(pa: format.address(of: raw)) }
      return .assignedNS(descriptor: raw & (format.addressField | hostAttributeMask))
    }
    if !protected { return raw == 0 ? .unassignedNS : nil }
    let ripasBits = (raw & ripasMask) >> ripasShift
    switch (raw & kindMask, ripasBits) {
    case (0, 0): return raw == 0 ? .unassigned(.empty) : nil
    case (0, 1): return raw & format.addressField == 0 ? .unassigned(.ram) : nil
    case (0, 2): return raw & format.addressField == 0 ? .unassigned(.destroyed) : nil
    case (kindAssigned, 0): return .assignedEmpty(pa: format.address(of: raw))
    case (kindAssigned, 2): return .assignedDestroyed(pa: format.address(of: raw))
    default: return nil
    }
  }

  /// The raw descriptor for this state at `level` of a table in `format`.
  public func encode(level: Int, format: S2TTEFormat) -> UInt64 {
    let leafType: UInt64 = level == 3 ? 0b11 : 0b01
    switch self {
    case .unassigned(let ripas): return ripas.rawValue << Self.ripasShift
    case .assignedEmpty(let pa): return format.packAddress(pa) | Self.kindAssigned
    case .assignedDestroyed(let pa):
      return format.packAddress(pa) | Self.kindAssigned | (RIPAS.destroyed.rawValue << Self.ripasShift)
    case .assignedRAM(let pa):
      return format.packAddress(pa) | Self.protectedAttributes | (Self.innerShareable & format.shareabilityField) | leafType
    case .unassignedNS: return 0
    case .assignedNS(let descriptor):
      // A5.5.11: SH from MemAttr without LPA2; with it, bits [9:8] are OA[51:50] and
      // VTCR_EL2.DS = 1 gives the same shareability (S2TTEFormat.lpa2).
      let shareability = Self.shareability(descriptor) & format.shareabilityField
      return (descriptor & (format.addressField | Self.hostAttributeMask)) | Self.accessFlag | shareability
        | Self.nonSecure | Self.executeNever | leafType
    case .table(let pa): return format.packAddress(pa) | 0b11
    }
  }

  /// Live entries (anything assigned, and tables) end the search for the next
  /// live entry that DATA_DESTROY, RTT_DESTROY and RTT_UNMAP_UNPROTECTED report as `top`.
  public var isLive: Bool {
    switch self {
    case .unassigned, .unassignedNS: return false
    default: return true
    }
  }

  /// Tables and unprotected entries have no RIPAS of their own.
  var isTableOrUnprotected: Bool {
    switch self {
    case .table, .unassignedNS, .assignedNS: return true
    default: return false
    }
  }

  var isTableOrUnassigned: Bool {
    switch self {
    case .table, .unassigned, .unassignedNS: return true
    default: return false
    }
  }

  /// `isLive` straight from the raw descriptor, for scans over whole tables.
  @inline(__always)
  public static func isLive(raw: UInt64, protected: Bool) -> Bool {
    raw & valid != 0 || (protected && raw & kindMask == kindAssigned)
  }

  /// The bits any live entry has set (`isLive` as one mask test): the valid bit, and in
  /// the protected half the assigned kind, which unassigned encodings (RIPAS bits only)
  /// never have and invalid assigned ones always do.
  @inline(__always)
  public static func liveMask(protected: Bool) -> UInt64 { protected ? valid | kindAssigned : valid }

  /// Entries that hold a reference on their table: tables and protected assigned
  /// entries. A table with references cannot be destroyed; unprotected (NS) mappings
  /// hold none, so a table of NS mappings can be destroyed (with TLB invalidation).
  public var holdsReference: Bool {
    switch self {
    case .table, .assignedEmpty, .assignedRAM, .assignedDestroyed: return true
    case .unassigned, .unassignedNS, .assignedNS: return false
    }
  }

  /// Whether the hardware can translate through this entry (TLB maintenance is due
  /// when such an entry is removed or changed).
  public var isValidDescriptor: Bool {
    switch self {
    case .assignedRAM, .assignedNS, .table: return true
    default: return false
    }
  }

  /// RIPAS as RMI_RTT_READ_ENTRY and RSI_IPA_STATE_GET report it.
  public var ripas: RIPAS {
    switch self {
    case .unassigned(let r): return r
    case .assignedEmpty: return .empty
    case .assignedRAM: return .ram
    case .assignedDestroyed: return .destroyed
    case .unassignedNS, .assignedNS, .table: return .empty
    }
  }

  public var hostState: RTTEntryState {
    switch self {
    case .unassigned, .unassignedNS: return .unassigned
    case .table: return .table
    default: return .assigned
    }
  }
}

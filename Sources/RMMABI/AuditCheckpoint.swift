// The audit interface's checkpoint operations and the checkpoint's encoding
// (docs/AUDIT.md, "Hash chain and checkpoint"). Constants only.

public enum AuditCheckpointABI {
  /// AuditInterface x1 = 2: snapshot every CPU's chain with the host's x2 (nonce) and
  /// start signing it. x0 = 0, or RMI_ERROR_INPUT with x1 = `AuditCheckpointABI.Failure`.
  public static let start: UInt64 = 2
  /// AuditInterface x1 = 3, x3 = PA of an NS page: one bounded signing step; x1 = 0
  /// while more steps are needed, else the COSE_Sign1's length (it is in the page).
  public static let `continue`: UInt64 = 3

  /// x1 of a failed checkpoint operation (x0 = RMI_ERROR_INPUT).
  public enum Failure: UInt64, Sendable {
    case attestationUnavailable = 1
    case notStarted = 2
    case badPage = 3
    case signingFailed = 4
  }

  /// The payload is #6.tag({ nonceKey: uint, cpusKey: [* entry] }), entry =
  /// [cpu, sequence, head (bstr 32), violations, lost, written]. The tag ("RMAC") is
  /// in CBOR's first-come-first-served range and is not a CCA token's.
  public static let tag: UInt64 = 0x524D_4143
  public static let nonceKey: UInt64 = 1
  public static let cpusKey: UInt64 = 2
  public static let entryFields = 6
  /// The protected header's content type (COSE label 3). A realm token's protected
  /// header has only `alg`.
  public static let contentTypeLabel: Int64 = 3
  public static let contentType: StaticString = "application/vnd.swift-rmm.audit-checkpoint+cbor"

  /// Domain tags of the hash chain, 16 ASCII bytes each.
  public static let genesisTag: StaticString = "RMM-AUDIT-GEN-v1"
  public static let recordTag: StaticString = "RMM-AUDIT-REC-v1"
  public static let lostTag: StaticString = "RMM-AUDIT-LOST-1"
}

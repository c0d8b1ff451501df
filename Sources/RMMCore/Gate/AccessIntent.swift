// The declared purpose of every access the RMM makes to memory by physical address.
// The gate checks each intent against the access policy before mapping anything.

/// Which command or call needs the access, and for what.
public enum AccessPurpose: UInt8, Sendable {
  /// RMI_GRANULE_DELEGATE: zero the newly delegated granule (DELEGATED is always zero).
  case delegateScrub = 1
  /// RMI_GRANULE_UNDELEGATE: scrub before the granule returns to the Normal world.
  case undelegateScrub = 2
  /// RMI_REALM_CREATE / RMI_REC_CREATE: read the host's parameter page, once.
  case realmParams = 3
  case recParams = 4
  /// The RTT code reads and writes table entries.
  case rttRead = 5
  case rttWrite = 6
  /// The realm code reads and writes its realm descriptor.
  case rdRead = 7
  case rdWrite = 8
  /// The REC code reads and writes its REC.
  case recRead = 9
  case recWrite = 10
  /// Objects are scrubbed when they return to DELEGATED (RTT, RD, REC, REC aux, DATA).
  case destroyScrub = 11
  /// RMI_DATA_CREATE: read the host's source page, once.
  case dataSource = 12
  /// RMI_DATA_CREATE: write the copied (and measured) contents into the new DATA granule.
  case dataCreateWrite = 13
  /// RMI_REC_ENTER: read the `enter` half of the host's run page, once.
  case recRunEnter = 14
  /// RMI_REC_ENTER: write the `exit` half of the host's run page.
  case recRunExit = 15
  /// The world switch saves and restores the REC's context in its granule.
  case recRun = 16
  /// RSI_REALM_CONFIG: write RsiRealmConfig into the realm's page.
  case rsiRealmConfig = 17
  /// RSI_HOST_CALL: read the RsiHostCall structure (imm and arguments) from realm memory.
  case rsiHostCallRead = 18
  /// RMI_REC_ENTER after a host call: write the host's results back into RsiHostCall.
  case rsiHostCallWrite = 19
  /// The audit interface: write drained audit records into the host's page.
  case auditDrain = 20
  /// Formerly the REC's FP/SIMD registers in its first aux granule; they are in the REC
  /// granule now (`recRun`), and the policy permits this purpose nothing.
  case recFPState = 21
  /// RSI_ATTEST_TOKEN_*: the REC's attestation workspace (token being built, signature
  /// state) in its aux granules.
  case attestationWorkspace = 22
  /// RSI_ATTEST_TOKEN_CONTINUE: write the token into the granule the realm named.
  case attestationTokenWrite = 23
  /// The EL3 exchange area of the shared page (RMM_ATTEST_*): read what EL3 returned
  /// (the RAK, the platform token); write the challenge, and scrub the area after use.
  case el3ExchangeRead = 24
  case el3ExchangeWrite = 25
  /// RMI_REC_ENTER of a realm with SVE: load the REC's Z, P and FFR registers from its
  /// SVE aux granules before it runs, and save them there when it stops.
  case recSVEState = 26
}

public enum AccessDirection: UInt8, Sendable {
  case read = 0
  case write = 1
}

/// Which physical address space the access is made in.
public enum AddressSpace: UInt8, Sendable {
  case nonSecure = 0
  case realm = 1
}

/// What one access is for, and exactly which bytes of the granule it covers:
/// `[offset, offset + length)`. The gate bounds the view it hands out to that range.
public struct AccessIntent: Equatable, Sendable {
  public var purpose: AccessPurpose
  public var direction: AccessDirection
  /// The granule state the caller expects (and holds the lock for).
  public var expectedState: GranuleState
  public var offset: UInt16
  public var length: UInt16

  @inlinable public init(_ purpose: AccessPurpose, _ direction: AccessDirection, expecting state: GranuleState,
                         offset: UInt16 = 0, length: UInt16 = 4096) {
    self.purpose = purpose
    self.direction = direction
    self.expectedState = state
    self.offset = offset
    self.length = length
  }

  /// The declared byte range, as view bounds.
  @inlinable public var lower: Int { Int(offset) }
  @inlinable public var upper: Int { Int(offset) &+ Int(length) }

  @inlinable public var addressSpace: AddressSpace {
    expectedState == .undelegated ? .nonSecure : .realm
  }
}

#if !hasFeature(Embedded)
// All cases, for the host tests (CaseIterable allocates, so the firmware does without).
extension AccessPurpose: CaseIterable {}
#endif

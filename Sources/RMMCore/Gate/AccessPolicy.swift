// The one declarative table of what the RMM may do to memory it reaches by physical
// address. The gate consults it for every access, before anything is mapped.
// One row per purpose: its direction, the granule states it may touch, and how many
// bytes at most. Anything not in the table is refused.

public enum AccessPolicy {
  /// A set of granule states, as a bitmask over `GranuleState.rawValue`.
  public struct States: Sendable {
    public var mask: UInt16
    public init(_ a: GranuleState, _ b: GranuleState? = nil, _ c: GranuleState? = nil,
                _ d: GranuleState? = nil, _ e: GranuleState? = nil) {
      mask = 1 << a.rawValue
      if let b { mask |= 1 << b.rawValue }
      if let c { mask |= 1 << c.rawValue }
      if let d { mask |= 1 << d.rawValue }
      if let e { mask |= 1 << e.rawValue }
    }
    init(mask: UInt16) { self.mask = mask }
    @inlinable public func contains(_ state: GranuleState) -> Bool { mask & (1 << state.rawValue) != 0 }
    static let none = States(mask: 0)
  }

  public struct Rule: Sendable {
    public var direction: AccessDirection
    public var states: States
    public var maximumLength: UInt16
  }

  /// Indexed by `AccessPurpose.rawValue` (row 0: no purpose, nothing allowed).
  public static let rules: InlineArray<27, Rule> = [
    Rule(direction: .read, states: .none, maximumLength: 0),
    // Granule delegation: zero on the way in and on the way out.
    /* delegateScrub   */ Rule(direction: .write, states: States(.delegated), maximumLength: 4096),
    /* undelegateScrub */ Rule(direction: .write, states: States(.delegated), maximumLength: 4096),  // unused: DELEGATED is zero
    // Host pages: read once, as command parameters or as the DATA_CREATE source.
    /* realmParams     */ Rule(direction: .read, states: States(.undelegated), maximumLength: 4096),
    /* recParams       */ Rule(direction: .read, states: States(.undelegated), maximumLength: 4096),
    // Each object type is touched only by the code that owns it.
    /* rttRead         */ Rule(direction: .read, states: States(.rtt), maximumLength: 4096),
    /* rttWrite        */ Rule(direction: .write, states: States(.rtt), maximumLength: 4096),
    /* rdRead          */ Rule(direction: .read, states: States(.rd), maximumLength: 4096),
    /* rdWrite         */ Rule(direction: .write, states: States(.rd), maximumLength: 4096),
    /* recRead         */ Rule(direction: .read, states: States(.rec), maximumLength: 4096),
    /* recWrite        */ Rule(direction: .write, states: States(.rec), maximumLength: 4096),
    // Objects are scrubbed by their owner as they return to DELEGATED.
    /* destroyScrub    */ Rule(direction: .write, states: States(.rd, .rec, .recAux, .rtt, .data), maximumLength: 4096),
    /* dataSource      */ Rule(direction: .read, states: States(.undelegated), maximumLength: 4096),
    // Realm DATA is written by DATA_CREATE only, and never read by any RMI command.
    /* dataCreateWrite */ Rule(direction: .write, states: States(.data), maximumLength: 4096),
    // The REC run page: the `enter` half is read once, only the `exit` half is written.
    /* recRunEnter     */ Rule(direction: .read, states: States(.undelegated), maximumLength: 0x400),
    /* recRunExit      */ Rule(direction: .write, states: States(.undelegated), maximumLength: 0x800),
    /* recRun          */ Rule(direction: .write, states: States(.rec), maximumLength: 4096),
    // Realm DATA touched for the realm's own RSI calls, and nothing more than the spec's
    // structures: RsiRealmConfig (written), RsiHostCall (read, then written back).
    /* rsiRealmConfig  */ Rule(direction: .write, states: States(.data), maximumLength: 4096),
    /* rsiHostCallRead */ Rule(direction: .read, states: States(.data), maximumLength: 0x100),
    /* rsiHostCallWrite*/ Rule(direction: .write, states: States(.data), maximumLength: 0x100),
    // The audit log leaves the RMM only into a host page, and holds no realm contents.
    /* auditDrain      */ Rule(direction: .write, states: States(.undelegated), maximumLength: 4096),
    // Unused: the REC's FP/SIMD registers live in the REC granule (recRun) since the
    // Linux realm's round; the purpose stays so that older logs still decode.
    /* recFPState      */ Rule(direction: .write, states: .none, maximumLength: 0),
    // Attestation: the REC's own workspace, and the token only into the realm's RAM
    // the realm named, never more than the rest of that granule.
    /* attestationWorkspace  */ Rule(direction: .write, states: States(.recAux), maximumLength: 4096),
    /* attestationTokenWrite */ Rule(direction: .write, states: States(.data), maximumLength: 4096),
    // The EL3 shared page is no granule of DRAM (state nil): `permitsSharedPage`.
    /* el3ExchangeRead  */ Rule(direction: .read, states: .none, maximumLength: 0x800),
    /* el3ExchangeWrite */ Rule(direction: .write, states: .none, maximumLength: 0x800),
    // The SVE registers of a REC: its own aux granules, and nothing else (the realm's
    // FP/SIMD registers and ZCR_EL1 are in the REC granule, under recRun).
    /* recSVEState      */ Rule(direction: .write, states: States(.recAux), maximumLength: 4096),
  ]

  /// Whether `intent` may touch a granule whose current state is `actualState`: the
  /// purpose allows the direction and the state, the length is within the purpose's
  /// maximum, and the declared range lies in the granule.
  @inline(__always)
  public static func permits(_ intent: AccessIntent, actualState: GranuleState?) -> Bool {
    guard let actualState, actualState == intent.expectedState else { return false }
    let rule = rules[Int(intent.purpose.rawValue)]
    return rule.direction == intent.direction && rule.states.contains(actualState)
      && intent.length <= rule.maximumLength && intent.upper <= 4096
  }

  /// Whether `intent` may touch the shared page's exchange area (the upper half of the
  /// page: the lower half is the boot manifest, read once at cold boot).
  @inline(__always)
  public static func permitsSharedPage(_ intent: AccessIntent) -> Bool {
    let rule = rules[Int(intent.purpose.rawValue)]
    // The two exchange purposes reach the shared page, and nothing else.
    let isSharedPurpose = intent.purpose == .el3ExchangeRead || intent.purpose == .el3ExchangeWrite
    return isSharedPurpose && rule.direction == intent.direction && intent.length <= rule.maximumLength
      && intent.lower >= 0x800 && intent.upper <= 4096
  }
}

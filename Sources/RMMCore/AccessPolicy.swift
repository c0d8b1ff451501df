// The one declarative table of what the RMM may do to memory it reaches by physical
// address. The gate consults it for every access, before anything is mapped.

public enum AccessPolicy {
  /// A rule: this purpose may make this kind of access to a granule in this state.
  public struct Rule: Sendable {
    public var purpose: AccessPurpose
    public var direction: AccessDirection
    public var state: GranuleState
    public var maximumLength: UInt16

    func allows(_ intent: AccessIntent, _ actualState: GranuleState) -> Bool {
      purpose == intent.purpose && direction == intent.direction && state == actualState
        && intent.length <= maximumLength
    }
  }

  /// Every allowed intent. Anything not listed is refused.
  public static let rules: InlineArray<16, Rule> = [
    // Granule delegation: zero on the way in and on the way out.
    Rule(purpose: .delegateScrub, direction: .write, state: .delegated, maximumLength: 4096),
    Rule(purpose: .undelegateScrub, direction: .write, state: .delegated, maximumLength: 4096),
    // Host pages: read once, as command parameters or as the DATA_CREATE source.
    Rule(purpose: .realmParams, direction: .read, state: .undelegated, maximumLength: 4096),
    Rule(purpose: .recParams, direction: .read, state: .undelegated, maximumLength: 4096),
    Rule(purpose: .dataSource, direction: .read, state: .undelegated, maximumLength: 4096),
    // Each object type is touched only by the code that owns it.
    Rule(purpose: .rttRead, direction: .read, state: .rtt, maximumLength: 4096),
    Rule(purpose: .rttWrite, direction: .write, state: .rtt, maximumLength: 4096),
    Rule(purpose: .rdRead, direction: .read, state: .rd, maximumLength: 4096),
    Rule(purpose: .rdWrite, direction: .write, state: .rd, maximumLength: 4096),
    Rule(purpose: .recRead, direction: .read, state: .rec, maximumLength: 4096),
    Rule(purpose: .recWrite, direction: .write, state: .rec, maximumLength: 4096),
    // Realm DATA is written by DATA_CREATE only (never read by any RMI command).
    Rule(purpose: .dataCreateWrite, direction: .write, state: .data, maximumLength: 4096),
    // Objects are scrubbed by their owner as they return to DELEGATED.
    Rule(purpose: .destroyScrub, direction: .write, state: .rd, maximumLength: 4096),
    Rule(purpose: .destroyScrub, direction: .write, state: .rec, maximumLength: 4096),
    Rule(purpose: .destroyScrub, direction: .write, state: .recAux, maximumLength: 4096),
    Rule(purpose: .destroyScrub, direction: .write, state: .data, maximumLength: 4096),
  ]

  /// RTT granules are scrubbed by the RTT code as they are destroyed or folded.
  static let rttScrub = Rule(purpose: .destroyScrub, direction: .write, state: .rtt, maximumLength: 4096)

  /// Whether `intent` may touch a granule whose current state is `actualState`.
  public static func permits(_ intent: AccessIntent, actualState: GranuleState?) -> Bool {
    guard let actualState, actualState == intent.expectedState else { return false }
    for i in rules.indices where rules[i].allows(intent, actualState) { return true }
    return rttScrub.allows(intent, actualState)
  }
}

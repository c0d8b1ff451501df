// The one declarative table of what the RMM may do to memory it reaches by physical
// address. The gate consults it for every access, before anything is mapped.

public enum AccessPolicy {
  /// A rule: this purpose may make this kind of access to a granule in this state.
  public struct Rule: Sendable {
    public var purpose: AccessPurpose
    public var direction: AccessDirection
    public var state: GranuleState
    public var maximumLength: UInt16
  }

  /// Every allowed intent. Anything not listed is refused.
  public static let rules: InlineArray<2, Rule> = [
    Rule(purpose: .delegateScrub, direction: .write, state: .delegated, maximumLength: 4096),
    Rule(purpose: .undelegateScrub, direction: .write, state: .delegated, maximumLength: 4096),
  ]

  /// Whether `intent` may touch a granule whose current state is `actualState`.
  public static func permits(_ intent: AccessIntent, actualState: GranuleState?) -> Bool {
    guard let actualState, actualState == intent.expectedState else { return false }
    for i in rules.indices {
      let rule = rules[i]
      if rule.purpose == intent.purpose && rule.direction == intent.direction && rule.state == actualState
        && intent.length <= rule.maximumLength {
        return true
      }
    }
    return false
  }
}

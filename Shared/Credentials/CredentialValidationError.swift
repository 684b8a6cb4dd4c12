/// Why a set of provider credentials was refused.
///
/// `field` names where the problem is (`credentials.account_sid`, or `credentials` for the map as a
/// whole, `credentials.provider` for the provider name) so a service can return it as an
/// INVALID_ARGUMENT detail. `problem` describes the rule that failed and never contains a
/// submitted value: credentials must not leak through error messages.
public struct CredentialValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the offending field, e.g. `credentials.auth_token`.
    public var field: String
    /// What is wrong, phrased as the rule the value breaks.
    public var problem: String

    /// Creates an error for `field` (a dotted path) with a human-readable `problem`.
    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    /// `field: problem`, safe to log and to return to callers.
    public var description: String { "\(field): \(problem)" }
}

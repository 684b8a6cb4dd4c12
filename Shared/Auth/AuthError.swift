/// Why a bearer token was refused. Descriptions are safe to return to callers:
/// they never echo the token.
public struct AuthError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        case missingToken
        case malformed
        case unsupportedAlgorithm(String)
        case badSignature
        case expired
        case notYetValid
        case invalidClaim(String)
    }

    public var reason: Reason

    public init(_ reason: Reason) { self.reason = reason }

    public var description: String {
        switch reason {
        case .missingToken: "missing bearer token in 'authorization' metadata"
        case .malformed: "bearer token is not a well-formed JWT"
        case .unsupportedAlgorithm(let alg): "token algorithm '\(alg)' is not accepted"
        case .badSignature: "token signature does not verify"
        case .expired: "token has expired"
        case .notYetValid: "token is not valid yet"
        case .invalidClaim(let detail): "token claims are invalid: \(detail)"
        }
    }
}

public import Foundation

/// The JWT claims the platform issues.
public struct Claims: Codable, Sendable, Hashable {
    public var sub: String
    public var role: String
    public var org: String?
    public var scope: String?
    /// Expiry, seconds since the Unix epoch.
    public var exp: Int64
    public var iat: Int64?
    public var nbf: Int64?

    public init(sub: String, role: String, org: String? = nil, scope: String? = nil, exp: Int64, iat: Int64? = nil, nbf: Int64? = nil) {
        self.sub = sub
        self.role = role
        self.org = org
        self.scope = scope
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
    }

    /// Claims for `principal`, valid for `lifetime` from `now`.
    public init(principal: Principal, issuedAt now: Date = Date(), lifetime: TimeInterval) {
        self.init(
            sub: principal.subject,
            role: principal.role.rawValue,
            org: principal.organizationID,
            scope: principal.scopes.isEmpty ? nil : principal.scopes.sorted().joined(separator: " "),
            exp: Int64(now.timeIntervalSince1970 + lifetime),
            iat: Int64(now.timeIntervalSince1970)
        )
    }
}

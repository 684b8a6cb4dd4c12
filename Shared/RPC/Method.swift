public import Auth

/// Who may call a method.
public enum AccessPolicy: Sendable, Hashable {
    /// No token needed (health, method listing).
    case anonymous
    /// A verified token whose role is in `roles`, or a `service` caller holding
    /// one of `scopes`. Platform admins are always admitted.
    case authenticated(roles: Set<Role>, scopes: Set<String> = [])

    /// Any verified caller.
    public static let anyAuthenticated = AccessPolicy.authenticated(roles: Set(Role.allCases))

    /// Whether `principal` may call; nil principal only passes `.anonymous`.
    public func admits(_ principal: Principal?) -> Bool {
        switch self {
        case .anonymous:
            return true
        case .authenticated(let roles, let scopes):
            guard let principal else { return false }
            if principal.role == .platformAdmin || roles.contains(principal.role) { return true }
            return principal.role == .service && !principal.scopes.isDisjoint(with: scopes)
        }
    }
}

/// What a server says about one of its methods.
public struct MethodDescriptor: Sendable, Hashable {
    /// `package.Service/Method`.
    public var name: String
    public var access: AccessPolicy
    /// Safe to retry after UNAVAILABLE (the client retries only these).
    public var isIdempotent: Bool
    public var isServerStreaming: Bool

    public init(_ name: String, access: AccessPolicy, idempotent: Bool = false, serverStreaming: Bool = false) {
        self.name = name
        self.access = access
        self.isIdempotent = idempotent
        self.isServerStreaming = serverStreaming
    }
}

public import Foundation

/// The roles a platform token can carry.
public enum Role: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case platformAdmin = "platform_admin"
    case orgOwner = "org_owner"
    case orgAdmin = "org_admin"
    case orgMember = "org_member"
    case service

    /// Whether the role acts on behalf of one organisation (and so needs `org`).
    public var isOrganizationRole: Bool {
        switch self {
        case .orgOwner, .orgAdmin, .orgMember: true
        case .platformAdmin, .service: false
        }
    }

    /// Owners and admins may change their organisation's data; members only read.
    public var canWriteOrganization: Bool {
        self == .orgOwner || self == .orgAdmin
    }

    public var description: String { rawValue }
}

/// Who is calling, as established from a verified bearer token.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    /// The token's `sub` claim.
    public var subject: String
    public var role: Role
    /// The organisation an org role acts for; nil for platform admins and services.
    public var organizationID: String?
    /// Space-separated `scope` claim, split; meaningful for `service` callers.
    public var scopes: Set<String>
    public var expiresAt: Date

    public init(subject: String, role: Role, organizationID: String? = nil, scopes: Set<String> = [], expiresAt: Date) {
        self.subject = subject
        self.role = role
        self.organizationID = organizationID
        self.scopes = scopes
        self.expiresAt = expiresAt
    }

    /// Whether the principal holds `scope` (platform admins hold every scope).
    public func has(scope: String) -> Bool {
        role == .platformAdmin || scopes.contains(scope)
    }

    /// A short form for audit records and logs: `role:subject[@org]`.
    public var description: String {
        if let organizationID { return "\(role):\(subject)@\(organizationID)" }
        return "\(role):\(subject)"
    }
}

import Auth
import RPC
import ServiceRuntime

/// Which organisation a caller acts for, and whether it may change things.
/// Anything of another organisation is reported as NOT_FOUND.
struct OrganizationAccess {
    static let directoryScope = "directory:write"
    static let readScope = "assignment:read"

    var principal: Principal

    init(_ principal: Principal) { self.principal = principal }

    /// The organisation a request acts on: org callers act for their own (an
    /// empty or equal `requested`); admins and services must name one.
    func organization(_ requested: String, field: String = "organization_id") throws(RPCError) -> String {
        if principal.role.isOrganizationRole {
            guard requested.isEmpty || requested == principal.organizationID else {
                throw RPCError(.notFound, "organization \(requested.prefix(128)) not found")
            }
            return principal.organizationID!
        }
        try FieldRules.identifier(requested, field: field)
        return requested
    }

    func canRead(organization: String) -> Bool {
        switch principal.role {
        case .platformAdmin: true
        case .service: principal.has(scope: Self.readScope)
        case .orgOwner, .orgAdmin, .orgMember: principal.organizationID == organization
        }
    }

    /// Throws NOT_FOUND for another organisation, PERMISSION_DENIED for a member.
    func requireWrite(organization: String, what: String) throws(RPCError) {
        guard canRead(organization: organization) else { throw RPCError(.notFound, "\(what) not found") }
        guard principal.role == .platformAdmin || principal.role.canWriteOrganization else {
            throw RPCError(.permissionDenied, "role \(principal.role) may read but not change \(what)")
        }
    }
}

import Auth

/// What a caller may do with a number. A number the caller may not read is
/// reported as NOT_FOUND, so its existence does not leak across tenants.
struct NumberAccess {
    static let readScope = "inventory:read"
    static let credentialsScope = "credentials:read"

    var principal: Principal

    init(_ principal: Principal) {
        self.principal = principal
    }

    private func ownsNumber(_ record: NumberRecord) -> Bool {
        principal.role.isOrganizationRole && record.ownerOrganizationID != nil
            && record.ownerOrganizationID == principal.organizationID
    }

    func canRead(_ record: NumberRecord) -> Bool {
        switch principal.role {
        case .platformAdmin: true
        case .service: principal.has(scope: Self.readScope)
        case .orgOwner, .orgAdmin, .orgMember: ownsNumber(record)
        }
    }

    func canWrite(_ record: NumberRecord) -> Bool {
        principal.role == .platformAdmin || (principal.role.canWriteOrganization && ownsNumber(record))
    }

    var canReadCredentials: Bool {
        principal.role == .platformAdmin || (principal.role == .service && principal.has(scope: Self.credentialsScope))
    }

    /// The only owner an organisation caller may list; nil lists everything.
    var forcedOwner: String? {
        principal.role.isOrganizationRole ? principal.organizationID : nil
    }
}

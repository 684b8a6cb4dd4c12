import Credentials
import Foundation
import Store

/// A number's catalogue facts in the shapes memory keeps them, from an event
/// (`CatalogFacts`) or from a row of lookup's schema.
struct CatalogEntry: Sendable {
    var profile: Profile
    var trunk: CompactText
    var providerNumberID: CompactText
    var vapiPhoneNumberID: CompactText
    var capabilities: Capabilities
    var retired: Bool
    var owner: CompactText

    init(_ facts: CatalogFacts) {
        profile = Profile(country: facts.country, numberType: facts.numberType, provider: facts.provider, region: facts.region)
        trunk = CompactText(facts.trunkID)
        providerNumberID = CompactText(facts.providerNumberID)
        vapiPhoneNumberID = CompactText(facts.vapiPhoneNumberID)
        capabilities = facts.capabilities
        retired = facts.retired
        owner = CompactText(facts.ownerOrganizationID ?? "")
    }

    init(_ row: CopyRow, from column: Int) {
        func text(_ offset: Int) -> String { row.string(column + offset) ?? "" }
        func compact(_ offset: Int) -> CompactText { row.bytes(column + offset).map(CompactText.init) ?? .empty }
        profile = Profile(country: text(0), numberType: text(2), provider: text(3), region: text(1))
        providerNumberID = compact(4)
        trunk = compact(5)
        vapiPhoneNumberID = compact(6)
        capabilities = Capabilities(bits: UInt8(truncatingIfNeeded: row.int64(column + 7) ?? 0))
        retired = row.bool(column + 8) ?? false
        owner = compact(9)
    }
}

/// One row of lookup's `numbers` as the loader reads it (on the database
/// thread): ids parsed, the E.164 key computed, and no string made for ids
/// in a compact form.
struct LoadedNumber: Sendable {
    var id: UUID
    var key: E164Key
    var catalog: CatalogEntry?
    var credentials: SealedCredentials?
    var organization: CompactText
    var agent: CompactText
    var state: AssignmentFacts.State

    /// The columns `init(_:)` reads, in its order.
    static let columns = """
        number_id, e164, cataloged, country, region, number_type, provider, provider_number_id, trunk_id,
        vapi_phone_number_id, capabilities, retired, owner_organization_id, credentials_key_id,
        credentials_ciphertext, organization_id, agent_id, assignment_state
        """

    struct Unreadable: Error, CustomStringConvertible {
        var column: String
        var description: String { "column \(column) is unreadable" }
    }

    init(_ row: CopyRow) throws {
        guard let id = row.uuid(0) else { throw Unreadable(column: "number_id") }
        guard let e164 = row.bytes(1), e164.first == UInt8(ascii: "+"), let key = E164Key.digits(e164.dropFirst()) else {
            throw Unreadable(column: "e164")
        }
        self.id = id
        self.key = key
        catalog = row.bool(2) == true ? CatalogEntry(row, from: 3) : nil
        if let keyID = row.string(13), let ciphertext = row.bytea(14) {
            credentials = SealedCredentials(keyID: keyID, ciphertext: ciphertext)
        }
        organization = row.bytes(15).map(CompactText.init) ?? .empty
        agent = row.bytes(16).map(CompactText.init) ?? .empty
        state = row.string(17).flatMap(AssignmentFacts.State.init(rawValue:)) ?? .available
    }
}

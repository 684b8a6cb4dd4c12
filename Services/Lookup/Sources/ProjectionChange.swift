import Credentials
import Foundation
import Protos
import ServiceRuntime

/// One event, decoded into what it changes in the route projection. The same
/// change is written to the lookup schema and applied to memory, so both
/// always agree.
enum ProjectionChange: Sendable {
    /// What inventory says the number is (its whole state after a change).
    case cataloged(CatalogFacts)
    /// Sealed credentials; nil removes them.
    case credentials(numberID: UUID, sealed: SealedCredentials?)
    /// Who holds the number (its whole assignment state after a change).
    case assignment(AssignmentFacts)
    case schedule(numberID: UUID, AssignmentV1.Schedule?)
    case organization(AssignmentV1.Organization)
    case organizationDeleted(id: String)
    case agent(AssignmentV1.Agent)
    case agentDeleted(id: String)

    /// nil for events lookup does not use (and for payloads it cannot read,
    /// which it skips rather than stalling the stream; they are logged).
    init?(_ event: EventsV1.Event) throws {
        switch event.type {
        case "inventory.number.imported", "inventory.number.updated",
             "inventory.number.retired", "inventory.number.restored":
            guard let number = try InventoryV1.NumberChanged(serializedBytes: event.payload).number,
                  let facts = CatalogFacts(number) else { return nil }
            self = .cataloged(facts)
        case "inventory.number.credentials_changed":
            let payload = try InventoryV1.CredentialsChanged(serializedBytes: event.payload)
            guard let id = UUID(uuidString: payload.numberId) else { return nil }
            let sealed = payload.ciphertext.isEmpty ? nil : SealedCredentials(keyID: payload.keyId, ciphertext: payload.ciphertext)
            self = .credentials(numberID: id, sealed: sealed)
        case "assignment.number.changed":
            guard let facts = AssignmentFacts(try AssignmentV1.NumberAssignmentChanged(serializedBytes: event.payload)) else { return nil }
            self = .assignment(facts)
        case "assignment.schedule.changed":
            let payload = try AssignmentV1.ScheduleChanged(serializedBytes: event.payload)
            guard let schedule = payload.schedule, let id = UUID(uuidString: schedule.numberId) else { return nil }
            self = .schedule(numberID: id, payload.deleted ? nil : schedule)
        case "assignment.organization.changed":
            let payload = try AssignmentV1.OrganizationChanged(serializedBytes: event.payload)
            guard let organization = payload.organization, !organization.id.isEmpty else { return nil }
            self = payload.deleted ? .organizationDeleted(id: organization.id) : .organization(organization)
        case "assignment.agent.changed":
            let payload = try AssignmentV1.AgentChanged(serializedBytes: event.payload)
            guard let agent = payload.agent, !agent.id.isEmpty else { return nil }
            self = payload.deleted ? .agentDeleted(id: agent.id) : .agent(agent)
        default:
            return nil
        }
    }
}

/// The parts of an inventory number a route needs.
struct CatalogFacts: Sendable, Hashable {
    var numberID: UUID
    var e164: String
    var country: String
    var region: String
    var numberType: String
    var provider: String
    var providerNumberID: String
    var trunkID: String
    var vapiPhoneNumberID: String
    var capabilities: Capabilities
    var retired: Bool
    var ownerOrganizationID: String?
    var version: Int64

    init?(_ number: InventoryV1.PhoneNumber) {
        guard let id = UUID(uuidString: number.id), E164Key(e164: number.e164) != nil else { return nil }
        let ids = number.providerIds ?? InventoryV1.ProviderIds()
        let capabilities = number.capabilities ?? InventoryV1.Capabilities()
        self.init(numberID: id, e164: number.e164, country: number.country, region: number.region,
                  numberType: NumberTypes.name(number.numberType), provider: number.provider,
                  providerNumberID: ids.providerNumberId, trunkID: ids.trunkId, vapiPhoneNumberID: ids.vapiPhoneNumberId,
                  capabilities: Capabilities(voice: capabilities.voice, sms: capabilities.sms, mms: capabilities.mms, fax: capabilities.fax),
                  retired: number.lifecycle == .retired,
                  ownerOrganizationID: number.ownerOrganizationId.isEmpty ? nil : number.ownerOrganizationId,
                  version: number.version)
    }

    init(numberID: UUID, e164: String, country: String, region: String, numberType: String, provider: String,
         providerNumberID: String, trunkID: String, vapiPhoneNumberID: String, capabilities: Capabilities,
         retired: Bool, ownerOrganizationID: String?, version: Int64) {
        self.numberID = numberID
        self.e164 = e164
        self.country = country
        self.region = region
        self.numberType = numberType
        self.provider = provider
        self.providerNumberID = providerNumberID
        self.trunkID = trunkID
        self.vapiPhoneNumberID = vapiPhoneNumberID
        self.capabilities = capabilities
        self.retired = retired
        self.ownerOrganizationID = ownerOrganizationID
        self.version = version
    }
}

/// Voice, SMS, MMS, fax as bits (the `capabilities` column).
struct Capabilities: Sendable, Hashable {
    var bits: UInt8

    init(bits: UInt8) { self.bits = bits }

    init(voice: Bool, sms: Bool, mms: Bool, fax: Bool) {
        bits = (voice ? 1 : 0) | (sms ? 2 : 0) | (mms ? 4 : 0) | (fax ? 8 : 0)
    }

    var message: LookupV1.Capabilities {
        var message = LookupV1.Capabilities()
        message.voice = bits & 1 != 0
        message.sms = bits & 2 != 0
        message.mms = bits & 4 != 0
        message.fax = bits & 8 != 0
        return message
    }
}

/// Who holds a number, as assignment last said.
struct AssignmentFacts: Sendable, Hashable {
    enum State: String, Sendable {
        case available, reserved, assigned
    }

    var numberID: UUID
    var e164: String
    var organizationID: String?
    var agentID: String?
    var state: State
    /// Inventory's position assignment had applied when it wrote the event
    /// (0 when unknown): lookup applies the event only once it has too.
    var inventoryPosition: Int64 = 0

    init?(_ payload: AssignmentV1.NumberAssignmentChanged) {
        guard let id = UUID(uuidString: payload.numberId), E164Key(e164: payload.e164) != nil else { return nil }
        self.init(numberID: id, e164: payload.e164,
                  organizationID: payload.organizationId.isEmpty ? nil : payload.organizationId,
                  agentID: payload.agentId.isEmpty ? nil : payload.agentId,
                  state: State(rawValue: payload.state) ?? .available)
        inventoryPosition = Int64(clamping: payload.inventoryPosition)
    }

    init(numberID: UUID, e164: String, organizationID: String?, agentID: String?, state: State) {
        self.numberID = numberID
        self.e164 = e164
        self.organizationID = organizationID
        self.agentID = agentID
        self.state = state
    }
}

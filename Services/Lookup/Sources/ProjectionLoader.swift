import Credentials
import Foundation
import Outbox
import Protos
import Store

/// Reads the persisted projection back into memory at start-up: one
/// repeatable-read snapshot of the rows and the stream positions they were
/// built up to, so the consumers resume exactly after them.
enum ProjectionLoader {
    struct Loaded {
        var state: RouteState
        var inventoryPosition: Int64
        var assignmentPosition: Int64
    }

    static func load(from database: Database, positions: ConsumerPositions) async throws -> Loaded {
        try await database.withTransaction(isolation: .repeatableRead, readOnly: true) { transaction in
            var state = RouteState()
            // Organisations and agents first: schedules compile with their zones.
            for row in try await transaction.query("SELECT id, slug, external_id, name, time_zone FROM organizations") {
                var organization = AssignmentV1.Organization()
                organization.id = try row.decode(String.self, at: 0)
                organization.slug = try row.decode(String.self, at: 1)
                organization.externalId = try row.decode(String.self, at: 2)
                organization.name = try row.decode(String.self, at: 3)
                organization.timeZone = try row.decode(String.self, at: 4)
                state.apply(.organization(organization))
            }
            for row in try await transaction.query("SELECT id, organization_id, name, external_assistant_id FROM agents") {
                var agent = AssignmentV1.Agent()
                agent.id = try row.decode(String.self, at: 0)
                agent.organizationId = try row.decode(String.self, at: 1)
                agent.name = try row.decode(String.self, at: 2)
                agent.externalAssistantId = try row.decode(String.self, at: 3)
                state.apply(.agent(agent))
            }
            let numbers = try await transaction.query("""
                SELECT number_id, e164, cataloged, country, region, number_type, provider, provider_number_id,
                       trunk_id, vapi_phone_number_id, capabilities, retired, owner_organization_id, inventory_version,
                       credentials_key_id, credentials_ciphertext, organization_id, agent_id, assignment_state
                  FROM numbers
                """)
            for row in numbers {
                let id = try row.decode(UUID.self, at: 0)
                let e164 = try row.decode(String.self, at: 1)
                if try row.decode(Bool.self, at: 2) {
                    state.apply(.cataloged(CatalogFacts(
                        numberID: id, e164: e164, country: try row.decode(at: 3), region: try row.decode(at: 4),
                        numberType: try row.decode(at: 5), provider: try row.decode(at: 6),
                        providerNumberID: try row.decode(at: 7), trunkID: try row.decode(at: 8),
                        vapiPhoneNumberID: try row.decode(at: 9),
                        capabilities: Capabilities(bits: UInt8(truncatingIfNeeded: try row.decode(Int32.self, at: 10))),
                        retired: try row.decode(at: 11), ownerOrganizationID: try row.decode(at: 12),
                        version: try row.decode(at: 13))))
                }
                if let keyID = try row.decode(String?.self, at: 14), let ciphertext = try row.decode([UInt8]?.self, at: 15) {
                    state.apply(.credentials(numberID: id, sealed: SealedCredentials(keyID: keyID, ciphertext: ciphertext)))
                }
                let assignment = AssignmentFacts.State(rawValue: try row.decode(String.self, at: 18)) ?? .available
                state.apply(.assignment(AssignmentFacts(
                    numberID: id, e164: e164, organizationID: try row.decode(at: 16), agentID: try row.decode(at: 17),
                    state: assignment)))
            }
            for row in try await transaction.query("SELECT number_id, schedule FROM schedules") {
                let schedule = try AssignmentV1.Schedule(serializedBytes: try row.decode([UInt8].self, at: 1))
                state.apply(.schedule(numberID: try row.decode(UUID.self, at: 0), schedule))
            }
            return Loaded(
                state: state,
                inventoryPosition: try await positions.load(stream: "inventory", in: transaction),
                assignmentPosition: try await positions.load(stream: "assignment", in: transaction))
        }
    }
}

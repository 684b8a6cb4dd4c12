import Credentials
import Foundation
import Protos
import Store

/// Writes projection changes to the lookup schema, statement for statement
/// what `RouteState.apply` does in memory, so a restart loads exactly what
/// memory held.
enum ProjectionWriter {
    static func write(_ change: ProjectionChange, in transaction: Transaction) async throws {
        switch change {
        case .cataloged(let facts):
            try await transaction.execute("""
                INSERT INTO numbers (number_id, e164, cataloged, country, region, number_type, provider,
                                     provider_number_id, trunk_id, vapi_phone_number_id, capabilities, retired,
                                     owner_organization_id, inventory_version)
                VALUES ($1, $2, true, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                ON CONFLICT (number_id) DO UPDATE SET
                    e164 = EXCLUDED.e164, cataloged = true, country = EXCLUDED.country, region = EXCLUDED.region,
                    number_type = EXCLUDED.number_type, provider = EXCLUDED.provider,
                    provider_number_id = EXCLUDED.provider_number_id, trunk_id = EXCLUDED.trunk_id,
                    vapi_phone_number_id = EXCLUDED.vapi_phone_number_id, capabilities = EXCLUDED.capabilities,
                    retired = EXCLUDED.retired, owner_organization_id = EXCLUDED.owner_organization_id,
                    inventory_version = EXCLUDED.inventory_version, updated_at = now()
                """, [facts.numberID, facts.e164, facts.country, facts.region, facts.numberType, facts.provider,
                      facts.providerNumberID, facts.trunkID, facts.vapiPhoneNumberID, Int32(facts.capabilities.bits),
                      facts.retired, facts.ownerOrganizationID, facts.version])
        case .credentials(let id, let sealed):
            try await transaction.execute(
                "UPDATE numbers SET credentials_key_id = $2, credentials_ciphertext = $3, updated_at = now() WHERE number_id = $1",
                [id, sealed?.keyID, sealed?.ciphertext])
        case .assignment(let facts):
            let organization = facts.state == .available ? nil : facts.organizationID
            // As in memory: the schedule goes when the number leaves its organisation.
            try await transaction.execute("""
                DELETE FROM schedules s USING numbers n
                 WHERE s.number_id = n.number_id AND n.number_id = $1
                   AND (n.organization_id IS DISTINCT FROM $2 OR $3 <> 'assigned')
                """, [facts.numberID, organization, facts.state.rawValue])
            try await transaction.execute("""
                INSERT INTO numbers (number_id, e164, organization_id, agent_id, assignment_state)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (number_id) DO UPDATE SET organization_id = EXCLUDED.organization_id,
                    agent_id = EXCLUDED.agent_id, assignment_state = EXCLUDED.assignment_state, updated_at = now()
                """, [facts.numberID, facts.e164, organization, facts.agentID, facts.state.rawValue])
        case .schedule(let id, let schedule?):
            try await transaction.execute("""
                INSERT INTO schedules (number_id, schedule)
                SELECT number_id, $2 FROM numbers WHERE number_id = $1
                ON CONFLICT (number_id) DO UPDATE SET schedule = EXCLUDED.schedule
                """, [id, schedule.serializedBytes()])
        case .schedule(let id, nil):
            try await transaction.execute("DELETE FROM schedules WHERE number_id = $1", [id])
        case .organization(let organization):
            try await transaction.execute("""
                INSERT INTO organizations (id, slug, external_id, name, time_zone) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, external_id = EXCLUDED.external_id,
                    name = EXCLUDED.name, time_zone = EXCLUDED.time_zone
                """, [organization.id, organization.slug, organization.externalId, organization.name, organization.timeZone])
        case .organizationDeleted(let id):
            try await transaction.execute("DELETE FROM agents WHERE organization_id = $1", [id])
            try await transaction.execute("DELETE FROM organizations WHERE id = $1", [id])
        case .agent(let agent):
            try await transaction.execute("""
                INSERT INTO agents (id, organization_id, name, external_assistant_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (id) DO UPDATE SET organization_id = EXCLUDED.organization_id, name = EXCLUDED.name,
                    external_assistant_id = EXCLUDED.external_assistant_id
                """, [agent.id, agent.organizationId, agent.name, agent.externalAssistantId])
        case .agentDeleted(let id):
            try await transaction.execute("DELETE FROM agents WHERE id = $1", [id])
        }
    }
}

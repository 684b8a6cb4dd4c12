import Foundation
import Protos
import ServiceRuntime
import Store

/// Applies inventory's events to assignment's own copy of the catalogue.
/// Numbers an organisation brought itself are assigned to it on arrival and
/// never enter the pool.
struct CatalogProjection: Sendable {
    var changes: Changes

    func apply(_ event: EventsV1.Event, in transaction: Transaction) async throws {
        switch event.type {
        case "inventory.number.imported", "inventory.number.updated", "inventory.number.retired", "inventory.number.restored":
            let number = try InventoryV1.NumberChanged(serializedBytes: event.payload).number ?? InventoryV1.PhoneNumber()
            try await upsert(number, in: transaction)
        default:
            break // credentials and anything newer are not assignment's concern
        }
    }

    private func upsert(_ number: InventoryV1.PhoneNumber, in transaction: Transaction) async throws {
        guard let id = UUID(uuidString: number.id) else { return }
        let capabilities = number.capabilities ?? InventoryV1.Capabilities()
        let owner = number.ownerOrganizationId.isEmpty ? nil : number.ownerOrganizationId
        // Versions only move forward: a stale or repeated event changes nothing.
        try await transaction.execute("""
            INSERT INTO catalog (number_id, e164, country, region, number_type, provider, voice, sms, mms, fax,
                                 monthly_cost_micros, currency, active, owner_organization_id, version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            ON CONFLICT (number_id) DO UPDATE SET
                e164 = EXCLUDED.e164, country = EXCLUDED.country, region = EXCLUDED.region,
                number_type = EXCLUDED.number_type, provider = EXCLUDED.provider, voice = EXCLUDED.voice,
                sms = EXCLUDED.sms, mms = EXCLUDED.mms, fax = EXCLUDED.fax,
                monthly_cost_micros = EXCLUDED.monthly_cost_micros, currency = EXCLUDED.currency,
                active = EXCLUDED.active, owner_organization_id = EXCLUDED.owner_organization_id,
                version = EXCLUDED.version
            WHERE catalog.version < EXCLUDED.version
            """, [
                id, number.e164, number.country, number.region, NumberTypes.name(number.numberType), number.provider,
                capabilities.voice, capabilities.sms, capabilities.mms, capabilities.fax,
                number.monthlyCostMicros, number.currency, number.lifecycle != .retired, owner, number.version,
            ])
        try await reconcileOwnership(id, owner: owner, in: transaction)
    }

    /// An owned number belongs to its owner; a number whose owner was removed
    /// leaves that organisation (it joins the pool).
    private func reconcileOwnership(_ id: UUID, owner: String?, in transaction: Transaction) async throws {
        let current = try await transaction.query("SELECT organization_id, owned FROM assignments WHERE number_id = $1", [id]).first
        let currentOrg = try current?.decode(String.self, column: "organization_id")
        let owned = try current?.decode(Bool.self, column: "owned") ?? false
        if let owner {
            guard currentOrg != owner || !owned else { return }
            if let currentOrg, currentOrg != owner {
                try await changes.history("released", actor: "inventory", numberID: id, organizationID: currentOrg,
                                          detail: "now owned by another organization", in: transaction)
            }
            try await transaction.execute("DELETE FROM assignments WHERE number_id = $1", [id])
            try await transaction.execute(
                "INSERT INTO assignments (number_id, organization_id, state, owned) VALUES ($1, $2, 'assigned', true)", [id, owner])
            try await changes.history("assigned", actor: "inventory", numberID: id, organizationID: owner,
                                      detail: "brought by the organisation", in: transaction)
            try await changes.publishNumbers([id], in: transaction)
        } else if owned, let currentOrg {
            try await transaction.execute("DELETE FROM assignments WHERE number_id = $1", [id])
            try await changes.history("released", actor: "inventory", numberID: id, organizationID: currentOrg,
                                      detail: "no longer owned by the organisation", in: transaction)
            try await changes.publishNumbers([id], in: transaction)
        }
    }
}

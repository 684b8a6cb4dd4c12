import Foundation
import Outbox
import Protos
import Store

/// What every change writes besides itself: an audit row and an outbox event,
/// in the same transaction.
struct Changes: Sendable {
    var outbox: Outbox

    static let numberChanged = "assignment.number.changed"
    static let scheduleChanged = "assignment.schedule.changed"
    static let organizationChanged = "assignment.organization.changed"
    static let agentChanged = "assignment.agent.changed"

    func history(_ action: String, actor: String, numberID: UUID? = nil, organizationID: String? = nil,
                 agentID: String? = nil, detail: String = "", in transaction: Transaction) async throws {
        try await transaction.execute(
            "INSERT INTO history (actor, action, number_id, organization_id, agent_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            [actor, action, numberID, organizationID, agentID, detail])
    }

    /// Publishes the current assignment state of `numberIDs` (available when no row).
    @discardableResult
    func publishNumbers(_ numberIDs: [UUID], in transaction: Transaction) async throws -> Int64? {
        guard !numberIDs.isEmpty else { return nil }
        let rows = try await transaction.query("""
            SELECT c.number_id, c.e164, a.organization_id, a.agent_id, a.state
              FROM catalog c LEFT JOIN assignments a ON a.number_id = c.number_id
             WHERE c.number_id = ANY($1::uuid[]) ORDER BY c.e164
            """, [numberIDs])
        let inventoryPosition = try await transaction.query(
            "SELECT position FROM consumer_positions WHERE stream = 'inventory'").first?.decode(Int64.self, column: "position") ?? 0
        let events = try rows.map { row -> NewOutboxEvent in
            var payload = AssignmentV1.NumberAssignmentChanged()
            payload.numberId = try row.decode(UUID.self, column: "number_id").uuidString.lowercased()
            payload.e164 = try row.decode(String.self, column: "e164")
            payload.organizationId = try row.decode(String?.self, column: "organization_id") ?? ""
            payload.agentId = try row.decode(String?.self, column: "agent_id") ?? ""
            payload.state = try row.decode(String?.self, column: "state") ?? "available"
            payload.inventoryPosition = UInt64(inventoryPosition)
            return NewOutboxEvent(type: Self.numberChanged, aggregateID: payload.numberId, payload: payload.serializedBytes())
        }
        return try await outbox.append(in: transaction, events).upperBound
    }

    func publish(_ type: String, aggregateID: String, payload: some ProtoMessage, in transaction: Transaction) async throws -> Int64 {
        try await outbox.append(in: transaction, type: type, aggregateID: aggregateID, payload: payload.serializedBytes())
    }
}

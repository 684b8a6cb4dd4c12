import Foundation
import Protos
import Store

/// Numbers held by organisations, with their agent and status.
enum OrganizationNumbers {
    static let select = """
        SELECT \(PoolNumbers.columns), a.organization_id, a.agent_id, a.owned, a.assigned_at, a.state,
               g.name AS agent_name, (s.number_id IS NOT NULL) AS has_schedule
          FROM assignments a
          JOIN catalog c ON c.number_id = a.number_id
          LEFT JOIN agents g ON g.id = a.agent_id
          LEFT JOIN schedules s ON s.number_id = a.number_id
        """

    static func load(ids: [UUID], in transaction: Transaction) async throws -> [AssignmentV1.AssignedNumber] {
        let rows = try await transaction.query("\(select) WHERE a.number_id = ANY($1::uuid[]) ORDER BY c.e164", [ids])
        return try rows.map(message)
    }

    static func message(_ row: PostgresRow) throws -> AssignmentV1.AssignedNumber {
        var number = AssignmentV1.AssignedNumber()
        number.number = try PoolNumbers.message(row)
        number.organizationId = try row.decode(String.self, column: "organization_id")
        number.agentId = try row.decode(String?.self, column: "agent_id") ?? ""
        number.agentName = try row.decode(String?.self, column: "agent_name") ?? ""
        number.status = number.agentId.isEmpty ? .assigned : .connected
        number.ownedByOrganization = try row.decode(Bool.self, column: "owned")
        number.hasSchedule = try row.decode(Bool.self, column: "has_schedule")
        number.assignedAtMicros = Int64(try row.decode(Date.self, column: "assigned_at").timeIntervalSince1970 * 1_000_000)
        return number
    }
}

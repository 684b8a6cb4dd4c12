import Auth
import Foundation
import Protos
import RPC
import ServiceRuntime
import Store

/// Stored schedules: the validated message, versioned, one per number.
struct ScheduleStore: Sendable {
    var changes: Changes

    func load(_ id: UUID, in transaction: Transaction) async throws -> AssignmentV1.Schedule? {
        let rows = try await transaction.query("SELECT schedule, version FROM schedules WHERE number_id = $1", [id])
        guard let row = rows.first else { return nil }
        var schedule = try AssignmentV1.Schedule(serializedBytes: try row.decode([UInt8].self, column: "schedule"))
        schedule.version = try row.decode(Int64.self, column: "version")
        return schedule
    }

    func save(_ schedule: AssignmentV1.Schedule, id: UUID, organization: String, in transaction: Transaction) async throws -> (AssignmentV1.Schedule, Int64) {
        var stored = schedule
        stored.version = 0
        let rows = try await transaction.query("""
            INSERT INTO schedules (number_id, organization_id, schedule) VALUES ($1, $2, $3)
            ON CONFLICT (number_id) DO UPDATE SET schedule = $3, version = schedules.version + 1, updated_at = now()
            RETURNING version
            """, [id, organization, stored.serializedBytes()])
        stored.version = try rows[0].decode(Int64.self, column: "version")
        var payload = AssignmentV1.ScheduleChanged()
        payload.schedule = stored
        let position = try await changes.publish(Changes.scheduleChanged, aggregateID: stored.numberId, payload: payload, in: transaction)
        return (stored, position)
    }

    func delete(_ id: UUID, in transaction: Transaction) async throws -> Int64? {
        let deleted = try await transaction.query("DELETE FROM schedules WHERE number_id = $1 RETURNING number_id", [id])
        guard !deleted.isEmpty else { return nil }
        var payload = AssignmentV1.ScheduleChanged()
        payload.schedule = .with { $0.numberId = id.uuidString.lowercased() }
        payload.deleted = true
        return try await changes.publish(Changes.scheduleChanged, aggregateID: id.uuidString.lowercased(), payload: payload, in: transaction)
    }

    /// A deleted agent's rules route to the fallback instead, and it stops
    /// being a default agent, so calls still reach someone.
    func removeAgent(_ agent: String, organization: String, in transaction: Transaction) async throws {
        let rows = try await transaction.query("SELECT number_id FROM schedules WHERE organization_id = $1 FOR UPDATE", [organization])
        for row in rows {
            let id = try row.decode(UUID.self, column: "number_id")
            guard var schedule = try await load(id, in: transaction) else { continue }
            let fallback = AssignmentV1.RouteTarget.with { $0.target = .fallback(true) }
            var changed = false
            for index in schedule.rules.indices where schedule.rules[index].target?.target == .agentId(agent) {
                schedule.rules[index].target = fallback
                changed = true
            }
            for index in schedule.overrides.indices where schedule.overrides[index].target?.target == .agentId(agent) {
                schedule.overrides[index].target = fallback
                changed = true
            }
            if schedule.defaultAgentId == agent {
                schedule.defaultAgentId = ""
                changed = true
            }
            if changed { _ = try await save(schedule, id: id, organization: organization, in: transaction) }
        }
    }
}

/// SetSchedule, GetSchedule, DeleteSchedule.
struct ScheduleHandlers: Sendable {
    var database: Database
    var changes: Changes
    var idempotency: IdempotencyKeys
    var store: ScheduleStore

    func register(in router: inout RPCRouter) {
        let prefix = AssignmentHandlers.prefix
        router.register(MethodDescriptor(prefix + "SetSchedule", access: AssignmentHandlers.writers, idempotent: true), setSchedule)
        router.register(MethodDescriptor(prefix + "GetSchedule", access: AssignmentHandlers.readers, idempotent: true), getSchedule)
        router.register(MethodDescriptor(prefix + "DeleteSchedule", access: AssignmentHandlers.writers, idempotent: true), deleteSchedule)
    }

    @Sendable func setSchedule(_ request: AssignmentV1.SetScheduleRequest, _ context: RPCContext) async throws -> AssignmentV1.ScheduleResponse {
        let caller = try context.requirePrincipal()
        let schedule = request.schedule ?? AssignmentV1.Schedule()
        let id = try PoolHandlers.uuid(schedule.numberId, field: "schedule.number_id")
        let store = self.store
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let organization = try await organizationOf(id, caller: caller, write: true, in: transaction)
            let agents = try await transaction.query("SELECT id FROM agents WHERE organization_id = $1", [organization])
            try ScheduleValidator.validate(schedule, agents: Set(try agents.map { try $0.decode(String.self, column: "id") }))
            var normalized = schedule
            normalized.numberId = id.uuidString.lowercased()
            let (saved, position) = try await store.save(normalized, id: id, organization: organization, in: transaction)
            try await changes.history("schedule_set", actor: caller.description, numberID: id, organizationID: organization,
                                      detail: "version \(saved.version)", in: transaction)
            var response = AssignmentV1.ScheduleResponse()
            response.schedule = saved
            response.consistencyToken = UInt64(position)
            return response
        }
    }

    @Sendable func getSchedule(_ request: AssignmentV1.GetScheduleRequest, _ context: RPCContext) async throws -> AssignmentV1.ScheduleResponse {
        let caller = try context.requirePrincipal()
        let id = try PoolHandlers.uuid(request.numberId, field: "number_id")
        let store = self.store
        return try await database.withTransaction(readOnly: true) { transaction in
            _ = try await organizationOf(id, caller: caller, write: false, in: transaction)
            guard let schedule = try await store.load(id, in: transaction) else {
                throw RPCError(.notFound, "number \(request.numberId) has no schedule")
            }
            var response = AssignmentV1.ScheduleResponse()
            response.schedule = schedule
            return response
        }
    }

    @Sendable func deleteSchedule(_ request: AssignmentV1.DeleteScheduleRequest, _ context: RPCContext) async throws -> AssignmentV1.MutationResponse {
        let caller = try context.requirePrincipal()
        let id = try PoolHandlers.uuid(request.numberId, field: "number_id")
        let store = self.store
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let organization = try await organizationOf(id, caller: caller, write: true, in: transaction)
            guard let position = try await store.delete(id, in: transaction) else {
                throw RPCError(.notFound, "number \(request.numberId) has no schedule")
            }
            try await changes.history("schedule_deleted", actor: caller.description, numberID: id, organizationID: organization, in: transaction)
            var response = AssignmentV1.MutationResponse()
            response.consistencyToken = UInt64(position)
            return response
        }
    }

    /// The organisation holding number `id`, checked against the caller.
    private func organizationOf(_ id: UUID, caller: Principal, write: Bool, in transaction: Transaction) async throws -> String {
        let rows = try await transaction.query(
            "SELECT organization_id FROM assignments WHERE number_id = $1 AND state = 'assigned'\(write ? " FOR UPDATE" : "")", [id])
        let access = OrganizationAccess(caller)
        guard let organization = try rows.first?.decode(String.self, column: "organization_id"),
              access.canRead(organization: organization) else {
            throw RPCError(.notFound, "number \(id.uuidString.lowercased()) not found")
        }
        if write { try access.requireWrite(organization: organization, what: "number \(id.uuidString.lowercased())") }
        return organization
    }
}

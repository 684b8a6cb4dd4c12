import Auth
import Foundation
import Protos
import RPC
import ServiceRuntime
import Store

/// Connecting numbers to agents of the same organisation.
struct ConnectionHandlers: Sendable {
    var database: Database
    var changes: Changes
    var idempotency: IdempotencyKeys

    func register(in router: inout RPCRouter) {
        let prefix = AssignmentHandlers.prefix
        router.register(MethodDescriptor(prefix + "ConnectAgent", access: AssignmentHandlers.writers), connect)
        router.register(MethodDescriptor(prefix + "DisconnectAgent", access: AssignmentHandlers.writers), disconnect)
    }

    @Sendable func connect(_ request: AssignmentV1.ConnectAgentRequest, _ context: RPCContext) async throws -> AssignmentV1.AssignedNumberResponse {
        let caller = try context.requirePrincipal()
        let id = try PoolHandlers.uuid(request.numberId, field: "number_id")
        try FieldRules.identifier(request.agentId, field: "agent_id")
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let (organization, e164, state) = try await lockAssigned(id, caller: caller, in: transaction)
            guard state == "assigned" else {
                throw RPCError(.failedPrecondition, "number \(e164) is only reserved; confirm the hold first")
            }
            let agent = try await transaction.query("SELECT organization_id FROM agents WHERE id = $1", [request.agentId]).first
            guard let agent, try agent.decode(String.self, column: "organization_id") == organization else {
                throw RPCError(.failedPrecondition, "agent \(request.agentId) is not an agent of organization \(organization)",
                               fieldViolations: [.init(field: "agent_id", description: "must be an agent of the number's organization")])
            }
            do {
                try await transaction.execute("UPDATE assignments SET agent_id = $2 WHERE number_id = $1", [id, request.agentId])
            } catch let error as DatabaseError where error.code == .uniqueViolation {
                throw RPCError(.failedPrecondition, "agent \(request.agentId) already has a number and organization \(organization) allows one number per agent")
            }
            try await changes.history("connected", actor: caller.description, numberID: id, organizationID: organization,
                                      agentID: request.agentId, in: transaction)
            return try await response(id, in: transaction)
        }
    }

    @Sendable func disconnect(_ request: AssignmentV1.DisconnectAgentRequest, _ context: RPCContext) async throws -> AssignmentV1.AssignedNumberResponse {
        let caller = try context.requirePrincipal()
        let id = try PoolHandlers.uuid(request.numberId, field: "number_id")
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let (organization, e164, _) = try await lockAssigned(id, caller: caller, in: transaction)
            let current = try await transaction.query("SELECT agent_id FROM assignments WHERE number_id = $1", [id])
            guard let agent = try current.first?.decode(String?.self, column: "agent_id") else {
                throw RPCError(.failedPrecondition, "number \(e164) is not connected to an agent")
            }
            try await transaction.execute("UPDATE assignments SET agent_id = NULL WHERE number_id = $1", [id])
            try await changes.history("disconnected", actor: caller.description, numberID: id, organizationID: organization,
                                      agentID: agent, in: transaction)
            return try await response(id, in: transaction)
        }
    }

    /// Locks the caller's number; NOT_FOUND for anyone else's.
    private func lockAssigned(_ id: UUID, caller: Principal, in transaction: Transaction) async throws -> (String, String, String) {
        let rows = try await transaction.query(
            "SELECT a.organization_id, a.state, c.e164 FROM assignments a JOIN catalog c USING (number_id) WHERE a.number_id = $1 FOR UPDATE OF a",
            [id])
        guard let row = rows.first else { throw RPCError(.notFound, "number \(id.uuidString.lowercased()) not found") }
        let organization = try row.decode(String.self, column: "organization_id")
        try OrganizationAccess(caller).requireWrite(organization: organization, what: "number \(id.uuidString.lowercased())")
        return (organization, try row.decode(String.self, column: "e164"), try row.decode(String.self, column: "state"))
    }

    private func response(_ id: UUID, in transaction: Transaction) async throws -> AssignmentV1.AssignedNumberResponse {
        var response = AssignmentV1.AssignedNumberResponse()
        response.number = try await OrganizationNumbers.load(ids: [id], in: transaction).first
        response.consistencyToken = UInt64(try await changes.publishNumbers([id], in: transaction) ?? 0)
        return response
    }
}

import Auth
import Foundation
import Protos
import RPC
import ServiceRuntime
import Store

/// Organisations and agents, registered by the platform (platform admins or
/// services with `directory:write`).
struct DirectoryHandlers: Sendable {
    static let access = AccessPolicy.authenticated(roles: [], scopes: [OrganizationAccess.directoryScope])

    var database: Database
    var changes: Changes
    var idempotency: IdempotencyKeys
    var schedules: ScheduleStore

    func register(in router: inout RPCRouter) {
        let prefix = AssignmentHandlers.prefix
        router.register(MethodDescriptor(prefix + "UpsertOrganization", access: Self.access, idempotent: true), upsertOrganization)
        router.register(MethodDescriptor(prefix + "DeleteOrganization", access: Self.access, idempotent: true), deleteOrganization)
        router.register(MethodDescriptor(prefix + "UpsertAgent", access: Self.access, idempotent: true), upsertAgent)
        router.register(MethodDescriptor(prefix + "DeleteAgent", access: Self.access, idempotent: true), deleteAgent)
        router.register(MethodDescriptor(prefix + "ListAgents", access: AssignmentHandlers.readers, idempotent: true), listAgents)
    }

    @Sendable func upsertOrganization(_ request: AssignmentV1.UpsertOrganizationRequest, _ context: RPCContext) async throws -> AssignmentV1.OrganizationResponse {
        let actor = try context.requirePrincipal().description
        var draft = request.organization ?? AssignmentV1.Organization()
        try FieldRules.identifier(draft.id, field: "organization.id")
        try FieldRules.text(draft.slug, field: "organization.slug", maximumLength: 100)
        try FieldRules.text(draft.externalId, field: "organization.external_id", maximumLength: 200)
        try FieldRules.text(draft.name, field: "organization.name")
        draft.timeZone = try TimeZones.validate(draft.timeZone, field: "organization.time_zone", required: true)
        if draft.numbersPerAgent == .unspecified { draft.numbersPerAgent = .one }
        let policy: String
        switch draft.numbersPerAgent {
        case .one: policy = "one"
        case .many: policy = "many"
        default: throw RPCError.invalidArgument(field: "organization.numbers_per_agent", "is not ONE or MANY")
        }
        let changes = self.changes
        let organization = draft
        return try await idempotency.run(context, request: request, database: database) { transaction in
            try await transaction.execute("""
                INSERT INTO organizations (id, slug, external_id, name, time_zone, numbers_per_agent)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (id) DO UPDATE SET slug = $2, external_id = $3, name = $4, time_zone = $5,
                       numbers_per_agent = $6, updated_at = now()
                """, [organization.id, organization.slug, organization.externalId, organization.name, organization.timeZone, policy])
            do {
                // Re-derive the one-number-per-agent column under the (maybe new) policy.
                try await transaction.execute("UPDATE assignments SET agent_id = agent_id WHERE organization_id = $1 AND agent_id IS NOT NULL",
                                              [organization.id])
            } catch let error as DatabaseError where error.code == .uniqueViolation {
                throw RPCError(.failedPrecondition, "some agents of \(organization.id) have several numbers; disconnect them before requiring one number per agent")
            }
            try await changes.history("organization_upserted", actor: actor, organizationID: organization.id, in: transaction)
            var payload = AssignmentV1.OrganizationChanged()
            payload.organization = organization
            var response = AssignmentV1.OrganizationResponse()
            response.organization = organization
            response.consistencyToken = UInt64(try await changes.publish(Changes.organizationChanged, aggregateID: organization.id,
                                                                         payload: payload, in: transaction))
            return response
        }
    }

    @Sendable func deleteOrganization(_ request: AssignmentV1.DeleteOrganizationRequest, _ context: RPCContext) async throws -> AssignmentV1.MutationResponse {
        let actor = try context.requirePrincipal().description
        try FieldRules.identifier(request.id, field: "id")
        let changes = self.changes
        return try await idempotency.run(context, request: request, database: database) { transaction in
            guard try await !transaction.query("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE", [request.id]).isEmpty else {
                throw RPCError(.notFound, "organization \(request.id) not found")
            }
            // Everything it holds goes: pool numbers back to the pool, its own
            // numbers simply unassigned (inventory still owns their lifecycle).
            let released = try await transaction.query(
                "DELETE FROM assignments WHERE organization_id = $1 RETURNING number_id", [request.id])
            let ids = try released.map { try $0.decode(UUID.self, column: "number_id") }
            try await transaction.execute("DELETE FROM organizations WHERE id = $1", [request.id])
            for id in ids {
                try await changes.history("released", actor: actor, numberID: id, organizationID: request.id,
                                          detail: "organization deleted", in: transaction)
            }
            try await changes.history("organization_deleted", actor: actor, organizationID: request.id, in: transaction)
            try await changes.publishNumbers(ids, in: transaction)
            var payload = AssignmentV1.OrganizationChanged()
            payload.organization = .with { $0.id = request.id }
            payload.deleted = true
            var response = AssignmentV1.MutationResponse()
            response.consistencyToken = UInt64(try await changes.publish(Changes.organizationChanged, aggregateID: request.id,
                                                                         payload: payload, in: transaction))
            return response
        }
    }

    @Sendable func upsertAgent(_ request: AssignmentV1.UpsertAgentRequest, _ context: RPCContext) async throws -> AssignmentV1.AgentResponse {
        let actor = try context.requirePrincipal().description
        let agent = request.agent ?? AssignmentV1.Agent()
        try FieldRules.identifier(agent.id, field: "agent.id")
        try FieldRules.identifier(agent.organizationId, field: "agent.organization_id")
        try FieldRules.text(agent.name, field: "agent.name")
        try FieldRules.text(agent.externalAssistantId, field: "agent.external_assistant_id")
        let changes = self.changes
        return try await idempotency.run(context, request: request, database: database) { transaction in
            guard try await !transaction.query("SELECT 1 FROM organizations WHERE id = $1", [agent.organizationId]).isEmpty else {
                throw RPCError(.failedPrecondition, "organization \(agent.organizationId) is not registered; upsert it first",
                               fieldViolations: [.init(field: "agent.organization_id", description: "is not a registered organization")])
            }
            let moved = try await transaction.query(
                "SELECT 1 FROM agents WHERE id = $1 AND organization_id <> $2", [agent.id, agent.organizationId])
            guard moved.isEmpty else {
                throw RPCError(.failedPrecondition, "agent \(agent.id) belongs to another organization; agents cannot move")
            }
            try await transaction.execute("""
                INSERT INTO agents (id, organization_id, name, external_assistant_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (id) DO UPDATE SET name = $3, external_assistant_id = $4, updated_at = now()
                """, [agent.id, agent.organizationId, agent.name, agent.externalAssistantId])
            try await changes.history("agent_upserted", actor: actor, organizationID: agent.organizationId, agentID: agent.id, in: transaction)
            var payload = AssignmentV1.AgentChanged()
            payload.agent = agent
            var response = AssignmentV1.AgentResponse()
            response.agent = agent
            response.consistencyToken = UInt64(try await changes.publish(Changes.agentChanged, aggregateID: agent.id,
                                                                         payload: payload, in: transaction))
            return response
        }
    }

    @Sendable func deleteAgent(_ request: AssignmentV1.DeleteAgentRequest, _ context: RPCContext) async throws -> AssignmentV1.MutationResponse {
        let actor = try context.requirePrincipal().description
        try FieldRules.identifier(request.id, field: "id")
        let changes = self.changes
        let schedules = self.schedules
        return try await idempotency.run(context, request: request, database: database) { transaction in
            guard let row = try await transaction.query("SELECT organization_id FROM agents WHERE id = $1 FOR UPDATE", [request.id]).first else {
                throw RPCError(.notFound, "agent \(request.id) not found")
            }
            let organization = try row.decode(String.self, column: "organization_id")
            let disconnected = try await transaction.query(
                "UPDATE assignments SET agent_id = NULL WHERE agent_id = $1 RETURNING number_id", [request.id])
            let ids = try disconnected.map { try $0.decode(UUID.self, column: "number_id") }
            for id in ids {
                try await changes.history("disconnected", actor: actor, numberID: id, organizationID: organization,
                                          agentID: request.id, detail: "agent deleted", in: transaction)
            }
            try await schedules.removeAgent(request.id, organization: organization, in: transaction)
            try await transaction.execute("DELETE FROM agents WHERE id = $1", [request.id])
            try await changes.history("agent_deleted", actor: actor, organizationID: organization, agentID: request.id, in: transaction)
            try await changes.publishNumbers(ids, in: transaction)
            var payload = AssignmentV1.AgentChanged()
            payload.agent = .with { $0.id = request.id; $0.organizationId = organization }
            payload.deleted = true
            var response = AssignmentV1.MutationResponse()
            response.consistencyToken = UInt64(try await changes.publish(Changes.agentChanged, aggregateID: request.id,
                                                                         payload: payload, in: transaction))
            return response
        }
    }

    @Sendable func listAgents(_ request: AssignmentV1.ListAgentsRequest, _ context: RPCContext) async throws -> AssignmentV1.ListAgentsResponse {
        let access = OrganizationAccess(try context.requirePrincipal())
        let organization = try access.organization(request.organizationId)
        guard access.canRead(organization: organization) else { throw RPCError(.notFound, "organization \(organization) not found") }
        let rows = try await database.query(
            "SELECT id, organization_id, name, external_assistant_id FROM agents WHERE organization_id = $1 ORDER BY id", [organization])
        var response = AssignmentV1.ListAgentsResponse()
        response.agents = try rows.map { row in
            var agent = AssignmentV1.Agent()
            agent.id = try row.decode(String.self, column: "id")
            agent.organizationId = try row.decode(String.self, column: "organization_id")
            agent.name = try row.decode(String.self, column: "name")
            agent.externalAssistantId = try row.decode(String.self, column: "external_assistant_id")
            return agent
        }
        return response
    }
}

/// IANA time zones, checked against the system's zone database.
enum TimeZones {
    static func validate(_ identifier: String, field: String, required: Bool) throws(RPCError) -> String {
        if identifier.isEmpty && !required { return "" }
        guard !identifier.isEmpty else { throw RPCError.invalidArgument(field: field, "is required (an IANA zone such as Europe/London)") }
        guard identifier.utf8.count <= 64, TimeZone(identifier: identifier) != nil, identifier.contains("/") || identifier == "UTC" else {
            throw RPCError.invalidArgument(field: field, "'\(identifier.prefix(64))' is not an IANA time zone such as Europe/London")
        }
        return identifier
    }
}

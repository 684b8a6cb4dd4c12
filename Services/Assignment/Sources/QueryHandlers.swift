import Auth
import Foundation
import Protos
import RPC
import ServiceRuntime
import Store

/// Read-only views: an organisation's numbers, its summary, and history.
struct QueryHandlers: Sendable {
    var database: Database

    func register(in router: inout RPCRouter) {
        let prefix = AssignmentHandlers.prefix
        router.register(MethodDescriptor(prefix + "ListOrganizationNumbers", access: AssignmentHandlers.readers, idempotent: true), listNumbers)
        router.register(MethodDescriptor(prefix + "GetSummary", access: AssignmentHandlers.readers, idempotent: true), summary)
        router.register(MethodDescriptor(prefix + "GetHistory", access: AssignmentHandlers.readers, idempotent: true), history)
    }

    private func readableOrganization(_ requested: String, _ context: RPCContext) throws -> String {
        let access = OrganizationAccess(try context.requirePrincipal())
        let organization = try access.organization(requested)
        guard access.canRead(organization: organization) else { throw RPCError(.notFound, "organization \(organization) not found") }
        return organization
    }

    @Sendable func listNumbers(_ request: AssignmentV1.ListOrganizationNumbersRequest, _ context: RPCContext) async throws -> AssignmentV1.ListOrganizationNumbersResponse {
        let organization = try readableOrganization(request.organizationId, context)
        let pageSize = try PageToken.pageSize(request.pageSize)
        let after = try PageToken.decode(request.pageToken)
        let rows = try await database.query("""
            \(OrganizationNumbers.select)
             WHERE a.organization_id = $1 AND a.state = 'assigned' AND c.e164 > $2
             ORDER BY c.e164 LIMIT $3
            """, [organization, after, pageSize + 1])
        var response = AssignmentV1.ListOrganizationNumbersResponse()
        response.numbers = try rows.prefix(pageSize).map(OrganizationNumbers.message)
        if rows.count > pageSize, let last = response.numbers.last?.number?.e164 { response.nextPageToken = PageToken.encode(last) }
        return response
    }

    @Sendable func summary(_ request: AssignmentV1.GetSummaryRequest, _ context: RPCContext) async throws -> AssignmentV1.Summary {
        let organization = try readableOrganization(request.organizationId, context)
        let counts = try await database.query("""
            SELECT count(*) AS mine, count(a.agent_id) AS connected,
                   (SELECT count(*) FROM catalog c WHERE \(PoolNumbers.isAvailable)) AS available
              FROM assignments a WHERE a.organization_id = $1 AND a.state = 'assigned'
            """, [organization])
        let costs = try await database.query("""
            SELECT c.currency, sum(c.monthly_cost_micros)::int8 AS total
              FROM assignments a JOIN catalog c USING (number_id)
             WHERE a.organization_id = $1 AND a.state = 'assigned' AND c.currency <> ''
             GROUP BY c.currency
            """, [organization])
        var summary = AssignmentV1.Summary()
        summary.myNumbers = UInt32(try counts[0].decode(Int64.self, column: "mine"))
        summary.connectedToAgents = UInt32(try counts[0].decode(Int64.self, column: "connected"))
        summary.availableInPool = UInt32(try counts[0].decode(Int64.self, column: "available"))
        for row in costs {
            summary.monthlyCostMicros[try row.decode(String.self, column: "currency")] = try row.decode(Int64.self, column: "total")
        }
        return summary
    }

    @Sendable func history(_ request: AssignmentV1.GetHistoryRequest, _ context: RPCContext) async throws -> AssignmentV1.GetHistoryResponse {
        let access = OrganizationAccess(try context.requirePrincipal())
        let pageSize = try PageToken.pageSize(request.pageSize)
        let afterText = try PageToken.decode(request.pageToken)
        let after = afterText.isEmpty ? Int64.max : (Int64(afterText) ?? Int64.max)
        let rows: QueryResult
        guard request.numberId.isEmpty || request.organizationId.isEmpty else {
            throw RPCError.invalidArgument(field: "number_id", "set either number_id or organization_id, not both")
        }
        if !request.numberId.isEmpty {
            let id = try PoolHandlers.uuid(request.numberId, field: "number_id")
            // Organisation callers see the part of a number's history that happened while they held it.
            let restrict: String?
            switch access.principal.role {
            case .platformAdmin:
                restrict = nil
            case .service:
                guard access.principal.has(scope: OrganizationAccess.readScope) else {
                    throw RPCError(.notFound, "number \(request.numberId) not found")
                }
                restrict = nil
            case .orgOwner, .orgAdmin, .orgMember:
                restrict = access.principal.organizationID
            }
            rows = try await database.query("""
                SELECT * FROM history WHERE number_id = $1 AND id < $2 AND ($3::text IS NULL OR organization_id = $3)
                 ORDER BY id DESC LIMIT $4
                """, [id, after, restrict, pageSize + 1])
            // No history at all: a catalogued number nobody has reserved yet has an
            // empty one (for whoever may see every number); anything else is unknown.
            if rows.isEmpty && after == Int64.max {
                guard restrict == nil, try await !database.query("SELECT 1 FROM catalog WHERE number_id = $1", [id]).isEmpty else {
                    throw RPCError(.notFound, "number \(request.numberId) not found")
                }
            }
        } else {
            let organization = try readableOrganization(request.organizationId, context)
            rows = try await database.query(
                "SELECT * FROM history WHERE organization_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                [organization, after, pageSize + 1])
        }
        var response = AssignmentV1.GetHistoryResponse()
        response.entries = try rows.prefix(pageSize).map { row in
            var entry = AssignmentV1.HistoryEntry()
            entry.id = try row.decode(Int64.self, column: "id")
            entry.atMicros = Int64(try row.decode(Date.self, column: "at").timeIntervalSince1970 * 1_000_000)
            entry.actor = try row.decode(String.self, column: "actor")
            entry.action = try row.decode(String.self, column: "action")
            entry.numberId = try row.decode(UUID?.self, column: "number_id")?.uuidString.lowercased() ?? ""
            entry.organizationId = try row.decode(String?.self, column: "organization_id") ?? ""
            entry.agentId = try row.decode(String?.self, column: "agent_id") ?? ""
            entry.detail = try row.decode(String.self, column: "detail")
            return entry
        }
        if rows.count > pageSize, let last = response.entries.last { response.nextPageToken = PageToken.encode(String(last.id)) }
        return response
    }
}

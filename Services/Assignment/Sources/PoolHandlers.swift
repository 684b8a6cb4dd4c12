import Auth
import Foundation
import Outbox
import Protos
import RPC
import ServiceRuntime
import Store

/// The pool: search, holds, allocation and release. Every taking of numbers
/// is all or nothing, and the `assignments` primary key makes double
/// allocation impossible whatever the interleaving.
struct PoolHandlers: Sendable {
    static let defaultHoldSeconds: UInt32 = 300
    static let maximumHoldSeconds: UInt32 = 3_600
    static let maximumBatch = 1_000
    /// Looks for free matching numbers at most this many times per call.
    static let selectionRounds = 8

    var database: Database
    var changes: Changes
    var idempotency: IdempotencyKeys
    /// How long a released number rests before the pool offers it again.
    var releaseCooldownSeconds: Int

    func register(in router: inout RPCRouter) {
        let prefix = AssignmentHandlers.prefix
        router.register(MethodDescriptor(prefix + "SearchAvailable", access: AssignmentHandlers.readers, idempotent: true), searchAvailable)
        router.register(MethodDescriptor(prefix + "Reserve", access: AssignmentHandlers.writers), reserve)
        router.register(MethodDescriptor(prefix + "ConfirmHold", access: AssignmentHandlers.writers), confirmHold)
        router.register(MethodDescriptor(prefix + "CancelHold", access: AssignmentHandlers.writers), cancelHold)
        router.register(MethodDescriptor(prefix + "Allocate", access: AssignmentHandlers.writers), allocate)
        router.register(MethodDescriptor(prefix + "Release", access: AssignmentHandlers.writers), release)
    }

    @Sendable func searchAvailable(_ request: AssignmentV1.SearchAvailableRequest, _ context: RPCContext) async throws -> AssignmentV1.SearchAvailableResponse {
        _ = try context.requirePrincipal()
        let pageSize = try PageToken.pageSize(request.pageSize)
        let after = try PageToken.decode(request.pageToken)
        let (conditions, parameters) = try PoolNumbers.conditions(request.filter ?? AssignmentV1.NumberFilter(), first: 3)
        let rows = try await database.query("""
            SELECT \(PoolNumbers.columns) FROM catalog c
             WHERE c.e164 > $1 AND \(PoolNumbers.isAvailable) AND \(conditions)
             ORDER BY c.e164 LIMIT $2
            """, [after, pageSize + 1] + parameters)
        var response = AssignmentV1.SearchAvailableResponse()
        response.numbers = try rows.prefix(pageSize).map(PoolNumbers.message)
        if rows.count > pageSize, let last = response.numbers.last { response.nextPageToken = PageToken.encode(last.e164) }
        return response
    }

    @Sendable func reserve(_ request: AssignmentV1.ReserveRequest, _ context: RPCContext) async throws -> AssignmentV1.HoldResponse {
        let caller = try context.requirePrincipal()
        let organization = try OrganizationAccess(caller).organization(request.organizationId)
        try OrganizationAccess(caller).requireWrite(organization: organization, what: "organization \(organization)")
        let seconds = try holdSeconds(request.holdSeconds)
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let hold = try await takeNumbers(request, organization: organization, seconds: seconds, actor: caller.description, in: transaction)
            var response = AssignmentV1.HoldResponse()
            response.hold = hold.message
            response.consistencyToken = UInt64(try await changes.publishNumbers(hold.numberIDs, in: transaction) ?? 0)
            return response
        }
    }

    @Sendable func confirmHold(_ request: AssignmentV1.ConfirmHoldRequest, _ context: RPCContext) async throws -> AssignmentV1.AssignedNumbersResponse {
        let caller = try context.requirePrincipal()
        let holdID = try Self.uuid(request.holdId, field: "hold_id")
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let ids = try await confirm(holdID, caller: caller, in: transaction)
            return try await assignedResponse(ids, in: transaction)
        }
    }

    @Sendable func cancelHold(_ request: AssignmentV1.CancelHoldRequest, _ context: RPCContext) async throws -> AssignmentV1.MutationResponse {
        let caller = try context.requirePrincipal()
        let holdID = try Self.uuid(request.holdId, field: "hold_id")
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let organization = try await lockHold(holdID, caller: caller, in: transaction).organization
            let released = try await transaction.query("DELETE FROM assignments WHERE hold_id = $1 RETURNING number_id", [holdID])
            try await transaction.execute("DELETE FROM holds WHERE id = $1", [holdID])
            let ids = try released.map { try $0.decode(UUID.self, column: "number_id") }
            for id in ids {
                try await changes.history("hold_cancelled", actor: caller.description, numberID: id, organizationID: organization, in: transaction)
            }
            var response = AssignmentV1.MutationResponse()
            var position = try await changes.publishNumbers(ids, in: transaction)
            if position == nil { position = try await changes.outbox.headPosition(in: transaction) }
            response.consistencyToken = UInt64(position ?? 0)
            return response
        }
    }

    @Sendable func allocate(_ request: AssignmentV1.ReserveRequest, _ context: RPCContext) async throws -> AssignmentV1.AssignedNumbersResponse {
        let caller = try context.requirePrincipal()
        let organization = try OrganizationAccess(caller).organization(request.organizationId)
        try OrganizationAccess(caller).requireWrite(organization: organization, what: "organization \(organization)")
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let hold = try await takeNumbers(request, organization: organization, seconds: Self.defaultHoldSeconds,
                                             actor: caller.description, in: transaction)
            let ids = try await confirm(hold.id, caller: caller, in: transaction)
            return try await assignedResponse(ids, in: transaction)
        }
    }

    @Sendable func release(_ request: AssignmentV1.ReleaseRequest, _ context: RPCContext) async throws -> AssignmentV1.MutationResponse {
        let caller = try context.requirePrincipal()
        let id = try Self.uuid(request.numberId, field: "number_id")
        let cooldown = releaseCooldownSeconds
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let rows = try await transaction.query(
                "SELECT a.organization_id, a.state, a.agent_id, a.owned, c.e164 FROM assignments a JOIN catalog c USING (number_id) WHERE a.number_id = $1 FOR UPDATE OF a",
                [id])
            guard let row = rows.first else { throw RPCError(.notFound, "number \(request.numberId) not found") }
            let organization = try row.decode(String.self, column: "organization_id")
            let e164 = try row.decode(String.self, column: "e164")
            try OrganizationAccess(caller).requireWrite(organization: organization, what: "number \(request.numberId)")
            if try row.decode(String.self, column: "state") == "reserved" {
                throw RPCError(.failedPrecondition, "number \(e164) is reserved under a hold; cancel the hold instead")
            }
            if let agent = try row.decode(String?.self, column: "agent_id") {
                throw RPCError(.failedPrecondition, "number \(e164) is connected to agent \(agent); disconnect it before releasing")
            }
            if try row.decode(Bool.self, column: "owned") {
                throw RPCError(.failedPrecondition, "number \(e164) was brought by the organization and cannot go to the pool; retire it in inventory instead")
            }
            try await transaction.execute("DELETE FROM assignments WHERE number_id = $1", [id])
            try await transaction.execute("""
                INSERT INTO cooldowns (number_id, available_at) VALUES ($1, now() + make_interval(secs => $2))
                ON CONFLICT (number_id) DO UPDATE SET available_at = EXCLUDED.available_at
                """, [id, cooldown])
            try await changes.history("released", actor: caller.description, numberID: id, organizationID: organization, in: transaction)
            var response = AssignmentV1.MutationResponse()
            response.consistencyToken = UInt64(try await changes.publishNumbers([id], in: transaction) ?? 0)
            return response
        }
    }

    // MARK: Taking numbers

    private struct TakenHold {
        var id: UUID
        var organization: String
        var expiresAt: Date
        var numbers: [AssignmentV1.PoolNumber]
        var numberIDs: [UUID] { numbers.compactMap { UUID(uuidString: $0.numberId) } }

        var message: AssignmentV1.Hold {
            var hold = AssignmentV1.Hold()
            hold.id = id.uuidString.lowercased()
            hold.organizationId = organization
            hold.numbers = numbers
            hold.expiresAtMicros = Int64(expiresAt.timeIntervalSince1970 * 1_000_000)
            return hold
        }
    }

    /// Holds the requested numbers for `organization`, all or none.
    private func takeNumbers(_ request: AssignmentV1.ReserveRequest, organization: String, seconds: UInt32,
                             actor: String, in transaction: Transaction) async throws -> TakenHold {
        guard try await !transaction.query("SELECT 1 FROM organizations WHERE id = $1", [organization]).isEmpty else {
            throw RPCError(.failedPrecondition, "organization \(organization) is not registered")
        }
        let holdID = UUID()
        let expiry = try await transaction.query(
            "INSERT INTO holds (id, organization_id, expires_at, created_by) VALUES ($1, $2, now() + make_interval(secs => $3), $4) RETURNING expires_at",
            [holdID, organization, Int(seconds), actor])
        let expiresAt = try expiry[0].decode(Date.self, column: "expires_at")

        let ids: [UUID]
        switch request.selection {
        case .numbers(let list):
            guard !list.ids.isEmpty, list.ids.count <= Self.maximumBatch else {
                throw RPCError.invalidArgument(field: "numbers.ids", "must name 1 to \(Self.maximumBatch) numbers")
            }
            let wanted = try Array(Set(list.ids.enumerated().map { index, text throws(RPCError) in
                try Self.uuid(text, field: "numbers.ids[\(index)]")
            }))
            ids = try await claim(wanted, organization: organization, holdID: holdID, in: transaction)
            guard ids.count == wanted.count else {
                throw RPCError(.failedPrecondition, "\(wanted.count - ids.count) of the \(wanted.count) numbers are not available (held, assigned, retired, owned or cooling down); nothing was reserved")
            }
        case .matching(let selection):
            guard (1...UInt32(Self.maximumBatch)).contains(selection.count) else {
                throw RPCError.invalidArgument(field: "matching.count", "must be 1 to \(Self.maximumBatch)")
            }
            let wanted = Int(selection.count)
            let (conditions, parameters) = try PoolNumbers.conditions(selection.filter ?? AssignmentV1.NumberFilter(), first: 3)
            var taken: [UUID] = []
            var tried: [UUID] = []
            // A candidate can be taken by a call that committed after this
            // statement's snapshot; each round looks again with a new one.
            for _ in 0..<Self.selectionRounds where taken.count < wanted {
                // SKIP LOCKED: concurrent reservers take different numbers instead of queueing.
                let rows = try await transaction.query("""
                    SELECT c.number_id FROM catalog c
                     WHERE \(PoolNumbers.isAvailable) AND \(conditions) AND c.number_id <> ALL($2::uuid[])
                     ORDER BY c.e164 LIMIT $1 FOR UPDATE OF c SKIP LOCKED
                    """, [wanted - taken.count, tried] + parameters)
                let candidates = try rows.map { try $0.decode(UUID.self, column: "number_id") }
                if candidates.isEmpty { break }
                tried += candidates
                taken += try await claim(candidates, organization: organization, holdID: holdID, in: transaction)
            }
            guard taken.count == wanted else {
                throw RPCError(.failedPrecondition, "only \(taken.count) available numbers match; \(wanted) were asked for; nothing was reserved")
            }
            ids = taken
        case nil:
            throw RPCError.invalidArgument(field: "selection", "set numbers or matching")
        }
        for id in ids {
            try await changes.history("reserved", actor: actor, numberID: id, organizationID: organization,
                                      detail: "hold \(holdID.uuidString.lowercased())", in: transaction)
        }
        let rows = try await transaction.query(
            "SELECT \(PoolNumbers.columns) FROM catalog c WHERE c.number_id = ANY($1::uuid[]) ORDER BY c.e164", [ids])
        return TakenHold(id: holdID, organization: organization, expiresAt: expiresAt, numbers: try rows.map(PoolNumbers.message))
    }

    /// Reserves those of `candidates` that are free, under `holdID`; returns them.
    private func claim(_ candidates: [UUID], organization: String, holdID: UUID, in transaction: Transaction) async throws -> [UUID] {
        // Expired reservations of these numbers end here (the sweeper may not
        // have run yet), so the history says so before the numbers move on.
        let expired = try await transaction.query("""
            DELETE FROM assignments a USING holds h
             WHERE a.hold_id = h.id AND h.expires_at <= now() AND a.number_id = ANY($1::uuid[])
            RETURNING a.number_id, a.organization_id
            """, [candidates])
        for row in expired {
            try await changes.history("hold_expired", actor: "assignment", numberID: try row.decode(UUID.self, column: "number_id"),
                                      organizationID: try row.decode(String.self, column: "organization_id"), in: transaction)
        }
        // A live reservation or an assignment blocks the insert: the primary
        // key decides, whatever the races.
        let taken = try await transaction.query("""
            INSERT INTO assignments (number_id, organization_id, state, hold_id)
            SELECT c.number_id, $2, 'reserved', $3 FROM catalog c
             WHERE c.number_id = ANY($1::uuid[]) AND c.active AND c.owner_organization_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM cooldowns d WHERE d.number_id = c.number_id AND d.available_at > now())
            ON CONFLICT (number_id) DO NOTHING
            RETURNING number_id
            """, [candidates, organization, holdID])
        return try taken.map { try $0.decode(UUID.self, column: "number_id") }
    }

    /// Locks a hold the caller may change; NOT_FOUND otherwise.
    private func lockHold(_ id: UUID, caller: Principal, in transaction: Transaction) async throws -> (organization: String, expired: Bool) {
        let rows = try await transaction.query(
            "SELECT organization_id, expires_at <= now() AS expired FROM holds WHERE id = $1 FOR UPDATE", [id])
        guard let row = rows.first else { throw RPCError(.notFound, "hold \(id.uuidString.lowercased()) not found") }
        let organization = try row.decode(String.self, column: "organization_id")
        try OrganizationAccess(caller).requireWrite(organization: organization, what: "hold \(id.uuidString.lowercased())")
        return (organization, try row.decode(Bool.self, column: "expired"))
    }

    private func confirm(_ holdID: UUID, caller: Principal, in transaction: Transaction) async throws -> [UUID] {
        let (organization, expired) = try await lockHold(holdID, caller: caller, in: transaction)
        guard !expired else {
            throw RPCError(.failedPrecondition, "hold \(holdID.uuidString.lowercased()) has expired; reserve again")
        }
        let rows = try await transaction.query(
            "UPDATE assignments SET state = 'assigned', hold_id = NULL, assigned_at = now() WHERE hold_id = $1 RETURNING number_id", [holdID])
        try await transaction.execute("DELETE FROM holds WHERE id = $1", [holdID])
        let ids = try rows.map { try $0.decode(UUID.self, column: "number_id") }
        for id in ids {
            try await changes.history("assigned", actor: caller.description, numberID: id, organizationID: organization, in: transaction)
        }
        return ids
    }

    private func assignedResponse(_ ids: [UUID], in transaction: Transaction) async throws -> AssignmentV1.AssignedNumbersResponse {
        var response = AssignmentV1.AssignedNumbersResponse()
        response.numbers = try await OrganizationNumbers.load(ids: ids, in: transaction)
        response.consistencyToken = UInt64(try await changes.publishNumbers(ids, in: transaction) ?? 0)
        return response
    }

    private func holdSeconds(_ requested: UInt32) throws(RPCError) -> UInt32 {
        guard requested <= Self.maximumHoldSeconds else {
            throw RPCError.invalidArgument(field: "hold_seconds", "must be at most \(Self.maximumHoldSeconds)")
        }
        return requested == 0 ? Self.defaultHoldSeconds : requested
    }

    static func uuid(_ text: String, field: String) throws(RPCError) -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw RPCError.invalidArgument(field: field, text.isEmpty ? "is required" : "is not a UUID")
        }
        return id
    }
}

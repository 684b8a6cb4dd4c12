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
            // The planner's row count (exact after VACUUM; a hint either way)
            // sizes the tables without counting a million rows first, with 5%
            // to spare: an estimate short by one row made the index tables
            // grow by half (5 MB resident for a million numbers, unused).
            let estimate = try await transaction.query(
                "SELECT greatest(reltuples, 0)::int8 AS n FROM pg_class WHERE oid = to_regclass('numbers')")
            let expected = Int(try estimate.first?.decode(Int64.self, column: "n") ?? 0)
            var state = RouteState(expectedNumbers: expected + expected / 20)
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
            // Binary COPY streams the rows: Postgres produces them while a
            // database thread decodes them (no string per cell, no text forms of
            // uuid and bytea) and this task loads earlier batches into memory.
            try await transaction.copyOut("SELECT \(LoadedNumber.columns) FROM numbers", transform: LoadedNumber.init) { batch in
                // Read in place: an array's subscript copied each row out (a memmove
                // and a retain and release of each of its strings).
                batch.withUnsafeBufferPointer { state.load($0) }
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

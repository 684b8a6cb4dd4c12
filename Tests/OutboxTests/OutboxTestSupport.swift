import Outbox
import Store
import TestSupport

/// A scratch schema with the outbox and consumer-position tables migrated in.
func withOutbox<Result>(
    maxConnections: Int = 8,
    _ body: (Outbox, TestRole, Database) async throws -> Result
) async throws -> Result {
    try await TestPostgres.withRole(prefix: "ob", maxConnections: maxConnections) { role, database in
        try await database.migrate(schema: role.schema, [
            Outbox.migration(version: 1),
            ConsumerPositions.migration(version: 2),
        ])
        return try await body(Outbox(database: database, schema: role.schema), role, database)
    }
}

extension Array where Element == UInt8 {
    /// Test payloads are readable text.
    init(text: String) { self = Array(text.utf8) }
}

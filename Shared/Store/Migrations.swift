import Logging

/// One versioned schema change. Once applied, its SQL must never change: the
/// store records a checksum and refuses to start if it differs.
public struct Migration: Sendable, Hashable {
    /// Position in the sequence; applied in ascending order, each exactly once.
    public var version: Int
    /// Short description, recorded alongside the version.
    public var name: String
    /// One or more statements without parameters, run inside one transaction with
    /// `search_path` set to the schema (so unqualified names land there). Must not
    /// contain COMMIT.
    public var sql: String

    /// A migration with its version, name and SQL.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

extension Database {
    /// Applies the pending `migrations` to `schema`, which must already exist and
    /// be owned by (or writable for) this database's role. Holds a session-level
    /// advisory lock keyed on the schema name for the whole run, so replicas that
    /// start together apply each migration once. Throws `migrationFailed` if an
    /// applied migration's SQL changed. Returns the versions applied by this call.
    @discardableResult
    public func migrate(schema: String, _ migrations: [Migration]) async throws -> [Int] {
        try Self.validate(migrations)
        var logger = logger
        logger[metadataKey: StoreLog.schema] = "\(schema)"
        let lockKey = "schema_migrations:" + schema
        return try await withConnection { connection in
            try await connection.execute("SELECT pg_advisory_lock(hashtext($1))", [lockKey])
            do {
                let applied = try await Self.migrateLocked(
                    schema: schema, migrations: migrations, connection: connection, logger: logger
                )
                try await connection.execute("SELECT pg_advisory_unlock(hashtext($1))", [lockKey])
                return applied
            } catch {
                // A broken session already lost its lock; otherwise release it before reuse.
                if !connection.isBroken {
                    if !connection.isIdle { _ = try? await connection.execute("ROLLBACK") }
                    _ = try? await connection.execute("SELECT pg_advisory_unlock(hashtext($1))", [lockKey])
                }
                throw error
            }
        }
    }

    private static func migrateLocked(
        schema: String,
        migrations: [Migration],
        connection: Connection,
        logger: Logger
    ) async throws -> [Int] {
        let exists = try await connection.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])
        guard !exists.isEmpty else {
            throw DatabaseError(code: .migrationFailed, message: "schema \(schema) does not exist; create it in the bootstrap")
        }
        let table = Identifier.quoted(schema) + ".schema_migrations"
        try await connection.execute("""
            CREATE TABLE IF NOT EXISTS \(table) (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)

        let checksums = try await connection.query("""
            SELECT encode(sha256(convert_to(script, 'UTF8')), 'hex') AS checksum
              FROM unnest($1::text[]) WITH ORDINALITY AS m(script, position)
             ORDER BY position
            """, [migrations.map(\.sql)]).map { try $0.decode(String.self, column: "checksum") }

        var appliedChecksums: [Int: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM \(table)") {
            appliedChecksums[try row.decode(Int.self, column: "version")] = try row.decode(String.self, column: "checksum")
        }

        var pending: [(Migration, String)] = []
        for (migration, checksum) in zip(migrations, checksums).sorted(by: { $0.0.version < $1.0.version }) {
            if let recorded = appliedChecksums[migration.version] {
                guard recorded == checksum else {
                    throw DatabaseError(
                        code: .migrationFailed,
                        message: "migration \(migration.version) (\(migration.name)) in schema \(schema) changed after it was applied"
                    )
                }
            } else {
                pending.append((migration, checksum))
            }
        }

        var applied: [Int] = []
        for (migration, checksum) in pending {
            try await connection.execute("BEGIN")
            do {
                try await connection.execute("SELECT set_config('search_path', $1, true)", [Identifier.quoted(schema)])
                try await connection.executeScript(migration.sql)
                try await connection.execute(
                    "INSERT INTO \(table) (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, checksum]
                )
                try await connection.execute("COMMIT")
            } catch var error as DatabaseError {
                if !connection.isBroken { _ = try? await connection.execute("ROLLBACK") }
                if error.code != .connectionLost {
                    error.message = "migration \(migration.version) (\(migration.name)) in schema \(schema) failed: " + error.message
                    error.code = .migrationFailed
                }
                throw error
            }
            logger.info("applied migration", metadata: [StoreLog.migration: "\(migration.version) \(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }

    private static func validate(_ migrations: [Migration]) throws {
        var seen = Set<Int>()
        for migration in migrations {
            guard migration.version > 0, seen.insert(migration.version).inserted else {
                throw DatabaseError(
                    code: .migrationFailed,
                    message: "migration versions must be positive and unique (\(migration.version))"
                )
            }
        }
    }
}

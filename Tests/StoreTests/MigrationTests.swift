import Store
import TestSupport
import Testing

@Suite("Migrations")
struct MigrationTests {
    static let migrations = [
        Migration(version: 1, name: "create numbers", sql: """
            CREATE TABLE numbers (id bigserial PRIMARY KEY, e164 text NOT NULL UNIQUE);
            CREATE TABLE applied_log (version int);
            """),
        Migration(version: 2, name: "seed", sql: "INSERT INTO applied_log VALUES (2);"),
        Migration(version: 3, name: "add label", sql: """
            ALTER TABLE numbers ADD COLUMN label text;
            INSERT INTO applied_log VALUES (3);
            """),
    ]

    @Test("four instances migrating at once apply each migration exactly once")
    func concurrentMigrations() async throws {
        try await TestPostgres.withRole { role, _ in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        // Separate Database instances, like replicas starting together.
                        let database = Database(configuration: role.configuration(), logger: TestPostgres.logger)
                        do {
                            let versions = try await database.migrate(schema: role.schema, Self.migrations)
                            await database.close()
                            return versions
                        } catch {
                            await database.close()
                            throw error
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == [1, 2, 3])

            let database = Database(configuration: role.configuration(), logger: TestPostgres.logger)
            let log = try await database.query("SELECT version FROM applied_log ORDER BY version")
            #expect(try log.map { try $0.decode(Int.self, column: "version") } == [2, 3])
            let recorded = try await database.query("SELECT version, name FROM \(role.schema).schema_migrations ORDER BY version")
            #expect(try recorded.map { try $0.decode(String.self, column: "name") } == ["create numbers", "seed", "add label"])
            // Running again is a no-op.
            #expect(try await database.migrate(schema: role.schema, Self.migrations) == [])
            await database.close()
        }
    }

    @Test("new migrations are applied on top of old ones, in version order")
    func incremental() async throws {
        try await TestPostgres.withRole { role, database in
            #expect(try await database.migrate(schema: role.schema, Array(Self.migrations.prefix(1))) == [1])
            #expect(try await database.migrate(schema: role.schema, Self.migrations.reversed()) == [2, 3])
            let columns = try await database.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'numbers' ORDER BY ordinal_position",
                [role.schema]
            )
            #expect(try columns.map { try $0.decode(String.self, at: 0) } == ["id", "e164", "label"])
        }
    }

    @Test("a changed migration is refused and nothing further is applied")
    func changedChecksum() async throws {
        try await TestPostgres.withRole { role, database in
            try await database.migrate(schema: role.schema, Array(Self.migrations.prefix(2)))
            var edited = Self.migrations
            edited[1].sql = "INSERT INTO applied_log VALUES (22);"
            let error = await #expect(throws: DatabaseError.self) {
                try await database.migrate(schema: role.schema, edited)
            }
            #expect(error?.code == .migrationFailed)
            #expect(error?.message.contains("migration 2") == true)
            let versions = try await database.query("SELECT version FROM schema_migrations ORDER BY version")
            #expect(try versions.map { try $0.decode(Int.self, at: 0) } == [1, 2])
            // The advisory lock was released: a correct list still migrates.
            #expect(try await database.migrate(schema: role.schema, Self.migrations) == [3])
        }
    }

    @Test("a failing migration rolls back entirely and reports its version")
    func failingMigration() async throws {
        try await TestPostgres.withRole { role, database in
            let broken = [
                Migration(version: 1, name: "half", sql: "CREATE TABLE half (v int); SELECT * FROM no_such_table;"),
            ]
            let error = await #expect(throws: DatabaseError.self) {
                try await database.migrate(schema: role.schema, broken)
            }
            #expect(error?.code == .migrationFailed)
            #expect(error?.sqlState == "42P01")
            let tables = try await database.query("SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'half'", [role.schema])
            #expect(tables.isEmpty)
        }
    }

    @Test("duplicate versions and missing schemas are refused")
    func invalidInput() async throws {
        try await TestPostgres.withRole { role, database in
            let duplicate = [Self.migrations[0], Migration(version: 1, name: "again", sql: "SELECT 1")]
            await #expect(throws: DatabaseError.self) { try await database.migrate(schema: role.schema, duplicate) }
            let error = await #expect(throws: DatabaseError.self) {
                try await database.migrate(schema: role.schema + "_missing", Self.migrations)
            }
            #expect(error?.code == .migrationFailed)
        }
    }
}

import Store
import TestSupport
import Testing

/// Each service connects as its own role and can touch only its own schema.
@Suite("Role isolation")
struct RoleIsolationTests {
    @Test("a role cannot read or write another role's schema (42501)")
    func crossSchemaAccessDenied() async throws {
        try await TestPostgres.withRole(prefix: "owner") { owner, ownerDatabase in
            try await ownerDatabase.execute("CREATE TABLE private_numbers (e164 text)")
            try await ownerDatabase.execute("INSERT INTO private_numbers VALUES ($1)", ["+14155550100"])

            try await TestPostgres.withRole(prefix: "intruder") { _, intruder in
                let table = "\(owner.schema).private_numbers"
                for sql in [
                    "SELECT * FROM \(table)",
                    "INSERT INTO \(table) VALUES ('+14155550199')",
                    "UPDATE \(table) SET e164 = 'x'",
                    "DELETE FROM \(table)",
                    "CREATE TABLE \(owner.schema).planted (v int)",
                ] {
                    let error = await #expect(throws: DatabaseError.self, "\(sql)") {
                        try await intruder.execute(sql)
                    }
                    #expect(error?.sqlState == DatabaseError.SQLState.insufficientPrivilege, "\(sql)")
                    #expect(error?.code == .permissionDenied, "\(sql)")
                }
                // Nor can it create objects in the shared public schema.
                let publicError = await #expect(throws: DatabaseError.self) {
                    try await intruder.execute("CREATE TABLE public.planted (v int)")
                }
                #expect(publicError?.sqlState == DatabaseError.SQLState.insufficientPrivilege)
                // Nor create schemas of its own.
                let schemaError = await #expect(throws: DatabaseError.self) {
                    try await intruder.execute("CREATE SCHEMA planted")
                }
                #expect(schemaError?.sqlState == DatabaseError.SQLState.insufficientPrivilege)
            }
            // The owner's data is untouched.
            let rows = try await ownerDatabase.query("SELECT e164 FROM private_numbers")
            #expect(try rows.map { try $0.decode(String.self, at: 0) } == ["+14155550100"])
        }
    }

    @Test("the bootstrap's service roles are confined to their own schemas")
    func bootstrapRoles() async throws {
        let services = ["inventory", "assignment", "lookup"]
        for service in services {
            var configuration = PostgresConfiguration(
                host: TestPostgres.host, port: TestPostgres.port, database: TestPostgres.database,
                user: service, password: TestPostgres.servicePassword(service)
            )
            configuration.pool.maxConnections = 1
            let database = Database(configuration: configuration, logger: TestPostgres.logger)
            let path = try await database.query("SELECT current_schemas(false)::text[] AS path")
            #expect(try path[0].decode([String].self, column: "path") == [service])
            for other in services where other != service {
                let error = await #expect(throws: DatabaseError.self) {
                    try await database.execute("CREATE TABLE \(other).planted (v int)")
                }
                #expect(error?.sqlState == DatabaseError.SQLState.insufficientPrivilege, "\(service) → \(other)")
            }
            await database.close()
        }
    }
}

import Foundation
import Store
import Testing
import TestSupport

extension AssignmentTests {
    /// Each service's Postgres role (db/bootstrap.sql) works in its own schema
    /// and nowhere else: every table of the other two schemas is closed to it
    /// (SQLSTATE 42501), and it cannot create objects in them, in `public`, in
    /// a new schema or as temporary tables.
    @Suite struct DatabaseRoleTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        static let services = ["inventory", "assignment", "lookup"]

        @Test func eachServiceRoleTouchesOnlyItsOwnSchema() async throws {
            // Lookup migrates its schema on start-up; the stack has migrated the other two.
            let services = try await ThreeServices.start(fixtures.stack)
            defer { Task { await services.stop() } }
            let tables = try await TestPostgres.withAdmin(maxConnections: 1) { database in
                try await database.query("""
                    SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
                     WHERE table_schema IN ('inventory', 'assignment', 'lookup') AND table_type = 'BASE TABLE'
                     ORDER BY 1, 2
                    """).map { (try $0.decode(String.self, column: "schema"), try $0.decode(String.self, column: "name")) }
            }
            var refused = 0
            for service in Self.services {
                #expect(tables.contains { $0.0 == service }, "schema \(service) has no tables")
                var configuration = PostgresConfiguration(
                    host: TestPostgres.host, port: TestPostgres.port, database: TestPostgres.database,
                    user: service, password: TestPostgres.servicePassword(service))
                configuration.pool.maxConnections = 1
                let database = Database(configuration: configuration, logger: TestPostgres.logger)
                defer { Task { await database.close() } }

                // Its own schema: the search path, reads of its tables, and writes.
                let path = try await database.query("SELECT current_schemas(false)::text[] AS path")
                #expect(try path[0].decode([String].self, column: "path") == [service])
                for (schema, table) in tables where schema == service {
                    _ = try await database.query("SELECT count(*) FROM \(schema).\(table)")
                }
                let probe = "\(service).security_probe_\(Random.token(8))"
                try await database.execute("CREATE TABLE \(probe) (v int)")
                try await database.execute("INSERT INTO \(probe) VALUES (1)")
                #expect(try await database.query("SELECT v FROM \(probe)").count == 1)
                try await database.execute("DROP TABLE \(probe)")

                // Every table of the others, and creating anything outside its schema.
                var statements: [String] = []
                for (schema, table) in tables where schema != service {
                    statements += ["SELECT * FROM \(schema).\(table) LIMIT 1", "DELETE FROM \(schema).\(table)",
                                   "INSERT INTO \(schema).\(table) DEFAULT VALUES", "TRUNCATE \(schema).\(table)"]
                }
                for other in Self.services where other != service {
                    statements.append("CREATE TABLE \(other).planted (v int)")
                }
                statements += ["CREATE TABLE public.planted (v int)", "CREATE SCHEMA planted_\(service)",
                               "CREATE TEMPORARY TABLE planted (v int)"]
                for statement in statements {
                    do {
                        try await database.execute(statement)
                        Issue.record("\(service)'s role could run: \(statement)")
                    } catch let error as DatabaseError {
                        #expect(error.sqlState == DatabaseError.SQLState.insufficientPrivilege, "\(service): \(statement): \(error)")
                        refused += 1
                    }
                }
            }
            print("database roles: \(tables.count) tables, \(refused) statements refused")
        }
    }
}

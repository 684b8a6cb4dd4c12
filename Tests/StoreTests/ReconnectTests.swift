import Store
import TestSupport
import Testing

/// Outages are simulated on a private Postgres cluster owned by each test, so
/// tests running in parallel against the shared server are never disturbed.
@Suite("Reconnecting after Postgres restarts")
struct ReconnectTests {
    @Test("after a restart the pool replaces dead connections and calls succeed")
    func restart() async throws {
        try await PrivatePostgres.with { server in
            let role = try await server.makeRole()
            let database = Database(configuration: role.configuration(maxConnections: 3), logger: TestPostgres.logger)
            try await database.execute("CREATE TABLE t (v int)")
            // Fill the pool with idle connections that the restart will kill.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for value in 1...3 {
                    group.addTask { try await database.execute("INSERT INTO t SELECT $1 FROM pg_sleep(0.05)", [value]) }
                }
                try await group.waitForAll()
            }

            try await server.restart()

            // No manual intervention: the very next calls work.
            for _ in 0..<5 {
                let count = try await database.query("SELECT count(*) AS n FROM t")
                #expect(try count[0].decode(Int.self, column: "n") == 3)
            }
            try await database.withTransaction { tx in
                try await tx.execute("INSERT INTO t VALUES (4)")
            }
            await database.close()
        }
    }

    @Test("while Postgres is down calls fail fast as unavailable; once it is back they succeed")
    func outage() async throws {
        try await PrivatePostgres.with { server in
            let role = try await server.makeRole()
            let database = Database(configuration: role.configuration(maxConnections: 2), logger: TestPostgres.logger)
            try await database.execute("CREATE TABLE t (v int)")

            try await server.stop()

            let clock = ContinuousClock()
            for attempt in 0..<3 {
                let start = clock.now
                let error = await #expect(throws: DatabaseError.self, "attempt \(attempt)") {
                    try await withTimeout(.seconds(10), "a call during the outage") {
                        try await database.execute("INSERT INTO t VALUES (1)")
                    }
                }
                #expect(error?.code == .unavailable, "attempt \(attempt): \(String(describing: error))")
                #expect(clock.now - start < .seconds(3), "a call during the outage must not hang")
            }
            let transactionError = await #expect(throws: DatabaseError.self) {
                try await database.withTransaction { tx in try await tx.execute("INSERT INTO t VALUES (1)") }
            }
            #expect(transactionError?.code == .unavailable)

            try await server.start()

            try await database.execute("INSERT INTO t VALUES (2)")
            let rows = try await database.query("SELECT v FROM t")
            #expect(try rows.map { try $0.decode(Int.self, column: "v") } == [2])
            await database.close()
        }
    }

    @Test("a connection that dies while borrowed reports connectionLost and is not reused")
    func lostWhileBorrowed() async throws {
        try await PrivatePostgres.with { server in
            let role = try await server.makeRole()
            let database = Database(configuration: role.configuration(maxConnections: 1), logger: TestPostgres.logger)
            let error = await #expect(throws: DatabaseError.self) {
                try await database.withConnection { connection in
                    try await connection.execute("SELECT 1")
                    try await server.restart()
                    try await connection.execute("SELECT 1")
                }
            }
            #expect(error?.code == .connectionLost)
            #expect(try await database.query("SELECT 42 AS v")[0].decode(Int.self, column: "v") == 42)
            await database.close()
        }
    }

    @Test("a session killed by the server is replaced transparently")
    func terminatedBackend() async throws {
        try await TestPostgres.withRole { role, database in
            let pid = try await database.query("SELECT pg_backend_pid() AS pid")[0].decode(Int32.self, column: "pid")
            try await TestPostgres.withAdmin { admin in
                try await admin.execute("SELECT pg_terminate_backend($1)", [pid])
            }
            try await Task.sleep(for: .milliseconds(100))
            let newPID = try await database.query("SELECT pg_backend_pid() AS pid")[0].decode(Int32.self, column: "pid")
            #expect(newPID != pid)
            _ = role
        }
    }
}

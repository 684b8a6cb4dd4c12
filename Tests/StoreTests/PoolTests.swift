import Store
import TestSupport
import Testing

@Suite("Connection pool")
struct PoolTests {
    @Test("callers beyond the pool size wait, and fail with a timeout when nothing frees up")
    func boundedWaiting() async throws {
        var configuration = TestPostgres.adminConfiguration(maxConnections: 1)
        configuration.pool.acquireTimeout = .milliseconds(300)
        let database = Database(configuration: configuration, logger: TestPostgres.logger)
        try await database.execute("SELECT 1")

        // A short hold: the waiter gets the connection once it is released.
        async let shortHold: Void = database.withConnection { connection in
            try await connection.execute("SELECT pg_sleep(0.1)")
        }
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await database.query("SELECT 2 AS two")[0].decode(Int.self, column: "two") == 2)
        try await shortHold

        // A long hold: the waiter gives up after acquireTimeout with a clear error.
        async let longHold: Void = database.withConnection { connection in
            try await connection.execute("SELECT pg_sleep(1.5)")
        }
        try await Task.sleep(for: .milliseconds(50))
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: DatabaseError.self) { try await database.execute("SELECT 3") }
        #expect(error?.code == .timeout)
        #expect(clock.now - start < .seconds(1))
        try await longHold
        await database.close()
    }

    @Test("many concurrent callers share a small pool without exceeding it")
    func concurrency() async throws {
        try await TestPostgres.withAdmin(maxConnections: 3) { database in
            let results = try await withThrowingTaskGroup(of: (Int, Int32).self) { group in
                for value in 1...60 {
                    group.addTask {
                        let row = try await database.query(
                            "SELECT $1::bigint AS v, pg_backend_pid() AS pid, pg_sleep(0.01)", [value]
                        )[0]
                        return (try row.decode(Int.self, column: "v"), try row.decode(Int32.self, column: "pid"))
                    }
                }
                return try await group.reduce(into: [(Int, Int32)]()) { $0.append($1) }
            }
            let sum = results.map(\.0).reduce(0, +)
            #expect(sum == 60 * 61 / 2)
            #expect(Set(results.map(\.1)).count <= 3)
        }
    }

    @Test("a statement timeout is reported as a timeout and the connection stays usable")
    func statementTimeout() async throws {
        var configuration = TestPostgres.adminConfiguration(maxConnections: 1)
        configuration.statementTimeout = .milliseconds(100)
        let database = Database(configuration: configuration, logger: TestPostgres.logger)
        let error = await #expect(throws: DatabaseError.self) { try await database.execute("SELECT pg_sleep(2)") }
        #expect(error?.code == .timeout)
        #expect(error?.sqlState == DatabaseError.SQLState.queryCanceled)
        #expect(try await database.query("SELECT 1 AS one")[0].decode(Int.self, column: "one") == 1)
        await database.close()
    }

    @Test("after close, calls fail with shutdown")
    func closed() async throws {
        let database = Database(configuration: TestPostgres.adminConfiguration(), logger: TestPostgres.logger)
        try await database.execute("SELECT 1")
        await database.close()
        let error = await #expect(throws: DatabaseError.self) { try await database.execute("SELECT 1") }
        #expect(error?.code == .shutdown)
    }
}

import Store
import TestSupport
import Testing

@Suite("Transactions")
struct TransactionTests {
    @Test("a transaction commits when the body returns and rolls back when it throws")
    func commitAndRollback() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE t (v text)")
            try await database.withTransaction { tx in
                try await tx.execute("INSERT INTO t VALUES ($1)", ["kept"])
            }
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await database.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES ($1)", ["discarded"])
                    throw Boom()
                }
            }
            let rows = try await database.query("SELECT v FROM t")
            #expect(try rows.map { try $0.decode(String.self, column: "v") } == ["kept"])
        }
    }

    @Test("a body that swallows a statement error does not commit half its work")
    func abortedTransaction() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE t (v text UNIQUE)")
            try await database.execute("INSERT INTO t VALUES ('taken')")
            let error = await #expect(throws: DatabaseError.self) {
                try await database.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES ($1)", ["first"])
                    _ = try? await tx.execute("INSERT INTO t VALUES ($1)", ["taken"])
                }
            }
            #expect(error?.code == .uniqueViolation)
            #expect(try await database.query("SELECT v FROM t WHERE v = 'first'").isEmpty)
        }
    }

    @Test("conflicting serializable transactions both commit, one of them after a retry")
    func serializationRetry() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE doctors (name text PRIMARY KEY, on_call boolean NOT NULL)")
            try await database.execute("INSERT INTO doctors VALUES ('alice', true), ('bob', true)")
            let attempts = Counter()
            let barrier = Barrier(parties: 2)
            // Write skew: each reads the whole table, then inserts. Serializable
            // isolation must abort one (40001); withTransaction runs it again.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in ["carol", "dave"] {
                    group.addTask {
                        try await database.withTransaction(isolation: .serializable) { tx in
                            await attempts.increment()
                            let count = try await tx.query("SELECT count(*) AS n FROM doctors WHERE on_call")
                            _ = try count[0].decode(Int.self, column: "n")
                            if tx.attempt == 1 { await barrier.arriveAndWait() }
                            try await tx.execute("INSERT INTO doctors VALUES ($1, true)", [name])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await attempts.value == 3)
            let names = try await database.query("SELECT name FROM doctors ORDER BY name")
            #expect(try names.map { try $0.decode(String.self, column: "name") } == ["alice", "bob", "carol", "dave"])
        }
    }

    @Test("retries stop after maxAttempts and surface the serialization failure")
    func retryBound() async throws {
        try await TestPostgres.withRole { _, database in
            let attempts = Counter()
            let error = await #expect(throws: DatabaseError.self) {
                try await database.withTransaction(maxAttempts: 3) { tx in
                    await attempts.increment()
                    // Raise 40001 the way a conflict would.
                    try await tx.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$")
                }
            }
            #expect(error?.code == .serializationFailure)
            #expect(await attempts.value == 3)
        }
    }

    @Test("a deadlock victim is retried and both transactions commit")
    func deadlockRetry() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
            try await database.execute("INSERT INTO accounts VALUES (1, 100), (2, 100)")
            let attempts = Counter()
            let barrier = Barrier(parties: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (first, second) in [(1, 2), (2, 1)] {
                    group.addTask {
                        try await database.withTransaction { tx in
                            await attempts.increment()
                            try await tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = $1", [first])
                            if tx.attempt == 1 { await barrier.arriveAndWait() }
                            try await tx.execute("UPDATE accounts SET balance = balance + 10 WHERE id = $1", [second])
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await attempts.value == 3)
            let total = try await database.query("SELECT sum(balance)::bigint AS total FROM accounts")
            #expect(try total[0].decode(Int.self, column: "total") == 200)
        }
    }

    @Test("read-only transactions refuse writes")
    func readOnly() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE t (v int)")
            let error = await #expect(throws: DatabaseError.self) {
                try await database.withTransaction(readOnly: true) { tx in
                    try await tx.execute("INSERT INTO t VALUES (1)")
                }
            }
            #expect(error?.sqlState == "25006")
        }
    }
}

/// Counts runs of a transaction body across tasks.
actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}

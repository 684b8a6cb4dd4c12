import Outbox
import Store
import TestSupport
import Testing

@Suite("Consumer positions")
struct ConsumerPositionTests {
    @Test("the position and the change commit or roll back together")
    func sameTransaction() async throws {
        try await withOutbox { _, role, database in
            let positions = ConsumerPositions(schema: role.schema)
            try await database.execute("CREATE TABLE projection (number text PRIMARY KEY)")
            #expect(try await positions.load(stream: "inventory", from: database) == 0)

            struct ApplyFailed: Error {}
            await #expect(throws: ApplyFailed.self) {
                try await database.withTransaction { tx in
                    #expect(try await positions.lock(stream: "inventory", in: tx) == 0)
                    try await tx.execute("INSERT INTO projection VALUES ($1)", ["+14155550100"])
                    try await positions.set(stream: "inventory", position: 1, in: tx)
                    throw ApplyFailed()
                }
            }
            #expect(try await positions.load(stream: "inventory", from: database) == 0)
            #expect(try await database.query("SELECT * FROM projection").isEmpty)

            try await database.withTransaction { tx in
                #expect(try await positions.lock(stream: "inventory", in: tx) == 0)
                try await tx.execute("INSERT INTO projection VALUES ($1)", ["+14155550100"])
                try await positions.set(stream: "inventory", position: 1, in: tx)
            }
            #expect(try await positions.load(stream: "inventory", from: database) == 1)
            #expect(try await database.query("SELECT * FROM projection").count == 1)
            // Streams are independent.
            #expect(try await positions.load(stream: "assignment", from: database) == 0)
        }
    }

    @Test("appliers of one stream take turns: the second sees what the first stored")
    func lockedAppliersTakeTurns() async throws {
        try await withOutbox { _, role, database in
            let positions = ConsumerPositions(schema: role.schema)
            try await database.withTransaction { tx in
                _ = try await positions.lock(stream: "r", in: tx)
                try await positions.set(stream: "r", position: 1, in: tx)
            }
            let firstHoldsTheLock = Barrier(parties: 2)
            async let first: Void = database.withTransaction { tx in
                #expect(try await positions.lock(stream: "r", in: tx) == 1)
                if tx.attempt == 1 { await firstHoldsTheLock.arriveAndWait() }
                try await Task.sleep(for: .milliseconds(300))
                try await positions.set(stream: "r", position: 2, in: tx)
            }
            await firstHoldsTheLock.arriveAndWait()
            // Without the row lock this would read the committed 1 at once.
            let seenBySecond = try await database.withTransaction { tx in
                try await positions.lock(stream: "r", in: tx)
            }
            try await first
            #expect(seenBySecond == 2)
            #expect(try await positions.load(stream: "r", from: database) == 2)
        }
    }
}

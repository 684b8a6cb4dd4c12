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
                    try await tx.execute("INSERT INTO projection VALUES ($1)", ["+14155550100"])
                    try await positions.store(stream: "inventory", position: 1, in: tx)
                    throw ApplyFailed()
                }
            }
            #expect(try await positions.load(stream: "inventory", from: database) == 0)
            #expect(try await database.query("SELECT * FROM projection").isEmpty)

            try await database.withTransaction { tx in
                #expect(try await positions.load(stream: "inventory", in: tx) == 0)
                try await tx.execute("INSERT INTO projection VALUES ($1)", ["+14155550100"])
                try await positions.store(stream: "inventory", position: 1, in: tx)
            }
            #expect(try await positions.load(stream: "inventory", from: database) == 1)
            #expect(try await database.query("SELECT * FROM projection").count == 1)
            // Streams are independent.
            #expect(try await positions.load(stream: "assignment", from: database) == 0)
        }
    }

    @Test("skipping a position or applying one twice is refused, and the change rolls back")
    func guards() async throws {
        try await withOutbox { _, role, database in
            let positions = ConsumerPositions(schema: role.schema)
            try await database.execute("CREATE TABLE projection (v bigint)")
            for position: Int64 in 1...2 {
                try await database.withTransaction { tx in
                    try await tx.execute("INSERT INTO projection VALUES ($1)", [position])
                    try await positions.store(stream: "s", position: position, in: tx)
                }
            }

            let skip = await #expect(throws: ConsumerPositionError.self) {
                try await database.withTransaction { tx in
                    try await tx.execute("INSERT INTO projection VALUES (4)")
                    try await positions.store(stream: "s", position: 4, in: tx)
                }
            }
            #expect(skip?.stored == 2)
            #expect(skip?.isDuplicate == false)

            let duplicate = await #expect(throws: ConsumerPositionError.self) {
                try await database.withTransaction { tx in
                    try await tx.execute("INSERT INTO projection VALUES (2)")
                    try await positions.store(stream: "s", position: 2, in: tx)
                }
            }
            #expect(duplicate?.isDuplicate == true)

            // First event must be 1, not anything later.
            await #expect(throws: ConsumerPositionError.self) {
                try await database.withTransaction { tx in
                    try await positions.store(stream: "fresh", position: 5, in: tx)
                }
            }

            let values = try await database.query("SELECT v FROM projection ORDER BY v")
            #expect(try values.map { try $0.decode(Int64.self, at: 0) } == [1, 2])
            #expect(try await positions.load(stream: "s", from: database) == 2)
        }
    }

    @Test("a filtered reader may advance over positions it did not want, from exactly where it is")
    func advance() async throws {
        try await withOutbox { _, role, database in
            let positions = ConsumerPositions(schema: role.schema)
            try await database.withTransaction { tx in
                try await positions.advance(stream: "f", from: 0, to: 7, in: tx)
            }
            await #expect(throws: ConsumerPositionError.self) {
                try await database.withTransaction { tx in
                    try await positions.advance(stream: "f", from: 5, to: 9, in: tx)
                }
            }
            await #expect(throws: ConsumerPositionError.self) {
                try await database.withTransaction { tx in
                    try await positions.advance(stream: "f", from: 7, to: 7, in: tx)
                }
            }
            #expect(try await positions.load(stream: "f", from: database) == 7)
        }
    }

    @Test("two appliers racing on the same event: exactly one wins")
    func racingAppliers() async throws {
        try await withOutbox { _, role, database in
            let positions = ConsumerPositions(schema: role.schema)
            try await database.execute("CREATE TABLE applied (by text)")
            try await database.withTransaction { tx in
                try await positions.store(stream: "r", position: 1, in: tx)
            }
            let bothLoaded = Barrier(parties: 2)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for name in ["a", "b"] {
                    group.addTask {
                        do {
                            try await database.withTransaction { tx in
                                _ = try await positions.load(stream: "r", in: tx)
                                if tx.attempt == 1 { await bothLoaded.arriveAndWait() }
                                try await tx.execute("INSERT INTO applied VALUES ($1)", [name])
                                try await positions.store(stream: "r", position: 2, in: tx)
                            }
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await database.query("SELECT * FROM applied").count == 1)
            #expect(try await positions.load(stream: "r", from: database) == 2)
        }
    }
}

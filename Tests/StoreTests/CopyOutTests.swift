import Foundation
import Store
import TestSupport
import Testing

/// Binary COPY streaming, as lookup's start-up load uses it.
@Suite("Binary COPY out")
struct CopyOutTests {
    struct Row: Sendable, Equatable {
        var id: Int64?
        var small: Int64?
        var flag: Bool?
        var uuid: UUID?
        var bytes: [UInt8]?
        var text: String?

        init(_ row: CopyRow) {
            id = row.int64(0)
            small = row.int64(1)
            flag = row.bool(2)
            uuid = row.uuid(3)
            bytes = row.bytea(4)
            text = row.string(5)
        }

        init(id: Int64?, small: Int64?, flag: Bool?, uuid: UUID?, bytes: [UInt8]?, text: String?) {
            (self.id, self.small, self.flag, self.uuid, self.bytes, self.text) = (id, small, flag, uuid, bytes, text)
        }
    }

    static func seed(_ database: Database, rows: Int) async throws -> [Row] {
        try await database.execute("""
            CREATE TABLE copied (id bigint PRIMARY KEY, small smallint, flag boolean, uuid uuid, bytes bytea, text text)
            """)
        var expected: [Row] = []
        for index in 0..<rows {
            let row = index % 7 == 3
                ? Row(id: Int64(index) + 1_000, small: nil, flag: nil, uuid: nil, bytes: nil, text: nil)
                : Row(id: Int64(index) - 12, small: Int64(index % 2 == 0 ? -32768 : 32767), flag: index % 2 == 0,
                      uuid: UUID(), bytes: (0..<(index % 40)).map { UInt8(truncatingIfNeeded: $0 * 37) },
                      text: index % 5 == 0 ? "" : "ünï \(index) \u{1F4DE}")
            try await database.execute("INSERT INTO copied VALUES ($1, $2, $3, $4, $5, $6)",
                                       [row.id, row.small.map { Int32($0) }, row.flag, row.uuid, row.bytes, row.text])
            expected.append(row)
        }
        return expected.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
    }

    @Test("every row arrives once, in order, in batches of the requested size, with NULLs and every type intact")
    func rowsAndBatches() async throws {
        try await TestPostgres.withRole { _, database in
            let expected = try await Self.seed(database, rows: 25)
            var batches: [Int] = []
            var rows: [Row] = []
            try await database.withTransaction(isolation: .repeatableRead, readOnly: true) { transaction in
                try await transaction.copyOut("SELECT id, small, flag, uuid, bytes, text FROM copied ORDER BY id",
                                              batchSize: 10, depth: 1, transform: Row.init) { batch in
                    batches.append(batch.count)
                    rows += batch
                }
            }
            #expect(batches == [10, 10, 5])
            #expect(rows == expected)
        }
    }

    @Test("a failing query and a failing consumer both throw, and the session goes on working")
    func failures() async throws {
        try await TestPostgres.withRole { _, database in
            _ = try await Self.seed(database, rows: 30)
            struct Stop: Error {}
            await #expect(throws: DatabaseError.self) {
                try await database.withTransaction { transaction in
                    try await transaction.copyOut("SELECT nope FROM copied", transform: Row.init) { _ in }
                }
            }
            try await database.withTransaction { transaction in
                var seen = 0
                await #expect(throws: Stop.self) {
                    try await transaction.copyOut("SELECT id, small, flag, uuid, bytes, text FROM copied",
                                                  batchSize: 4, depth: 1, transform: Row.init) { batch in
                        seen += batch.count
                        if seen >= 8 { throw Stop() }
                    }
                }
                #expect(seen == 8)
                // The COPY was read to its end: the same session answers the next statement.
                let count = try await transaction.query("SELECT count(*) FROM copied")
                #expect(try count[0].decode(Int.self, at: 0) == 30)
            }
        }
    }
}

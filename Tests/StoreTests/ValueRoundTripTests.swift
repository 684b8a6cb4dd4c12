import Foundation
import Store
import TestSupport
import Testing

/// Parameters travel apart from SQL and come back as the same Swift values.
@Suite("Parameters and typed rows")
struct ValueRoundTripTests {
    static let awkwardStrings = [
        "",
        "plain",
        "O'Reilly",
        "'; DROP TABLE words; --",
        "\"double\" and `back` quotes",
        "back\\slash \\x00 and $1 and $$dollar$$",
        "line\nbreak\ttab\r",
        "ünïcødé — 电话号码 — ☎️👩🏽‍💻 — عربى",
        "{\"json\": [1, 2]}",
        String(repeating: "long-string-", count: 20_000),
    ]

    @Test("strings with quotes, injection attempts, unicode and long text round-trip unchanged")
    func strings() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE words (id bigint PRIMARY KEY, word text NOT NULL)")
            for (index, word) in Self.awkwardStrings.enumerated() {
                try await database.execute("INSERT INTO words (id, word) VALUES ($1, $2)", [index, word])
            }
            let rows = try await database.query("SELECT id, word FROM words ORDER BY id")
            #expect(try rows.map { try $0.decode(String.self, column: "word") } == Self.awkwardStrings)
            // The injection attempt stayed data: the table is still there and so is the row.
            let found = try await database.query("SELECT count(*) FROM words WHERE word = $1", ["'; DROP TABLE words; --"])
            #expect(try found[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test("every supported type round-trips through typed columns")
    func everyType() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("""
                CREATE TABLE everything (
                    i bigint, i32 integer, b boolean, d double precision, bytes bytea,
                    id uuid, at timestamptz, names text[], numbers bigint[], s text
                )
                """)
            let allBytes = (0...255).map(UInt8.init)
            let id = UUID()
            let at = Date(timeIntervalSince1970: 1_700_000_000.123456)
            let names = ["a,b", "{brace}", "quote\"d", "back\\slash", "NULL", "", "spaced out", "ünï"]
            let cases: [(Int, Int32, Bool, Double, [UInt8], Date)] = [
                (Int.max, Int32.max, true, 0.1, allBytes, at),
                (Int.min, Int32.min, false, -1.5e300, [], Date(timeIntervalSince1970: -2_208_988_800.5)),
                (0, 0, true, .infinity, [0], Date(timeIntervalSince1970: 0)),
            ]
            for (i, i32, b, d, bytes, date) in cases {
                try await database.execute("DELETE FROM everything")
                try await database.execute(
                    "INSERT INTO everything VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    [i, i32, b, d, bytes, id, date, names, [Int64.min, 0, Int64.max], "text"]
                )
                let row = try #require(try await database.query("SELECT * FROM everything").first)
                #expect(try row.decode(Int.self, column: "i") == i)
                #expect(try row.decode(Int64.self, column: "i") == Int64(i))
                #expect(try row.decode(Int32.self, column: "i32") == i32)
                #expect(try row.decode(Bool.self, column: "b") == b)
                #expect(try row.decode(Double.self, column: "d") == d)
                #expect(try row.decode([UInt8].self, column: "bytes") == bytes)
                #expect(try row.decode(UUID.self, column: "id") == id)
                let decodedDate = try row.decode(Date.self, column: "at")
                #expect(abs(decodedDate.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
                #expect(try row.decode([String].self, column: "names") == names)
                #expect(try row.decode([Int64].self, column: "numbers") == [Int64.min, 0, Int64.max])
                #expect(try row[9, as: String.self] == "text")
            }
            // NaN is not equal to itself, so check it on its own.
            let nan = try await database.query("SELECT $1::float8 AS d", [Double.nan])
            #expect(try nan[0].decode(Double.self, column: "d").isNaN)
            let empty = try await database.query("SELECT $1::text[] AS a", [[String]()])
            #expect(try empty[0].decode([String].self, column: "a") == [])
        }
    }

    @Test("timestamps keep microseconds and the server agrees on the instant")
    func timestamps() async throws {
        try await TestPostgres.withAdmin { database in
            let date = Date(timeIntervalSince1970: 1_234_567_890.654321)
            let row = try #require(try await database.query(
                "SELECT $1::timestamptz AS at, extract(epoch FROM $1::timestamptz)::text AS epoch", [date]
            ).first)
            #expect(try row.decode(String.self, column: "epoch") == "1234567890.654321")
            #expect(abs(try row.decode(Date.self, column: "at").timeIntervalSince(date)) < 0.000_001)
            let now = try #require(try await database.query("SELECT now() AS now").first)
            #expect(abs(try now.decode(Date.self, column: "now").timeIntervalSinceNow) < 60)
        }
    }

    @Test("NULL decodes to nil for optionals and is an error naming the column otherwise")
    func nulls() async throws {
        try await TestPostgres.withAdmin { database in
            let missing: String? = nil
            let row = try #require(try await database.query(
                "SELECT $1::text AS nothing, $2::bigint AS number", [missing, nil]
            ).first)
            #expect(try row.decode(String?.self, column: "nothing") == nil)
            #expect(try row.decode(Int64?.self, column: "number") == nil)
            #expect(row.isNull(at: 0))
            let error = #expect(throws: DatabaseError.self) { try row.decode(String.self, column: "nothing") }
            #expect(error?.code == .decodingFailed)
            #expect(error?.column == "nothing")
            #expect(error.map { "\($0)" }?.contains("nothing") == true)
        }
    }

    @Test("a type mismatch names the column and not the value")
    func typeMismatch() async throws {
        try await TestPostgres.withAdmin { database in
            let row = try #require(try await database.query("SELECT $1::text AS word", ["s3cr3t-value"]).first)
            let error = #expect(throws: DatabaseError.self) { try row.decode(Int.self, column: "word") }
            #expect(error?.code == .decodingFailed)
            #expect(error?.column == "word")
            let description = error.map { "\($0)" } ?? ""
            #expect(description.contains("word"))
            #expect(!description.contains("s3cr3t"))
            let unknown = #expect(throws: DatabaseError.self) { try row.decode(String.self, column: "nope") }
            #expect(unknown?.column == "nope")
        }
    }

    @Test("a NUL character in a parameter is refused instead of truncated")
    func nulCharacter() async throws {
        try await TestPostgres.withAdmin { database in
            let error = await #expect(throws: DatabaseError.self) {
                try await database.query("SELECT $1::text", ["before\u{0}after"])
            }
            #expect(error?.sqlState == "22021")
            // The connection is still good afterwards.
            let one = try await database.query("SELECT 1 AS one")[0].decode(Int.self, column: "one")
            #expect(one == 1)
        }
    }

    @Test("arrays of every element type reach the server element for element, empty ones too")
    func binaryArrays() async throws {
        try await TestPostgres.withAdmin { database in
            let ids = [UUID(), UUID(uuidString: "00000000-0000-0000-0000-000000000000")!, UUID(uuidString: "ffffffff-ffff-4fff-bfff-ffffffffffff")!]
            let row = try #require(try await database.query("""
                SELECT $1::uuid[]::text[] AS ids, $2::bool[]::text AS flags, $3::int4[]::text AS small,
                       $4::int8[]::text AS big, $5::int8[]::text AS ints, $6::text[] AS words,
                       (SELECT string_agg(length(w)::text, ',' ORDER BY n) FROM unnest($6::text[]) WITH ORDINALITY AS u(w, n)) AS lengths,
                       cardinality($7::text[]) AS empty_text, cardinality($8::int8[]) AS empty_int,
                       cardinality($9::uuid[]) AS empty_uuid, octet_length($10::bytea) AS empty_bytes
                """, [
                    ids, [true, false, true], [Int32.min, -1, 0, Int32.max], [Int64.min, 0, Int64.max], [-7, 42],
                    Self.awkwardStrings, [String](), [Int64](), [UUID](), [UInt8](),
                ]).first)
            #expect(try row.decode([String].self, column: "ids") == ids.map { $0.uuidString.lowercased() })
            #expect(try row.decode(String.self, column: "flags") == "{t,f,t}")
            #expect(try row.decode(String.self, column: "small") == "{-2147483648,-1,0,2147483647}")
            #expect(try row.decode(String.self, column: "big") == "{-9223372036854775808,0,9223372036854775807}")
            #expect(try row.decode(String.self, column: "ints") == "{-7,42}")
            #expect(try row.decode([String].self, column: "words") == Self.awkwardStrings)
            #expect(try row.decode(String.self, column: "lengths") == Self.awkwardStrings.map { String($0.unicodeScalars.count) }.joined(separator: ","))
            for column in ["empty_text", "empty_int", "empty_uuid", "empty_bytes"] {
                #expect(try row.decode(Int.self, column: column) == 0, "\(column)")
            }
        }
    }

    @Test("a NUL character inside a text array element is refused, naming the parameter")
    func nulInArray() async throws {
        try await TestPostgres.withAdmin { database in
            let error = await #expect(throws: DatabaseError.self) {
                try await database.query("SELECT $1::bigint, $2::text[]", [1, ["fine", "bad\u{0}tail"]])
            }
            #expect(error?.sqlState == "22021")
            #expect(error?.message.contains("$2") == true)
        }
    }

    @Test("errors expose SQLSTATE and keep values out of the description")
    func uniqueViolation() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE secrets (value text CONSTRAINT secrets_value_key UNIQUE)")
            try await database.execute("INSERT INTO secrets VALUES ($1)", ["hunter2-credential"])
            let error = await #expect(throws: DatabaseError.self) {
                try await database.execute("INSERT INTO secrets VALUES ($1)", ["hunter2-credential"])
            }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.sqlState == DatabaseError.SQLState.uniqueViolation)
            #expect(error?.constraint == "secrets_value_key")
            let description = error.map { "\($0)" } ?? ""
            #expect(!description.contains("hunter2"))
            // The details are there for developers who ask for them.
            #expect(error.map { String(reflecting: $0) }?.contains("hunter2") == true)
        }
    }

    @Test("affected row counts are reported")
    func affectedRows() async throws {
        try await TestPostgres.withRole { _, database in
            try await database.execute("CREATE TABLE n (v bigint)")
            #expect(try await database.execute("INSERT INTO n SELECT generate_series(1, $1::int)", [5]) == 5)
            #expect(try await database.execute("UPDATE n SET v = v + 1 WHERE v > $1", [2]) == 3)
            #expect(try await database.execute("DELETE FROM n") == 5)
        }
    }
}

import Foundation
@testable import Store
import Testing

/// Text-format codecs, without a server.
@Suite("Codecs")
struct CodecTests {
    @Test("timestamps format and parse symmetrically, before and after 1970")
    func timestamps() throws {
        for seconds in [0, 1_700_000_000.123456, -1_000_000_000.5, 4_102_444_800.25] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = PostgresTimestamp.format(date)
            let parsed = try #require(PostgresTimestamp.parse(text))
            #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.000_001, "\(text)")
        }
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00.000000+00")
        #expect(PostgresTimestamp.parse("2024-02-29 23:59:59+05:30")?.timeIntervalSince1970 == 1_709_231_399)
        #expect(PostgresTimestamp.parse("2024-02-29 12:00:00.5-01")?.timeIntervalSince1970 == 1_709_211_600.5)
        #expect(PostgresTimestamp.parse("not a date") == nil)
        #expect(PostgresTimestamp.parse("2024-13-01 00:00:00+00") == nil)
    }

    @Test("array literals quote everything and parse Postgres output")
    func arrays() {
        #expect(PostgresArrayLiteral.format(["a", "b,c", "\"q\"", "\\"]) == #"{"a","b,c","\"q\"","\\"}"#)
        #expect(PostgresArrayLiteral.parse(#"{a,"b,c",NULL,"NULL","\"q\""}"#) == ["a", "b,c", nil, "NULL", "\"q\""])
        #expect(PostgresArrayLiteral.parse("{}") == [])
        #expect(PostgresArrayLiteral.parse("[0:1]={x,y}") == ["x", "y"])
        #expect(PostgresArrayLiteral.parse("{{1,2},{3,4}}") == nil)
    }

    @Test("bytea hex round-trips")
    func bytea() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff]
        let text = UInt8.postgresArrayText(bytes)
        #expect(text == "\\x00017f80ff")
        #expect(UInt8.decodePostgresArray(text) == bytes)
        #expect(UInt8.decodePostgresArray("\\xzz") == nil)
    }

    @Test("error descriptions name the code but not the server's text")
    func errorDescription() {
        var error = DatabaseError(code: .uniqueViolation, message: "a row with the same unique key already exists", sqlState: "23505")
        error.serverDetail = "Key (number)=(+14155551234) already exists."
        #expect(!error.description.contains("+1415"))
        #expect(error.debugDescription.contains("+1415"))
        #expect(DatabaseError.code(forSQLState: "40001") == .serializationFailure)
        #expect(DatabaseError.code(forSQLState: "40P01") == .deadlockDetected)
        #expect(DatabaseError.code(forSQLState: "08006") == .connectionLost)
        #expect(DatabaseError.code(forSQLState: "57P01") == .connectionLost)
    }
}

public import Store

/// Where a consumer has got to in each event stream it applies, stored in the
/// consumer's own schema and written in the same transaction as the change the
/// event caused: if that transaction rolls back, so does the position, and a
/// restart resumes exactly after the last applied event.
public struct ConsumerPositions: Sendable {
    /// The consumer's schema.
    public let schema: String

    private var table: String { SQLName.qualified(schema, "consumer_positions") }

    /// Positions kept in `schema`.
    public init(schema: String) {
        self.schema = schema
    }

    /// The migration creating the positions table; add it to a consuming service's list.
    public static func migration(version: Int) -> Migration {
        Migration(version: version, name: "create consumer positions", sql: """
            CREATE TABLE consumer_positions (
                stream text PRIMARY KEY,
                position bigint NOT NULL CHECK (position >= 0),
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            """)
    }

    /// The last applied position of `stream` (0 before the first event). Reads
    /// inside `transaction` so the value matches what this transaction will change.
    public func load(stream: String, in transaction: Transaction) async throws -> Int64 {
        let result = try await transaction.query("SELECT position FROM \(table) WHERE stream = $1", [stream])
        return try result.first?.decode(Int64.self, column: "position") ?? 0
    }

    /// The last applied position of `stream`, outside any transaction.
    public func load(stream: String, from database: Database) async throws -> Int64 {
        let result = try await database.query("SELECT position FROM \(table) WHERE stream = $1", [stream])
        return try result.first?.decode(Int64.self, column: "position") ?? 0
    }

    /// Locks `stream`'s row until the transaction ends and returns its position
    /// (0 before the first event), so replicas applying the same stream take
    /// turns and each sees what the others stored.
    public func lock(stream: String, in transaction: Transaction) async throws -> Int64 {
        try await transaction.execute(
            "INSERT INTO \(table) (stream, position) VALUES ($1, 0) ON CONFLICT (stream) DO NOTHING", [stream])
        let result = try await transaction.query("SELECT position FROM \(table) WHERE stream = $1 FOR UPDATE", [stream])
        return try result.first?.decode(Int64.self, column: "position") ?? 0
    }

    /// Sets the position of a stream locked with `lock(stream:in:)`.
    public func set(stream: String, position: Int64, in transaction: Transaction) async throws {
        try await transaction.execute(
            "UPDATE \(table) SET position = $2, updated_at = now() WHERE stream = $1", [stream, position])
    }
}

/// Events arrived that do not follow the position applied so far (a gap).
public struct ConsumerPositionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stream concerned.
    public var stream: String
    /// The position found in the table, if it was read.
    public var stored: Int64?
    /// The position that had to be stored for the update to apply.
    public var expected: Int64
    /// The position the caller tried to record.
    public var attempted: Int64

    /// Names the stream and positions; no payloads.
    public var description: String {
        "ConsumerPositionError: stream \(stream) is at \(stored.map(String.init) ?? "unknown"); "
            + "cannot move from \(expected) to \(attempted)"
    }
}

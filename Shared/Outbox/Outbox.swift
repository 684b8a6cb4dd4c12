#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import Store

/// The transactional outbox of one schema: events are written in the same
/// transaction as the change they describe and read back in commit order.
///
/// Positions are dense (1, 2, 3, … with no gaps) and equal commit order. Each
/// append takes the next number from the single `outbox_head` row inside the
/// writer's transaction, and that row stays locked until the transaction ends, so
/// a later writer waits and can only take a higher number after the earlier one
/// committed (or rolled back, returning its number). A reader therefore never
/// sees position p+1 before p. The price: writers to the same outbox serialise on
/// the head row from their first append to their commit. Append as the last step
/// of a transaction to keep that window short.
public struct Outbox: Sendable {
    /// The database holding the outbox.
    public let database: Database
    /// The schema the outbox tables live in.
    public let schema: String
    /// The channel notified (at commit) whenever events are appended: `<schema>_outbox`.
    public var channel: String { schema + "_outbox" }

    private var outboxTable: String { SQLName.qualified(schema, "outbox") }
    private var headTable: String { SQLName.qualified(schema, "outbox_head") }

    /// The outbox in `schema` of `database`.
    public init(database: Database, schema: String) {
        self.database = database
        self.schema = schema
    }

    /// The migration creating the outbox tables; add it to a producing service's list.
    /// It uses unqualified names, since migrations run with `search_path` set to the schema.
    public static func migration(version: Int) -> Migration {
        Migration(version: version, name: "create outbox", sql: """
            CREATE TABLE outbox (
                position bigint PRIMARY KEY,
                type text NOT NULL,
                aggregate_id text NOT NULL,
                payload bytea NOT NULL,
                trace_id text,
                occurred_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX outbox_type_position ON outbox (type, position);
            -- One row: the last position handed out. Its row lock orders writers.
            CREATE TABLE outbox_head (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                position bigint NOT NULL
            );
            INSERT INTO outbox_head (singleton, position) VALUES (true, 0);
            """)
    }

    /// Drops the `(type, position)` index the first migration made: every event
    /// paid for an entry in it (about a twentieth of Postgres' time per imported
    /// number, and its pages' growth), and it served only `Subscribe` calls
    /// filtered by type. Those now read in position order past other types'
    /// events, as an unfiltered subscriber reads them all. Add it after `migration`.
    public static func dropTypeIndexMigration(version: Int) -> Migration {
        Migration(version: version, name: "drop outbox type index", sql: "DROP INDEX outbox_type_position;")
    }

    /// Appends one event inside `transaction` and returns its position. The event
    /// (and the wake-up on `channel`) becomes visible only if the transaction commits.
    @discardableResult
    public func append(
        in transaction: Transaction,
        type: String,
        aggregateID: String,
        payload: [UInt8],
        traceID: String? = nil
    ) async throws -> Int64 {
        let positions = try await append(
            in: transaction,
            [NewOutboxEvent(type: type, aggregateID: aggregateID, payload: payload, traceID: traceID)]
        )
        return positions.lowerBound
    }

    /// Appends several events inside `transaction`, in order, with consecutive
    /// positions; returns them. One round trip per thousand events.
    ///
    /// One statement bumps the head by the number of events, inserts the rows
    /// after the old head and queues the notification. The events travel as a
    /// few array parameters rather than a VALUES list, so the statement's size
    /// does not grow with the batch; they are unnested in the select list, where
    /// they advance in lockstep without being stored first. The notification's
    /// payload is empty on purpose: Postgres folds identical notifications of
    /// one transaction into one, so a bulk import wakes listeners once.
    @discardableResult
    public func append(in transaction: Transaction, _ events: [NewOutboxEvent]) async throws -> ClosedRange<Int64> {
        precondition(!events.isEmpty, "append needs at least one event")
        // The transaction holds the head row from the first statement on, so
        // the statements' positions follow each other with no gap.
        var positions: ClosedRange<Int64>?
        for start in stride(from: 0, to: events.count, by: Self.eventsPerStatement) {
            let chunk = try await appendStatement(in: transaction, events[start..<min(start + Self.eventsPerStatement, events.count)])
            positions = (positions?.lowerBound ?? chunk.lowerBound)...chunk.upperBound
        }
        return positions!
    }

    /// Events per statement: each array parameter then stays under glibc's
    /// 128 KiB mmap threshold in the Postgres backend, which otherwise maps
    /// and unmaps (and the kernel zeroes) fresh memory for every statement.
    static let eventsPerStatement = 1_000

    private func appendStatement(in transaction: Transaction, _ events: ArraySlice<NewOutboxEvent>) async throws -> ClosedRange<Int64> {
        let payloads = ConcatenatedPayloads(events)
        // Text arrays cannot hold NULL here, so a missing trace id is '' plus a false flag.
        let result = try await transaction.query("""
            WITH head AS (
                UPDATE \(headTable) SET position = position + $1 RETURNING position - $1 AS base
            ), inserted AS (
                INSERT INTO \(outboxTable) (position, type, aggregate_id, payload, trace_id)
                SELECT head.base + e.ordinal, e.type, e.aggregate_id, substr($5::bytea, e.start::int4, e.length::int4),
                       CASE WHEN e.traced THEN e.trace_id END
                  FROM head, (SELECT generate_series(1, $1) AS ordinal, unnest($3::text[]) AS type,
                                     unnest($4::text[]) AS aggregate_id, unnest($6::int8[]) AS start,
                                     unnest($7::int8[]) AS length, unnest($8::text[]) AS trace_id,
                                     unnest($9::bool[]) AS traced) AS e
            )
            SELECT head.base, pg_notify($2, '') FROM head
            """, [
                Int64(events.count), channel, events.map(\.type), events.map(\.aggregateID),
                payloads.bytes, payloads.starts, payloads.lengths,
                events.map { $0.traceID ?? "" }, events.map { $0.traceID != nil },
            ])
        guard let row = result.first else {
            throw DatabaseError(code: .queryFailed, message: "outbox head row is missing in schema \(schema)")
        }
        let base = try row.decode(Int64.self, column: "base")
        return base + 1...base + Int64(events.count)
    }

    /// Up to `limit` committed events after `position`, in position order,
    /// optionally only of the given `types`. `through` tells how far the read
    /// looked, so a filtered reader can move on past positions it did not want.
    public func read(after position: Int64, limit: Int = 500, types: [String]? = nil) async throws -> OutboxPage {
        let limit = max(1, limit)
        // One statement, one snapshot: the head and the rows agree.
        let result = try await database.query("""
            SELECT h.position AS head, e.position, e.type, e.aggregate_id, e.payload, e.trace_id, e.occurred_at
              FROM \(headTable) h
              LEFT JOIN LATERAL (
                  SELECT * FROM \(outboxTable)
                   WHERE position > $1 AND ($3::text[] IS NULL OR type = ANY($3::text[]))
                   ORDER BY position
                   LIMIT $2
              ) e ON true
             ORDER BY e.position
            """, [position, Int64(limit), types])
        var events: [OutboxEvent] = []
        var head = position
        for row in result {
            head = try row.decode(Int64.self, column: "head")
            guard let eventPosition = try row.decode(Int64?.self, column: "position") else { continue }
            events.append(OutboxEvent(
                position: eventPosition,
                type: try row.decode(String.self, column: "type"),
                aggregateID: try row.decode(String.self, column: "aggregate_id"),
                payload: try row.decode([UInt8].self, column: "payload"),
                traceID: try row.decode(String?.self, column: "trace_id"),
                occurredAt: try row.decode(Date.self, column: "occurred_at")
            ))
        }
        let through = events.count == limit ? events[events.count - 1].position : max(head, position)
        return OutboxPage(events: events, through: through, head: head)
    }

    /// The position of the last committed event (0 when there is none).
    public func headPosition() async throws -> Int64 {
        try Self.head(try await database.query("SELECT position FROM \(headTable)"), schema: schema)
    }

    /// The last committed position as `transaction` sees it: the token for
    /// answers to calls that changed nothing, since a reader waiting for it
    /// sees everything committed so far.
    public func headPosition(in transaction: Transaction) async throws -> Int64 {
        try Self.head(try await transaction.query("SELECT position FROM \(headTable)"), schema: schema)
    }

    private static func head(_ result: QueryResult, schema: String) throws -> Int64 {
        guard let row = result.first else {
            throw DatabaseError(code: .queryFailed, message: "outbox head row is missing in schema \(schema)")
        }
        return try row.decode(Int64.self, column: "position")
    }

    /// Wake-ups for new events on a dedicated LISTEN connection. `.listening`
    /// (also after a reconnect) means "re-read": notifications may have been missed.
    public func notifications() -> NotificationSequence {
        database.listen(to: [channel])
    }
}

/// An event to append.
public struct NewOutboxEvent: Sendable, Hashable {
    /// Event type, e.g. `inventory.NumberImported`.
    public var type: String
    /// ID of the entity the event is about.
    public var aggregateID: String
    /// The encoded event message.
    public var payload: [UInt8]
    /// Trace ID of the request that caused it, if any.
    public var traceID: String?

    /// An event with its type, entity, encoded payload and optional trace ID.
    public init(type: String, aggregateID: String, payload: [UInt8], traceID: String? = nil) {
        self.type = type
        self.aggregateID = aggregateID
        self.payload = payload
        self.traceID = traceID
    }
}

/// Event payloads as one bytea parameter and where each one lies in it
/// (1-based, for `substr`): Postgres decodes a single value far faster than
/// an array of thousands, and nothing in the bytes needs quoting.
private struct ConcatenatedPayloads {
    var bytes: [UInt8] = []
    var starts: [Int64] = []
    var lengths: [Int64] = []

    init(_ events: ArraySlice<NewOutboxEvent>) {
        bytes.reserveCapacity(events.reduce(0) { $0 + $1.payload.count })
        for event in events {
            starts.append(Int64(bytes.count + 1))
            lengths.append(Int64(event.payload.count))
            bytes.append(contentsOf: event.payload)
        }
    }
}

/// A committed event as stored.
public struct OutboxEvent: Sendable, Hashable {
    /// Dense, commit-ordered position, starting at 1.
    public var position: Int64
    /// Event type.
    public var type: String
    /// ID of the entity the event is about.
    public var aggregateID: String
    /// The encoded event message.
    public var payload: [UInt8]
    /// Trace ID of the request that caused it, if any.
    public var traceID: String?
    /// When the writing transaction started.
    public var occurredAt: Date

    /// An event with every stored field.
    public init(position: Int64, type: String, aggregateID: String, payload: [UInt8], traceID: String?, occurredAt: Date) {
        self.position = position
        self.type = type
        self.aggregateID = aggregateID
        self.payload = payload
        self.traceID = traceID
        self.occurredAt = occurredAt
    }
}

/// The result of one `Outbox.read`.
public struct OutboxPage: Sendable, Hashable {
    /// Matching events in position order.
    public var events: [OutboxEvent]
    /// Every matching event at or below this position and above the requested one
    /// is in `events`; read on after it.
    public var through: Int64
    /// The last committed position when the read ran.
    public var head: Int64
}

/// Quoted SQL names for the schema-qualified tables (identifiers cannot be parameters).
enum SQLName {
    static func qualified(_ schema: String, _ table: String) -> String {
        quoted(schema) + "." + quoted(table)
    }

    static func quoted(_ name: String) -> String {
        var quoted = "\""
        for character in name {
            quoted.append(character)
            if character == "\"" { quoted.append(character) }
        }
        return quoted + "\""
    }
}

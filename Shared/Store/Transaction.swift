import Logging

/// Transaction isolation levels Postgres offers.
public enum IsolationLevel: Sendable, Hashable {
    /// Each statement sees data committed before it began (the default).
    case readCommitted
    /// The whole transaction sees one snapshot; write conflicts fail with 40001.
    case repeatableRead
    /// As if transactions ran one at a time; conflicts fail with 40001.
    case serializable

    var sql: String {
        switch self {
        case .readCommitted: return "READ COMMITTED"
        case .repeatableRead: return "REPEATABLE READ"
        case .serializable: return "SERIALIZABLE"
        }
    }
}

/// A connection inside `BEGIN … COMMIT`. Only `Database.withTransaction` makes
/// one, so APIs that take a `Transaction` know their writes commit together.
public struct Transaction: Sendable {
    /// The connection the transaction runs on.
    public let connection: Connection
    /// The isolation level it was started with.
    public let isolation: IsolationLevel
    /// Which run of the body this is, starting at 1; retries increase it.
    public let attempt: Int

    /// Runs one parameterised statement inside the transaction and returns its rows.
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> QueryResult {
        try await connection.query(sql, parameters)
    }

    /// Runs one parameterised statement inside the transaction; returns rows changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await connection.execute(sql, parameters)
    }

    /// Runs one statement inside the transaction, mapping rows straight from
    /// libpq's buffers (see `Connection.rawRows`).
    public func rawRows<Row: Sendable>(_ sql: String, _ parameters: [(any PostgresEncodable)?] = [],
                                       _ transform: @escaping @Sendable (RawRow) throws -> Row) async throws -> [Row] {
        try await connection.rawRows(sql, parameters, transform)
    }

    /// Streams a query's rows through binary COPY (see `Connection.copyOut`).
    public func copyOut<Row: Sendable>(
        _ query: String, batchSize: Int = 10_000, depth: Int = 4,
        transform: @escaping @Sendable (CopyRow) throws -> Row, consume: ([Row]) throws -> Void
    ) async throws {
        try await connection.copyOut(query, batchSize: batchSize, depth: depth, transform: transform, consume: consume)
    }

    /// Queues a notification; Postgres delivers it only if and when this transaction commits.
    public func notify(channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify($1, $2)", [channel, payload])
    }
}

extension Database {
    /// Runs `body` inside a transaction: COMMIT when it returns, ROLLBACK when it
    /// throws. On a serialization failure (40001), a deadlock (40P01) or a
    /// connection found dead before a statement was sent, the whole body runs
    /// again on a fresh transaction, up to `maxAttempts` times with a small
    /// jittered backoff; so the body must have no effects outside the database.
    @discardableResult
    nonisolated(nonsending)
    public func withTransaction<Result>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        maxAttempts: Int = 5,
        _ body: (Transaction) async throws -> Result
    ) async throws -> Result {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await withConnection { connection in
                    try await runTransaction(
                        on: connection, isolation: isolation, readOnly: readOnly, attempt: attempt, body
                    )
                }
            } catch let error as DatabaseError where attempt < maxAttempts && Self.isRetryable(error) {
                logger.debug("retrying transaction", metadata: [
                    StoreLog.attempt: "\(attempt)",
                    StoreLog.sqlState: "\(error.sqlState ?? "none")",
                ])
                try await Task.sleep(for: Self.backoff(afterAttempt: attempt))
            }
        }
    }

    nonisolated(nonsending)
    private func runTransaction<Result>(
        on connection: Connection,
        isolation: IsolationLevel,
        readOnly: Bool,
        attempt: Int,
        _ body: (Transaction) async throws -> Result
    ) async throws -> Result {
        try await connection.execute("BEGIN ISOLATION LEVEL \(isolation.sql)\(readOnly ? " READ ONLY" : "")")
        do {
            let result = try await body(Transaction(connection: connection, isolation: isolation, attempt: attempt))
            // A body that caught a statement error leaves the transaction aborted;
            // COMMIT would then quietly roll back, so report it instead.
            if let failure = connection.abortedBy {
                throw failure
            }
            try await connection.execute("COMMIT")
            return result
        } catch {
            if !connection.isBroken {
                // If this fails the connection is left mid-transaction and the pool discards it.
                _ = try? await connection.execute("ROLLBACK")
            }
            throw error
        }
    }

    static func isRetryable(_ error: DatabaseError) -> Bool {
        error.isRetryableTransactionFailure || (error.code == .connectionLost && error.requestNotSent)
    }

    /// Full jitter over an exponentially growing window: 0…10 ms, 0…20 ms, … capped at 250 ms,
    /// so conflicting transactions do not retry in lockstep.
    static func backoff(afterAttempt attempt: Int) -> Duration {
        let window = min(250, 10 << min(attempt - 1, 5))
        return .milliseconds(Int.random(in: 0...window))
    }
}

public import Logging
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// A Postgres database reached through a pool of libpq connections: the shape of
/// postgres-nio's `PostgresClient`. Usable as soon as it is created; `run()` only
/// ties its lifetime to a `ServiceGroup`, closing connections on graceful shutdown.
public final class Database: Service, Sendable {
    /// The settings this database was created with.
    public let configuration: PostgresConfiguration
    let logger: Logger
    /// Runs every blocking libpq call, so none runs on an event loop or the cooperative pool.
    let threadPool: NIOThreadPool
    let pool: ConnectionPool
    private let isClosed = Atomic<Bool>(false)

    /// Creates the pool (no connection is opened yet) and starts its threads.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "store.database"] = "\(configuration.user)@\(configuration.database)"
        self.logger = logger
        let threads = configuration.pool.threadCount ?? configuration.pool.maxConnections + 2
        self.threadPool = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threadPool.start()
        self.pool = ConnectionPool(configuration: configuration, threadPool: threadPool, logger: logger)
    }

    /// Waits for graceful shutdown (or cancellation), then closes every connection.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes idle connections, fails waiting callers, ends listeners and stops the
    /// threads. Safe to call more than once.
    public func close() async {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await pool.close()
        try? await threadPool.shutdownGracefully()
        logger.debug("database closed")
    }

    /// True once `close()` has begun.
    var closed: Bool { isClosed.load(ordering: .acquiring) }

    /// Lends a connection to `body` and takes it back afterwards. A connection the
    /// body leaves broken or inside a transaction is closed instead of reused.
    @discardableResult
    nonisolated(nonsending)
    public func withConnection<Result>(_ body: (Connection) async throws -> Result) async throws -> Result {
        let connection = try await pool.acquire()
        do {
            let result = try await body(connection)
            await pool.release(connection)
            return result
        } catch {
            await pool.release(connection)
            throw error
        }
    }

    /// Runs one parameterised statement on a pooled connection and returns its rows.
    /// A connection found dead before the statement was sent is replaced once.
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> QueryResult {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await withConnection { try await $0.query(sql, parameters) }
            } catch let error as DatabaseError where error.requestNotSent && attempt < 3 {
                continue
            }
        }
    }

    /// Runs one parameterised statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await query(sql, parameters).affectedRows
    }

    /// Sends a notification on `channel` (delivered when the current transaction,
    /// here the statement itself, commits).
    public func notify(channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify($1, $2)", [channel, payload])
    }
}

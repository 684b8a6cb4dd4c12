import Logging
import NIOPosix

/// A bounded set of connections. Callers beyond the bound wait in line and fail
/// with `timeout` after `acquireTimeout`. Connections are opened lazily, so the
/// pool never needs Postgres to be up until someone asks for a connection, and a
/// connection that died (for example across a server restart) is replaced by a
/// fresh one on the next request.
actor ConnectionPool {
    /// What a caller is given: an idle connection, or the right to open one.
    private enum Lease {
        case connection(Connection)
        case slot
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Lease, any Error>
        let timer: Task<Void, Never>
    }

    private let configuration: PostgresConfiguration
    private let threadPool: NIOThreadPool
    private let logger: Logger

    private let metrics: PoolMetrics

    private var idle: [Connection] = [] { didSet { publishUsage() } }
    /// Connections open or being opened; never above `maxConnections`.
    private var slotsInUse = 0 { didSet { publishUsage() } }
    private var waiters: [Int: Waiter] = [:] { didSet { publishUsage() } }
    /// Waiter ids in arrival order, so the longest waiter is served first.
    private var queue: [Int] = []
    private var nextWaiterID = 0
    private var nextConnectionID = 0
    private var closed = false

    init(configuration: PostgresConfiguration, threadPool: NIOThreadPool, logger: Logger) {
        self.configuration = configuration
        self.threadPool = threadPool
        self.logger = logger
        self.metrics = PoolMetrics(role: configuration.user, size: configuration.pool.maxConnections)
    }

    /// A live connection for exclusive use until `release`.
    func acquire() async throws -> Connection {
        switch try await lease() {
        case .connection(let connection):
            if connection.looksAlive() { return connection }
            // The session died while idle; keep its slot and open a replacement.
            logger.debug("discarding a dead idle connection",
                         metadata: [StoreLog.connectionID: "\(connection.id)"])
            await connection.close()
            return try await openInSlot()
        case .slot:
            return try await openInSlot()
        }
    }

    /// Takes back a connection. One that broke or was left inside a transaction is
    /// closed rather than reused, since its session state is unknown.
    func release(_ connection: Connection) async {
        guard !closed, !connection.isBroken, connection.isIdle else {
            await connection.close()
            freeSlot()
            return
        }
        if let waiter = popWaiter() {
            waiter.continuation.resume(returning: .connection(connection))
        } else {
            idle.append(connection)
        }
    }

    /// Refuses new requests, fails waiters and closes idle connections; borrowed
    /// ones are closed when they come back.
    func close() async {
        guard !closed else { return }
        closed = true
        while let waiter = popWaiter() {
            waiter.continuation.resume(throwing: DatabaseError(code: .shutdown, message: "the database handle is closed"))
        }
        let connections = idle
        idle.removeAll()
        slotsInUse -= connections.count
        for connection in connections { await connection.close() }
    }

    /// The next connection ID, for a dedicated connection opened outside the pool.
    func makeConnectionID() -> Int {
        nextConnectionID += 1
        return nextConnectionID
    }

    // MARK: - Internals

    private func publishUsage() {
        metrics.update(inUse: slotsInUse - idle.count, idle: idle.count, waiters: waiters.count)
    }

    private func lease() async throws -> Lease {
        guard !closed else { throw DatabaseError(code: .shutdown, message: "the database handle is closed") }
        if let connection = idle.popLast() { return .connection(connection) }
        if slotsInUse < configuration.pool.maxConnections {
            slotsInUse += 1
            return .slot
        }
        try Task.checkCancellation()
        nextWaiterID += 1
        let id = nextWaiterID
        let timeout = configuration.pool.acquireTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let timer = Task { [weak self] in
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    await self?.failWaiter(id, with: DatabaseError(
                        code: .timeout,
                        message: "no database connection became free within \(timeout)"
                    ))
                }
                waiters[id] = Waiter(continuation: continuation, timer: timer)
                queue.append(id)
            }
        } onCancel: {
            Task { await self.failWaiter(id, with: CancellationError()) }
        }
    }

    private func openInSlot() async throws -> Connection {
        do {
            nextConnectionID += 1
            return try await Connection.connect(
                configuration: configuration, threadPool: threadPool, id: nextConnectionID, logger: logger
            )
        } catch {
            freeSlot()
            throw error
        }
    }

    /// A slot became free: hand it to the longest waiter, who will open a connection.
    private func freeSlot() {
        slotsInUse -= 1
        guard !closed, let waiter = popWaiter() else { return }
        slotsInUse += 1
        waiter.continuation.resume(returning: .slot)
    }

    private func popWaiter() -> Waiter? {
        while !queue.isEmpty {
            let id = queue.removeFirst()
            if let waiter = waiters.removeValue(forKey: id) {
                waiter.timer.cancel()
                return waiter
            }
        }
        return nil
    }

    private func failWaiter(_ id: Int, with error: any Error) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        waiter.timer.cancel()
        queue.removeAll { $0 == id }
        waiter.continuation.resume(throwing: error)
    }
}

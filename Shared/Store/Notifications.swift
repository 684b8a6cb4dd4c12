import Logging

/// One `NOTIFY` received on a LISTENing connection.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public var channel: String
    /// The payload given to `pg_notify` (empty if none).
    public var payload: String
    /// Process ID of the sending server session.
    public var backendPID: Int32

    /// A notification as Postgres reports it.
    public init(channel: String, payload: String, backendPID: Int32) {
        self.channel = channel
        self.payload = payload
        self.backendPID = backendPID
    }
}

/// What a listener yields.
public enum ListenerEvent: Sendable, Hashable {
    /// LISTEN is in effect, first after start and again after every reconnect.
    /// Notifications sent while disconnected are lost, so a consumer should
    /// re-read its table whenever it sees this.
    case listening
    /// A notification arrived.
    case notification(PostgresNotification)
}

extension Database {
    /// Listens on `channels` over a dedicated connection (outside the pool's
    /// limit). Iterating connects, LISTENs and yields events; a lost connection is
    /// re-opened with backoff and LISTEN re-issued, then `.listening` is yielded
    /// again. Iteration ends when the iterating task is cancelled or the database closes.
    public func listen(to channels: [String]) -> NotificationSequence {
        NotificationSequence(database: self, channels: channels)
    }
}

/// Events from LISTEN on a set of channels; see `Database.listen(to:)`.
public struct NotificationSequence: AsyncSequence, Sendable {
    /// What the sequence yields.
    public typealias Element = ListenerEvent
    /// Never throws: connection failures are retried, not reported.
    public typealias Failure = Never

    let database: Database
    let channels: [String]

    /// Starts a listener; its connection opens on the first `next()`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(listener: Listener(database: database, channels: channels))
    }

    /// Pulls events from one listener connection.
    public struct Iterator: AsyncIteratorProtocol, Sendable {
        let listener: Listener

        /// The next event, or nil once cancelled or the database has closed.
        public func next() async -> ListenerEvent? {
            await listener.next()
        }

        /// The next event, or nil once cancelled or the database has closed.
        public func next(isolation actor: isolated (any Actor)?) async -> ListenerEvent? {
            await listener.next()
        }
    }
}

/// The state of one listening connection. Waiting happens in short `poll()`
/// slices on a thread-pool thread so cancellation and loss are noticed promptly.
actor Listener {
    private let database: Database
    private let channels: [String]
    private var connection: Connection?
    private var pending: [PostgresNotification] = []
    private var failures = 0
    private let logger: Logger

    /// How long one wait on the socket lasts before checking for cancellation.
    static let pollSlice: Duration = .milliseconds(250)

    init(database: Database, channels: [String]) {
        self.database = database
        self.channels = channels
        var logger = database.logger
        logger[metadataKey: StoreLog.channels] = "\(channels.joined(separator: ","))"
        self.logger = logger
    }

    func next() async -> ListenerEvent? {
        while !Task.isCancelled && !database.closed {
            if !pending.isEmpty {
                return .notification(pending.removeFirst())
            }
            guard let connection else {
                if await connect() { return .listening }
                continue
            }
            do {
                pending = try await connection.waitForNotifications(timeout: Self.pollSlice)
            } catch {
                if !(error is CancellationError) && !database.closed {
                    logger.warning("listener lost its connection; reconnecting")
                }
                await connection.close()
                self.connection = nil
            }
        }
        // Cancelling one call ends it but keeps the session: a later call resumes
        // listening without losing notifications. The connection closes when the
        // iterator is released, or here when the database has closed.
        if database.closed {
            await connection?.close()
            connection = nil
        }
        return nil
    }

    /// Opens a connection and LISTENs; on failure waits a growing delay (up to 2 s).
    private func connect() async -> Bool {
        do {
            let connection = try await Connection.connect(
                configuration: database.configuration,
                threadPool: database.threadPool,
                receivesNotifications: true,
                id: await database.pool.makeConnectionID(),
                logger: logger
            )
            for channel in channels {
                // LISTEN takes an identifier, not a parameter; quoting keeps the exact name.
                try await connection.execute("LISTEN \(Identifier.quoted(channel))")
            }
            self.connection = connection
            failures = 0
            logger.debug("listening")
            return true
        } catch {
            failures += 1
            if failures == 1 || failures % 10 == 0 {
                logger.warning("listener cannot connect; retrying", metadata: [StoreLog.error: "\(String(describing: error))"])
            }
            let delay = min(2000, 50 << min(failures, 6))
            try? await Task.sleep(for: .milliseconds(delay))
            return false
        }
    }
}

internal import CLibPQ
import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libpq session. Every libpq call that can block runs on the database's
/// `NIOThreadPool`, never on an event loop or the cooperative pool. The pool lends
/// a connection to one borrower at a time; a lock still serialises libpq use so a
/// borrower that shares it between tasks cannot corrupt the session.
public final class Connection: Sendable {
    /// The `PGconn *` and what we know about it. Unchecked Sendable because the
    /// pointer is only ever used while the mutex around it is held.
    private struct Handle: @unchecked Sendable {
        var pointer: OpaquePointer?
        var broken = false
        /// The error that aborted the current transaction, kept until it ends.
        var abortingError: DatabaseError?
    }

    private let handle: Mutex<Handle>
    let threadPool: NIOThreadPool
    /// Pooled connections treat unsolicited input as a dying session; a listener expects it.
    let receivesNotifications: Bool
    /// Numbers connections in logs.
    let id: Int
    let logger: Logger

    private init(pointer: OpaquePointer, threadPool: NIOThreadPool, receivesNotifications: Bool, id: Int, logger: Logger) {
        self.handle = Mutex(Handle(pointer: pointer))
        self.threadPool = threadPool
        self.receivesNotifications = receivesNotifications
        self.id = id
        var logger = logger
        logger[metadataKey: StoreLog.connectionID] = "\(id)"
        self.logger = logger
    }

    deinit {
        // Backstop for connections dropped without close(); PQfinish on a
        // connected socket only sends a Terminate message, it does not wait.
        handle.withLock { handle in
            if let pointer = handle.pointer { PQfinish(pointer) }
            handle.pointer = nil
        }
    }

    /// Opens a session on a thread-pool thread; fails with `unavailable` when the
    /// server refuses, is down, or rejects the login.
    static func connect(
        configuration: PostgresConfiguration,
        threadPool: NIOThreadPool,
        receivesNotifications: Bool = false,
        id: Int,
        logger: Logger
    ) async throws -> Connection {
        let parameters = try ConnectionParameters(configuration)
        let pointer = try await onThreadPool(threadPool) { () throws(DatabaseError) -> SendablePointer in
            try parameters.withCArrays { keywords, values throws(DatabaseError) -> SendablePointer in
                guard let pointer = PQconnectdbParams(keywords, values, 0) else {
                    throw DatabaseError(code: .unavailable, message: "could not allocate a connection")
                }
                guard PQstatus(pointer) == CONNECTION_OK else {
                    var error = DatabaseError(code: .unavailable, message: "could not connect to the database")
                    error.serverMessage = Connection.errorMessage(pointer)
                    PQfinish(pointer)
                    throw error
                }
                // libpq prints notices (e.g. "relation already exists, skipping")
                // to stderr by default; a service's output is its structured log.
                PQsetNoticeProcessor(pointer, { _, _ in }, nil)
                return SendablePointer(pointer)
            }
        }
        let connection = Connection(
            pointer: pointer.value, threadPool: threadPool,
            receivesNotifications: receivesNotifications, id: id, logger: logger
        )
        connection.logger.debug("connected to the database")
        return connection
    }

    /// Runs one parameterised statement and returns its rows. Values travel apart
    /// from the SQL text, so they are never parsed as SQL.
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> QueryResult {
        try await onThreadPool(threadPool) { () throws(DatabaseError) -> QueryResult in
            try self.execParams(sql, parameters)
        }
    }

    /// Runs one parameterised statement and maps each row with `transform`
    /// straight from libpq's buffers, without a string per cell: for reading
    /// many rows fast. `transform` runs on the database thread.
    public func rawRows<Row: Sendable>(_ sql: String, _ parameters: [(any PostgresEncodable)?] = [],
                                       _ transform: @escaping @Sendable (RawRow) throws -> Row) async throws -> [Row] {
        try await onThreadPool(threadPool) { () throws(DatabaseError) -> [Row] in
            let encoded = try EncodedParameters(parameters, sql: sql)
            return try self.withLiveHandle(sql: sql) { pointer throws(DatabaseError) -> [Row] in
                let raw = encoded.withCArrays { count, types, values, lengths, formats in
                    PQexecParams(pointer, sql, count, types, values, lengths, formats, 0)
                }
                defer { PQclear(raw) }
                let result = try self.succeeded(raw, pointer: pointer, sql: sql)
                let count = Int(PQntuples(result))
                var rows: [Row] = []
                rows.reserveCapacity(count)
                do {
                    for row in 0..<Int32(count) { rows.append(try transform(RawRow(result: result, row: row))) }
                } catch {
                    throw DatabaseError(code: .decodingFailed, message: "a row could not be read: \(error)")
                }
                return rows
            }
        }
    }

    /// Runs one parameterised statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await query(sql, parameters).affectedRows
    }

    /// True once the session is known to be unusable; the pool discards it on release.
    var isBroken: Bool {
        handle.withLock { $0.broken || $0.pointer == nil }
    }

    /// Whether the session sits outside a transaction, the only state a pooled
    /// connection may be returned in. Reads libpq's local state; no I/O.
    var isIdle: Bool {
        handle.withLock { handle in
            guard let pointer = handle.pointer, !handle.broken else { return false }
            return PQtransactionStatus(pointer) == PQTRANS_IDLE
        }
    }

    /// The error that aborted the open transaction, if a statement failed inside it.
    var abortedBy: DatabaseError? {
        handle.withLock { handle in
            guard let pointer = handle.pointer, PQtransactionStatus(pointer) == PQTRANS_INERROR else { return nil }
            return handle.abortingError
                ?? DatabaseError(code: .queryFailed, message: "the transaction was aborted by an earlier error")
        }
    }

    /// Cheap liveness check for an idle pooled connection: a zero-timeout `poll`
    /// (no libpq I/O, cannot block). A healthy idle session receives nothing; a
    /// readable socket means the server sent a termination message or closed it,
    /// as happens to every pooled session when Postgres restarts.
    func looksAlive() -> Bool {
        handle.withLock { handle in
            guard let pointer = handle.pointer, !handle.broken, PQstatus(pointer) == CONNECTION_OK else {
                return false
            }
            if !receivesNotifications && Connection.socketHasInput(pointer) {
                handle.broken = true
                return false
            }
            return true
        }
    }

    /// Runs a script of several statements without parameters (simple query
    /// protocol). Only for migrations, whose SQL is fixed in the source.
    func executeScript(_ sql: String) async throws {
        _ = try await onThreadPool(threadPool) { () throws(DatabaseError) -> Int in
            try self.withLiveHandle(sql: sql) { pointer throws(DatabaseError) in
                let result = PQexec(pointer, sql)
                defer { PQclear(result) }
                _ = try self.check(result, pointer: pointer, sql: sql)
                return 0
            }
        }
    }

    /// Waits up to `timeout` for notifications on a LISTENing session and returns
    /// those that arrived. Throws `connectionLost` when the session died.
    func waitForNotifications(timeout: Duration) async throws -> [PostgresNotification] {
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000
            + timeout.components.attoseconds / 1_000_000_000_000_000)
        return try await onThreadPool(threadPool) { () throws(DatabaseError) -> [PostgresNotification] in
            try self.handle.withLock { handle throws(DatabaseError) -> [PostgresNotification] in
                guard let pointer = handle.pointer, !handle.broken, PQstatus(pointer) == CONNECTION_OK else {
                    handle.broken = true
                    throw Connection.lost(nil, pointer: handle.pointer, sql: nil, notSent: true)
                }
                var notifications = Connection.drainNotifications(pointer)
                if !notifications.isEmpty { return notifications }
                var descriptor = pollfd(fd: PQsocket(pointer), events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, milliseconds)
                if ready > 0 {
                    guard PQconsumeInput(pointer) == 1, PQstatus(pointer) == CONNECTION_OK else {
                        handle.broken = true
                        throw Connection.lost(nil, pointer: pointer, sql: nil, notSent: true)
                    }
                    notifications = Connection.drainNotifications(pointer)
                }
                return notifications
            }
        }
    }

    /// Closes the session on a thread-pool thread (or here, if the pool has stopped).
    func close() async {
        let closeNow: @Sendable () -> Void = {
            self.handle.withLock { handle in
                if let pointer = handle.pointer { PQfinish(pointer) }
                handle.pointer = nil
                handle.broken = true
            }
        }
        do {
            try await threadPool.runIfActive(closeNow)
        } catch {
            closeNow()
        }
        logger.debug("closed database connection")
    }

    /// Marks the session unusable so the pool will not hand it out again.
    func markBroken() {
        handle.withLock { $0.broken = true }
    }

    // MARK: - Blocking internals (thread-pool threads only)

    private func execParams(_ sql: String, _ parameters: [(any PostgresEncodable)?]) throws(DatabaseError) -> QueryResult {
        let encoded = try EncodedParameters(parameters, sql: sql)
        return try withLiveHandle(sql: sql) { pointer throws(DatabaseError) in
            let result = encoded.withCArrays { count, types, values, lengths, formats in
                PQexecParams(pointer, sql, count, types, values, lengths, formats, 0)
            }
            defer { PQclear(result) }
            return try check(result, pointer: pointer, sql: sql)
        }
    }

    /// Runs `body` with the `PGconn *` after making sure the session is usable;
    /// a session found dead here fails with `requestNotSent`, so callers may retry.
    func withLiveHandle<T: Sendable>(
        sql: String?,
        _ body: (OpaquePointer) throws(DatabaseError) -> T
    ) throws(DatabaseError) -> T {
        try handle.withLock { handle throws(DatabaseError) -> T in
            guard let pointer = handle.pointer, !handle.broken, PQstatus(pointer) == CONNECTION_OK else {
                handle.broken = true
                throw Connection.lost(nil, pointer: handle.pointer, sql: sql, notSent: true)
            }
            if !receivesNotifications && Connection.socketHasInput(pointer) {
                handle.broken = true
                throw Connection.lost(nil, pointer: pointer, sql: sql, notSent: true)
            }
            do throws(DatabaseError) {
                let result = try body(pointer)
                if PQtransactionStatus(pointer) == PQTRANS_IDLE { handle.abortingError = nil }
                return result
            } catch {
                if error.code == .connectionLost || PQstatus(pointer) != CONNECTION_OK {
                    handle.broken = true
                }
                switch PQtransactionStatus(pointer) {
                case PQTRANS_INERROR where handle.abortingError == nil: handle.abortingError = error
                case PQTRANS_IDLE: handle.abortingError = nil
                default: break
                }
                throw error
            }
        }
    }

    /// Turns a `PGresult` into rows or a `DatabaseError`.
    private func check(_ result: OpaquePointer?, pointer: OpaquePointer, sql: String) throws(DatabaseError) -> QueryResult {
        Connection.rows(of: try succeeded(result, pointer: pointer, sql: sql))
    }

    /// The result when the statement succeeded; its `DatabaseError` otherwise.
    func succeeded(_ result: OpaquePointer?, pointer: OpaquePointer, sql: String) throws(DatabaseError) -> OpaquePointer {
        guard let result else {
            throw Connection.lost(nil, pointer: pointer, sql: sql, notSent: false)
        }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return result
        default:
            let state = Connection.field(result, "C")
            let code = DatabaseError.code(forSQLState: state)
            if code == .connectionLost || state == nil && PQstatus(pointer) != CONNECTION_OK {
                throw Connection.lost(result, pointer: pointer, sql: sql, notSent: false)
            }
            var error = DatabaseError(code: code, message: Connection.summary(for: code), sqlState: state)
            error.constraint = Connection.field(result, "n")
            error.serverMessage = Connection.field(result, "M") ?? Connection.errorMessage(pointer)
            error.serverDetail = Connection.field(result, "D")
            error.query = sql
            throw error
        }
    }

    private static func summary(for code: DatabaseError.Code) -> String {
        switch code {
        case .uniqueViolation: return "a row with the same unique key already exists"
        case .serializationFailure: return "the transaction conflicted with a concurrent one"
        case .deadlockDetected: return "the transaction was aborted to break a deadlock"
        case .permissionDenied: return "the role lacks a privilege for this statement"
        case .timeout: return "the statement was cancelled or timed out"
        default: return "the statement failed"
        }
    }

    static func lost(_ result: OpaquePointer?, pointer: OpaquePointer?, sql: String?, notSent: Bool) -> DatabaseError {
        var error = DatabaseError(code: .connectionLost, message: "the database connection was lost")
        error.requestNotSent = notSent
        error.sqlState = result.flatMap { field($0, "C") }
        error.serverMessage = result.flatMap { field($0, "M") } ?? pointer.flatMap(errorMessage)
        error.query = sql
        return error
    }

    private static func rows(of result: OpaquePointer) -> QueryResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var names: [String] = []
        var types: [UInt32] = []
        names.reserveCapacity(columnCount)
        for column in 0..<Int32(columnCount) {
            names.append(PQfname(result, column).map { String(cString: $0) } ?? "?column?")
            types.append(UInt32(PQftype(result, column)))
        }
        var cells: [[String?]] = []
        cells.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            cells.append(values)
        }
        let affected = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        return QueryResult(layout: ColumnLayout(names: names, typeOIDs: types), cells: cells, affectedRows: affected)
    }

    /// A diagnostic field of an error result (`PG_DIAG_*`, one ASCII letter).
    private static func field(_ result: OpaquePointer, _ code: Character) -> String? {
        PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
    }

    private static func errorMessage(_ pointer: OpaquePointer) -> String? {
        guard let message = PQerrorMessage(pointer) else { return nil }
        let text = String(cString: message).trimmingSuffixWhitespace()
        return text.isEmpty ? nil : text
    }

    private static func socketHasInput(_ pointer: OpaquePointer) -> Bool {
        let socket = PQsocket(pointer)
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    private static func drainNotifications(_ pointer: OpaquePointer) -> [PostgresNotification] {
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(pointer) {
            let entry = notify.pointee
            notifications.append(PostgresNotification(
                channel: String(cString: entry.relname),
                payload: entry.extra.map { String(cString: $0) } ?? "",
                backendPID: entry.be_pid
            ))
            PQfreemem(notify)
        }
        return notifications
    }
}

/// Moves a freshly created `PGconn *` out of the thread-pool closure; nothing else
/// holds it at that point.
private struct SendablePointer: @unchecked Sendable {
    let value: OpaquePointer
    init(_ value: OpaquePointer) { self.value = value }
}

/// Runs blocking work on the thread pool, turning pool shutdown into `shutdown`.
func onThreadPool<T: Sendable>(
    _ threadPool: NIOThreadPool,
    _ body: @escaping @Sendable () throws(DatabaseError) -> T
) async throws -> T {
    do {
        return try await threadPool.runIfActive { try body() }
    } catch let error as DatabaseError {
        throw error
    } catch is CancellationError {
        throw CancellationError()
    } catch {
        throw DatabaseError(code: .shutdown, message: "the database handle is closed")
    }
}

extension String {
    fileprivate func trimmingSuffixWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

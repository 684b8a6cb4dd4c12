/// Every failure the store reports. `description` is safe to log or return: it never
/// contains SQL parameters or the server's message (which may quote a value);
/// `debugDescription` adds the server's message, detail and the SQL text.
public struct DatabaseError: Error, Sendable, Hashable {
    /// What kind of failure this is; callers branch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unavailable
            case connectionLost
            case queryFailed
            case uniqueViolation
            case serializationFailure
            case deadlockDetected
            case permissionDenied
            case timeout
            case decodingFailed
            case migrationFailed
            case shutdown
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// Postgres could not be reached (refused, authentication, starting up).
        public static let unavailable = Code(.unavailable)
        /// The connection broke while in use; the statement may or may not have run.
        public static let connectionLost = Code(.connectionLost)
        /// The server rejected the statement; see `sqlState`.
        public static let queryFailed = Code(.queryFailed)
        /// A unique constraint was violated (SQLSTATE 23505).
        public static let uniqueViolation = Code(.uniqueViolation)
        /// A serializable transaction conflicted (SQLSTATE 40001); retrying may succeed.
        public static let serializationFailure = Code(.serializationFailure)
        /// The transaction was chosen as a deadlock victim (SQLSTATE 40P01); retrying may succeed.
        public static let deadlockDetected = Code(.deadlockDetected)
        /// The role lacks a privilege (SQLSTATE 42501).
        public static let permissionDenied = Code(.permissionDenied)
        /// Waiting for a connection or a statement took too long.
        public static let timeout = Code(.timeout)
        /// A column's value could not be decoded as the requested type.
        public static let decodingFailed = Code(.decodingFailed)
        /// A migration could not be applied or an applied one was changed.
        public static let migrationFailed = Code(.migrationFailed)
        /// The database handle has been closed.
        public static let shutdown = Code(.shutdown)

        /// The code's name, e.g. `uniqueViolation`.
        public var description: String { base.rawValue }
    }

    /// Well-known SQLSTATE values callers map to their own errors.
    public enum SQLState {
        /// unique_violation
        public static let uniqueViolation = "23505"
        /// foreign_key_violation
        public static let foreignKeyViolation = "23503"
        /// check_violation
        public static let checkViolation = "23514"
        /// serialization_failure
        public static let serializationFailure = "40001"
        /// deadlock_detected
        public static let deadlockDetected = "40P01"
        /// insufficient_privilege
        public static let insufficientPrivilege = "42501"
        /// query_canceled (statement timeout or cancel request)
        public static let queryCanceled = "57014"
    }

    /// The kind of failure.
    public var code: Code
    /// A short summary written by this module; never contains values.
    public var message: String
    /// The five-character SQLSTATE the server reported, if any.
    public var sqlState: String?
    /// The constraint named by the server (e.g. for a unique violation), if any.
    public var constraint: String?
    /// The column involved in a decoding failure, if any.
    public var column: String?
    /// The server's or libpq's own message; may quote values, so only in `debugDescription`.
    public var serverMessage: String?
    /// The server's DETAIL line; may quote values, so only in `debugDescription`.
    public var serverDetail: String?
    /// The SQL text (never the parameters) of the failed statement.
    public var query: String?

    /// True when the request never reached the server, so running it again on
    /// another connection cannot apply it twice.
    var requestNotSent: Bool = false

    /// An error with a code and a safe summary.
    public init(code: Code, message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// True for failures that running the whole transaction again may fix.
    public var isRetryableTransactionFailure: Bool {
        code == .serializationFailure || code == .deadlockDetected
    }
}

extension DatabaseError: CustomStringConvertible, CustomDebugStringConvertible {
    /// Safe to log and to return to clients: no parameters, no server text.
    public var description: String {
        var parts = ["\(code)"]
        if let sqlState { parts.append("sqlstate \(sqlState)") }
        if let constraint { parts.append("constraint \(constraint)") }
        if let column { parts.append("column \(column)") }
        return "DatabaseError(\(parts.joined(separator: ", "))): \(message)"
    }

    /// Everything known, for developers; may contain values quoted by the server.
    public var debugDescription: String {
        var text = description
        if let serverMessage { text += "\n  server: \(serverMessage)" }
        if let serverDetail { text += "\n  detail: \(serverDetail)" }
        if let query { text += "\n  query: \(query)" }
        return text
    }
}

extension DatabaseError {
    /// Maps a SQLSTATE to the code callers branch on.
    static func code(forSQLState state: String?) -> Code {
        switch state {
        case SQLState.uniqueViolation: return .uniqueViolation
        case SQLState.serializationFailure: return .serializationFailure
        case SQLState.deadlockDetected: return .deadlockDetected
        case SQLState.insufficientPrivilege: return .permissionDenied
        case SQLState.queryCanceled: return .timeout
        case let state? where isConnectionLevel(state): return .connectionLost
        default: return .queryFailed
        }
    }

    /// Class 08 (connection exception) and the shutdown family of 57 mean this
    /// session is finished, whatever the statement was.
    static func isConnectionLevel(_ state: String) -> Bool {
        state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }
}

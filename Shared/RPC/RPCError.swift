/// A failed call: a canonical status code, a message for the caller, and for
/// bad input the fields that were wrong. `description` never includes `cause`;
/// `debugDescription` does (for logs).
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var code: Code
    public var message: String
    public var fieldViolations: [FieldViolation]
    /// The underlying error, for logs only. Not sent to the peer.
    public var cause: String?

    public init(_ code: Code, _ message: String, fieldViolations: [FieldViolation] = [], cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.fieldViolations = fieldViolations
        self.cause = cause.map { String(reflecting: $0) }
    }

    /// INVALID_ARGUMENT naming the field that was wrong.
    public static func invalidArgument(field: String, _ problem: String) -> RPCError {
        RPCError(.invalidArgument, "\(field): \(problem)", fieldViolations: [FieldViolation(field: field, description: problem)])
    }

    public var description: String {
        var text = "\(code): \(message)"
        for violation in fieldViolations where !message.contains(violation.field) {
            text += " [\(violation.field): \(violation.description)]"
        }
        return text
    }

    public var debugDescription: String {
        cause.map { "\(description) (cause: \($0))" } ?? description
    }

    /// The canonical status codes (gRPC's numbering). A struct over a private
    /// enum so codes can be added without breaking exhaustive switches.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: Int32

        private init(_ rawValue: Int32) { self.rawValue = rawValue }

        /// Maps a wire value; unknown values become UNKNOWN.
        public init(wireValue: Int32) {
            self.init((0...16).contains(wireValue) ? wireValue : 2)
        }

        public static let ok = Code(0)
        public static let cancelled = Code(1)
        public static let unknown = Code(2)
        public static let invalidArgument = Code(3)
        public static let deadlineExceeded = Code(4)
        public static let notFound = Code(5)
        public static let alreadyExists = Code(6)
        public static let permissionDenied = Code(7)
        public static let resourceExhausted = Code(8)
        public static let failedPrecondition = Code(9)
        public static let aborted = Code(10)
        public static let outOfRange = Code(11)
        public static let unimplemented = Code(12)
        public static let `internal` = Code(13)
        public static let unavailable = Code(14)
        public static let dataLoss = Code(15)
        public static let unauthenticated = Code(16)

        private static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
            "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
            "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
            "UNAUTHENTICATED",
        ]

        /// The canonical upper-case name, e.g. `NOT_FOUND`.
        public var description: String { Self.names[Int(rawValue)] }
    }

    /// One wrong field of a request.
    public struct FieldViolation: Sendable, Hashable {
        /// Path of the field, e.g. `items[3].number`.
        public var field: String
        public var description: String

        public init(field: String, description: String) {
            self.field = field
            self.description = description
        }
    }
}

/// A domain error that knows its wire status. Handlers may throw these; the
/// server converts them with `rpcError`. Any other error becomes INTERNAL with
/// a generic message, so internals never reach the caller.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError: RPCErrorConvertible {
    public var rpcError: RPCError { self }
}

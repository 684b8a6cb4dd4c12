public import Auth
public import Logging
public import NIOCore

/// Well-known request metadata keys (lower case).
public enum MetadataKey {
    public static let authorization = "authorization"
    public static let idempotencyKey = "idempotency-key"
    public static let traceID = "trace-id"
}

/// What a handler knows about the call it serves.
public struct RPCContext: Sendable {
    public var method: String
    public var callID: UInt64
    /// The verified caller; nil only for `.anonymous` methods called without a token.
    public var principal: Principal?
    public var metadata: [String: String]
    /// When the caller stops waiting.
    public var deadline: NIODeadline
    public var logger: Logger
    /// The peer's address, for logs.
    public var remoteAddress: String
    /// The call's trace id: the caller's `trace-id`, or one the server made.
    private var assignedTraceID: String?

    public init(method: String, callID: UInt64, principal: Principal?, metadata: [String: String],
                deadline: NIODeadline, logger: Logger, remoteAddress: String, traceID: String? = nil) {
        self.method = method
        self.callID = callID
        self.principal = principal
        self.metadata = metadata
        self.deadline = deadline
        self.logger = logger
        self.remoteAddress = remoteAddress
        self.assignedTraceID = traceID
    }

    public var idempotencyKey: String? { metadata[MetadataKey.idempotencyKey] }
    public var traceID: String? { assignedTraceID ?? metadata[MetadataKey.traceID] }

    /// The verified caller, or UNAUTHENTICATED (for handlers of authenticated methods).
    public func requirePrincipal() throws(RPCError) -> Principal {
        guard let principal else { throw RPCError(.unauthenticated, "this method needs a bearer token") }
        return principal
    }
}

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
    /// The peer's address, for logs.
    public var remoteAddress: String
    private var serverLogger: Logger
    private var trace: CallTrace

    init(method: String, callID: UInt64, principal: Principal?, metadata: [String: String],
         deadline: NIODeadline, serverLogger: Logger, remoteAddress: String, trace: CallTrace) {
        self.method = method
        self.callID = callID
        self.principal = principal
        self.metadata = metadata
        self.deadline = deadline
        self.serverLogger = serverLogger
        self.remoteAddress = remoteAddress
        self.trace = trace
    }

    /// The server's logger with the call's method and trace id in its
    /// metadata, made when asked for (most calls never log).
    public var logger: Logger { serverLogger.forCall(method: method, trace: trace) }

    public var idempotencyKey: String? { metadata[MetadataKey.idempotencyKey] }
    /// The call's trace id: the caller's `trace-id`, or one the server made.
    public var traceID: String? { trace.text }

    /// The verified caller, or UNAUTHENTICATED (for handlers of authenticated methods).
    public func requirePrincipal() throws(RPCError) -> Principal {
        guard let principal else { throw RPCError(.unauthenticated, "this method needs a bearer token") }
        return principal
    }
}

extension Logger {
    /// This logger with a call's method and trace id in its metadata.
    func forCall(method: String, trace: CallTrace) -> Logger {
        var logger = self
        logger[metadataKey: "rpc.method"] = "\(method)"
        logger[metadataKey: TraceID.metadataKey] = "\(trace.text)"
        return logger
    }
}

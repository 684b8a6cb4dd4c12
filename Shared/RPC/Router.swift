public import Auth
public import Protos
import NIOCore

/// Maps method names to typed handlers. Build it once at start-up, then hand it
/// to `RPCServer`.
public struct RPCRouter: Sendable {
    /// A registered method, with its handler erased to bytes in, bytes out.
    struct Route: Sendable {
        var descriptor: MethodDescriptor
        var handler: Handler
    }

    enum Handler: Sendable {
        /// Runs on the connection's event loop: no hop, for microsecond paths
        /// that never block (e.g. reads from memory).
        case inline(@Sendable (_ payload: [UInt8], _ context: RPCContext) throws -> EncodedAnswer)
        /// Runs as a task on the Swift concurrency pool.
        case unary(@Sendable (_ payload: [UInt8], _ context: RPCContext) async throws -> [UInt8])
        /// Sends any number of messages, then ends with a status.
        case serverStream(@Sendable (_ payload: [UInt8], _ context: RPCContext, _ sink: StreamSink) async throws -> Void)
    }

    /// A method's fast path, matched on the request's raw method name.
    struct FastRoute: Sendable {
        var method: String
        var name: [UInt8]
        var access: AccessPolicy
        var answer: FastPath
        var warm: FastPathWarm?
    }

    private(set) var routes: [String: Route] = [:]
    private(set) var fastRoutes: [FastRoute] = []

    public init() {}

    /// All registered methods, sorted by name.
    public var methods: [MethodDescriptor] {
        routes.values.map(\.descriptor).sorted { $0.name < $1.name }
    }

    /// Registers a unary method served on the concurrency pool.
    public mutating func register<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, RPCContext) async throws -> Response
    ) {
        add(method, .unary { payload, context in
            try await handler(try decode(Request.self, payload), context).serializedBytes()
        })
    }

    /// Registers a unary method that runs directly on the event loop. The
    /// handler must not block or await: use it only for in-memory reads.
    public mutating func registerInline<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, RPCContext) throws -> Response
    ) {
        add(method, .inline { payload, context in
            .now(try handler(try decode(Request.self, payload), context).serializedBytes())
        })
    }

    /// Registers a unary method that answers on the event loop when it can, and
    /// otherwise hands back work to run as a task (e.g. a read that must first
    /// wait for data to arrive), with the call's deadline enforced as usual.
    public mutating func registerInline<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, RPCContext) throws -> InlineAnswer<Response>
    ) {
        add(method, .inline { payload, context in try handler(try decode(Request.self, payload), context).encoded })
    }

    /// Like `registerInline`, for a handler that encodes its response itself
    /// (a hot path writing wire format straight from its own data).
    public mutating func registerInlineEncoded<Request: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, RPCContext) throws -> EncodedAnswer
    ) {
        add(method, .inline { payload, context in try handler(try decode(Request.self, payload), context) })
    }

    /// Adds a fast path to `method`, an inline method registered before: the
    /// server then serves its connections on fast lanes (`LaneServer`), which
    /// try it first for calls whose token they have verified (once per token),
    /// without decoding the request envelope or building a context. A fast
    /// path answers the common case only; whatever it returns false for
    /// (nothing written) — and every error — is left to the method's handler,
    /// which defines the answers. Tests should hold the two to the same bytes.
    /// `warm`, if given, is called first with the payloads of the method's
    /// calls when one read brought several (see `FastPathWarm`).
    public mutating func registerFastPath(for method: String, warm: FastPathWarm? = nil, _ answer: @escaping FastPath) {
        guard let route = routes[method], case .inline = route.handler else {
            preconditionFailure("a fast path needs the inline method \(method) registered first")
        }
        fastRoutes.append(FastRoute(method: method, name: Array(method.utf8), access: route.descriptor.access,
                                    answer: answer, warm: warm))
    }

    /// Registers a server-streaming method.
    public mutating func registerServerStream<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: MethodDescriptor,
        _ handler: @escaping @Sendable (Request, RPCContext, RPCStreamWriter<Response>) async throws -> Void
    ) {
        var method = method
        method.isServerStreaming = true
        add(method, .serverStream { payload, context, sink in
            try await handler(try decode(Request.self, payload), context, RPCStreamWriter(sink: sink))
        })
    }

    private mutating func add(_ method: MethodDescriptor, _ handler: Handler) {
        precondition(routes[method.name] == nil, "method \(method.name) registered twice")
        routes[method.name] = Route(descriptor: method, handler: handler)
    }

    func route(for method: String) -> Route? { routes[method] }
}

/// Writes the encoded response for `payload` (the request message's bytes)
/// from the caller `principal` into `out` and returns true, or returns false
/// having written nothing. Runs on a fast lane's poll thread: it must not block.
public typealias FastPath = @Sendable (_ payload: UnsafeRawBufferPointer, _ principal: Principal?, _ out: inout ProtoWriter) -> Bool

/// Prepares a fast path for the calls of one read, before any is answered:
/// it may ask the CPU to fetch what they will read, so that their cache
/// misses overlap rather than come one call after another. The payloads are
/// requests not yet authorized or validated, and valid only during the call;
/// it must not answer, keep, or change anything.
public typealias FastPathWarm = @Sendable (_ payloads: [UnsafeRawBufferPointer]) -> Void

/// What an inline handler returns: the answer, or work to finish off the event loop.
public enum InlineAnswer<Response: ProtoMessage>: Sendable {
    case now(Response)
    case later(@Sendable () async throws -> Response)
}

extension InlineAnswer {
    /// The same answer with the response encoded.
    public var encoded: EncodedAnswer {
        switch self {
        case .now(let response): .now(response.serializedBytes())
        case .later(let work): .later { try await work().serializedBytes() }
        }
    }
}

/// An inline handler's answer with the response encoded.
public enum EncodedAnswer: Sendable {
    case now([UInt8])
    case later(@Sendable () async throws -> [UInt8])
}

/// Decodes a request message, mapping failure to INVALID_ARGUMENT.
private func decode<Message: ProtoMessage>(_ type: Message.Type, _ payload: [UInt8]) throws(RPCError) -> Message {
    do {
        return try Message(serializedBytes: payload)
    } catch {
        // A bad string names its field (by proto name), like any other violation.
        let violations: [RPCError.FieldViolation] = switch error.reason {
        case .invalidUTF8(let field): [.init(field: field, description: "is not valid UTF-8")]
        case .embeddedNUL(let field): [.init(field: field, description: "contains a NUL character")]
        default: []
        }
        throw RPCError(.invalidArgument, "request is not a valid \(Message.protoName): \(error)", fieldViolations: violations)
    }
}

/// Writes the messages of one server stream, in order, with backpressure: each
/// `send` returns once the frame has been handed to the socket.
public struct RPCStreamWriter<Message: ProtoMessage>: Sendable {
    let sink: StreamSink

    /// Sends one message; throws when the call has ended or the connection closed.
    public func send(_ message: Message) async throws {
        try await sink.send(message.serializedBytes())
    }
}

/// The untyped side of a stream: frames messages for one call on one channel.
struct StreamSink: Sendable {
    let channel: any Channel
    let callID: UInt64
    let isFinished: @Sendable () -> Bool

    func send(_ payload: [UInt8]) async throws {
        try Task.checkCancellation()
        guard !isFinished() else { throw RPCError(.cancelled, "the call has ended") }
        var frame = RpcV1.Frame()
        frame.callId = callID
        frame.kind = .streamMessage(.with { $0.payload = payload })
        var buffer = channel.allocator.buffer(capacity: payload.count + 16)
        buffer.writeFrame(frame)
        try await channel.writeAndFlush(buffer)
    }
}

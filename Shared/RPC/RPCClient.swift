import Atomics
public import NIOCore
import NIOConcurrencyHelpers
public import NIOPosix
public import Protos

/// A framed-RPC client. Calls are multiplexed over one connection per server
/// address; the target's host name may resolve to several addresses (compose
/// replicas) and calls are spread over them round-robin. Broken connections
/// are re-established with exponential backoff; calls are retried only after
/// UNAVAILABLE and only when the method is idempotent or the request was never
/// sent. A retry after finding no server waits (within the deadline) until a
/// reconnect is due, so a server that comes back is found.
public final class RPCClient: Sendable {
    /// Client settings; every field has a default.
    public struct Configuration: Sendable {
        public var maximumFrameSize = FrameDecoder.defaultMaximumFrameSize
        public var connectTimeout = TimeAmount.seconds(2)
        /// Applied to calls that pass no timeout.
        public var defaultTimeout = TimeAmount.seconds(30)
        /// Attempts for a retryable call, the first included.
        public var maximumAttempts = 4
        public var initialBackoff = TimeAmount.milliseconds(50)
        public var maximumBackoff = TimeAmount.seconds(5)
        /// How often the host name is resolved again, to pick up new replicas.
        public var reresolveInterval = TimeAmount.seconds(30)

        public init() {}
    }

    private let configuration: Configuration
    private let endpoints: EndpointSet
    private let nextCallID = ManagedAtomic<UInt64>(1)
    /// Metadata sent with every call (e.g. the bearer token), merged under per-call metadata.
    private let defaultMetadata: NIOLockedValueBox<[String: String]>

    /// A client for `target` (every address its host resolves to).
    public convenience init(target: RPCTarget, configuration: Configuration = Configuration(),
                            metadata: [String: String] = [:],
                            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.init(targets: [target], configuration: configuration, metadata: metadata, eventLoopGroup: eventLoopGroup)
    }

    /// A client balancing over every address of every target.
    public init(targets: [RPCTarget], configuration: Configuration = Configuration(),
                metadata: [String: String] = [:],
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        precondition(!targets.isEmpty, "an RPC client needs at least one target")
        self.configuration = configuration
        self.endpoints = EndpointSet(targets: targets, configuration: configuration, group: eventLoopGroup)
        self.defaultMetadata = NIOLockedValueBox(metadata)
    }

    private let tokenProvider = NIOLockedValueBox<(@Sendable () -> String)?>(nil)

    /// Sets the bearer token sent with every later call.
    public func setBearerToken(_ token: String?) {
        defaultMetadata.withLockedValue { $0[MetadataKey.authorization] = token.map { "Bearer \($0)" } }
    }

    /// Asks `provider` for the bearer token at every call, for long-lived
    /// clients whose tokens expire (service-to-service streams).
    public func setBearerTokenProvider(_ provider: @escaping @Sendable () -> String) {
        tokenProvider.withLockedValue { $0 = provider }
    }

    /// Closes every connection; calls in flight fail with UNAVAILABLE.
    public func close() {
        endpoints.closeAll()
    }

    /// Calls a unary method and decodes its answer.
    public func unary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as responseType: Response.Type = Response.self,
        metadata: [String: String] = [:], timeout: TimeAmount? = nil, idempotent: Bool = false
    ) async throws(RPCError) -> Response {
        let deadline = NIODeadline.now() + (timeout ?? configuration.defaultTimeout)
        let payload = request.serializedBytes()
        var attempt = 0
        while true {
            attempt += 1
            // Rebuilt per attempt so the timeout sent is what remains.
            let requestFrame = try makeRequest(method, payload, metadata: metadata, deadline: deadline)
            let outcome = await attemptUnary(requestFrame, deadline: deadline)
            switch outcome {
            case .success(let payload):
                do {
                    return try Response(serializedBytes: payload)
                } catch {
                    throw RPCError(.internal, "response to \(method) is not a valid \(Response.protoName): \(error)")
                }
            case .failure(let failure):
                guard failure.error.code == .unavailable, idempotent || !failure.wasSent,
                      attempt < configuration.maximumAttempts, NIODeadline.now() < deadline else {
                    throw failure.error
                }
                var pause = backoff(attempt: attempt)
                if !failure.wasSent, let reconnect = endpoints.nextReconnect() {
                    pause = max(pause, reconnect - NIODeadline.now())
                }
                guard NIODeadline.now() + pause < deadline else { throw failure.error }
                try? await Task.sleep(nanoseconds: UInt64(pause.nanoseconds))
            }
        }
    }

    /// Calls a server-streaming method; the sequence ends when the server ends
    /// the call, and throws its status if that is not OK. Cancelling the
    /// consuming task cancels the call.
    public func serverStream<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as responseType: Response.Type = Response.self,
        metadata: [String: String] = [:], timeout: TimeAmount? = nil
    ) -> AsyncThrowingStream<Response, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Response, any Error>.makeStream()
        let deadline = timeout.map { NIODeadline.now() + $0 }
        let task = Task {
            do {
                let frame = try makeRequest(method, request.serializedBytes(), metadata: metadata, deadline: deadline)
                let connection = try await endpoints.connection(deadline: deadline ?? .now() + configuration.connectTimeout)
                let callID = frame.callId
                let added = connection.calls.add(callID, .stream(
                    onMessage: { payload in
                        do {
                            continuation.yield(try Response(serializedBytes: payload))
                        } catch {
                            continuation.finish(throwing: RPCError(.internal, "stream message of \(method) is not a valid \(Response.protoName)"))
                        }
                    },
                    onEnd: { error in continuation.finish(throwing: error) }))
                guard added else { throw RPCError(.unavailable, "connection closed before the call started") }
                continuation.onTermination = { termination in
                    if case .cancelled = termination, connection.calls.remove(callID) != nil {
                        connection.send(Self.cancelFrame(callID))
                    }
                }
                connection.send(frame)
            } catch {
                continuation.finish(throwing: error.asRPCError)
            }
        }
        _ = task
        return stream
    }

    // MARK: Internals

    private struct AttemptFailure: Error {
        var error: RPCError
        /// Whether the request reached a connection (so the server may have acted on it).
        var wasSent: Bool
    }

    private func attemptUnary(_ frame: RpcV1.Frame, deadline: NIODeadline) async -> Result<[UInt8], AttemptFailure> {
        let connection: ClientConnection
        do {
            connection = try await endpoints.connection(deadline: deadline)
        } catch {
            return .failure(AttemptFailure(error: error.asRPCError, wasSent: false))
        }
        let callID = frame.callId
        let calls = connection.calls
        let encoded = connection.encode(frame)
        guard encoded.readableBytes - 4 <= configuration.maximumFrameSize else {
            return .failure(AttemptFailure(error: RPCError(.resourceExhausted,
                "request of \(encoded.readableBytes - 4) bytes exceeds the maximum frame size of \(configuration.maximumFrameSize) bytes"),
                wasSent: false))
        }
        let timer = connection.channel.eventLoop.scheduleTask(deadline: deadline) {
            if let call = calls.remove(callID) {
                connection.send(Self.cancelFrame(callID))
                call.end(.failure(RPCError(.deadlineExceeded, "no answer before the deadline")))
            }
        }
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], RPCError>, Never>) in
                guard calls.add(callID, .unary(continuation)) else {
                    continuation.resume(returning: .failure(RPCError(.unavailable, "connection closed")))
                    return
                }
                // A task cancelled before this point ran onCancel when nothing was registered yet.
                if Task.isCancelled, let call = calls.remove(callID) {
                    call.end(.failure(RPCError(.cancelled, "the caller cancelled the call")))
                    return
                }
                connection.send(encoded)
            }
        } onCancel: {
            if let call = calls.remove(callID) {
                connection.send(Self.cancelFrame(callID))
                call.end(.failure(RPCError(.cancelled, "the caller cancelled the call")))
            }
        }
        timer.cancel()
        return outcome.mapError { AttemptFailure(error: $0, wasSent: true) }
    }

    private func makeRequest(_ method: String, _ payload: [UInt8], metadata: [String: String],
                             deadline: NIODeadline?) throws(RPCError) -> RpcV1.Frame {
        var request = RpcV1.Request()
        request.method = method
        var base = defaultMetadata.withLockedValue { $0 }
        if let provider = tokenProvider.withLockedValue({ $0 }) { base[MetadataKey.authorization] = "Bearer \(provider())" }
        request.metadata = base.merging(metadata) { _, perCall in perCall }
        // Inside a served call, downstream calls continue its trace unless the caller chose one.
        if request.metadata[MetadataKey.traceID] == nil, let traceID = TraceID.current {
            request.metadata[MetadataKey.traceID] = traceID
        }
        request.payload = payload
        if let deadline {
            let remaining = (deadline - .now()).nanoseconds / 1000
            guard remaining > 0 else { throw RPCError(.deadlineExceeded, "the deadline passed before the call was sent") }
            request.timeoutMicros = UInt64(remaining)
        }
        var frame = RpcV1.Frame()
        frame.callId = nextCallID.loadThenWrappingIncrement(ordering: .relaxed)
        frame.kind = .request(request)
        return frame
    }

    private static func cancelFrame(_ callID: UInt64) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.callId = callID
        frame.kind = .cancel(RpcV1.Cancel())
        return frame
    }

    private func backoff(attempt: Int) -> TimeAmount {
        let base = configuration.initialBackoff.nanoseconds << min(attempt - 1, 16)
        let capped = min(base, configuration.maximumBackoff.nanoseconds)
        return .nanoseconds(Int64.random(in: capped / 2...max(capped / 2, capped)))
    }
}

import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Protos

/// How a call waits for its answer.
enum PendingCall: Sendable {
    case unary(CheckedContinuation<Result<[UInt8], RPCError>, Never>)
    case stream(onMessage: @Sendable ([UInt8]) -> Void, onEnd: @Sendable (RPCError?) -> Void)

    func end(_ outcome: Result<[UInt8], RPCError>) {
        switch self {
        case .unary(let continuation):
            continuation.resume(returning: outcome)
        case .stream(_, let onEnd):
            switch outcome {
            case .success: onEnd(nil)
            case .failure(let error): onEnd(error)
            }
        }
    }
}

/// The calls waiting on one connection. Once the connection is closed every
/// waiter is answered and new calls are refused, so nothing waits forever.
final class PendingCalls: Sendable {
    private struct State {
        var calls: [UInt64: PendingCall] = [:]
        var closedWith: RPCError?
        /// A connection-level status the server sent (call id 0) before closing.
        var connectionError: RPCError?
    }

    private let state = NIOLockedValueBox(State())

    /// Registers a call; false when the connection has already closed.
    func add(_ callID: UInt64, _ call: PendingCall) -> Bool {
        state.withLockedValue { state in
            guard state.closedWith == nil else { return false }
            state.calls[callID] = call
            return true
        }
    }

    func remove(_ callID: UInt64) -> PendingCall? {
        state.withLockedValue { $0.calls.removeValue(forKey: callID) }
    }

    func streamMessage(_ callID: UInt64) -> (@Sendable ([UInt8]) -> Void)? {
        state.withLockedValue { state in
            if case .stream(let onMessage, _) = state.calls[callID] { return onMessage }
            return nil
        }
    }

    func recordConnectionError(_ error: RPCError) {
        state.withLockedValue { $0.connectionError = error }
    }

    /// Fails every waiting call, with the server's connection-level status if
    /// it sent one (e.g. RESOURCE_EXHAUSTED for an oversized frame).
    func close(_ error: RPCError) {
        let (calls, reason) = state.withLockedValue { state -> ([PendingCall], RPCError) in
            let reason = state.connectionError ?? error
            state.closedWith = reason
            defer { state.calls.removeAll() }
            return (Array(state.calls.values), reason)
        }
        for call in calls { call.end(.failure(reason)) }
    }
}

/// Reads the server's frames on one client connection and answers the waiting calls.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let calls: PendingCalls

    init(calls: PendingCalls) {
        self.calls = calls
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let frame = try? bytes.withUnsafeReadableBytes({ try RpcV1.Frame(serializedBytes: $0) }) else {
            calls.recordConnectionError(RPCError(.internal, "server sent an undecodable frame"))
            context.close(promise: nil)
            return
        }
        switch frame.kind {
        case .response(let response):
            let status = (response.status ?? RpcV1.Status()).rpcError
            if frame.callId == 0 {
                if let status { calls.recordConnectionError(status) }
                return
            }
            calls.remove(frame.callId)?.end(status.map { .failure($0) } ?? .success(response.payload))
        case .streamMessage(let message):
            calls.streamMessage(frame.callId)?(message.payload)
        case .request, .cancel, .none:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        calls.close(RPCError(.unavailable, "connection to \(context.remoteAddress?.description ?? "server") closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tooLarge = error as? FrameTooLargeError {
            calls.recordConnectionError(RPCError(.resourceExhausted, "response \(tooLarge)"))
        }
        context.close(promise: nil)
    }
}

/// One TCP connection to one server address, carrying many calls at once.
final class ClientConnection: Sendable {
    let address: SocketAddress
    let channel: any Channel
    let calls: PendingCalls

    private init(address: SocketAddress, channel: any Channel, calls: PendingCalls) {
        self.address = address
        self.channel = channel
        self.calls = calls
    }

    static func connect(to address: SocketAddress, group: any EventLoopGroup, maximumFrameSize: Int,
                        connectTimeout: TimeAmount) async throws -> ClientConnection {
        let calls = PendingCalls()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(FrameDecoder(maximumFrameSize: maximumFrameSize)),
                        ClientConnectionHandler(calls: calls),
                    ])
                }
            }
            .connect(to: address)
            .get()
        return ClientConnection(address: address, channel: channel, calls: calls)
    }

    var isActive: Bool { channel.isActive }

    /// The frame, length-prefixed, ready to send.
    func encode(_ frame: RpcV1.Frame) -> ByteBuffer {
        var buffer = channel.allocator.buffer(capacity: 256)
        buffer.writeFrame(frame)
        return buffer
    }

    func send(_ frame: RpcV1.Frame) {
        send(encode(frame))
    }

    func send(_ buffer: ByteBuffer) {
        channel.writeAndFlush(buffer, promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }
}

import Atomics
import Auth
import Foundation
import Logging
import NIOCore
import Protos

/// Serves the calls of one connection. Lives on the connection's event loop:
/// inline handlers answer without leaving it, async handlers run as tasks and
/// hop back only to write their answer. Calls are independent: answers go out
/// in completion order, each tagged with its call id.
final class ServerConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Shared by every connection of one server.
    struct Shared: Sendable {
        var router: RPCRouter
        var verifier: TokenVerifier
        var configuration: RPCServer.Configuration
        var logger: Logger
        var metrics: RPCServerMetrics
    }

    /// What the end of a call needs to record and log it.
    private struct CallInfo {
        var method: String
        var started: NIODeadline
        var trace: CallTrace
    }

    /// A call that is still running.
    private struct InFlight {
        var task: Task<Void, Never>?
        var timer: Scheduled<Void>?
        var finished: FinishedFlag
    }

    private let shared: Shared
    private var context: ChannelHandlerContext?
    private var inFlight: [UInt64: InFlight] = [:]
    private var isQuiescing = false
    /// Answers written since the last flush, handed to the channel as one buffer.
    private var output: ByteBuffer?
    private var remoteAddress: String
    private var tokens = TokenCache()

    /// - Parameter peer: the client's address, when the channel's own is not
    ///   (a connection relayed by a fast lane).
    init(shared: Shared, peer: String? = nil) {
        self.shared = shared
        remoteAddress = peer ?? "?"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let address = context.channel.remoteAddress { remoteAddress = address.description }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        for (_, call) in inFlight {
            call.finished.set()
            call.timer?.cancel()
            call.task?.cancel()
        }
        inFlight.removeAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let frame: RpcV1.Frame
        do {
            frame = try bytes.withUnsafeReadableBytes { try RpcV1.Frame(serializedBytes: $0) }
        } catch {
            // Framing is intact (the length prefix delimited it), so the
            // connection can go on; call id 0 marks a connection-level error.
            write(.response(callID: 0, status: RPCError(.invalidArgument, "frame is not a valid phonenumbers.rpc.v1.Frame: \(error)")))
            return
        }
        switch frame.kind {
        case .request(let request):
            startCall(frame.callId, request)
        case .cancel:
            cancelCall(frame.callId)
        case .response, .streamMessage, .none:
            write(.response(callID: frame.callId, status: RPCError(.invalidArgument, "a client may send only request and cancel frames")))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            isQuiescing = true
            closeIfDrained()
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, inFlight.isEmpty {
            // Frees connections that went quiet, including a peer stalled
            // half-way through a frame.
            shared.logger.debug("closing idle connection", metadata: ["rpc.peer": "\(remoteAddress)"])
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tooLarge = error as? FrameTooLargeError {
            shared.metrics.recordOversizedFrame()
            write(.response(callID: 0, status: RPCError(.resourceExhausted, tooLarge.description)))
            flushIfNeeded()
        } else {
            shared.logger.debug("connection error", metadata: ["rpc.peer": "\(remoteAddress)", "error": "\(error)"])
        }
        context.close(promise: nil)
    }

    // MARK: Calls

    private func startCall(_ callID: UInt64, _ request: RpcV1.Request) {
        if let rejection = admissionError(callID, request) {
            let known = shared.router.route(for: request.method) != nil
            shared.metrics.record(method: known ? request.method : "unknown", code: rejection.code, started: nil)
            write(.response(callID: callID, status: rejection))
            return
        }
        guard let route = shared.router.route(for: request.method) else {
            shared.metrics.record(method: "unknown", code: .unimplemented, started: nil)
            write(.response(callID: callID, status: RPCError(.unimplemented, "unknown method '\(request.method.prefix(200))'")))
            return
        }
        let principal: Principal?
        do {
            principal = try authenticate(request.metadata[MetadataKey.authorization], route.descriptor.access)
        } catch {
            shared.metrics.record(method: request.method, code: error.code, started: nil)
            write(.response(callID: callID, status: error))
            return
        }

        let started = NIODeadline.now()
        let isStream = route.descriptor.isServerStreaming
        let deadline = deadline(for: request, started: started, isStream: isStream)
        let trace = CallTrace(accepting: request.metadata[MetadataKey.traceID])
        let call = CallInfo(method: request.method, started: started, trace: trace)
        let rpcContext = RPCContext(
            method: request.method, callID: callID, principal: principal, metadata: request.metadata,
            deadline: deadline, serverLogger: shared.logger, remoteAddress: remoteAddress, trace: trace)

        switch route.handler {
        case .inline(let handler):
            let outcome: Result<[UInt8], RPCError>
            do {
                switch try handler(request.payload, rpcContext) {
                case .now(let payload):
                    outcome = .success(payload)
                case .later(let work):
                    runTask(callID, call, deadline: deadline) { _ in try await work() }
                    return
                }
            } catch {
                outcome = .failure(error.asRPCError)
            }
            finish(callID, call, tracked: false, outcome)
        case .unary(let handler):
            runTask(callID, call, deadline: deadline) { _ in
                try await handler(request.payload, rpcContext)
            }
        case .serverStream(let handler):
            runTask(callID, call, deadline: deadline) { [channel = context!.channel] finished in
                let sink = StreamSink(channel: channel, callID: callID, isFinished: { finished.isSet })
                try await handler(request.payload, rpcContext, sink)
                return []
            }
        }
    }

    /// Refusals that need no routing: draining, too many calls, a reused id.
    private func admissionError(_ callID: UInt64, _ request: RpcV1.Request) -> RPCError? {
        if isQuiescing {
            return RPCError(.unavailable, "server is shutting down; retry on another connection")
        }
        if inFlight.count >= shared.configuration.maximumConcurrentCallsPerConnection {
            return RPCError(.resourceExhausted,
                            "more than \(shared.configuration.maximumConcurrentCallsPerConnection) calls in flight on this connection")
        }
        if inFlight[callID] != nil {
            return RPCError(.invalidArgument, "call_id \(callID) is already in flight on this connection")
        }
        return nil
    }

    private func authenticate(_ authorization: String?, _ access: AccessPolicy) throws(RPCError) -> Principal? {
        var principal: Principal?
        if let authorization {
            do {
                principal = try tokens.verify(authorization, verifier: shared.verifier).principal
            } catch {
                throw RPCError(.unauthenticated, error.description)
            }
        }
        guard access.admits(principal) else {
            if principal == nil { throw RPCError(.unauthenticated, AuthError(.missingToken).description) }
            throw RPCError(.permissionDenied, "role \(principal!.role) may not call this method")
        }
        return principal
    }

    private func deadline(for request: RpcV1.Request, started: NIODeadline, isStream: Bool) -> NIODeadline {
        let configuration = shared.configuration
        if request.timeoutMicros == 0 {
            // Streams live until the client or the server ends them.
            return isStream ? .distantFuture : started + configuration.defaultTimeout
        }
        let requested = TimeAmount.microseconds(Int64(clamping: request.timeoutMicros))
        return started + min(requested, configuration.maximumTimeout)
    }

    /// Runs an async handler as a task (with its trace id bound, so calls it
    /// makes carry it on); a timer answers DEADLINE_EXCEEDED at the deadline
    /// even if the handler ignores cancellation.
    private func runTask(
        _ callID: UInt64, _ call: CallInfo, deadline: NIODeadline,
        _ body: @escaping @Sendable (FinishedFlag) async throws -> [UInt8]
    ) {
        let eventLoop = context!.eventLoop
        let finished = FinishedFlag()
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        let task = Task {
            let outcome: Result<[UInt8], RPCError>
            do {
                outcome = .success(try await TraceID.$current.withValue(call.trace.text) { try await body(finished) })
            } catch {
                outcome = .failure(error.asRPCError)
            }
            eventLoop.execute {
                this.value.finish(callID, call, tracked: true, outcome)
                this.value.flushIfNeeded()
            }
        }
        var timer: Scheduled<Void>?
        if deadline != .distantFuture {
            timer = eventLoop.scheduleTask(deadline: deadline) {
                this.value.inFlight[callID]?.task?.cancel()
                this.value.finish(callID, call, tracked: true,
                                  .failure(RPCError(.deadlineExceeded, "deadline exceeded before the call completed")))
                this.value.flushIfNeeded()
            }
        }
        inFlight[callID] = InFlight(task: task, timer: timer, finished: finished)
    }

    private func cancelCall(_ callID: UInt64) {
        guard let call = inFlight[callID] else { return }
        call.task?.cancel()
    }

    /// Sends the final answer of a call, once: later outcomes (a handler that
    /// finishes after its deadline fired) are dropped.
    private func finish(_ callID: UInt64, _ call: CallInfo, tracked: Bool, _ outcome: Result<[UInt8], RPCError>) {
        if tracked {
            guard let running = inFlight.removeValue(forKey: callID), !running.finished.isSet else { return }
            running.finished.set()
            running.timer?.cancel()
        }
        // Recorded before the answer is flushed, so a client that saw it finds it counted.
        let code: RPCError.Code
        switch outcome {
        case .success: code = .ok
        case .failure(let error): code = error.code
        }
        shared.metrics.record(method: call.method, code: code, started: call.started)
        // Every line logged for the call carries its method and trace id; the
        // logger that adds them is made only for a line that will be written.
        if shared.logger.logLevel <= .debug {
            shared.logger.forCall(method: call.method, trace: call.trace).debug("call finished", metadata: [
                "rpc.code": "\(code)", "rpc.duration_us": "\((NIODeadline.now() - call.started).nanoseconds / 1000)",
            ])
        }
        switch outcome {
        case .success(let payload):
            writeOK(callID: callID, payload: payload)
        case .failure(let error):
            if error.code == .internal {
                shared.logger.forCall(method: call.method, trace: call.trace)
                    .error("call failed", metadata: ["error": "\(error.debugDescription)"])
            }
            write(.response(callID: callID, status: error))
        }
        closeIfDrained()
    }

    // MARK: Output

    private func write(_ frame: RpcV1.Frame) {
        appendOutput { $0.writeFrame(frame) }
    }

    private func writeOK(callID: UInt64, payload: [UInt8]) {
        appendOutput { $0.writeOKResponseFrame(callID: callID, payload: payload) }
    }

    private func appendOutput(_ write: (inout ByteBuffer) -> Void) {
        guard let context else { return }
        if output == nil { output = context.channel.allocator.buffer(capacity: 4096) }
        write(&output!)
    }

    /// Answers produced while reading a batch of frames go out in one write.
    private func flushIfNeeded() {
        guard let pending = output, let context else { return }
        output = nil
        context.writeAndFlush(wrapOutboundOut(pending), promise: nil)
    }

    private func closeIfDrained() {
        guard isQuiescing, inFlight.isEmpty, let context else { return }
        flushIfNeeded()
        context.close(promise: nil)
    }
}

/// Set once a call has its final answer; streams check it before each send.
final class FinishedFlag: Sendable {
    private let value = ManagedAtomic(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

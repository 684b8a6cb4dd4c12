import Histogram
import NIOCore
import NIOPosix
import Protos
import RPC

/// Resolve calls driven from one event-loop thread, as redis-benchmark and
/// pgbench drive their servers: each connection is a channel handler that
/// writes request frames and times the answers on that thread, with no task,
/// continuation or thread hop per call. Through `RPCClient` the load generator
/// spent more CPU per call than lookup spent answering it, and on a machine of
/// two cores shared with the server that, not lookup, set the throughput and
/// the paced tail. Each answer's envelope is decoded and its status checked;
/// the route inside is not decoded (redis-benchmark does not parse values).
final class ResolveDriver: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private let channels: [any Channel]
    private let callers: NIOLoopBound<[Caller]>

    /// Connects `connections` channels to lookup on 127.0.0.1:`port`.
    init(port: Int, token: String, connections: Int, numbers: Int) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        let template = Caller.Template(token: token, numbers: numbers)
        var channels: [any Channel] = []
        do {
            for _ in 0..<connections {
                channels.append(try await ClientBootstrap(group: group)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers([
                                ByteToMessageHandler(FrameDecoder()), Caller(template: template),
                            ])
                        }
                    }
                    .connect(host: "127.0.0.1", port: port).get())
            }
        } catch {
            for channel in channels { try? await channel.close() }
            try? await group.shutdownGracefully()
            throw error
        }
        self.channels = channels
        callers = try await loop.submit { [channels] in
            NIOLoopBound(try channels.map { try $0.pipeline.syncOperations.handler(type: Caller.self) }, eventLoop: channels[0].eventLoop)
        }.get()
    }

    func close() async {
        for channel in channels { try? await channel.close() }
        try? await group.shutdownGracefully()
    }

    /// `inFlight` calls per connection, each answered call replaced by a new
    /// one, until `end`; then waits for the calls still out.
    func closedLoop(inFlight: Int, until end: NIODeadline, phase: Int) async throws -> Load.Outcome {
        try await loop.submit { [callers] in
            for (index, caller) in callers.value.enumerated() {
                caller.start(random: FastRandom(state: UInt64(phase) << 32 | UInt64(index)), until: end)
                for _ in 0..<inFlight { caller.send() }
                caller.flush()
            }
        }.get()
        return try await collect(after: end)
    }

    /// `rate` calls/s in total, round robin over the connections, without
    /// waiting for answers: every 100 µs the calls due by then are sent (a
    /// coarser tick would send bursts that queue behind each other).
    func paced(rate: Double, until end: NIODeadline, phase: Int) async throws -> Load.Outcome {
        let lag = try await loop.submit { [callers, loop] () -> EventLoopFuture<Int64> in
            for (index, caller) in callers.value.enumerated() {
                caller.start(random: FastRandom(state: UInt64(phase) << 32 | UInt64(index)), until: nil)
            }
            let pacer = NIOLoopBound(Pacer(callers: callers.value, rate: rate), eventLoop: loop)
            let finished = loop.makePromise(of: Int64.self)
            loop.scheduleRepeatedTask(initialDelay: .zero, delay: .microseconds(100)) { task in
                guard NIODeadline.now() < end else {
                    task.cancel()
                    finished.succeed(pacer.value.lagMicros)
                    return
                }
                pacer.value.sendDue()
            }
            return finished.futureResult
        }.get().get()
        var outcome = try await collect(after: end)
        outcome.pacerLagMicros = lag
        return outcome
    }

    /// Waits (up to 5 s past `end`) for every call out to be answered, then
    /// gathers the connections' figures.
    private func collect(after end: NIODeadline) async throws -> Load.Outcome {
        while true {
            let outstanding = try await loop.submit { [callers] in callers.value.reduce(0) { $0 + $1.outstanding } }.get()
            if outstanding == 0 || NIODeadline.now() > end + .seconds(5) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try await loop.submit { [callers] in
            callers.value.reduce(into: Load.Outcome()) { total, caller in total.add(caller.finish()) }
        }.get()
    }
}

/// Sends the calls due at `rate` since it was made, round robin over the
/// callers, and keeps how late the most delayed one went. Event loop only.
private final class Pacer {
    private let callers: [Caller]
    private let rate: Double
    private let start = NIODeadline.now()
    private var sent = 0
    private(set) var lagMicros: Int64 = 0

    init(callers: [Caller], rate: Double) {
        self.callers = callers
        self.rate = rate
    }

    func sendDue() {
        let now = NIODeadline.now()
        let due = Int(Double((now - start).nanoseconds) / 1e9 * rate)
        if sent < due {
            let scheduled = start + .nanoseconds(Int64(Double(sent) / rate * 1e9))
            lagMicros = max(lagMicros, (now - scheduled).nanoseconds / 1000)
        }
        while sent < due {
            let caller = callers[sent % callers.count]
            caller.send()
            caller.flush()
            sent += 1
        }
    }
}

/// One connection's caller: sends Resolve of random seeded numbers and records
/// each answer's latency (or its error) when it arrives. Event loop only.
private final class Caller: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    struct Template: Sendable {
        var token: String
        var numbers: Int
    }

    private let template: Template
    private var context: ChannelHandlerContext?
    private var random = FastRandom(state: 0)
    private var end: NIODeadline?
    private var nextCallID: UInt64 = 1
    private var sentAt: [UInt64: NIODeadline] = [:]
    private var outcome = Load.Outcome()
    private var pendingFlush = false

    var outstanding: Int { sentAt.count }

    init(template: Template) {
        self.template = template
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Begins a phase: fresh figures; closed loop until `end`, or paced (nil).
    func start(random: FastRandom, until end: NIODeadline?) {
        self.random = random
        self.end = end
        outcome = Load.Outcome()
    }

    func finish() -> Load.Outcome {
        end = .now()
        return outcome
    }

    /// Writes one call (sent with the next flush).
    func send() {
        guard let context, context.channel.isActive else { return }
        var request = RpcV1.Request()
        request.method = LookupMethods.resolve
        request.metadata = [MetadataKey.authorization: "Bearer \(template.token)"]
        request.timeoutMicros = 5_000_000
        var resolve = LookupV1.ResolveRequest()
        resolve.number = SeedSet.e164(Int.random(in: 0..<template.numbers, using: &random))
        request.payload = resolve.serializedBytes()
        var frame = RpcV1.Frame()
        frame.callId = nextCallID
        frame.kind = .request(request)
        var buffer = context.channel.allocator.buffer(capacity: 256)
        buffer.writeFrame(frame)
        sentAt[nextCallID] = .now()
        nextCallID += 1
        context.write(NIOAny(buffer), promise: nil)
        pendingFlush = true
    }

    func flush() {
        guard pendingFlush, let context else { return }
        pendingFlush = false
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let frame = try? bytes.withUnsafeReadableBytes({ try RpcV1.Frame(serializedBytes: $0) }),
              case .response(let response) = frame.kind, let sent = sentAt.removeValue(forKey: frame.callId) else {
            outcome.record(sent: nil, failure: "an undecodable or unexpected frame")
            return
        }
        if let status = response.status, status.code != .ok {
            outcome.record(sent: sent, failure: "\(status.code): \(status.message)")
        } else {
            outcome.record(sent: sent, failure: nil)
        }
        // Closed loop: answer with the next call, unless the phase is over or broken.
        if let end, NIODeadline.now() < end, outcome.errors <= 1_000 { send() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for (_, sent) in sentAt { outcome.record(sent: sent, failure: "connection closed") }
        sentAt.removeAll()
        context.fireChannelInactive()
    }
}

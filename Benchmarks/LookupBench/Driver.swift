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
                            try channel.pipeline.syncOperations.addHandler(Caller(template: template))
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
    /// With `batched`, as redis-benchmark -P: the calls go out together and
    /// the next batch when all are answered.
    func closedLoop(inFlight: Int, batched: Bool, until end: NIODeadline, phase: Int) async throws -> Load.Outcome {
        try await loop.submit { [callers] in
            for (index, caller) in callers.value.enumerated() {
                caller.start(random: FastRandom(state: UInt64(phase) << 32 | UInt64(index)), until: end,
                             inFlight: inFlight, batched: batched)
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
///
/// Like redis-benchmark, it spends as little as it can per call: the request
/// envelope is encoded once and each call appends only its id and number to
/// the connection's outgoing buffer (one buffer and one write per flush, not
/// per call); answers are split into frames in place, with no decoder stage,
/// and read for their call id and status (decoded in full only when an error).
private final class Caller: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    struct Template: Sendable {
        var numbers: Int
        /// The request envelope (method, token, timeout) without its payload,
        /// which is its last field: each call appends its own.
        var request: [UInt8]

        init(token: String, numbers: Int) {
            self.numbers = numbers
            var request = RpcV1.Request()
            request.method = LookupMethods.resolve
            request.metadata = [MetadataKey.authorization: "Bearer \(token)"]
            request.timeoutMicros = 5_000_000
            self.request = request.serializedBytes()
        }
    }

    /// Calls out, by call id modulo the ring's size.
    private static let ringSize = 4096
    private var sentCallIDs = [UInt64](repeating: 0, count: Caller.ringSize)
    private var sentNanos = [UInt64](repeating: 0, count: Caller.ringSize)

    private let template: Template
    private var context: ChannelHandlerContext?
    private var random = FastRandom(state: 0)
    private var end: NIODeadline?
    /// Closed loop: calls sent per batch (`batched`) or kept in flight.
    private var inFlight = 1
    private var batched = false
    private var nextCallID: UInt64 = 1
    private(set) var outstanding = 0
    private var outcome = Load.Outcome()
    /// Calls written since the last flush.
    private var outgoing: ByteBuffer?
    /// The start of an answer not yet complete.
    private var partial: ByteBuffer?

    init(template: Template) {
        self.template = template
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Begins a phase: fresh figures; closed loop until `end`, or paced (nil).
    func start(random: FastRandom, until end: NIODeadline?, inFlight: Int = 1, batched: Bool = false) {
        self.random = random
        self.end = end
        self.inFlight = inFlight
        self.batched = batched
        outcome = Load.Outcome()
    }

    func finish() -> Load.Outcome {
        end = .now()
        return outcome
    }

    /// Writes one call (sent with the next flush).
    func send() {
        guard let context, context.channel.isActive else { return }
        let slot = Int(nextCallID % UInt64(Self.ringSize))
        guard sentCallIDs[slot] == 0 else {
            outcome.record(sent: nil, failure: "more than \(Self.ringSize) calls out on one connection")
            return
        }
        let number = SeedSet.e164(Int.random(in: 0..<template.numbers, using: &random))
        let payloadField = 2 + number.utf8.count  // ResolveRequest { number = 1 }
        let request = template.request.count + 2 + payloadField
        if outgoing == nil { outgoing = context.channel.allocator.buffer(capacity: 16 * (request + 24)) }
        outgoing!.writeInteger(UInt32(1 + ProtoWriter.varintSize(nextCallID) + 1 + ProtoWriter.varintSize(UInt64(request)) + request))
        outgoing!.writeInteger(UInt8(1 << 3))  // Frame.call_id
        outgoing!.writeProtoVarint(nextCallID)
        outgoing!.writeInteger(UInt8(2 << 3 | 2))  // Frame.request
        outgoing!.writeProtoVarint(UInt64(request))
        outgoing!.writeBytes(template.request)
        for byte in [4 << 3 | 2, payloadField, 1 << 3 | 2, number.utf8.count] { outgoing!.writeInteger(UInt8(byte)) }  // Request.payload
        outgoing!.writeString(number)
        sentCallIDs[slot] = nextCallID
        sentNanos[slot] = UInt64(NIODeadline.now().uptimeNanoseconds)
        nextCallID += 1
        outstanding += 1
    }

    /// Sends the calls written since the last flush, in one write.
    func flush() {
        guard let buffer = outgoing, let context else { return }
        outgoing = nil
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    /// Splits what arrived into answer frames, keeping an incomplete one for the next read.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var buffered = partial {
            partial = nil
            buffered.writeBuffer(&bytes)
            bytes = buffered
        }
        while let length = bytes.getInteger(at: bytes.readerIndex, as: UInt32.self), bytes.readableBytes >= 4 + Int(length) {
            bytes.moveReaderIndex(forwardBy: 4)
            answered(bytes.readSlice(length: Int(length))!)
        }
        if bytes.readableBytes > 0 { partial = bytes }
    }

    /// One answer: its latency (or error) recorded; in a closed loop, the next call.
    private func answered(_ bytes: ByteBuffer) {
        guard let (callID, failed) = bytes.withUnsafeReadableBytes(Self.answer), let sent = takeSent(callID) else {
            outcome.record(sent: nil, failure: "an undecodable or unexpected frame")
            return
        }
        if failed, let frame = try? bytes.withUnsafeReadableBytes({ try RpcV1.Frame(serializedBytes: $0) }),
           case .response(let response) = frame.kind, let status = response.status {
            outcome.record(sent: sent, failure: "\(status.code): \(status.message)")
        } else {
            outcome.record(sent: sent, failure: failed ? "an undecodable error answer" : nil)
        }
        // Closed loop: the next call (or batch), unless the phase is over or broken.
        guard let end, NIODeadline.now() < end, outcome.errors <= 1_000 else { return }
        if !batched {
            send()
        } else if outstanding == 0 {
            for _ in 0..<inFlight { send() }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for slot in sentCallIDs.indices where sentCallIDs[slot] != 0 {
            outcome.record(sent: NIODeadline.uptimeNanoseconds(sentNanos[slot]), failure: "connection closed")
            sentCallIDs[slot] = 0
        }
        outstanding = 0
        context.fireChannelInactive()
    }

    /// When the call `callID` was sent, if it is out (it is no longer).
    private func takeSent(_ callID: UInt64) -> NIODeadline? {
        let slot = Int(callID % UInt64(Self.ringSize))
        guard callID != 0, sentCallIDs[slot] == callID else { return nil }
        sentCallIDs[slot] = 0
        outstanding -= 1
        return NIODeadline.uptimeNanoseconds(sentNanos[slot])
    }

    /// A response frame's call id and whether its status is not OK; nil for
    /// any other frame.
    private static func answer(_ frame: UnsafeRawBufferPointer) -> (callID: UInt64, failed: Bool)? {
        var fields = ProtoFieldReader(frame)
        var callID: UInt64 = 0
        var response: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .varint(let id)): callID = id
            case (4, .bytes(let bytes)): response = bytes
            default: return nil
            }
        }
        guard !fields.isMalformed, let response else { return nil }
        fields = ProtoFieldReader(response)
        var failed = false
        while let field = fields.next() {
            // Response.status: OK is an empty message (code 0 left out).
            if field.number == 1, case .bytes(let status) = field.value { failed = !status.isEmpty }
        }
        return fields.isMalformed ? nil : (callID, failed)
    }
}

import Auth
import Foundation
import NIOCore
import NIOEmbedded
import Protos
import RPC

/// The largest frame the fuzzed pipeline accepts: small, so that frames at,
/// under and over the limit are all within reach of libFuzzer's input sizes.
let maximumFrameSize = 1024

/// One fuzz input, read as what a peer does to a server connection:
///
/// - byte 0, control: bits 0–1 are the number of chunks − 1; bits 2–3 an
///   event (1: the server starts draining, 2: the connection went idle, else
///   none); bits 4–7 before which chunk the event fires (mod chunks + 1, so
///   it may also come after the last);
/// - the next chunks − 1 bytes: where the stream is cut, each in 256ths of
///   its length;
/// - the rest: the byte stream, delivered as those chunks.
struct PipelineInput {
    enum Event: UInt8 {
        case quiesce = 1
        case idle = 2
    }

    var chunks: [[UInt8]] = []
    var event: Event?
    var eventBeforeChunk = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        guard let control = bytes.first else { return }
        let count = 1 + Int(control & 3)
        event = Event(rawValue: (control >> 2) & 3)
        eventBeforeChunk = Int(control >> 4) % (count + 1)
        let cutBytes = bytes.dropFirst().prefix(count - 1)
        let stream = Array(bytes.dropFirst(1 + cutBytes.count))
        var start = 0
        for cut in cutBytes.map({ stream.count * Int($0) / 256 }).sorted() + [stream.count] {
            chunks.append(Array(stream[start..<cut]))
            start = cut
        }
    }

    /// The input that sends `stream` cut at `cuts` (256ths), for seeds.
    static func encode(_ stream: [UInt8], cuts: [UInt8] = [], event: Event? = nil, beforeChunk: Int = 0) -> [UInt8] {
        precondition(cuts.count < 4 && beforeChunk < 16)
        let control = UInt8(cuts.count) | (event?.rawValue ?? 0) << 2 | UInt8(beforeChunk) << 4
        return [control] + cuts + stream
    }
}

/// The answer the server owes for one frame, predicted without it.
struct ExpectedAnswer: CustomStringConvertible {
    var callID: UInt64
    /// Acceptable status codes (wire values).
    var codes: Set<Int32>
    /// For an OK echo: the message the answer must carry.
    var echo: TestingV1.KitchenSink?
    var why: String

    static let ok: Int32 = 0, invalidArgument: Int32 = 3, resourceExhausted: Int32 = 8
    static let failedPrecondition: Int32 = 9, unimplemented: Int32 = 12, unauthenticated: Int32 = 16

    var description: String { "call \(callID) with a code in \(codes.sorted()) (\(why))" }

    /// What the server must answer to one complete frame: nil for none (a
    /// cancel of a call that is not running).
    static func forFrame(_ bytes: [UInt8]) -> ExpectedAnswer? {
        guard let frame = try? RpcV1.Frame(serializedBytes: bytes) else {
            return ExpectedAnswer(callID: 0, codes: [invalidArgument], why: "undecodable frame")
        }
        guard case .request(let request)? = frame.kind else {
            if case .cancel? = frame.kind { return nil }
            return ExpectedAnswer(callID: frame.callId, codes: [invalidArgument], why: "not a request or cancel")
        }
        let id = frame.callId
        let method = request.method
        guard method == _RPCFuzzing.echoMethod || method == _RPCFuzzing.authenticatedEchoMethod else {
            return ExpectedAnswer(callID: id, codes: [unimplemented], why: "unknown method")
        }
        // A token, when present, is verified even for the anonymous method;
        // whether it is valid is the verifier's business, not the model's.
        let hasToken = request.metadata[MetadataKey.authorization] != nil
        if method == _RPCFuzzing.authenticatedEchoMethod && !hasToken {
            return ExpectedAnswer(callID: id, codes: [unauthenticated], why: "no token")
        }
        var answer: ExpectedAnswer
        if let sink = try? TestingV1.KitchenSink(serializedBytes: request.payload) {
            answer = sink.fString == "fail"
                ? ExpectedAnswer(callID: id, codes: [failedPrecondition], why: "handler fails")
                : ExpectedAnswer(callID: id, codes: [ok], echo: sink, why: "echo")
        } else {
            answer = ExpectedAnswer(callID: id, codes: [invalidArgument], why: "payload is not a KitchenSink")
        }
        if hasToken { answer.codes.insert(unauthenticated) }
        return answer
    }
}

/// The connection as the model sees it: bytes buffered, answers owed, open or closed.
struct ConnectionModel {
    var buffered: [UInt8] = []
    var expected: [ExpectedAnswer] = []
    var isClosed = false

    /// Takes one chunk the way the frame decoder must: every complete frame
    /// is answered; a length over the maximum is answered with
    /// RESOURCE_EXHAUSTED as soon as its 4 bytes arrive, and closes.
    mutating func receive(_ chunk: [UInt8]) {
        guard !isClosed else { return }
        buffered += chunk
        var offset = 0
        defer { buffered.removeFirst(offset) }
        while buffered.count - offset >= 4 {
            let length = buffered[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            if length > maximumFrameSize {
                expected.append(ExpectedAnswer(callID: 0, codes: [ExpectedAnswer.resourceExhausted], why: "frame of \(length) bytes"))
                isClosed = true
                return
            }
            guard buffered.count - offset - 4 >= length else { return }
            if let answer = ExpectedAnswer.forFrame(Array(buffered[offset + 4..<offset + 4 + length])) {
                expected.append(answer)
            }
            offset += 4 + length
        }
    }
}

/// Feeds one input to a fresh server pipeline, as a plain connection and as
/// one served by a fast lane, and checks what each answers against the
/// model; any difference (or a crash) is a finding.
func runServerPipeline(_ bytes: UnsafeRawBufferPointer) {
    runServerPipeline(bytes, lanes: false)
    runServerPipeline(bytes, lanes: true)
}

private func runServerPipeline(_ bytes: UnsafeRawBufferPointer, lanes: Bool) {
    let input = PipelineInput(bytes)
    func fail(_ problem: String) -> Never {
        let hex = bytes.prefix(4096).map { String($0, radix: 16) }.joined(separator: " ")
        preconditionFailure("\(problem)\n\(lanes ? "fast lane" : "plain") connection, input (\(bytes.count) bytes): \(hex)")
    }

    let channel = EmbeddedChannel()
    do {
        try _RPCFuzzing.addServerHandlers(to: channel, maximumFrameSize: maximumFrameSize, lanes: lanes)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7100)).wait()
    } catch {
        fail("cannot set up the pipeline: \(error)")
    }
    var model = ConnectionModel()
    var answers: [RpcV1.Frame] = []

    func collectAnswers() {
        channel.embeddedEventLoop.run()
        // Answers written while reading one chunk leave together: a write holds whole frames.
        while var buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            while buffer.readableBytes > 0 {
                guard let length = buffer.readInteger(as: UInt32.self), let body = buffer.readSlice(length: Int(length)) else {
                    fail("a write ends inside a frame: \(buffer)")
                }
                guard let frame = try? body.withUnsafeReadableBytes({ try RpcV1.Frame(serializedBytes: $0) }) else {
                    fail("an answer does not decode as a Frame")
                }
                answers.append(frame)
            }
        }
    }

    for index in 0...input.chunks.count {
        if index == input.eventBeforeChunk, let event = input.event, channel.isActive {
            switch event {
            case .quiesce: channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            case .idle: channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
            }
            // Nothing is ever in flight (the methods are inline): either event closes.
            model.isClosed = true
            collectAnswers()
        }
        // A closed socket delivers nothing more; a socket never delivers nothing.
        guard index < input.chunks.count, channel.isActive, !input.chunks[index].isEmpty else { continue }
        model.receive(input.chunks[index])
        do {
            try channel.writeInbound(ByteBuffer(bytes: input.chunks[index]))
        } catch {
            fail("an error escaped the pipeline: \(error)")
        }
        collectAnswers()
        if channel.isActive == model.isClosed {
            fail(model.isClosed ? "the connection is open; it should have been closed" : "the connection was closed")
        }
    }

    if answers.count != model.expected.count {
        fail("\(answers.count) answers, expected \(model.expected.count): got \(answers), expected \(model.expected)")
    }
    if lanes {
        // Calls are independent: a fast lane answers its fast calls before the
        // frames it relayed, so each answer only has to match one owed.
        var owed = model.expected
        for answer in answers {
            guard let index = owed.firstIndex(where: { isAnswer(answer, to: $0) }) else {
                fail("answer \(answer) matches none of the answers still owed: \(owed)")
            }
            owed.remove(at: index)
        }
    } else {
        for (answer, expected) in zip(answers, model.expected) where !isAnswer(answer, to: expected) {
            fail("answer \(answer) where \(expected) was due")
        }
    }
    do {
        _ = try channel.finish(acceptAlreadyClosed: true)
    } catch {
        fail("closing the connection raised \(error)")
    }
}

/// Whether `answer` is the one `expected` describes: its call, a code it
/// allows and, for an echo, the request's message.
private func isAnswer(_ answer: RpcV1.Frame, to expected: ExpectedAnswer) -> Bool {
    guard answer.callId == expected.callID, case .response(let response)? = answer.kind,
          expected.codes.contains(response.status?.code.rawValue ?? 0) else { return false }
    guard response.status?.code.rawValue ?? 0 == ExpectedAnswer.ok, let echo = expected.echo else { return true }
    guard let got = try? TestingV1.KitchenSink(serializedBytes: response.payload) else { return false }
    return got == echo || response.payload == echo.serializedBytes()
}

/// Inputs to start from: each a peer's behaviour in the format above.
enum Seeds {
    static func frame(_ frame: RpcV1.Frame) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeFrame(frame)
        return Array(buffer.readableBytesView)
    }

    static func request(_ id: UInt64, _ method: String, payload: [UInt8] = [], metadata: [String: String] = [:],
                        timeout: UInt64 = 0) -> [UInt8] {
        frame(.with {
            $0.callId = id
            $0.kind = .request(.with {
                $0.method = method
                $0.metadata = metadata
                $0.timeoutMicros = timeout
                $0.payload = payload
            })
        })
    }

    static func sink(_ text: String, bytes: Int = 0) -> [UInt8] {
        TestingV1.KitchenSink.with {
            $0.fString = text
            $0.fInt64 = -5
            $0.fBytes = Array(repeating: 0xAB, count: bytes)
            $0.mStringString = ["k": "v"]
            $0.rNested = [.with { $0.name = "n" }]
        }.serializedBytes()
    }

    static var all: [[UInt8]] {
        let echo = _RPCFuzzing.echoMethod
        let authenticated = _RPCFuzzing.authenticatedEchoMethod
        let token = "Bearer " + TokenSigner(hs256Secret: _RPCFuzzing.hs256Secret).token(
            for: Principal(subject: "fuzz", role: .service, scopes: ["numbers.read"], expiresAt: Date()),
            lifetime: 100 * 365 * 86_400)
        let cancel = frame(.with { $0.callId = 2; $0.kind = .cancel(RpcV1.Cancel()) })
        let response = frame(.with { $0.callId = 3; $0.kind = .response(.with { $0.status = .with { $0.code = .ok } }) })
        // The largest request that fits a frame.
        let largest = (0...maximumFrameSize).reversed().lazy
            .map { request(9, echo, payload: sink("", bytes: $0)) }
            .first { $0.count - 4 <= maximumFrameSize }!
        return [
            PipelineInput.encode(request(1, echo, payload: sink("hello"), timeout: 250_000)),
            PipelineInput.encode(request(1, echo, payload: sink("a")) + cancel + request(2, echo, payload: sink("b")),
                                 cuts: [3, 90, 200]),
            PipelineInput.encode(request(4, authenticated, payload: sink("t"), metadata: ["authorization": token, "trace-id": "t-1"])
                                 + request(5, authenticated, payload: sink("t"), metadata: ["authorization": token]),
                                 cuts: [128]),
            PipelineInput.encode(request(6, authenticated, payload: sink("t"), metadata: ["authorization": "Bearer a.b.c"])
                                 + request(7, authenticated, payload: sink("t"))),
            PipelineInput.encode(request(8, echo, payload: sink("fail")) + request(8, "phonenumbers.rpc.v1.Health/Check")
                                 + request(0, echo, payload: [0xFF, 0xFF])),
            PipelineInput.encode(largest, cuts: [1]),
            PipelineInput.encode(request(1, echo, payload: sink("x")) + [0x00, 0x00, 0x04, 0x01] + Array(repeating: 0, count: 16),
                                 cuts: [40, 250]),
            PipelineInput.encode([0x00, 0x98, 0x96, 0x80]),
            PipelineInput.encode([0, 0, 0, 3, 0xFF, 0xFF, 0xFF] + response + [0, 0, 0, 0]),
            PipelineInput.encode(request(1, echo, payload: sink("q")) + request(2, echo, payload: sink("r")),
                                 cuts: [128], event: .quiesce, beforeChunk: 1),
            PipelineInput.encode(request(1, echo, payload: sink("i")) + [0, 0, 0, 50, 1, 2, 3],
                                 cuts: [128], event: .idle, beforeChunk: 2),
        ]
    }
}

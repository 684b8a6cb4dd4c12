import Auth
import Logging
import NIOCore
import Protos

/// A fast path and the metrics of its calls; a class, so that finding one per
/// call copies a reference rather than every field. The route's parts are
/// held field by field: reading one through a `FastRoute` copied the whole
/// route, retaining each of its closures and arrays, on every call.
final class FastEndpoint: Sendable {
    let name: [UInt8]
    let access: AccessPolicy
    let answer: FastPath
    let warm: FastPathWarm?
    let recorder: RPCServerMetrics.Recorder

    init(route: RPCRouter.FastRoute, recorder: RPCServerMetrics.Recorder) {
        name = route.name
        access = route.access
        answer = route.answer
        warm = route.warm
        self.recorder = recorder
    }
}

/// What every connection of a fast-lane server shares.
struct LaneShared: Sendable {
    var endpoints: [FastEndpoint]
    var verifier: TokenVerifier
    var maximumFrameSize: Int
    var maximumConcurrentCallsPerConnection: Int
    var logger: Logger
    /// Whether a fast path warms (`FastPathWarm`).
    var warms: Bool

    init(router: RPCRouter, verifier: TokenVerifier, configuration: RPCServer.Configuration,
         logger: Logger, metrics: RPCServerMetrics) {
        endpoints = router.fastRoutes.map { FastEndpoint(route: $0, recorder: metrics.recorder(method: $0.method, code: .ok)) }
        self.verifier = verifier
        maximumFrameSize = configuration.maximumFrameSize
        maximumConcurrentCallsPerConnection = configuration.maximumConcurrentCallsPerConnection
        self.logger = logger
        warms = router.fastRoutes.contains { $0.warm != nil }
    }
}

/// One connection as a fast lane sees it, without its socket: the bytes the
/// client sent go in; out come the answers of the calls a fast path took, and
/// the frames to relay to the general path (`ServerConnectionHandler`) — which
/// defines every other answer and every error. The general path's answers
/// come back through `consumeRelayed` and join the client's stream whole.
struct LaneSession {
    private let shared: LaneShared
    /// The start of a frame not yet complete, from the client or from the relay.
    private var partial: [UInt8] = []
    private var relayedPartial: [UInt8] = []
    private var tokens = TokenCache()
    /// Where fast paths encode their responses, reused call after call.
    private var scratch = ProtoWriter(capacity: 1024)
    /// Set once the client announced a frame above the maximum size: the lane
    /// can no longer find frame boundaries, so every later byte goes to the
    /// general path, which answers RESOURCE_EXHAUSTED and closes.
    private(set) var relayingAll = false
    /// Relayed requests not answered yet, by call id: a fast path must not
    /// answer a call id the general path is still serving.
    private var relayedCalls: Set<UInt64> = []
    /// Relayed frames the general path has yet to answer (all but cancels).
    private(set) var awaitingAnswers = 0

    init(shared: LaneShared) {
        self.shared = shared
    }

    /// Consumes bytes the client sent, read at `time` (when the poll that
    /// found them returned: the start of each call's timing, and the time a
    /// cached token is checked at). With `fast` false (the server is
    /// draining, or logging every call) every frame is relayed.
    mutating func consume(_ input: UnsafeRawBufferPointer, fast: Bool, at time: NIODeadline,
                          answers: inout ByteBuffer, relay: inout ByteBuffer) {
        if relayingAll {
            relay.writeBytes(input)
        } else if partial.isEmpty {
            let used = consumeFrames(input, fast: fast, at: time, answers: &answers, relay: &relay)
            if used < input.count { partial.append(contentsOf: input[used...]) }
        } else {
            partial.append(contentsOf: input)
            var buffered: [UInt8] = []
            swap(&buffered, &partial)
            let used = buffered.withUnsafeBytes { consumeFrames($0, fast: fast, at: time, answers: &answers, relay: &relay) }
            if used < buffered.count { partial = Array(buffered[used...]) }
        }
    }

    /// Whether bytes read next start on a frame boundary (nothing is
    /// buffered and frames are still being found), so `LaneWarmer` can read them.
    var startsAFrame: Bool { partial.isEmpty && !relayingAll }

    /// Consumes bytes the general path sent back: each whole frame joins the
    /// client's stream (a frame is never split between two writers).
    mutating func consumeRelayed(_ input: UnsafeRawBufferPointer, answers: inout ByteBuffer) {
        relayedPartial.append(contentsOf: input)
        var start = 0
        relayedPartial.withUnsafeBytes { bytes in
            while let frame = Self.frame(in: bytes, at: start) {
                answers.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<frame.upperBound]))
                if let header = FrameHeader(UnsafeRawBufferPointer(rebasing: bytes[frame])), header.kind == 4 {
                    awaitingAnswers = max(0, awaitingAnswers - 1)
                    relayedCalls.remove(header.callID)
                }
                start = frame.upperBound
            }
        }
        relayedPartial.removeFirst(start)
    }

    /// The relay closed: nothing relayed will be answered any more.
    mutating func relayClosed() {
        relayedCalls.removeAll()
        awaitingAnswers = 0
        relayedPartial.removeAll()
    }

    /// The whole frames at the start of `input`; returns how many bytes they took.
    private mutating func consumeFrames(_ input: UnsafeRawBufferPointer, fast: Bool, at time: NIODeadline,
                                        answers: inout ByteBuffer, relay: inout ByteBuffer) -> Int {
        var start = 0
        while input.count - start >= 4 {
            guard Self.length(in: input, at: start) <= shared.maximumFrameSize else {
                relayingAll = true
                relay.writeBytes(UnsafeRawBufferPointer(rebasing: input[start...]))
                return input.count
            }
            guard let range = Self.frame(in: input, at: start) else { break }
            let frame = UnsafeRawBufferPointer(rebasing: input[range])
            if !(fast && answerFast(frame, at: time, into: &answers)) {
                relay.writeBytes(UnsafeRawBufferPointer(rebasing: input[start..<range.upperBound]))
                noteRelayed(frame)
            }
            start = range.upperBound
        }
        return start
    }

    private mutating func noteRelayed(_ frame: UnsafeRawBufferPointer) {
        let header = FrameHeader(frame)
        if header?.kind == 5 { return }  // a cancel is not answered
        awaitingAnswers += 1
        if let header, header.kind == 2 { relayedCalls.insert(header.callID) }
    }

    /// Answers a call through its method's fast path, straight from the
    /// frame's bytes, when nothing about it needs the general path: the frame
    /// is a plain request, its token is valid and admits the caller, and the
    /// fast path takes it. Otherwise it writes nothing and returns false.
    private mutating func answerFast(_ frame: UnsafeRawBufferPointer, at time: NIODeadline, into answers: inout ByteBuffer) -> Bool {
        guard let call = RawRequest(frame: frame), relayedCalls.isEmpty
                || (relayedCalls.count < shared.maximumConcurrentCallsPerConnection && !relayedCalls.contains(call.callID)),
              let index = shared.endpoints.firstIndex(where: { call.method.matches($0.name) }) else { return false }
        let fast = shared.endpoints[index]
        var token: TokenCache.Entry?
        if let authorization = call.authorization {
            token = self.token(authorization, at: time)
            guard let token, token.fastAdmitted[index] else { return false }
        } else {
            guard fast.access.admits(nil) else { return false }
        }
        scratch.removeAll()
        guard fast.answer(call.payload, token?.principal, &scratch) else { return false }
        fast.recorder.record(started: time)
        answers.writeOKResponseFrame(callID: call.callID, payload: scratch.bytes)
        return true
    }

    /// The caller of `authorization`, verified (once per token); nil when it
    /// is not valid at `time` — the general path then says why.
    private mutating func token(_ authorization: UnsafeRawBufferPointer, at time: NIODeadline) -> TokenCache.Entry? {
        if let hit = tokens.cached(authorization, at: time) { return hit }
        guard let text = String(validating: authorization, as: UTF8.self) else { return nil }
        guard let verified = try? tokens.verify(text, verifier: shared.verifier, fastAccess: shared.endpoints.map(\.access)),
              time < verified.validUntil else { return nil }
        return verified
    }

    /// The frame's declared length at `start` (which has 4 bytes).
    static func length(in bytes: UnsafeRawBufferPointer, at start: Int) -> Int {
        Int(bytes[start]) << 24 | Int(bytes[start + 1]) << 16 | Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
    }

    /// The range of the frame's bytes (after its length) when the whole frame is in `bytes`.
    private static func frame(in bytes: UnsafeRawBufferPointer, at start: Int) -> Range<Int>? {
        guard bytes.count - start >= 4 else { return nil }
        let end = start + 4 + length(in: bytes, at: start)
        return end <= bytes.count ? start + 4..<end : nil
    }
}

/// A frame's call id and which kind it holds (the field number of
/// `Frame.kind`: 2 request, 3 stream message, 4 response, 5 cancel), read
/// without decoding the frame; nil when it is malformed.
struct FrameHeader {
    var callID: UInt64 = 0
    var kind: UInt32 = 0

    init?(_ frame: UnsafeRawBufferPointer) {
        var fields = ProtoFieldReader(frame)
        while let field = fields.next() {
            if field.number == 1, case .varint(let id) = field.value { callID = id }
            if (2...5).contains(field.number) { kind = field.number }
        }
        if fields.isMalformed { return nil }
    }
}

/// Gathers the calls that the reads of one poll brought, across connections,
/// for the fast paths that warm (`FastPathWarm`), and hands each path its
/// calls' payloads at once before any is answered: a path with two calls or
/// more, as a single call has nothing to overlap with. Its only effect is
/// that hint; frames are parsed again, and checked, when answered.
struct LaneWarmer {
    private let shared: LaneShared
    /// Payloads by endpoint; they point into the reads, valid until `warm`.
    private var payloads: [[UnsafeRawBufferPointer]]

    init(shared: LaneShared) {
        self.shared = shared
        payloads = Array(repeating: [], count: shared.endpoints.count)
    }

    /// Adds the calls of the whole frames at the start of `input` (a read
    /// that begins on a frame boundary) whose method has a fast path that warms.
    mutating func add(_ input: UnsafeRawBufferPointer) {
        var start = 0
        while input.count - start >= 4 {
            let end = start + 4 + LaneSession.length(in: input, at: start)
            guard end - start - 4 <= shared.maximumFrameSize, end <= input.count else { return }
            if let call = RawRequest(frame: UnsafeRawBufferPointer(rebasing: input[start + 4..<end])),
               let index = shared.endpoints.firstIndex(where: { $0.warm != nil && call.method.matches($0.name) }) {
                payloads[index].append(call.payload)
            }
            start = end
        }
    }

    /// Warms each path with its calls gathered since the last time, and forgets them.
    mutating func warm() {
        for index in payloads.indices where !payloads[index].isEmpty {
            if payloads[index].count > 1 { shared.endpoints[index].warm?(payloads[index]) }
            payloads[index].removeAll(keepingCapacity: true)
        }
    }
}

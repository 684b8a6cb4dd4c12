import Auth
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Protos
@testable import RPC
import Testing
import TestSupport

/// A fast lane answers the calls its fast paths take and hands every other
/// frame, unchanged and in order, to the general path; the general path's
/// answers reach the client as whole frames. (Behaviour through a real socket
/// is also covered by the server tests run with `lanes: true`.)
@Suite struct LaneTests {
    private static let admin = token(.platformAdmin)

    private func shared(maximumFrameSize: Int = 1 << 20, warm: FastPathWarm? = nil) throws -> LaneShared {
        var router = makeTestRouter()
        router.registerFastPath(for: TestMethod.echoInline, warm: warm) { payload, _, out in
            for byte in payload { out.append(byte) }
            return true
        }
        var configuration = RPCServer.Configuration()
        configuration.maximumFrameSize = maximumFrameSize
        let logger = Logger(label: "lane-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        return LaneShared(router: router, verifier: try TokenVerifier(hs256Secret: testSecret),
                          configuration: configuration, logger: logger, metrics: RPCServerMetrics())
    }

    private func session(maximumFrameSize: Int = 1 << 20) throws -> LaneSession {
        LaneSession(shared: try shared(maximumFrameSize: maximumFrameSize))
    }

    private func framed(_ frame: [UInt8]) -> [UInt8] {
        let length = UInt32(frame.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + frame
    }

    private func message(_ id: Int64) -> [UInt8] {
        TestingV1.KitchenSink.with { $0.fInt64 = id }.serializedBytes()
    }

    private func cancelFrame(callID: UInt64) -> [UInt8] {
        RpcV1.Frame.with { $0.callId = callID; $0.kind = .cancel(RpcV1.Cancel()) }.serializedBytes()
    }

    /// The frames in `bytes` (length prefixes removed).
    private func frames(_ buffer: ByteBuffer) -> [RpcV1.Frame] {
        var buffer = buffer
        var frames: [RpcV1.Frame] = []
        while let length = buffer.readInteger(as: UInt32.self), let bytes = buffer.readBytes(length: Int(length)) {
            frames.append(try! RpcV1.Frame(serializedBytes: bytes))
        }
        return frames
    }

    private func feed(_ session: inout LaneSession, _ input: [UInt8], chunk: Int,
                      at time: NIODeadline = .now()) -> (answers: ByteBuffer, relay: ByteBuffer) {
        var answers = ByteBuffer(), relay = ByteBuffer()
        var start = 0
        while start < input.count {
            let end = min(input.count, start + chunk)
            input[start..<end].withUnsafeBytes { session.consume($0, fast: true, at: time, answers: &answers, relay: &relay) }
            start = end
        }
        return (answers, relay)
    }

    @Test("frames split anywhere: fast calls answered, the rest relayed byte for byte")
    func framesSplitAnywhere() throws {
        let relayed = framed(requestFrame(callID: 2, method: TestMethod.echo, payload: message(2), token: Self.admin))
            + framed(cancelFrame(callID: 2))
        let input = framed(requestFrame(callID: 1, method: TestMethod.echoInline, payload: message(1), token: Self.admin))
            + relayed
            + framed(requestFrame(callID: 3, method: TestMethod.echoInline, payload: message(3), token: Self.admin))
        for chunk in [input.count, 1, 3, 7] {
            var lane = try session()
            let (answers, relay) = feed(&lane, input, chunk: chunk)
            #expect(Array(relay.readableBytesView) == relayed, "chunks of \(chunk)")
            let answered = frames(answers)
            #expect(answered.map(\.callId) == [1, 3])
            for frame in answered {
                guard case .response(let response)? = frame.kind else { Issue.record("not a response"); continue }
                #expect(response.status?.code == .ok)
                #expect(try TestingV1.KitchenSink(serializedBytes: response.payload).fInt64 == Int64(frame.callId))
            }
            #expect(lane.awaitingAnswers == 1, "the request waits for an answer; the cancel does not")
        }
    }

    @Test("a poll's reads are warmed together, across connections; a lone call, another method or a part frame is not")
    func callsOfOnePollAreWarmedTogether() throws {
        let log = NIOLockedValueBox<[String]>([])
        let warm: FastPathWarm = { payloads in
            let ids = payloads.map { (try? TestingV1.KitchenSink(serializedBytes: Array($0)).fInt64).map(String.init) ?? "?" }
            log.withLockedValue { $0.append(ids.joined(separator: ",")) }
        }
        var warmer = LaneWarmer(shared: try shared(warm: warm))
        let call4 = framed(requestFrame(callID: 4, method: TestMethod.echoInline, payload: message(4), token: Self.admin))
        let first = framed(requestFrame(callID: 1, method: TestMethod.echoInline, payload: message(1), token: Self.admin))
            + framed(requestFrame(callID: 2, method: TestMethod.echo, payload: message(2), token: Self.admin))
        let second = framed(requestFrame(callID: 3, method: TestMethod.echoInline, payload: message(3), token: Self.admin))
            + call4.prefix(call4.count - 1)
        first.withUnsafeBytes { warmer.add($0) }
        second.withUnsafeBytes { warmer.add($0) }
        warmer.warm()
        #expect(log.withLockedValue { $0 } == ["1,3"], "the other method's call and the part frame are not warmed")

        call4.withUnsafeBytes { warmer.add($0) }
        warmer.warm()
        #expect(log.withLockedValue { $0 } == ["1,3"], "one call has nothing to overlap with")

        let oversized = [UInt8]([0x7f, 0xff, 0xff, 0xff]) + call4
        (oversized + call4).withUnsafeBytes { warmer.add($0) }
        (call4 + call4).withUnsafeBytes { warmer.add($0) }
        warmer.warm()
        #expect(log.withLockedValue { $0 } == ["1,3", "4,4"], "nothing after a frame above the maximum")
    }

    @Test("many connections calling at once are all answered, their calls read ahead and warmed together")
    func manyConnectionsAtOnce() async throws {
        // A fast path that holds the lane thread, so that every connection's calls
        // arrive while it is busy and its next poll finds them all readable.
        let hold = "phonenumbers.testing.v1.Test/Hold"
        let holding = NIOLockedValueBox(false)
        var router = makeTestRouter()
        router.registerInline(MethodDescriptor(hold, access: .anyAuthenticated)) { (request: TestingV1.KitchenSink, _) in request }
        router.registerFastPath(for: hold) { payload, _, out in
            holding.withLockedValue { $0 = true }
            Thread.sleep(forTimeInterval: 0.3)
            for byte in payload { out.append(byte) }
            return true
        }
        let server = try await RunningServer.start(router: router, lanes: true)
        let peers = try (0..<30).map { _ in try RawPeer(port: server.port) }
        let holder = try RawPeer(port: server.port)
        holder.send(framed(requestFrame(callID: 1, method: hold, payload: message(0), token: Self.admin)))
        while !holding.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        for (index, peer) in peers.enumerated() {
            let calls = (1...4).map { call in
                framed(requestFrame(callID: UInt64(call), method: TestMethod.echoInline, payload: message(Int64(index * 10 + call)),
                                    token: Self.admin))
            }
            peer.send(Array(calls.joined()))
        }
        for (index, peer) in peers.enumerated() {
            var answered: [Int64] = []
            for _ in 1...4 {
                guard let frame = await peer.readFrame(), case .response(let response)? = frame.kind else {
                    Issue.record("a missing or broken answer")
                    break
                }
                #expect(response.status?.code == .ok)
                answered.append(try TestingV1.KitchenSink(serializedBytes: response.payload).fInt64)
            }
            #expect(answered == (1...4).map { Int64(index * 10 + $0) }, "connection \(index)")
        }
        #expect(await holder.readFrame()?.callId == 1)
        #expect(server.warmedCalls.withLockedValue { $0 } >= 30 * 4, "the calls that waited were warmed")
        try await server.stop()
    }

    @Test("an unverified token, another method or no token goes to the general path")
    func onlyVerifiedCallsAreFast() throws {
        let forged = TokenSigner(hs256Secret: Array("another-secret-0123456789-abcdef".utf8))
            .token(for: Principal(subject: "x", role: .platformAdmin, organizationID: nil, scopes: [], expiresAt: .now), lifetime: 600)
        let input = framed(requestFrame(callID: 1, method: TestMethod.echoInline, payload: message(1), token: forged))
            + framed(requestFrame(callID: 2, method: TestMethod.echoInline, payload: message(2)))
            + framed(requestFrame(callID: 3, method: TestMethod.echo, payload: message(3), token: Self.admin))
        var lane = try session()
        let (answers, relay) = feed(&lane, input, chunk: input.count)
        #expect(answers.readableBytes == 0)
        #expect(Array(relay.readableBytesView) == input)
        #expect(lane.awaitingAnswers == 3)
    }

    @Test("a token cached on the connection stops admitting fast calls once it expires (with the 30 s leeway)")
    func expiredCachedTokenGoesToTheGeneralPath() throws {
        let shortLived = token(.platformAdmin, lifetime: 60)
        var lane = try session()
        let first = framed(requestFrame(callID: 1, method: TestMethod.echoInline, payload: message(1), token: shortLived))
        #expect(frames(feed(&lane, first, chunk: first.count).answers).map(\.callId) == [1])
        let within = framed(requestFrame(callID: 2, method: TestMethod.echoInline, payload: message(2), token: shortLived))
        #expect(frames(feed(&lane, within, chunk: within.count, at: .now() + .seconds(80)).answers).map(\.callId) == [2])
        let after = framed(requestFrame(callID: 3, method: TestMethod.echoInline, payload: message(3), token: shortLived))
        let (answers, relay) = feed(&lane, after, chunk: after.count, at: .now() + .seconds(95))
        #expect(answers.readableBytes == 0, "an expired token is not answered by the fast path")
        #expect(Array(relay.readableBytesView) == after, "the general path answers it (UNAUTHENTICATED)")
    }

    @Test("a frame above the maximum sends it and every later byte to the general path")
    func oversizedFrameRelaysTheRest() throws {
        var lane = try session(maximumFrameSize: 1024)
        let fast = framed(requestFrame(callID: 1, method: TestMethod.echoInline, payload: message(1), token: Self.admin))
        let rest: [UInt8] = [0, 0, 0x10, 0] + [1, 2, 3] + fast
        let (answers, relay) = feed(&lane, fast + rest, chunk: 5)
        #expect(frames(answers).map(\.callId) == [1])
        #expect(Array(relay.readableBytesView) == rest)
        #expect(lane.relayingAll)
    }

    @Test("the general path's answers join the stream whole; its call ids are not answered twice")
    func relayedAnswersJoinWhole() throws {
        var lane = try session()
        let call = framed(requestFrame(callID: 7, method: TestMethod.echo, payload: message(7), token: Self.admin))
        _ = feed(&lane, call, chunk: call.count)
        #expect(lane.awaitingAnswers == 1)
        // The same call id on the fast method, while 7 is still running: the general path's to refuse.
        let reused = framed(requestFrame(callID: 7, method: TestMethod.echoInline, payload: message(7), token: Self.admin))
        let (none, relay) = feed(&lane, reused, chunk: reused.count)
        #expect(none.readableBytes == 0)
        #expect(Array(relay.readableBytesView) == reused)

        var answer = ByteBuffer()
        answer.writeOKResponseFrame(callID: 7, payload: message(7))
        let bytes = Array(answer.readableBytesView)
        var answers = ByteBuffer()
        bytes[..<5].withUnsafeBytes { lane.consumeRelayed($0, answers: &answers) }
        #expect(answers.readableBytes == 0, "half a frame waits for the rest")
        bytes[5...].withUnsafeBytes { lane.consumeRelayed($0, answers: &answers) }
        #expect(Array(answers.readableBytesView) == bytes)
        #expect(lane.awaitingAnswers == 1, "the reused id's refusal is still to come")

        let again = framed(requestFrame(callID: 8, method: TestMethod.echoInline, payload: message(8), token: Self.admin))
        #expect(frames(feed(&lane, again, chunk: again.count).answers).map(\.callId) == [8])
    }

    @Test("clients that close without reading their answers leave the server serving")
    func peersThatLeaveEarly() async throws {
        let server = try await RunningServer.start(lanes: true)
        let call = framed(requestFrame(callID: 1, method: TestMethod.echoInline,
                                       payload: TestingV1.KitchenSink.with { $0.fBytes = Array(repeating: 7, count: 4096) }.serializedBytes(),
                                       token: Self.admin))
        for round in 0..<20 {
            let peer = try RawPeer(port: server.port)
            // Answers to write after the peer is gone (some rounds also relay a call).
            peer.send(Array([[UInt8]](repeating: call, count: 100).joined())
                      + (round % 2 == 0 ? framed(requestFrame(callID: 2, method: TestMethod.echo, token: Self.admin)) : []))
        }
        let client = server.client()
        let answer = try await client.unary(TestMethod.echoInline, TestingV1.KitchenSink.with { $0.fInt64 = 5 }, as: TestingV1.KitchenSink.self)
        #expect(answer.fInt64 == 5)
        client.close()
        try await server.stop()
    }

    @Test("fast and relayed calls pipelined on one connection are all answered, each frame whole")
    func pipelinedMixOnOneConnection() async throws {
        let server = try await RunningServer.start(lanes: true)
        let peer = try RawPeer(port: server.port)
        var batch: [UInt8] = []
        let calls: [UInt64] = Array(1...300)
        for id in calls {
            // Odd ids go to the general path, some after a few milliseconds, so answers interleave.
            let method = id % 2 == 0 ? TestMethod.echoInline : TestMethod.echo
            let payload = TestingV1.KitchenSink.with { $0.fInt64 = Int64(id); $0.fInt32 = id % 2 == 0 ? 0 : Int32(id % 5) }
            batch += framed(requestFrame(callID: id, method: method, payload: payload.serializedBytes(), token: Self.admin))
        }
        peer.send(batch)
        var answered: Set<UInt64> = []
        for _ in calls {
            guard let frame = await peer.readFrame(), case .response(let response)? = frame.kind else {
                Issue.record("a missing or broken answer")
                break
            }
            #expect(response.status?.code == .ok)
            #expect(try TestingV1.KitchenSink(serializedBytes: response.payload).fInt64 == Int64(frame.callId))
            answered.insert(frame.callId)
        }
        #expect(answered == Set(calls))
        try await server.stop()
    }
}

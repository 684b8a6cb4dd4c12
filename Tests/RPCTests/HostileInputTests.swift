import Auth
import NIOCore
import Protos
@testable import RPC
import Testing
import TestSupport

@Suite struct HostileInputTests {
    @Test(arguments: [false, true]) func oversizedFrameIsResourceExhaustedThenClosed(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes) { $0.maximumFrameSize = 64 * 1024 }
        let peer = try RawPeer(port: server.port)
        // Only the length: the server must answer without waiting for 10 MB.
        peer.send([0x00, 0x98, 0x96, 0x80])
        let answer = await peer.readFrame()
        guard case .response(let response)? = answer?.kind else { Issue.record("expected a status frame"); return }
        #expect(answer?.callId == 0)
        #expect(response.status?.code == .resourceExhausted)
        #expect(response.status?.message.contains("exceeds the maximum of 65536 bytes") == true)
        #expect(await peer.isClosedByServer())

        // The client reports it too, with the server's code.
        let client = server.client()
        var big = TestingV1.KitchenSink()
        big.fBytes = Array(repeating: 1, count: 100 * 1024)
        let error = await #expect(throws: RPCError.self) {
            try await client.unary(TestMethod.echo, big, as: TestingV1.KitchenSink.self)
        }
        #expect(error?.code == .resourceExhausted)
        client.close()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func garbageAndTruncatedFramesNeverHurtOtherConnections(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes)
        let healthy = server.client()
        var generator = SystemRandomNumberGenerator()

        for round in 0..<200 {
            let peer = try RawPeer(port: server.port)
            let length = Int.random(in: 0...300, using: &generator)
            var junk = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            switch round % 4 {
            case 0: peer.sendFrame(junk)                                  // garbage protobuf
            case 1: peer.send(junk)                                       // garbage framing
            case 2: peer.send(Array(requestFrame(callID: 1, method: TestMethod.echo).prefix(3)))  // truncated header
            default:
                junk = requestFrame(callID: 1, method: TestMethod.echo, payload: junk, token: token(.platformAdmin))
                peer.sendFrame(junk)                                      // valid envelope, garbage request message
                let answer = await peer.readFrame()
                guard case .response(let response)? = answer?.kind else { Issue.record("no answer"); continue }
                #expect(response.status?.code == .invalidArgument || response.status?.code == .ok)
            }
        }
        // A valid envelope-level garbage frame gets INVALID_ARGUMENT on call 0 and the connection stays usable.
        let peer = try RawPeer(port: server.port)
        peer.sendFrame([0xff, 0xff, 0xff])
        guard case .response(let status)? = await peer.readFrame()?.kind else { Issue.record("no status"); return }
        #expect(status.status?.code == .invalidArgument)
        peer.sendFrame(requestFrame(callID: 5, method: StandardMethod.healthCheck))
        #expect(await peer.readFrame()?.callId == 5)

        let answer = try await healthy.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self)
        #expect(answer == TestingV1.KitchenSink())
        healthy.close()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func quietConnectionIsClosedOnceItsCallsAreAnswered(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes) { $0.idleTimeout = .milliseconds(300) }
        let peer = try RawPeer(port: server.port)
        // A call that runs past the idle timeout keeps the connection; a quiet one after it does not.
        let slow = TestingV1.KitchenSink.with { $0.fInt32 = 600; $0.fString = "slow" }.serializedBytes()
        let answer = await peer.call(1, method: TestMethod.echo, payload: slow, token: token(.platformAdmin))
        #expect(answer?.status?.code == .ok)
        let started = ContinuousClock.now
        #expect(await peer.isClosedByServer())
        #expect(ContinuousClock.now - started < .seconds(3))
        try await server.stop()
    }

    @Test(arguments: [false, true]) func connectionsBeyondTheLimitAreRefused(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes) { $0.maximumConnections = 3 }
        var peers = try (1...3).map { _ in try RawPeer(port: server.port) }
        for (index, peer) in peers.enumerated() {
            let answer = await peer.call(UInt64(index + 1), method: StandardMethod.healthCheck, payload: [], token: nil)
            #expect(answer?.status?.code == .ok)
        }
        let fourth = try RawPeer(port: server.port)
        #expect(await fourth.isClosedByServer(), "a fourth connection is closed at once")
        // A slot freed is a slot to take (once the server has seen the close).
        peers.removeFirst()
        var served = false
        for _ in 0..<50 where !served {
            let peer = try RawPeer(port: server.port)
            served = await peer.call(9, method: StandardMethod.healthCheck, payload: [], token: nil)?.status?.code == .ok
            if !served { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(served)
        peers.removeAll()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func stalledHalfFrameIsDroppedAfterIdleTimeout(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes) { $0.idleTimeout = .milliseconds(300) }
        let peer = try RawPeer(port: server.port)
        peer.send([0, 0, 0, 50, 1, 2, 3])
        let started = ContinuousClock.now
        #expect(await peer.isClosedByServer())
        #expect(ContinuousClock.now - started < .seconds(3))
        try await server.stop()
    }
}

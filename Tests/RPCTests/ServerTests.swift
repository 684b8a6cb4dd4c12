import Atomics
import Auth
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Protos
@testable import RPC
import Testing
import TestSupport

@Suite struct ServerTests {
    @Test(arguments: [false, true]) func unaryRoundTripAndInline(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes)
        let client = server.client()
        var message = TestingV1.KitchenSink()
        message.fString = "hello ☎️"
        message.rInt64 = [1, -2, .max]
        let echoed = try await client.unary(TestMethod.echo, message, as: TestingV1.KitchenSink.self)
        #expect(echoed == message)
        let inline = try await client.unary(TestMethod.echoInline, message, as: TestingV1.KitchenSink.self)
        #expect(inline == message)
        client.close()
        try await server.stop()
    }

    @Test func unknownMethodIsUnimplemented() async throws {
        let server = try await RunningServer.start()
        let client = server.client()
        let error = await #expect(throws: RPCError.self) {
            try await client.unary("phonenumbers.nope.v1.Nope/Nothing", TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self)
        }
        #expect(error?.code == .unimplemented)
        #expect(error?.message.contains("phonenumbers.nope.v1.Nope/Nothing") == true)
        client.close()
        try await server.stop()
    }

    @Test func expiredDeadlineIsDeadlineExceeded() async throws {
        let server = try await RunningServer.start()
        let client = server.client()
        var slow = TestingV1.KitchenSink()
        slow.fInt32 = 2_000
        let started = ContinuousClock.now
        let error = await #expect(throws: RPCError.self) {
            try await client.unary(TestMethod.echo, slow, as: TestingV1.KitchenSink.self, timeout: .milliseconds(100))
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - started < .seconds(1.5))

        // The server enforces the deadline it was sent, too (a raw peer never gives up).
        let peer = try RawPeer(port: server.port)
        peer.sendFrame(requestFrame(callID: 9, method: TestMethod.echo, payload: slow.serializedBytes(),
                                    token: token(.platformAdmin), timeoutMicros: 50_000))
        let answer = await peer.readFrame()
        #expect(answer?.callId == 9)
        guard case .response(let response)? = answer?.kind else { Issue.record("expected a response"); return }
        #expect(response.status?.code == .deadlineExceeded)
        client.close()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func tokensAreChecked(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes)
        let valid = token(.orgMember, org: "org-a")
        let tampered = valid.dropLast(2) + (valid.hasSuffix("AA") ? "BB" : "AA")
        let expired = token(.platformAdmin, lifetime: -600)
        let header = "eyJhbGciOiJub25lIn0" // {"alg":"none"}
        let payload = Data(#"{"sub":"x","role":"platform_admin","exp":9999999999}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "")
        for bad in [nil, String(tampered), expired, "\(header).\(payload).", "\(header).\(payload).c2ln", "not a jwt"] {
            let client = server.client(token: bad)
            let error = await #expect(throws: RPCError.self) {
                try await client.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self)
            }
            #expect(error?.code == .unauthenticated, "token \(bad ?? "nil")")
            client.close()
        }
        // A valid token with too little privilege is PERMISSION_DENIED, not UNAUTHENTICATED.
        let member = server.client(token: valid)
        let denied = await #expect(throws: RPCError.self) {
            try await member.unary(TestMethod.adminOnly, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self)
        }
        #expect(denied?.code == .permissionDenied)
        _ = try await member.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self)
        member.close()
        try await server.stop()
    }

    @Test func healthAndMethodListingNeedNoToken() async throws {
        let server = try await RunningServer.start()
        let client = server.client(token: nil)
        let health = try await client.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(), as: RpcV1.HealthCheckResponse.self)
        #expect(health.status == .serving)
        #expect(health.service == "test")
        let listing = try await client.unary(StandardMethod.listMethods, RpcV1.ListMethodsRequest(), as: RpcV1.ListMethodsResponse.self)
        let names = listing.methods.map(\.name)
        #expect(names.contains(TestMethod.echo))
        #expect(names.contains(StandardMethod.healthCheck))
        #expect(listing.methods.first { $0.name == TestMethod.count }?.serverStreaming == true)
        #expect(listing.methods.first { $0.name == TestMethod.adminOnly }?.roles == ["platform_admin"])
        #expect(listing.methods.first { $0.name == TestMethod.echo }?.roles.contains("org_member") == true)
        client.close()
        try await server.stop()
    }

    @Test func errorsCarryCodeMessageAndField() async throws {
        let server = try await RunningServer.start()
        let client = server.client()
        var request = TestingV1.KitchenSink()
        request.fString = "items[3].number"
        let error = await #expect(throws: RPCError.self) {
            try await client.unary(TestMethod.fail, request, as: TestingV1.KitchenSink.self)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.fieldViolations == [RPCError.FieldViolation(field: "items[3].number", description: "is wrong")])
        client.close()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func thousandConcurrentCallsOnOneConnection(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes)
        let client = server.client()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    var message = TestingV1.KitchenSink()
                    message.fInt64 = Int64(index)
                    // Varying delays make answers come back out of order.
                    message.fInt32 = Int32((index * 7919) % 50)
                    let answer = try await client.unary(TestMethod.echo, message, as: TestingV1.KitchenSink.self)
                    #expect(answer.fInt64 == Int64(index))
                }
            }
            try await group.waitForAll()
        }
        client.close()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func concurrentCallsPerConnectionAreBounded(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes) { $0.maximumConcurrentCallsPerConnection = 4 }
        let client = server.client()
        let outcomes = NIOLockedValueBox([RPCError.Code]())
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    var slow = TestingV1.KitchenSink()
                    slow.fInt32 = 300
                    do {
                        _ = try await client.unary(TestMethod.echo, slow, as: TestingV1.KitchenSink.self)
                        outcomes.withLockedValue { $0.append(.ok) }
                    } catch {
                        outcomes.withLockedValue { $0.append((error as? RPCError)?.code ?? .unknown) }
                    }
                }
            }
        }
        let codes = outcomes.withLockedValue { $0 }
        #expect(codes.filter { $0 == .ok }.count == 4)
        #expect(codes.filter { $0 == .resourceExhausted }.count == 6)
        client.close()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func serverStreamDeliversInOrderThenEnds(lanes: Bool) async throws {
        let server = try await RunningServer.start(lanes: lanes)
        let client = server.client()
        var request = TestingV1.KitchenSink()
        request.fInt32 = 500
        var received: [Int64] = []
        for try await message in client.serverStream(TestMethod.count, request, as: TestingV1.KitchenSink.self) {
            received.append(message.fInt64)
        }
        #expect(received == Array(0..<500))
        client.close()
        try await server.stop()
    }

    @Test(arguments: [false, true]) func drainFinishesInFlightCallsAndRefusesNewConnections(lanes: Bool) async throws {
        let started = ManagedAtomic(false)
        let server = try await RunningServer.start(router: makeTestRouter(onCall: { _ in started.store(true, ordering: .relaxed) }), lanes: lanes)
        let client = server.client()
        var slow = TestingV1.KitchenSink()
        slow.fInt32 = 500
        slow.fString = "finished"
        let inFlight = Task { try await client.unary(TestMethod.echo, slow, as: TestingV1.KitchenSink.self) }
        // Shut down only once the call is running on the server.
        while !started.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        let stopping = Task { try await server.stop() }
        let answer = try await inFlight.value
        #expect(answer.fString == "finished")
        try await stopping.value
        // The listener is gone: a new client cannot connect.
        let late = server.client { $0.maximumAttempts = 1; $0.connectTimeout = .milliseconds(200) }
        let error = await #expect(throws: RPCError.self) {
            try await late.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self, timeout: .milliseconds(500))
        }
        #expect(error?.code == .unavailable || error?.code == .deadlineExceeded)
        client.close()
        late.close()
    }
}

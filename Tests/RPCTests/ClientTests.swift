import Atomics
import Auth
import NIOConcurrencyHelpers
import NIOCore
import Protos
@testable import RPC
import Testing

@Suite struct ClientTests {
    @Test func resolvesEveryAddressOfAHost() async throws {
        let addresses = try await EndpointResolver.resolve(RPCTarget(host: "localhost", port: 7000))
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { $0.port == 7000 })
    }

    @Test func parsesTargets() {
        #expect(RPCTarget("lookup:7103") == RPCTarget(host: "lookup", port: 7103))
        #expect(RPCTarget("[::1]:80") == RPCTarget(host: "::1", port: 80))
        #expect(RPCTarget("nohost") == nil)
        #expect(RPCTarget("host:99999") == nil)
    }

    @Test func balancesCallsOverEveryServer() async throws {
        let hits = NIOLockedValueBox([String: Int]())
        func router(_ name: String) -> RPCRouter {
            var router = RPCRouter()
            router.register(MethodDescriptor(TestMethod.echo, access: .anyAuthenticated)) { (request: TestingV1.KitchenSink, _) in
                hits.withLockedValue { $0[name, default: 0] += 1 }
                return request
            }
            return router
        }
        let first = try await RunningServer.start(router: router("a"))
        let second = try await RunningServer.start(router: router("b"))
        let client = RPCClient(targets: [first.target, second.target])
        client.setBearerToken(token(.platformAdmin))
        for _ in 0..<200 {
            _ = try await client.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self)
        }
        let counts = hits.withLockedValue { $0 }
        #expect(counts["a", default: 0] + counts["b", default: 0] == 200)
        #expect(counts["a", default: 0] >= 50 && counts["b", default: 0] >= 50, "\(counts)")
        client.close()
        try await first.stop()
        try await second.stop()
    }

    @Test func reconnectsAfterTheServerComesBack() async throws {
        let first = try await RunningServer.start()
        let port = first.port
        let client = first.client { $0.initialBackoff = .milliseconds(20); $0.maximumBackoff = .milliseconds(200) }
        _ = try await client.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self)
        try await first.stop()

        let down = await #expect(throws: RPCError.self) {
            try await client.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self, timeout: .seconds(3))
        }
        // Refused connections fail fast, well before the deadline.
        #expect(down?.code == .unavailable)

        let second = try await RunningServer.start(port: port)
        let answer = try await client.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self,
                                            timeout: .seconds(5), idempotent: true)
        #expect(answer == TestingV1.KitchenSink())
        client.close()
        try await second.stop()
    }

    @Test func retriesUnavailableOnlyForIdempotentMethods() async throws {
        let calls = ManagedAtomic(0)
        var router = RPCRouter()
        // Fails with UNAVAILABLE on every odd call.
        for (name, idempotent) in [(TestMethod.echo, true), (TestMethod.fail, false)] {
            router.register(MethodDescriptor(name, access: .anyAuthenticated, idempotent: idempotent)) { (request: TestingV1.KitchenSink, _) in
                if calls.loadThenWrappingIncrement(ordering: .relaxed) % 2 == 0 { throw RPCError(.unavailable, "try again") }
                return request
            }
        }
        let server = try await RunningServer.start(router: router)
        let client = server.client { $0.initialBackoff = .milliseconds(5) }

        _ = try await client.unary(TestMethod.echo, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self, idempotent: true)
        #expect(calls.load(ordering: .relaxed) == 2)

        let error = await #expect(throws: RPCError.self) {
            try await client.unary(TestMethod.fail, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self, idempotent: false)
        }
        #expect(error?.code == .unavailable)
        #expect(calls.load(ordering: .relaxed) == 3)
        client.close()
        try await server.stop()
    }

    @Test func cancellingTheCallerCancelsTheCall() async throws {
        let server = try await RunningServer.start()
        let client = server.client()
        var slow = TestingV1.KitchenSink()
        slow.fInt32 = 5_000
        let task = Task { try await client.unary(TestMethod.echo, slow, as: TestingV1.KitchenSink.self) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.result
        #expect(throws: RPCError.self) { try result.get() }
        client.close()
        try await server.stop()
    }
}

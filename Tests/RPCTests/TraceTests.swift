import NIOCore
import Protos
@testable import RPC
import Testing

/// Trace ids: taken from the `trace-id` metadata or made by the server, seen
/// by handlers, and carried on to the calls a handler makes.
@Suite struct TraceTests {
    static let whoami = "phonenumbers.testing.v1.Trace/Whoami"
    static let forward = "phonenumbers.testing.v1.Trace/Forward"

    /// Answers with the trace id the handler saw (metadata and task-local).
    static func downstreamRouter() -> RPCRouter {
        var router = RPCRouter()
        router.register(MethodDescriptor(whoami, access: .anyAuthenticated)) { (_: TestingV1.KitchenSink, context) in
            var answer = TestingV1.KitchenSink()
            answer.fString = context.traceID ?? ""
            answer.fBytes = Array((TraceID.current ?? "").utf8)
            return answer
        }
        return router
    }

    /// Calls `whoami` on `downstream` without passing any metadata itself.
    static func forwardingRouter(downstream: RPCClient) -> RPCRouter {
        var router = RPCRouter()
        router.register(MethodDescriptor(forward, access: .anyAuthenticated)) { (request: TestingV1.KitchenSink, _) in
            try await downstream.unary(whoami, request, as: TestingV1.KitchenSink.self)
        }
        return router
    }

    @Test func handlerSeesTheCallersTraceID() async throws {
        let server = try await RunningServer.start(router: Self.downstreamRouter())
        let client = server.client()
        defer { client.close() }

        let answer = try await client.unary(Self.whoami, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self,
                                            metadata: [MetadataKey.traceID: "checkout-42"])
        #expect(answer.fString == "checkout-42")
        #expect(answer.fBytes == Array("checkout-42".utf8))
        try await server.stop()
    }

    @Test func serverMakesATraceIDWhenNoneOrAnUnusableOneIsSent() async throws {
        let server = try await RunningServer.start(router: Self.downstreamRouter())
        let client = server.client()
        defer { client.close() }

        var seen: [String] = []
        for metadata in [[:], [MetadataKey.traceID: "line\nbreak"], [MetadataKey.traceID: String(repeating: "a", count: 129)]] {
            let answer = try await client.unary(Self.whoami, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self,
                                                metadata: metadata)
            #expect(answer.fString.count == 32 && answer.fString.allSatisfy(\.isHexDigit), "\(answer.fString)")
            seen.append(answer.fString)
        }
        #expect(Set(seen).count == seen.count, "each call gets its own id")
        try await server.stop()
    }

    @Test func callsMadeByAHandlerCarryItsTraceID() async throws {
        let downstream = try await RunningServer.start(router: Self.downstreamRouter())
        let downstreamClient = downstream.client()
        let upstream = try await RunningServer.start(router: Self.forwardingRouter(downstream: downstreamClient))
        let client = upstream.client()
        defer {
            client.close()
            downstreamClient.close()
        }

        let answer = try await client.unary(Self.forward, TestingV1.KitchenSink(), as: TestingV1.KitchenSink.self,
                                            metadata: [MetadataKey.traceID: "order-7"])
        #expect(answer.fString == "order-7")
        try await upstream.stop()
        try await downstream.stop()
    }
}

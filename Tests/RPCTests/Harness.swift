import Auth
import Foundation
import TestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Protos
@testable import RPC
import ServiceLifecycle

let testSecret = Array("rpc-tests-secret-0123456789".utf8)
let signer = TokenSigner(hs256Secret: testSecret)

func token(_ role: Role, org: String? = nil, scopes: Set<String> = [], lifetime: TimeInterval = 600) -> String {
    signer.token(for: Principal(subject: "tester", role: role, organizationID: org, scopes: scopes, expiresAt: Date()),
                 lifetime: lifetime)
}

/// Test methods, all speaking `TestingV1.KitchenSink`.
enum TestMethod {
    /// Echoes the message; sleeps `fInt32` milliseconds first.
    static let echo = "phonenumbers.testing.v1.Test/Echo"
    /// Like echo, but runs inline on the event loop.
    static let echoInline = "phonenumbers.testing.v1.Test/EchoInline"
    /// Admin-only echo.
    static let adminOnly = "phonenumbers.testing.v1.Test/AdminOnly"
    /// Streams `fInt32` messages numbered in `fInt64`.
    static let count = "phonenumbers.testing.v1.Test/Count"
    /// Fails with the code in `fUint32` (and field `fString`).
    static let fail = "phonenumbers.testing.v1.Test/Fail"
}

func makeTestRouter(onCall: (@Sendable (String) -> Void)? = nil) -> RPCRouter {
    var router = RPCRouter()
    router.register(MethodDescriptor(TestMethod.echo, access: .anyAuthenticated, idempotent: true)) {
        (request: TestingV1.KitchenSink, _) in
        onCall?(TestMethod.echo)
        if request.fInt32 > 0 { try await Task.sleep(for: .milliseconds(Int(request.fInt32))) }
        return request
    }
    router.registerInline(MethodDescriptor(TestMethod.echoInline, access: .anyAuthenticated)) {
        (request: TestingV1.KitchenSink, _) in request
    }
    router.register(MethodDescriptor(TestMethod.adminOnly, access: .authenticated(roles: [.platformAdmin]))) {
        (request: TestingV1.KitchenSink, _) in request
    }
    router.registerServerStream(MethodDescriptor(TestMethod.count, access: .anyAuthenticated)) {
        (request: TestingV1.KitchenSink, _, writer: RPCStreamWriter<TestingV1.KitchenSink>) in
        for index in 0..<Int64(request.fInt32) {
            var message = TestingV1.KitchenSink()
            message.fInt64 = index
            try await writer.send(message)
        }
    }
    router.register(MethodDescriptor(TestMethod.fail, access: .anyAuthenticated)) {
        (request: TestingV1.KitchenSink, _) async throws -> TestingV1.KitchenSink in
        onCall?(TestMethod.fail)
        let code = RPCError.Code(wireValue: Int32(request.fUint32))
        if request.fString.isEmpty { throw RPCError(code, "requested failure") }
        throw RPCError.invalidArgument(field: request.fString, "is wrong")
    }
    return router
}

/// An RPC server on 127.0.0.1 with an ephemeral port, run in its own service
/// group so a test can shut it down gracefully.
final class RunningServer: Sendable {
    let server: RPCServer
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int
    /// With lanes: how many calls the fast path was warmed with, all told.
    let warmedCalls: NIOLockedValueBox<Int>

    /// - Parameter lanes: serve through fast lanes (`LaneServer`), with a fast
    ///   path for `TestMethod.echoInline` that echoes the request's bytes, and
    ///   counts the calls it is warmed with.
    static func start(
        router: RPCRouter = makeTestRouter(), lanes: Bool = false, host: String = "127.0.0.1", port: Int = 0,
        configure: (inout RPCServer.Configuration) -> Void = { _ in }
    ) async throws -> RunningServer {
        var router = router
        let warmedCalls = NIOLockedValueBox(0)
        if lanes {
            router.registerFastPath(for: TestMethod.echoInline, warm: { payloads in
                warmedCalls.withLockedValue { $0 += payloads.count }
            }) { payload, _, out in
                for byte in payload { out.append(byte) }
                return true
            }
        }
        var configuration = RPCServer.Configuration()
        configuration.host = host
        configuration.port = port
        configure(&configuration)
        var logger = Logger(label: "test-server")
        logger.logLevel = ProcessInfo.processInfo.environment["RPC_TEST_LOG"] == nil ? .warning : .debug
        let server = RPCServer(configuration: configuration, router: router, serviceName: "test",
                               verifier: try TokenVerifier(hs256Secret: testSecret), logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        let task = Task { try await group.run() }
        let address = try await server.boundAddress()
        return RunningServer(server: server, group: group, task: task, port: address.port!, warmedCalls: warmedCalls)
    }

    private init(server: RPCServer, group: ServiceGroup, task: Task<Void, any Error>, port: Int,
                 warmedCalls: NIOLockedValueBox<Int>) {
        self.server = server
        self.group = group
        self.task = task
        self.port = port
        self.warmedCalls = warmedCalls
    }

    var target: RPCTarget { RPCTarget(host: "127.0.0.1", port: port) }

    func client(token: String? = token(.platformAdmin), configure: (inout RPCClient.Configuration) -> Void = { _ in }) -> RPCClient {
        var configuration = RPCClient.Configuration()
        configure(&configuration)
        let client = RPCClient(target: target, configuration: configuration)
        client.setBearerToken(token)
        return client
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

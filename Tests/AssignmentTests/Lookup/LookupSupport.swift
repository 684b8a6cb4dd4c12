import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Testing
import TestSupport

/// A lookup process following the suite's inventory and assignment.
struct LookupReplica: Sendable {
    let process: ServiceProcess
    let stack: AssignmentStack

    static func start(_ stack: AssignmentStack, environment: [String: String] = [:]) async throws -> LookupReplica {
        let process = try ServiceProcess("lookup", jwtSecret: assignmentTestSecret, environment: [
            "PG_POOL_SIZE": "4",
            "PHONE_INVENTORY_ADDR": "127.0.0.1:\(stack.inventory.port)",
            "PHONE_ASSIGNMENT_ADDR": "127.0.0.1:\(stack.assignment.port)",
        ].merging(environment) { _, new in new })
        do {
            try await process.waitUntilHealthy(timeout: .seconds(60))
        } catch {
            await process.terminate()
            throw ServiceProcessError("lookup did not become healthy: \(error)\n\(process.log.suffix(4000))")
        }
        return LookupReplica(process: process, stack: stack)
    }

    func api(_ caller: Caller) -> LookupAPI {
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: process.port))
        client.setBearerToken(stack.signer.token(for: caller.principal))
        return LookupAPI(client: client)
    }
}

/// Typed calls of the lookup methods.
final class LookupAPI: Sendable {
    static let prefix = "phonenumbers.lookup.v1.Lookup/"
    let client: RPCClient

    init(client: RPCClient) { self.client = client }

    deinit { client.close() }

    func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as type: Response.Type, timeout: TimeAmount = .seconds(20)
    ) async throws(RPCError) -> Response {
        try await client.unary(Self.prefix + method, request, as: type, timeout: timeout)
    }

    func resolve(_ number: String, at instant: Date? = nil, region: String = "", credentials: Bool = false,
                 after token: LookupV1.ConsistencyToken? = nil, timeout: TimeAmount = .seconds(20)) async throws(RPCError) -> LookupV1.Route {
        var request = LookupV1.ResolveRequest()
        request.number = number
        request.regionHint = region
        request.atTimeMicros = instant.map { Int64($0.timeIntervalSince1970 * 1_000_000) } ?? 0
        request.includeCredentials = credentials
        request.minToken = token
        return try await call("Resolve", request, as: LookupV1.ResolveResponse.self, timeout: timeout).route ?? LookupV1.Route()
    }

    func status() async throws(RPCError) -> LookupV1.GetStatusResponse {
        try await call("GetStatus", LookupV1.GetStatusRequest(), as: LookupV1.GetStatusResponse.self)
    }
}

/// The lookup caller of call-handling services.
extension Caller {
    static func callHandler(credentials: Bool = false) -> Caller {
        .service(credentials ? ["lookup:read", "credentials:read"] : ["lookup:read"])
    }
}

/// Consistency tokens of assignment (and inventory) writes, as lookup takes them.
func after(assignment: UInt64 = 0, inventory: UInt64 = 0) -> LookupV1.ConsistencyToken {
    .with {
        $0.assignment = assignment
        $0.inventory = inventory
    }
}

/// An instant given as UTC text, e.g. "2026-03-09T13:30:00Z".
func utc(_ text: String) throws -> Date {
    try #require(ISO8601DateFormatter().date(from: text), "bad test instant \(text)")
}

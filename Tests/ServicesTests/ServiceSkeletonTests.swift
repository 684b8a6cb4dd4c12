import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Testing
import TestSupport

private let secret = "services-tests-secret-0123456789"

/// Each service runs as its own process, migrates its schema, answers health
/// and method listing, and exits cleanly on SIGTERM.
@Suite(.serialized) struct ServiceSkeletonTests {
    @Test(arguments: ["inventory", "assignment", "lookup"])
    func startsAnswersHealthAndDrains(service: String) async throws {
        let process = try ServiceProcess(service, jwtSecret: secret)
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: process.port))
        defer { client.close() }

        try await process.waitUntilHealthy(timeout: .seconds(30))
        let health = try await client.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(),
                                            as: RpcV1.HealthCheckResponse.self)
        #expect(health.service == service)
        #expect(health.status == .serving)
        #expect(health.databaseReachable)

        let listing = try await client.unary(StandardMethod.listMethods, RpcV1.ListMethodsRequest(),
                                             as: RpcV1.ListMethodsResponse.self)
        #expect(listing.methods.contains { $0.name == StandardMethod.healthCheck })

        #expect(await process.terminate() == 0, "log:\n\(process.log)")
        #expect(process.log.contains("schema is up to date"))
    }

    @Test func refusesToStartWithoutASecret() async throws {
        let process = try ServiceProcess("inventory", jwtSecret: "short")
        #expect(await process.waitForExit(timeout: .seconds(30)) == 1)
        #expect(process.log.contains("PHONE_JWT_SECRET"))
    }
}

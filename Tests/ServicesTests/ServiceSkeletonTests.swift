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

    /// Only inventory geocodes; loading the geocoder's library costs a process
    /// 14 MB resident (lookup holds a million numbers in about 170 MB).
    @Test(arguments: [("inventory", true), ("assignment", false), ("lookup", false)])
    func loadsTheGeocoderOnlyWhereItIsUsed(service: String, geocodes: Bool) async throws {
        let process = try ServiceProcess(service, jwtSecret: secret)
        try await process.waitUntilHealthy(timeout: .seconds(30))
        // Read to the end: /proc files report no size, so a sized read stops short.
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/\(process.process.processIdentifier)/maps"))
        let maps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        try file.close()
        #expect(maps.contains("libgeocoding") == geocodes, "\(service)")
        #expect(maps.contains("libphonenumber"), "\(service) parses numbers")
        #expect(await process.terminate() == 0, "log:\n\(process.log)")
    }

    @Test func refusesToStartWithoutASecret() async throws {
        let process = try ServiceProcess("inventory", jwtSecret: "short")
        #expect(await process.waitForExit(timeout: .seconds(30)) == 1)
        #expect(process.log.contains("PHONE_JWT_SECRET"))
    }
}

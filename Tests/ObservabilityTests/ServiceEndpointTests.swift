import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Testing
import TestSupport

private let secret = "observability-tests-secret-0123456789"
private let getNumber = "phonenumbers.inventory.v1.Inventory/GetNumber"

/// What an operator sees of a running service: Prometheus metrics and health
/// over HTTP, JSON log lines carrying trace ids, and an HTTP port that
/// garbage does not take down.
@Suite(.serialized) struct ServiceEndpointTests {
    private func adminClient(_ process: ServiceProcess) -> (RPCClient, token: String) {
        let signer = TokenSigner(hs256Secret: Array(secret.utf8))
        let token = signer.token(for: Principal(subject: "operator", role: .platformAdmin, organizationID: nil,
                                                scopes: [], expiresAt: Date()), lifetime: 600)
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: process.port))
        client.setBearerToken(token)
        return (client, token)
    }

    @Test func metricsCountCallsAndHealthAnswersAndLogsAreJSONWithTraceIDs() async throws {
        let process = try ServiceProcess("inventory", jwtSecret: secret, environment: [
            "PHONE_LOG_FORMAT": "json", "PHONE_LOG_LEVEL": "debug", "PG_POOL_SIZE": "3",
        ])
        let (client, token) = adminClient(process)
        defer { client.close() }
        try await process.waitUntilHealthy(timeout: .seconds(30))

        // Two calls that succeed (one traced by the caller), one that fails.
        _ = try await client.unary(StandardMethod.listMethods, RpcV1.ListMethodsRequest(), as: RpcV1.ListMethodsResponse.self,
                                   metadata: [MetadataKey.traceID: "ops-test-trace-1"])
        _ = try await client.unary(StandardMethod.listMethods, RpcV1.ListMethodsRequest(), as: RpcV1.ListMethodsResponse.self)
        await #expect(throws: RPCError.self) {
            try await client.unary(getNumber, InventoryV1.GetNumberRequest(), as: InventoryV1.NumberResponse.self)
        }

        let scrape = try await HTTPResponse.get(port: process.metricsPort, "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"]?.hasPrefix("text/plain") == true)
        let metrics = PrometheusText(scrape.body)
        let listOK = ["method": StandardMethod.listMethods, "code": "OK"]
        let getInvalid = ["method": getNumber, "code": "INVALID_ARGUMENT"]
        #expect(metrics.types["rpc_calls_total"] == "counter")
        #expect(metrics.value("rpc_calls_total", listOK) == 2, "\(scrape.body)")
        #expect(metrics.value("rpc_calls_total", getInvalid) == 1)
        #expect(metrics.types["rpc_call_duration_seconds"] == "histogram")
        #expect(metrics.value("rpc_call_duration_seconds_count", listOK) == 2)
        #expect(metrics.value("rpc_call_duration_seconds_count", getInvalid) == 1)
        #expect(metrics.value("rpc_call_duration_seconds_bucket", listOK.merging(["le": "+Inf"]) { $1 }) == 2)
        // Buckets reach down to tens of microseconds, counts never decrease.
        let buckets = metrics.matching("rpc_call_duration_seconds_bucket", listOK)
            .compactMap { sample in Double(sample.labels["le"]!).map { ($0, sample.value) } }
            .sorted { $0.0 < $1.0 }
        #expect(buckets.first.map { $0.0 <= 0.00005 } == true, "\(buckets)")
        #expect(buckets.count >= 10)
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.1 <= $1.1 })
        #expect((metrics.value("rpc_open_connections") ?? 0) >= 1)
        #expect(metrics.value("db_pool_size", ["role": "inventory"]) == 3)
        #expect(metrics.value("db_pool_waiters", ["role": "inventory"]) == 0)

        let health = try await HTTPResponse.get(port: process.metricsPort, "/health")
        #expect(health.status == 200)
        #expect(health.headers["content-type"] == "application/json")
        let report = try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any]
        #expect(report?["status"] as? String == "serving")
        #expect(report?["service"] as? String == "inventory")
        #expect(report?["database_reachable"] as? Bool == true)

        #expect(try await HTTPResponse.get(port: process.metricsPort, "/").status == 404)
        #expect(try await HTTPResponse.get(port: process.metricsPort, "/metrics", method: "DELETE").status == 405)

        #expect(await process.terminate() == 0, "log:\n\(process.log)")
        let lines = process.log.split(separator: "\n").map(String.init)
        let entries = lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        #expect(!lines.isEmpty && entries.count == lines.count, "every log line is a JSON object:\n\(process.log)")
        for entry in entries {
            #expect(entry["label"] as? String == "inventory")
            #expect(entry["level"] is String && entry["message"] is String)
            let timestamp = entry["timestamp"] as? String ?? ""
            #expect(timestamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z/) != nil, "\(timestamp)")
        }
        let traced = entries.filter { $0["trace.id"] as? String == "ops-test-trace-1" }
        #expect(traced.contains { $0["rpc.method"] as? String == StandardMethod.listMethods && $0["rpc.code"] as? String == "OK" })
        let failed = entries.first { $0["rpc.method"] as? String == getNumber }
        #expect((failed?["trace.id"] as? String)?.count == 32, "a call without a trace id gets one")
        #expect(!process.log.contains(token), "the bearer token never reaches the log")
    }

    @Test("PHONE_EVENT_LOOP_THREADS sets how many threads serve RPC; a bad value stops the start, naming it")
    func eventLoopThreads() async throws {
        let one = try ServiceProcess("lookup", jwtSecret: secret, environment: ["PHONE_EVENT_LOOP_THREADS": "1"])
        try await one.waitUntilHealthy(timeout: .seconds(30))
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(one.process.processIdentifier)/task")
            .compactMap { try? String(contentsOfFile: "/proc/\(one.process.processIdentifier)/task/\($0)/comm", encoding: .utf8) }
        // NIO names its shared event-loop threads NIO-SGLTN-<group>-#<index>.
        #expect(threads.count { $0.hasPrefix("NIO-SGLTN-") && !$0.contains("TP") } == 1, "threads: \(threads)")
        #expect(await one.terminate() == 0, "log:\n\(one.log)")

        let bad = try ServiceProcess("lookup", jwtSecret: secret, environment: ["PHONE_EVENT_LOOP_THREADS": "0"])
        let status = await bad.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0)
        #expect(bad.log.contains("PHONE_EVENT_LOOP_THREADS"), "log:\n\(bad.log)")
    }

    @Test func garbageOnTheHTTPPortDoesNotKillTheService() async throws {
        let process = try ServiceProcess("inventory", jwtSecret: secret)
        try await process.waitUntilHealthy(timeout: .seconds(30))
        let port = process.metricsPort

        // Not HTTP at all: a 400, then the connection is closed.
        let binary = try await HTTPResponse.exchange(port: port, String(decoding: (0..<512).map { UInt8($0 % 256) }, as: UTF8.self))
        #expect(binary == nil || binary?.status == 400)
        let notHTTP = try await HTTPResponse.exchange(port: port, "HELLO\r\n\r\n")
        #expect(notHTTP?.status == 400)
        // Headers far beyond any sane size.
        let hugeHeader = "GET /metrics HTTP/1.1\r\nX-Filler: " + String(repeating: "x", count: 200_000) + "\r\n\r\n"
        let huge = try await HTTPResponse.exchange(port: port, hugeHeader)
        #expect(huge == nil || huge?.status == 400)
        // A body nobody asked for, larger than the limit.
        let body = String(repeating: "y", count: 64_000)
        let post = try await HTTPResponse.exchange(
            port: port, "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        #expect(post?.status == 413)
        // A peer that connects and leaves mid-request.
        do {
            let peer = try RawPeer(port: port)
            peer.send(Array("GET /heal".utf8))
        }

        #expect(process.process.isRunning, "log:\n\(process.log)")
        #expect(try await HTTPResponse.get(port: port, "/health").status == 200)
        #expect(try await HTTPResponse.get(port: port, "/metrics").status == 200)
        #expect(await process.terminate() == 0, "log:\n\(process.log)")
    }

    @Test func healthIs503WhileTheDatabaseIsUnreachable() async throws {
        // A port nothing listens on: the service starts, cannot migrate, and says so.
        let process = try ServiceProcess("inventory", jwtSecret: secret, environment: ["PG_PORT": "1"])
        var health: HTTPResponse?
        let deadline = ContinuousClock.now + .seconds(10)
        while health == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            health = try? await HTTPResponse.get(port: process.metricsPort, "/health")   // nil until it listens
        }
        #expect(health?.status == 503, "log:\n\(process.log)")
        #expect(health?.body.contains("\"status\":\"not_serving\"") == true)
        #expect(health?.body.contains("\"database_reachable\":false") == true)
        await process.terminate()
    }
}

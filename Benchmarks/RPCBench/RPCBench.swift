import ArgumentParser
import Auth
import BenchSupport
import Foundation
import Histogram
import Logging
import NIOCore
import NIOPosix
import Protos
import RPC
import ServiceLifecycle
import UnixSignals

/// Measures the RPC layer on loopback: a trivial method served by one process,
/// driven by another; reports calls/s, latency percentiles and the server's
/// CPU time per call (read from /proc for the server process).
@main
struct RPCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc-bench",
        abstract: "Benchmark the framed RPC layer over loopback.",
        subcommands: [Serve.self, Load.self],
        defaultSubcommand: Load.self)
}

let benchSecret = Array("rpc-bench-secret-0123456789".utf8)
let echoMethod = "phonenumbers.bench.v1.Bench/Echo"
let echoInlineMethod = "phonenumbers.bench.v1.Bench/EchoInline"

extension RPCBench {
    /// Serves the trivial methods until SIGTERM; prints the bound port.
    struct Serve: AsyncParsableCommand {
        @Option var port = 0

        func run() async throws {
            var router = RPCRouter()
            router.register(MethodDescriptor(echoMethod, access: .anyAuthenticated)) { (request: RpcV1.HealthCheckRequest, _) in
                var response = RpcV1.HealthCheckResponse()
                response.service = request.service
                return response
            }
            router.registerInline(MethodDescriptor(echoInlineMethod, access: .anyAuthenticated)) { (request: RpcV1.HealthCheckRequest, _) in
                var response = RpcV1.HealthCheckResponse()
                response.service = request.service
                return response
            }
            var configuration = RPCServer.Configuration()
            configuration.port = port
            var logger = Logger(label: "rpc-bench")
            logger.logLevel = .warning
            let server = RPCServer(configuration: configuration, router: router, serviceName: "bench",
                                   verifier: try TokenVerifier(hs256Secret: benchSecret), logger: logger)
            let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            Task {
                let address = try await server.boundAddress()
                // A pipe buffers stdout; write straight to the descriptor so the script sees it now.
                FileHandle.standardOutput.write(Data("listening \(address.port!)\n".utf8))
            }
            try await group.run()
        }
    }

    /// Drives a server for a fixed time and prints the figures.
    struct Load: AsyncParsableCommand {
        @Option(help: "Server port.") var port: Int
        @Option(help: "Server process id, for its CPU time.") var serverPid: Int32
        @Option var connections = 50
        @Option(help: "Calls in flight per connection.") var inFlight = 1
        @Option(help: "Seconds of measurement after a 1 s warm-up.") var seconds = 5.0
        @Flag(help: "Serve the call inline on the event loop instead of as a task.") var inline = false

        func run() async throws {
            let token = TokenSigner(hs256Secret: benchSecret).token(
                for: Principal(subject: "bench", role: .service, scopes: [], expiresAt: Date()))
            let clients = (0..<connections).map { _ in
                let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: port))
                client.setBearerToken(token)
                return client
            }
            let method = inline ? echoInlineMethod : echoMethod
            var request = RpcV1.HealthCheckRequest()
            request.service = "bench"
            // Warm up: connect and settle.
            for client in clients { _ = try await client.unary(method, request, as: RpcV1.HealthCheckResponse.self) }
            try await drive(clients, method: method, request: request, until: .now + .seconds(1))

            let cpuBefore = try processCPUMicros(serverPid)
            let clientCPUBefore = try processCPUMicros(getpid())
            let started = ContinuousClock.now
            let histogram = try await drive(clients, method: method, request: request, until: started + .seconds(seconds))
            let wall = (ContinuousClock.now - started).seconds
            let cpuAfter = try processCPUMicros(serverPid)
            let clientCPUAfter = try processCPUMicros(getpid())
            let calls = Double(histogram.totalCount)
            let mode = inline ? "inline" : "task"
            // Client CPU is printed too: on a shared machine a slow load
            // generator, not the server, can be what limits calls/s.
            print(String(format: "%@ connections=%d in-flight=%d  calls/s=%.0f  p50=%dus p99=%dus p99.9=%dus  server-cpu/call=%.1fus  client-cpu/call=%.1fus",
                         mode, connections, inFlight, calls / wall,
                         histogram.valueAtPercentile(50), histogram.valueAtPercentile(99), histogram.valueAtPercentile(99.9),
                         Double(cpuAfter - cpuBefore) / calls, Double(clientCPUAfter - clientCPUBefore) / calls))
            for client in clients { client.close() }
        }

        @discardableResult
        private func drive(_ clients: [RPCClient], method: String, request: RpcV1.HealthCheckRequest,
                           until end: ContinuousClock.Instant) async throws -> Histogram<UInt64> {
            try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
                for client in clients {
                    for _ in 0..<inFlight {
                        group.addTask {
                            var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                            while ContinuousClock.now < end {
                                let start = ContinuousClock.now
                                _ = try await client.unary(method, request, as: RpcV1.HealthCheckResponse.self)
                                histogram.record(UInt64((ContinuousClock.now - start).microseconds))
                            }
                            return histogram
                        }
                    }
                }
                var total = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                for try await histogram in group { total.add(histogram) }
                return total
            }
        }
    }
}

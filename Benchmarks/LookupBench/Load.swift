import ArgumentParser
import BenchSupport
import Foundation
import Histogram
import NIOCore
import Protos
import RPC
import Synchronization

/// Resolve of random seeded numbers over many connections, either as fast as
/// answers come (a fixed number of calls in flight per connection) or paced
/// at a fixed total rate. Prints requests/s, latency percentiles and the CPU
/// time the lookup process and this client spent per request.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drive Resolve of a running lookup and print the figures.")
    @Option(help: "Lookup port on 127.0.0.1.") var port: Int
    @Option(help: "Lookup's process id, for its CPU time.") var serverPid: Int32
    @OptionGroup var seed: SeedOptions
    @Option var connections = 50
    @Option(help: "Calls in flight per connection (without --rate).") var inFlight = 1
    @Option(help: "Total calls/s, paced; 0 = every caller calls again as soon as answered.") var rate = 0.0
    @Option(help: "Seconds of warm-up (not measured).") var warmup = 2.0
    @Option(help: "Seconds measured.") var seconds = 10.0
    @Option(help: "Label of the printed line.") var label = "lookup"
    @Option(help: "Also write `requests/s p50 p99 p99.9 server-cpu/req client-cpu/req errors` here.") var resultFile: String?

    func validate() throws {
        guard connections > 0, inFlight > 0, seconds > 0, warmup >= 0, rate >= 0 else {
            throw ValidationError("connections, in-flight and seconds must be positive")
        }
    }

    func run() async throws {
        let token = try BenchTokens.lookupReader()
        let clients = (0..<connections).map { _ in RPCClient.loopback(port: port, token: token) { $0.maximumAttempts = 1 } }
        defer { for client in clients { client.close() } }
        // Connect every client before the clock starts.
        for client in clients { _ = try await client.unary(LookupMethods.status, LookupV1.GetStatusRequest(), as: LookupV1.GetStatusResponse.self) }
        if warmup > 0 { _ = await drive(clients, until: .now + .seconds(warmup), phase: 1) }

        let serverBefore = try processCPUMicros(serverPid), clientBefore = try processCPUMicros(getpid())
        let started = ContinuousClock.now
        let outcome = await drive(clients, until: started + .seconds(seconds), phase: 2)
        let wall = (ContinuousClock.now - started).seconds
        let serverCPU = try processCPUMicros(serverPid) - serverBefore, clientCPU = try processCPUMicros(getpid()) - clientBefore

        let requests = Double(outcome.latencies.totalCount)
        let figures = [requests / wall, Double(outcome.latencies.valueAtPercentile(50)), Double(outcome.latencies.valueAtPercentile(99)),
                       Double(outcome.latencies.valueAtPercentile(99.9)), Double(serverCPU) / requests, Double(clientCPU) / requests,
                       Double(outcome.errors)]
        let mode = rate > 0 ? String(format: "paced at %.0f/s", rate) : "\(inFlight) in flight per connection"
        print(String(format: "%@: %d connections, %@: %.0f requests/s  p50=%.0fus p99=%.0fus p99.9=%.0fus  "
                     + "server CPU %.2fus/request  client CPU %.2fus/request  errors=%.0f",
                     label, connections, mode, figures[0], figures[1], figures[2], figures[3], figures[4], figures[5], figures[6]))
        if rate > 0 { print(String(format: "  the pacer sent its latest call %.1f ms after its time", Double(outcome.pacerLagMicros) / 1000)) }
        if let first = outcome.firstError { print("  first error: \(first)") }
        if let resultFile {
            try (figures.map { String(format: "%.2f", $0) }.joined(separator: " ") + "\n").write(toFile: resultFile, atomically: true, encoding: .utf8)
        }
    }

    struct Outcome: Sendable {
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var errors = 0
        var firstError: String?
        /// Paced: how late the pacer sent its most delayed call (a starved client sends in bursts).
        var pacerLagMicros: Int64 = 0

        /// Latency from sending a call to its answer, or the failure.
        mutating func record(sent: ContinuousClock.Instant, _ result: Result<Void, RPCError>) {
            switch result {
            case .success: latencies.record(UInt64((ContinuousClock.now - sent).microseconds))
            case .failure(let error):
                errors += 1
                if firstError == nil { firstError = "\(error)" }
            }
        }

        mutating func add(_ other: Outcome) {
            latencies.add(other.latencies)
            errors += other.errors
            firstError = firstError ?? other.firstError
            pacerLagMicros = max(pacerLagMicros, other.pacerLagMicros)
        }
    }

    /// Drives until `end`; each phase draws other numbers than the last.
    private func drive(_ clients: [RPCClient], until end: ContinuousClock.Instant, phase: Int) async -> Outcome {
        rate > 0 ? await paced(clients, until: end, phase: phase) : await closedLoop(clients, until: end, phase: phase)
    }

    /// `inFlight` callers per connection, each calling again once answered.
    private func closedLoop(_ clients: [RPCClient], until end: ContinuousClock.Instant, phase: Int) async -> Outcome {
        let numbers = seed.numbers
        return await withTaskGroup(of: Outcome.self) { group in
            for (index, client) in clients.enumerated() {
                for slot in 0..<inFlight {
                    let caller = UInt64(index * inFlight + slot)
                    group.addTask {
                        var random = FastRandom(state: UInt64(phase) << 32 | caller)
                        var outcome = Outcome()
                        while ContinuousClock.now < end && outcome.errors <= 1_000 {  // a broken run stops rather than spins
                            let sent = ContinuousClock.now
                            outcome.record(sent: sent, await Self.resolve(client, Int.random(in: 0..<numbers, using: &random)))
                        }
                        return outcome
                    }
                }
            }
            var total = Outcome()
            for await outcome in group { total.add(outcome) }
            return total
        }
    }

    /// One pacer: every millisecond it sends the calls due by then at `rate`,
    /// round robin over the connections, without waiting for answers. (A
    /// timer per call would cost this client more CPU than the server spends.)
    private func paced(_ clients: [RPCClient], until end: ContinuousClock.Instant, phase: Int) async -> Outcome {
        let numbers = seed.numbers, rate = rate
        let shared = SharedOutcome()
        var random = FastRandom(state: UInt64(phase) << 32)
        let start = ContinuousClock.now
        var sent = 0, lag = Duration.zero
        await withDiscardingTaskGroup { group in
            while ContinuousClock.now < end {
                let now = ContinuousClock.now
                let due = Int((now - start).seconds * rate)
                if sent < due { lag = max(lag, now - (start + .seconds(Double(sent) / rate))) }
                while sent < due {
                    let client = clients[sent % clients.count], number = Int.random(in: 0..<numbers, using: &random)
                    group.addTask {
                        let sent = ContinuousClock.now
                        let result = await Self.resolve(client, number)
                        shared.outcome.withLock { $0.record(sent: sent, result) }
                    }
                    sent += 1
                }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        return shared.outcome.withLock {
            $0.pacerLagMicros = lag.microseconds
            return $0
        }
    }

    final class SharedOutcome: Sendable {
        let outcome = Mutex(Outcome())
    }

    private static func resolve(_ client: RPCClient, _ index: Int) async -> Result<Void, RPCError> {
        var request = LookupV1.ResolveRequest()
        request.number = SeedSet.e164(index)
        do throws(RPCError) {
            _ = try await client.unary(LookupMethods.resolve, request, as: LookupV1.ResolveResponse.self, timeout: .seconds(5))
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}

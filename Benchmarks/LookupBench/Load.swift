import ArgumentParser
import BenchSupport
import Foundation
import Histogram
import NIOCore

/// Resolve of random seeded numbers over many connections (`CallDriver`),
/// either as fast as answers come (a fixed number of calls in flight per
/// connection) or paced at a fixed total rate. Prints requests/s, latency
/// percentiles and the CPU time the server process and this client spent per
/// request. With `--redis`, the same calls go to Redis as `GET route:<index>`.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drive Resolve of a running lookup and print the figures.")
    @Option(help: "Lookup's (or Redis') port on 127.0.0.1.") var port: Int
    @Option(help: "The server's process id, for its CPU time.") var serverPid: Int32
    @Flag(help: "Call Redis (GET of the keys redis-protocol sets) instead of lookup.") var redis = false
    @Flag(help: "Ask lookup for the provider credentials too (include_credentials), of seeded numbers that have them.")
    var credentials = false
    @OptionGroup var seed: SeedOptions
    @Option var connections = 50
    @Option(help: "Calls in flight per connection (without --rate).") var inFlight = 1
    @Flag(help: "Send the in-flight calls as one batch, and the next when all are answered (as redis-benchmark -P does).")
    var batched = false
    @Option(help: "Total calls/s, paced; 0 = every caller calls again as soon as answered.") var rate = 0.0
    @Option(help: "Seconds of warm-up (not measured).") var warmup = 2.0
    @Option(help: "Seconds measured.") var seconds = 10.0
    @Option(help: "Label of the printed line (default: lookup, or redis GET).") var label: String?
    @Option(help: "Also write `requests/s p50 p99 p99.9 server-cpu/req client-cpu/req errors` here.") var resultFile: String?

    func validate() throws {
        guard connections > 0, inFlight > 0, seconds > 0, warmup >= 0, rate >= 0 else {
            throw ValidationError("connections, in-flight and seconds must be positive")
        }
        guard !credentials || (!redis && (0..<seed.numbers).contains(SeedSet.withCredentials(near: 0, numbers: seed.numbers))) else {
            throw ValidationError("--credentials calls lookup, and needs a seeded number with credentials")
        }
    }

    func run() async throws {
        let wire = redis ? Wire.redis : Wire.lookup(token: try BenchTokens.lookupReader(credentials: credentials), withCredentials: credentials)
        let numbers = seed.numbers
        let driver = try CallDriver(port: port, wire: wire, connections: connections, numbers: numbers,
                                    draw: credentials ? { SeedSet.withCredentials(near: $0, numbers: numbers) } : { $0 })
        let figures: [Double], outcome: Outcome
        do {
            if warmup > 0 { _ = await drive(driver, for: warmup, phase: 1) }
            let serverBefore = try processCPUMicros(serverPid), clientBefore = try processCPUMicros(getpid())
            let started = ContinuousClock.now
            outcome = await drive(driver, for: seconds, phase: 2)
            let wall = (ContinuousClock.now - started).seconds
            let serverCPU = try processCPUMicros(serverPid) - serverBefore, clientCPU = try processCPUMicros(getpid()) - clientBefore
            let requests = Double(outcome.latencies.totalCount)
            figures = [requests / wall, Double(outcome.latencies.valueAtPercentile(50)), Double(outcome.latencies.valueAtPercentile(99)),
                       Double(outcome.latencies.valueAtPercentile(99.9)), Double(serverCPU) / requests, Double(clientCPU) / requests,
                       Double(outcome.errors)]
        } catch {
            driver.close()
            throw error
        }
        driver.close()
        let mode = (rate > 0 ? String(format: "paced at %.0f/s", rate)
            : "\(inFlight) in flight per connection" + (batched ? " (in batches)" : "")) + (credentials ? ", with credentials" : "")
        print(String(format: "%@: %d connections, %@: %.0f requests/s  p50=%.0fus p99=%.0fus p99.9=%.0fus  "
                     + "server CPU %.2fus/request  client CPU %.2fus/request  errors=%.0f",
                     label ?? (redis ? "redis GET" : "lookup"), connections, mode, figures[0], figures[1], figures[2], figures[3], figures[4], figures[5], figures[6]))
        if rate > 0 { print(String(format: "  the pacer sent its latest call %.1f ms after its time", Double(outcome.pacerLagMicros) / 1000)) }
        if let first = outcome.firstError { print("  first error: \(first)") }
        if let resultFile {
            try (figures.map { String(format: "%.2f", $0) }.joined(separator: " ") + "\n").write(toFile: resultFile, atomically: true, encoding: .utf8)
        }
    }

    /// Drives for `seconds`; each phase draws other numbers than the last.
    private func drive(_ driver: CallDriver, for seconds: Double, phase: Int) async -> Outcome {
        let end = NIODeadline.now() + .nanoseconds(Int64(seconds * 1e9))
        return rate > 0 ? await driver.paced(rate: rate, until: end, phase: phase)
                        : await driver.closedLoop(inFlight: inFlight, batched: batched, until: end, phase: phase)
    }

    struct Outcome: Sendable {
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var errors = 0
        var firstError: String?
        /// Paced: how late the pacer sent its most delayed call (a starved client sends in bursts).
        var pacerLagMicros: Int64 = 0

        /// A call sent at `sent` answered now, or failed with `failure`.
        mutating func record(sent: NIODeadline?, failure: String?) {
            if let failure {
                errors += 1
                if firstError == nil { firstError = failure }
            } else if let sent {
                latencies.record(UInt64(max(0, (NIODeadline.now() - sent).nanoseconds / 1000)))
            }
        }

        mutating func add(_ other: Outcome) {
            latencies.add(other.latencies)
            errors += other.errors
            firstError = firstError ?? other.firstError
            pacerLagMicros = max(pacerLagMicros, other.pacerLagMicros)
        }
    }
}

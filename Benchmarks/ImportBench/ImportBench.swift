import ArgumentParser
import Auth
import BenchSupport
import Foundation
import NIOCore
import Protos
import RPC

/// Measures `ImportNumbers` of a running `inventory` process over loopback:
/// imports a deterministic range of valid numbers in batches over a few
/// connections and prints numbers/s, per-batch latency and where the CPU went
/// (the service process, the Postgres cluster, this client). Driven by
/// scripts/bench-import.sh, which also times COPY of the same rows.
@main
struct ImportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-bench",
        abstract: "Benchmark ImportNumbers of a running inventory service.",
        subcommands: [Run.self, WaitHealthy.self, FreePort.self, NumberRange.self],
        defaultSubcommand: Run.self)
}

let importMethod = "phonenumbers.inventory.v1.Inventory/ImportNumbers"

/// The benchmark's numbers: +1 415 NXX XXXX from +1 415 200 0000 upwards, all
/// valid US fixed-line-or-mobile numbers (libphonenumber accepts 415 followed
/// by [2-9] and six digits), so no item is rejected for its number.
enum BenchNumbers {
    static let first: Int64 = 14_152_000_000
    static let last: Int64 = 14_159_999_999
    static var capacity: Int { Int(last - first + 1) }

    static func e164(_ index: Int) -> String { "+\(first + Int64(index))" }

    /// The number of item `index` in one of the written forms importers send.
    static func written(_ index: Int) -> String {
        let digits = String(first + Int64(index))  // 1415NXXXXXX
        let area = digits.dropFirst().prefix(3), exchange = digits.dropFirst(4).prefix(3), line = digits.suffix(4)
        switch index % 4 {
        case 0: return "+\(digits)"
        case 1: return "+1 (\(area)) \(exchange)-\(line)"
        case 2: return "+1-\(area)-\(exchange)-\(line)"
        default: return "tel:+\(digits)"
        }
    }

    /// 32 hexadecimal characters derived from `index` and a salt: SIDs that differ per number.
    static func hex32(_ index: Int, salt: UInt64) -> String {
        var state = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 ^ salt
        var out = ""
        for _ in 0..<2 {
            state = (state ^ (state >> 31)) &* 0xBF58_476D_1CE4_E5B9
            let hex = String(state, radix: 16)
            out += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return out
    }

    /// A realistic item: Twilio, its PN SID, some with a trunk, mixed
    /// capabilities, a monthly cost, a label, and every tenth with credentials.
    /// Region is left to the geocoder, as most imports do.
    static func item(_ index: Int) -> InventoryV1.ImportItem {
        var item = InventoryV1.ImportItem()
        item.number = written(index)
        if index % 2 == 0 { item.country = "US" }
        item.provider = "twilio"
        var ids = InventoryV1.ProviderIds()
        ids.providerNumberId = "PN" + hex32(index, salt: 0x504E)
        if index % 3 == 0 { ids.trunkId = "TK" + hex32(index % 16, salt: 0x544B) }
        item.providerIds = ids
        var capabilities = InventoryV1.Capabilities()
        capabilities.voice = true
        capabilities.sms = index % 2 == 0
        capabilities.mms = index % 5 == 0
        item.capabilities = capabilities
        item.monthlyCostMicros = 1_150_000
        item.currency = "USD"
        item.label = "bench line \(index)"
        if index % 10 == 0 {
            var credentials = InventoryV1.Credentials()
            credentials.fields = [
                "account_sid": "AC" + hex32(index % 64, salt: 0x4143),
                "auth_token": hex32(index, salt: 0x4154),
            ]
            item.credentials = credentials
        }
        return item
    }
}

extension ImportBench {
    /// Imports the range and prints the figures.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import numbers and print numbers/s and batch latency.")

        @Option(help: "Service port on 127.0.0.1.") var port: Int
        @Option(help: "Service process id, for its CPU time.") var serverPid: Int32?
        @Option(help: "Postmaster process id, for the CPU time of the Postgres cluster.") var postgresPid: Int32?
        @Option(help: "Numbers to import per round.") var numbers = 100_000
        @Option(help: "Rounds, each importing new numbers; the figure is their median (this machine's speed varies from run to run).")
        var rounds = 3
        @Option(help: "Numbers per ImportNumbers call (the service accepts at most 5,000).") var batch = 5_000
        @Option(help: "Connections, one call in flight on each.") var connections = 4
        @Option(help: "Numbers imported first, untimed, after the measured range, shared by the connections (connects them, loads the geocoder, warms the pool).")
        var warmup = 20_000
        @Flag(help: "Send an idempotency-key with every call.") var idempotencyKeys = false
        @Option(help: "Write the median numbers/s here (for the script).") var resultFile: String?

        func validate() throws {
            guard numbers > 0, rounds > 0, batch > 0, connections > 0, warmup >= 0 else {
                throw ValidationError("numbers, rounds, batch and connections must be positive")
            }
            guard rounds * numbers + warmup <= BenchNumbers.capacity else {
                throw ValidationError("at most \(BenchNumbers.capacity - warmup) numbers fit the benchmark range")
            }
        }

        func run() async throws {
            guard let secret = ProcessInfo.processInfo.environment["PHONE_JWT_SECRET"] else {
                throw ValidationError("set PHONE_JWT_SECRET to the service's secret")
            }
            let token = TokenSigner(hs256Secret: Array(secret.utf8)).token(
                for: Principal(subject: "import-bench", role: .platformAdmin, expiresAt: Date() + 3600), lifetime: 3600)
            var configuration = RPCClient.Configuration()
            configuration.defaultTimeout = .seconds(120)
            let clients = (0..<connections).map { _ in
                let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: port), configuration: configuration)
                client.setBearerToken(token)
                return client
            }
            defer { for client in clients { client.close() } }

            try await warmUp(clients, from: rounds * numbers)
            var rates: [Double] = []
            for round in 0..<rounds {
                rates.append(try await measure(round: round, clients))
            }
            let median = rates.sorted()[rates.count / 2]
            if rounds > 1 {
                print(String(format: "RPC import   median of %d rounds: %.0f numbers/s (rounds: %@)", rounds, median,
                             rates.map { String(format: "%.0f", $0) }.joined(separator: " / ")))
            }
            if let resultFile { try String(format: "%.0f\n", median).write(toFile: resultFile, atomically: true, encoding: .utf8) }
        }

        /// One call on every connection at once, so each is connected and the
        /// service has served full batches before any clock starts.
        private func warmUp(_ clients: [RPCClient], from first: Int) async throws {
            guard warmup > 0 else { return }
            let share = (warmup + clients.count - 1) / clients.count
            let useKeys = idempotencyKeys, end = first + warmup
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, client) in clients.enumerated() {
                    let range = min(first + index * share, end)..<min(first + (index + 1) * share, end)
                    guard !range.isEmpty else { continue }
                    var request = InventoryV1.ImportNumbersRequest()
                    request.items = range.map(BenchNumbers.item)
                    group.addTask {
                        let tally = try await Self.call(client, request, idempotencyKey: useKeys ? "bench-warmup-\(UUID())" : nil)
                        try tally.check(expected: range.count, what: "warm-up")
                    }
                }
                try await group.waitForAll()
            }
        }

        /// Imports round `round`'s numbers over all connections; prints and returns numbers/s.
        private func measure(round: Int, _ clients: [RPCClient]) async throws -> Double {
            // Requests are built before the clock starts: only the calls are timed.
            let first = round * numbers
            let batches = stride(from: first, to: first + numbers, by: batch).map { start in
                var request = InventoryV1.ImportNumbersRequest()
                request.items = (start..<min(start + batch, first + numbers)).map(BenchNumbers.item)
                return request
            }
            let cpu = CPUReading(server: serverPid, postgres: postgresPid)
            let started = ContinuousClock.now
            let queue = BatchQueue(count: batches.count)
            let useKeys = idempotencyKeys
            let outcomes = try await withThrowingTaskGroup(of: [(Duration, Tally)].self) { group in
                for client in clients {
                    group.addTask {
                        var done: [(Duration, Tally)] = []
                        while let index = await queue.next() {
                            let start = ContinuousClock.now
                            let tally = try await Self.call(client, batches[index], idempotencyKey: useKeys ? "bench-\(round)-\(index)-\(UUID())" : nil)
                            done.append((ContinuousClock.now - start, tally))
                        }
                        return done
                    }
                }
                var all: [(Duration, Tally)] = []
                for try await done in group { all += done }
                return all
            }
            let wall = (ContinuousClock.now - started).seconds
            let used = cpu.since()

            var total = Tally()
            for (_, tally) in outcomes { total.add(tally) }
            let latencies = outcomes.map { $0.0.seconds * 1000 }.sorted()
            let rate = Double(numbers) / wall
            let label = rounds > 1 ? "round \(round + 1)/\(rounds)" : "RPC import  "
            print(String(format: "%@ %d numbers, %d calls of %d, %d connections: %.0f numbers/s (%.2f s)  per-call p50=%.0f ms p99=%.0f ms",
                         label, numbers, batches.count, batch, connections, rate, wall,
                         percentile(latencies, 50), percentile(latencies, 99)))
            var cpuLine = String(format: "             CPU per number: client %.1f us", used.client / Double(numbers) * 1e6)
            if let server = used.server { cpuLine += String(format: ", inventory %.1f us", server / Double(numbers) * 1e6) }
            if let postgres = used.postgres { cpuLine += String(format: ", postgres %.1f us", postgres / Double(numbers) * 1e6) }
            cpuLine += String(format: "  (wall %.1f us/number on %d cores)", wall / Double(numbers) * 1e6, ProcessInfo.processInfo.activeProcessorCount)
            print(cpuLine)
            try total.check(expected: numbers, what: "measured import")
            return rate
        }

        static func call(_ client: RPCClient, _ request: InventoryV1.ImportNumbersRequest, idempotencyKey: String?) async throws -> Tally {
            let response = try await client.unary(importMethod, request, as: InventoryV1.ImportNumbersResponse.self,
                                                  metadata: idempotencyKey.map { ["idempotency-key": $0] } ?? [:])
            var tally = Tally()
            tally.created = Int(response.created)
            tally.alreadyPresent = Int(response.alreadyPresent)
            tally.rejected = Int(response.rejected)
            tally.firstRejection = response.results.first { $0.outcome == .rejected }.map { "item \($0.index) \($0.field): \($0.reason)" }
            return tally
        }
    }



    /// Prints the first E.164 number of a run, the last of its first round
    /// (the rows `COPY` repeats), and the last of all (rounds plus warm-up),
    /// for the script's clean-up and export.
    struct NumberRange: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "range")
        @Option var numbers = 100_000
        @Option var rounds = 3
        @Option var warmup = 20_000

        func run() throws {
            print(BenchNumbers.e164(0), BenchNumbers.e164(numbers - 1), BenchNumbers.e164(rounds * numbers + max(warmup, 1) - 1))
        }
    }
}

/// Hands out batch indices to the connections' tasks.
actor BatchQueue {
    private var nextIndex = 0
    private let count: Int
    init(count: Int) { self.count = count }

    func next() -> Int? {
        guard nextIndex < count else { return nil }
        defer { nextIndex += 1 }
        return nextIndex
    }
}

struct Tally: Sendable {
    var created = 0
    var alreadyPresent = 0
    var rejected = 0
    var firstRejection: String?

    mutating func add(_ other: Tally) {
        created += other.created
        alreadyPresent += other.alreadyPresent
        rejected += other.rejected
        firstRejection = firstRejection ?? other.firstRejection
    }

    /// Every item must be created: leftovers of an earlier run or rejections spoil the figure.
    func check(expected: Int, what: String) throws {
        guard created == expected else {
            throw ValidationError("\(what): \(created) of \(expected) created, \(alreadyPresent) already present, \(rejected) rejected"
                                  + (firstRejection.map { " (first: \($0))" } ?? ""))
        }
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

/// CPU seconds used by this process, the service and the Postgres cluster.
struct CPUReading {
    var server: Int32?
    var postgres: Int32?
    private var start: (client: Double, server: Double?, postgres: Double?)

    init(server: Int32?, postgres: Int32?) {
        self.server = server
        self.postgres = postgres
        start = (processCPU(getpid()) ?? 0, server.flatMap(processCPU), postgres.flatMap(clusterCPU))
    }

    func since() -> (client: Double, server: Double?, postgres: Double?) {
        let client = (processCPU(getpid()) ?? 0) - start.client
        let serverNow = server.flatMap(processCPU), postgresNow = postgres.flatMap(clusterCPU)
        return (client,
                serverNow.flatMap { now in start.server.map { now - $0 } },
                postgresNow.flatMap { now in start.postgres.map { now - $0 } })
    }
}

private func processCPU(_ pid: Int32) -> Double? { (try? processCPUMicros(pid)).map { Double($0) / 1e6 } }
private func clusterCPU(_ postmaster: Int32) -> Double? { (try? clusterCPUMicros(postmaster)).map { Double($0) / 1e6 } }

import ArgumentParser
import Auth
import BenchSupport
import Foundation
import Histogram
import NIOCore
import Protos
import RPC

/// Measures `Allocate` of a running `assignment` process under contention:
/// imports a pool of fresh numbers through inventory, waits until assignment
/// offers them all, then lets many clients (one connection each, acting as
/// org admins of a few organisations) allocate one number per call from that
/// same pool until it is empty. Prints allocations/s, latency percentiles of
/// the successful calls, errors by code and a consistency check. Driven by
/// scripts/bench-allocate.sh.
@main
struct AllocBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alloc-bench",
        abstract: "Benchmark Allocate of a running assignment service under contention.",
        subcommands: [Run.self, WaitHealthy.self, FreePort.self],
        defaultSubcommand: Run.self)
}

let assignmentPrefix = "phonenumbers.assignment.v1.Assignment/"

/// What one client did.
struct ClientOutcome: Sendable {
    var organization: String
    var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var allocated: [String] = []  // E.164 numbers answered to this client
    var errors: [String: Int] = [:]  // by code
    var sampleErrors: [String: String] = [:]  // first message per code
}

extension AllocBench {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a pool, allocate it under contention, print the figures.")

        @Option(help: "Assignment port on 127.0.0.1.") var assignmentPort: Int
        @Option(help: "Inventory port on 127.0.0.1.") var inventoryPort: Int
        @Option(help: "Numbers in the pool (at most 10,000).") var numbers = 2_000
        @Option(help: "Concurrent clients, one connection each.") var clients = 50
        @Option(help: "Organisations the clients act for (round robin).") var organizations = 10
        @Option(help: "Seconds to wait for assignment to offer the imported numbers.") var propagationTimeout = 300.0
        @Option(help: "Seconds the allocation phase may take at most.") var runTimeout = 300.0

        func validate() throws {
            guard numbers > 0, numbers <= PoolBlock.capacity else { throw ValidationError("numbers must be 1...\(PoolBlock.capacity)") }
            guard clients > 0, organizations > 0 else { throw ValidationError("clients and organizations must be positive") }
        }

        func run() async throws {
            guard let secret = ProcessInfo.processInfo.environment["PHONE_JWT_SECRET"] else {
                throw ValidationError("set PHONE_JWT_SECRET to the services' secret")
            }
            let signer = TokenSigner(hs256Secret: Array(secret.utf8))
            let adminToken = signer.token(
                for: Principal(subject: "alloc-bench", role: .platformAdmin, expiresAt: Date() + 3600), lifetime: 3600)
            var configuration = RPCClient.Configuration()
            configuration.defaultTimeout = .seconds(60)
            let inventory = RPCClient(target: RPCTarget(host: "127.0.0.1", port: inventoryPort), configuration: configuration)
            let admin = RPCClient(target: RPCTarget(host: "127.0.0.1", port: assignmentPort), configuration: configuration)
            inventory.setBearerToken(adminToken)
            admin.setBearerToken(adminToken)
            defer { inventory.close(); admin.close() }

            // 1. A fresh block, imported through inventory.
            let block = try await PoolBlock.importFresh(numbers, through: inventory).block

            // 2. Wait until assignment's projection offers every number of it.
            let waitStart = ContinuousClock.now
            var offered = 0
            while true {
                offered = try await Self.searchAll(admin, block.filter).count
                if offered == numbers { break }
                guard ContinuousClock.now - waitStart < .seconds(propagationTimeout) else {
                    throw ValidationError("assignment offers \(offered) of \(numbers) numbers of +\(block.digits) after \(propagationTimeout) s")
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            let propagation = (ContinuousClock.now - waitStart).seconds

            // 3. Organisations.
            let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let orgIDs = (0..<organizations).map { "bench-\(tag)-\($0)" }
            for id in orgIDs {
                var organization = AssignmentV1.Organization()
                organization.id = id
                organization.slug = id
                organization.externalId = "ext-" + id
                organization.name = "Allocation benchmark " + id
                organization.timeZone = "America/Los_Angeles"
                organization.numbersPerAgent = .one
                var request = AssignmentV1.UpsertOrganizationRequest()
                request.organization = organization
                _ = try await admin.unary(assignmentPrefix + "UpsertOrganization", request, as: AssignmentV1.OrganizationResponse.self)
            }

            // 4. Clients, connected before the clock starts (a health check each).
            var clientConfiguration = configuration
            clientConfiguration.maximumAttempts = 1  // every failure counts; nothing is retried behind the figures
            let drivers: [(RPCClient, String)] = (0..<clients).map { index in
                let organization = orgIDs[index % orgIDs.count]
                let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: assignmentPort), configuration: clientConfiguration)
                client.setBearerToken(signer.token(
                    for: Principal(subject: "bench-client-\(index)", role: .orgAdmin, organizationID: organization,
                                   expiresAt: Date() + 3600), lifetime: 3600))
                return (client, organization)
            }
            defer { for (client, _) in drivers { client.close() } }
            for (client, _) in drivers {
                _ = try await client.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(), as: RpcV1.HealthCheckResponse.self,
                                           idempotent: true)
            }

            let request = {
                var selection = AssignmentV1.FilteredSelection()
                selection.filter = block.filter
                selection.count = 1
                var request = AssignmentV1.ReserveRequest()
                request.selection = .matching(selection)
                return request
            }()

            // 5. Everyone allocates from the same pool until it is empty.
            let deadline = ContinuousClock.now + .seconds(runTimeout)
            let started = ContinuousClock.now
            let outcomes = await withTaskGroup(of: ClientOutcome.self) { group in
                for (client, organization) in drivers {
                    group.addTask {
                        var outcome = ClientOutcome(organization: organization)
                        while ContinuousClock.now < deadline {
                            let start = ContinuousClock.now
                            do throws(RPCError) {
                                let response = try await client.unary(assignmentPrefix + "Allocate", request,
                                                                      as: AssignmentV1.AssignedNumbersResponse.self)
                                let elapsed = ContinuousClock.now - start
                                outcome.latencies.record(UInt64(elapsed.microseconds))
                                outcome.allocated += response.numbers.compactMap { $0.number?.e164 }
                            } catch {
                                // FAILED_PRECONDITION "only 0 available numbers match" is the
                                // empty pool: this client stops. Any other answer (also a
                                // FAILED_PRECONDITION for a candidate another call took first)
                                // is counted and the client goes on.
                                let poolEmpty = error.code == .failedPrecondition && error.message.hasPrefix("only 0 ")
                                let code = error.code.description + (error.code == .failedPrecondition ? (poolEmpty ? "(pool empty)" : "(other)") : "")
                                outcome.errors[code, default: 0] += 1
                                if outcome.sampleErrors[code] == nil { outcome.sampleErrors[code] = error.message }
                                if poolEmpty { break }
                            }
                        }
                        return outcome
                    }
                }
                var all: [ClientOutcome] = []
                for await outcome in group { all.append(outcome) }
                return all
            }
            let wall = (ContinuousClock.now - started).seconds

            // 6. Figures.
            var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            var errors: [String: Int] = [:], samples: [String: String] = [:]
            var allocated: [String] = []
            var byOrganization: [String: Set<String>] = [:]
            for outcome in outcomes {
                latencies.add(outcome.latencies)
                errors.merge(outcome.errors, uniquingKeysWith: +)
                samples.merge(outcome.sampleErrors) { first, _ in first }
                allocated += outcome.allocated
                byOrganization[outcome.organization, default: []].formUnion(outcome.allocated)
            }
            let successes = Int(latencies.totalCount)
            func ms(_ percentile: Double) -> String { String(format: "%.2f", Double(latencies.valueAtPercentile(percentile)) / 1000) }

            print("Allocate benchmark: pool of \(numbers) numbers (+\(block.digits)xxxx), \(clients) clients (one connection each) "
                  + "as org_admin of \(organizations) organisations, count 1 per call; \(ProcessInfo.processInfo.activeProcessorCount) cores "
                  + "shared by client, inventory, assignment and Postgres; loopback")
            print(String(format: "             pool visible in assignment %.1f s after import", propagation))
            print(String(format: "throughput   %d allocations in %.2f s: %.0f allocations/s", successes, wall, Double(successes) / wall))
            print("latency      successful calls: p50=\(ms(50)) ms p99=\(ms(99)) ms p99.9=\(ms(99.9)) ms max=\(ms(100)) ms")
            let errorLine = errors.keys.sorted().map { "\($0)=\(errors[$0]!)" }.joined(separator: " ")
            print("errors       \(errorLine.isEmpty ? "none" : errorLine)  (pool empty: each client's last call)")
            for code in samples.keys.sorted() where code != "FAILED_PRECONDITION(pool empty)" {
                print("             first \(code): \(samples[code]!)")
            }

            // 7. Consistency: answers, then the service's own view.
            let distinct = Set(allocated)
            let twice = allocated.count - distinct.count
            let left = try await Self.searchAll(admin, block.filter).count
            var listedTotal = 0, mismatched = 0
            for id in orgIDs {
                let listed = try await Self.listNumbers(admin, organization: id).filter { $0.hasPrefix("+" + block.digits) }
                listedTotal += listed.count
                if Set(listed) != byOrganization[id, default: []] { mismatched += 1 }
            }
            let consistent = distinct.count == successes && twice == 0 && successes + left == numbers
                && listedTotal == successes && mismatched == 0 && allocated.allSatisfy { $0.hasPrefix("+" + block.digits) }
            print("consistency successes=\(successes) distinct numbers=\(distinct.count) allocated twice=\(twice) "
                  + "left in pool=\(left) listed by the organisations=\(listedTotal) organisations differing from answers=\(mismatched): "
                  + (consistent ? "OK" : "FAILED"))
            if !consistent { throw ExitCode(1) }
        }

        static func searchAll(_ client: RPCClient, _ filter: AssignmentV1.NumberFilter) async throws -> [AssignmentV1.PoolNumber] {
            var all: [AssignmentV1.PoolNumber] = []
            var request = AssignmentV1.SearchAvailableRequest()
            request.filter = filter
            request.pageSize = 1_000
            for _ in 0..<10_000 {
                let page = try await client.unary(assignmentPrefix + "SearchAvailable", request,
                                                  as: AssignmentV1.SearchAvailableResponse.self, idempotent: true)
                all += page.numbers
                if page.nextPageToken.isEmpty { return all }
                request.pageToken = page.nextPageToken
            }
            throw ValidationError("SearchAvailable did not end")
        }

        /// The E.164 numbers an organisation holds, every page.
        static func listNumbers(_ client: RPCClient, organization: String) async throws -> [String] {
            var all: [String] = []
            var request = AssignmentV1.ListOrganizationNumbersRequest()
            request.organizationId = organization
            request.pageSize = 1_000
            for _ in 0..<10_000 {
                let page = try await client.unary(assignmentPrefix + "ListOrganizationNumbers", request,
                                                  as: AssignmentV1.ListOrganizationNumbersResponse.self, idempotent: true)
                all += page.numbers.compactMap { $0.number?.e164 }
                if page.nextPageToken.isEmpty { return all }
                request.pageToken = page.nextPageToken
            }
            throw ValidationError("ListOrganizationNumbers did not end")
        }
    }
}

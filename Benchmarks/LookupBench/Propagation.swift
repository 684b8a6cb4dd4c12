import ArgumentParser
import BenchSupport
import Foundation
import Histogram
import NIOCore
import Protos
import RPC

/// Write → resolvable: imports numbers through inventory, allocates them to a
/// new organisation through assignment, then connects them one after another
/// to another agent (ConnectAgent) and polls lookup's Resolve until it answers
/// with that agent. The time from the write's answer to the first Resolve
/// naming the new agent is one sample.
struct Propagation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time from a ConnectAgent answer until lookup resolves the new agent.")
    @Option var inventoryPort: Int
    @Option var assignmentPort: Int
    @Option var lookupPort: Int
    @Option(help: "Numbers imported and allocated.") var numbers = 200
    @Option(help: "ConnectAgent writes timed.") var samples = 300
    @Option(help: "Microseconds between Resolve polls.") var pollMicros = 500
    @Option(help: "Seconds a sample may take before it counts as lost.") var sampleTimeout = 5.0
    @Option(help: "Seconds the import, allocation and first propagation may take.") var setupTimeout = 120.0
    @Option(help: "Also write `p50-ms p99-ms max-ms lost samples` here.") var resultFile: String?

    static let assignment = "phonenumbers.assignment.v1.Assignment/"
    static let agentCount = 4

    func validate() throws {
        guard (1...PoolBlock.capacity).contains(numbers), samples > 0, pollMicros > 0 else {
            throw ValidationError("numbers must be 1...\(PoolBlock.capacity); samples and poll-micros positive")
        }
    }

    func run() async throws {
        let admin = try BenchTokens.platformAdmin()
        let inventory = RPCClient.loopback(port: inventoryPort, token: admin) { $0.defaultTimeout = .seconds(60) }
        let assignment = RPCClient.loopback(port: assignmentPort, token: admin) { $0.defaultTimeout = .seconds(60) }
        let lookup = RPCClient.loopback(port: lookupPort, token: try BenchTokens.lookupReader())
        defer { inventory.close(); assignment.close(); lookup.close() }

        let (organization, agents) = try await createOrganization(assignment)
        let setupDeadline = ContinuousClock.now + .seconds(setupTimeout)
        let (block, importToken) = try await PoolBlock.importFresh(numbers, through: inventory)
        let allocated = try await allocate(block, to: organization, assignment, until: setupDeadline)
        // Lookup has the numbers once it applied both writes' positions.
        var first = LookupV1.ResolveRequest()
        first.number = allocated.numbers[0].e164
        first.minToken = .with { $0.inventory = importToken; $0.assignment = allocated.token }
        let resolved = try await lookup.unary(LookupMethods.resolve, first, as: LookupV1.ResolveResponse.self,
                                              timeout: .seconds(Int64(max(1, (setupDeadline - .now).seconds))))
        guard resolved.route?.organization?.id == organization else {
            throw ValidationError("lookup resolves \(first.number) to '\(resolved.route?.organization?.id ?? "")', not \(organization)")
        }

        var delays = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var writes = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var lost = 0
        for sample in 0..<samples {
            let number = allocated.numbers[sample % allocated.numbers.count]
            // Each pass over the numbers moves every one of them to the next agent.
            let agent = agents[(sample / allocated.numbers.count) % agents.count]
            var connect = AssignmentV1.ConnectAgentRequest()
            connect.numberId = number.id
            connect.agentId = agent
            let sent = ContinuousClock.now
            _ = try await assignment.unary(Self.assignment + "ConnectAgent", connect, as: AssignmentV1.AssignedNumberResponse.self)
            let written = ContinuousClock.now
            writes.record(UInt64((written - sent).microseconds))
            if let delay = try await waitForAgent(agent, on: number.e164, lookup, since: written) {
                delays.record(UInt64(delay.microseconds))
            } else {
                lost += 1
            }
        }

        func ms(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
        print(String(format: "propagation: %d ConnectAgent writes (%d numbers, %d agents), Resolve polled every %dus: "
                     + "p50=%.2fms p99=%.2fms max=%.2fms lost=%d  (the write itself: p50=%.2fms p99=%.2fms)",
                     samples, allocated.numbers.count, agents.count, pollMicros, ms(delays, 50), ms(delays, 99), ms(delays, 100), lost,
                     ms(writes, 50), ms(writes, 99)))
        if let resultFile {
            let line = String(format: "%.2f %.2f %.2f %d %d\n", ms(delays, 50), ms(delays, 99), ms(delays, 100), lost, samples)
            try line.write(toFile: resultFile, atomically: true, encoding: .utf8)
        }
    }

    /// A new organisation (numbers per agent: many) and its agents.
    private func createOrganization(_ assignment: RPCClient) async throws -> (String, [String]) {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var upsert = AssignmentV1.UpsertOrganizationRequest()
        upsert.organization = .with {
            $0.id = "propagation-\(tag)"
            $0.slug = "propagation-\(tag)"
            $0.externalId = "ext-propagation-\(tag)"
            $0.name = "Propagation benchmark \(tag)"
            $0.timeZone = "America/Los_Angeles"
            $0.numbersPerAgent = .many
        }
        _ = try await assignment.unary(Self.assignment + "UpsertOrganization", upsert, as: AssignmentV1.OrganizationResponse.self)
        var agents: [String] = []
        for index in 0..<Self.agentCount {
            var agent = AssignmentV1.UpsertAgentRequest()
            agent.agent = .with {
                $0.id = "propagation-\(tag)-agent-\(index)"
                $0.organizationId = upsert.organization!.id
                $0.name = "Agent \(index)"
                $0.externalAssistantId = SeedSet.uuid(UInt64(index), salt: 7)
            }
            _ = try await assignment.unary(Self.assignment + "UpsertAgent", agent, as: AssignmentV1.AgentResponse.self)
            agents.append(agent.agent!.id)
        }
        return (upsert.organization!.id, agents)
    }

    /// Allocates the whole block to `organization`, retrying while assignment
    /// has not yet seen every imported number.
    private func allocate(_ block: PoolBlock, to organization: String, _ assignment: RPCClient,
                          until deadline: ContinuousClock.Instant) async throws -> (numbers: [(id: String, e164: String)], token: UInt64) {
        var request = AssignmentV1.ReserveRequest()
        request.organizationId = organization
        request.selection = .matching(.with {
            $0.filter = block.filter
            $0.count = UInt32(numbers)
        })
        while true {
            do throws(RPCError) {
                let response = try await assignment.unary(Self.assignment + "Allocate", request, as: AssignmentV1.AssignedNumbersResponse.self)
                let numbers = response.numbers.compactMap { $0.number.map { (id: $0.numberId, e164: $0.e164) } }
                return (numbers, response.consistencyToken)
            } catch {
                // FAILED_PRECONDITION: assignment's catalogue does not offer every number yet.
                guard error.code == .failedPrecondition, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// How long after `written` lookup first answered with `agent`; nil if not within the sample timeout.
    private func waitForAgent(_ agent: String, on e164: String, _ lookup: RPCClient, since written: ContinuousClock.Instant) async throws -> Duration? {
        var request = LookupV1.ResolveRequest()
        request.number = e164
        while ContinuousClock.now - written < .seconds(sampleTimeout) {
            let response = try await lookup.unary(LookupMethods.resolve, request, as: LookupV1.ResolveResponse.self)
            if response.route?.agent?.id == agent { return ContinuousClock.now - written }
            try await Task.sleep(for: .microseconds(pollMicros))
        }
        return nil
    }
}

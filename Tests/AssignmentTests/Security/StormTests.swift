import Foundation
import NIOCore
import Protos
import RPC
import Synchronization
import Testing
import TestSupport

extension AssignmentTests {
    /// Many clients of three organisations doing everything at once to a few
    /// numbers for a bounded time (RaceTests races one kind of call at a
    /// time); afterwards the state is consistent everywhere.
    @Suite struct StormTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        @Test func reserveAllocateReleaseConnectAndScheduleStormLeavesAConsistentState() async throws {
            let services = try await ThreeServices.start(fixtures.stack)
            defer { Task { await services.stop() } }
            let (_, pool) = try await fixtures.pool(6)
            let ids = pool.map(\.numberId)
            var organizations: [String] = []
            var agents: [String: [String]] = [:]
            for _ in 0..<3 {
                let organization = try await fixtures.organization(policy: .one)
                organizations.append(organization)
                agents[organization] = [try await fixtures.agent(of: organization).id, try await fixtures.agent(of: organization).id]
            }
            let agentsOf = agents
            let tally = Tally()
            let clock = ContinuousClock()
            let end = clock.now + .seconds(15)

            try await withTimeout(.seconds(60), "the storm") { [organizations, fixtures, tally] in
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<12 {
                        group.addTask {
                            let organization = organizations[worker % organizations.count]
                            let api = fixtures.api(.orgAdmin(organization))
                            while clock.now < end {
                                let number = ids.randomElement()!
                                let agent = agentsOf[organization]!.randomElement()!
                                let action = ["reserve", "allocate", "release", "connect", "disconnect", "schedule", "unschedule"].randomElement()!
                                do {
                                    let token: UInt64
                                    switch action {
                                    case "reserve":
                                        let hold = try await api.reserve(ids: [number], holdSeconds: 2)
                                        token = Bool.random() ? try await api.confirm(hold.hold?.id ?? "").consistencyToken
                                                              : try await api.cancel(hold.hold?.id ?? "").consistencyToken
                                    case "allocate": token = try await api.allocate(ids: [number]).consistencyToken
                                    case "release": token = try await api.release(number).consistencyToken
                                    case "connect": token = try await api.connect(number, agent: agent).consistencyToken
                                    case "disconnect": token = try await api.disconnect(number).consistencyToken
                                    case "schedule":
                                        token = try await api.setSchedule(IsolationMatrixTests.schedule(number, agent: agent)).consistencyToken
                                    default: token = try await api.deleteSchedule(number).consistencyToken
                                    }
                                    tally.highestToken.withLock { $0 = Swift.max($0, token) }
                                    tally.calls.withLock { $0[action + " ok", default: 0] += 1 }
                                } catch let error as RPCError {
                                    tally.calls.withLock { $0[action + " " + error.code.description, default: 0] += 1 }
                                    // Losing a race or acting on another's number is a clear refusal; nothing else is.
                                    if ![.failedPrecondition, .notFound, .aborted].contains(error.code) {
                                        tally.unexpected.withLock { $0.append("\(action): \(error)") }
                                    }
                                } catch {
                                    tally.unexpected.withLock { $0.append("\(action): \(error)") }
                                }
                            }
                        }
                    }
                }
            }
            #expect(tally.unexpected.withLock { $0 }.isEmpty, "\(tally.unexpected.withLock { $0.prefix(10) })")
            let counts = tally.calls.withLock { $0 }
            print("storm: \(counts.values.reduce(0, +)) calls in 15 s: \(counts.sorted { $0.key < $1.key })")
            #expect(counts.filter { $0.key.hasSuffix(" ok") }.count >= 4, "the storm did too little: \(counts)")

            // Holds of 2 s lapse; then the final state, as assignment says.
            try await Task.sleep(for: .seconds(3))
            var holder: [String: String] = [:]
            var connected: [String: String] = [:]
            for organization in organizations {
                for entry in try await fixtures.admin.listAllNumbers(organization) {
                    let id = try #require(entry.number?.numberId)
                    #expect(holder[id] == nil, "\(id) held by \(holder[id] ?? "") and \(organization)")
                    holder[id] = organization
                    if !entry.agentId.isEmpty {
                        #expect(connected[entry.agentId] == nil, "agent \(entry.agentId) connected to two numbers under the one policy")
                        connected[entry.agentId] = id
                    }
                }
            }
            // The history of each number ends in its final state.
            for id in ids {
                let entries = try await fixtures.admin.historyAll(number: id).sorted { $0.id < $1.id }
                let lastHolding = entries.last { ["assigned", "released"].contains($0.action) }
                if let organization = holder[id] {
                    #expect(lastHolding?.action == "assigned" && lastHolding?.organizationId == organization,
                            "\(id) is held by \(organization) but its history ends \(String(describing: lastHolding))")
                } else {
                    #expect(lastHolding == nil || lastHolding?.action == "released", "\(id) is free but its history ends \(String(describing: lastHolding))")
                }
                let lastConnection = entries.last { ["connected", "disconnected"].contains($0.action) && $0.organizationId == holder[id] }
                let agent = connected.first { $0.value == id }?.key
                if let agent {
                    #expect(lastConnection?.action == "connected" && lastConnection?.agentId == agent,
                            "\(id) is connected to \(agent) but its history ends \(String(describing: lastConnection))")
                }
            }
            // Lookup, once it has applied everything, agrees.
            let lookup = services.lookup.api(.callHandler())
            let token = after(assignment: tally.highestToken.withLock { $0 })
            for number in pool {
                switch try await outcome({ try await lookup.resolve(number.e164, after: token, timeout: .seconds(30)) }) {
                case .success(let route):
                    #expect(route.organization?.id == holder[number.numberId], "lookup: \(number.e164) belongs to \(route.organization?.id ?? "nobody")")
                    let agent = connected.first { $0.value == number.numberId }?.key ?? ""
                    #expect(route.connectedAgentId == agent, "lookup: \(number.e164) connected to '\(route.connectedAgentId)', assignment says '\(agent)'")
                case .failure(let error):
                    #expect(holder[number.numberId] == nil && error.code == .failedPrecondition,
                            "lookup: \(number.e164): \(error); assignment says \(holder[number.numberId] ?? "free")")
                }
            }
        }

        /// What the storm's calls came to.
        final class Tally: Sendable {
            let highestToken = Mutex<UInt64>(0)
            let calls = Mutex<[String: Int]>([:])
            let unexpected = Mutex<[String]>([])
        }
    }
}

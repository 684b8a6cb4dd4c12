import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// Concurrent clients competing for the same numbers and agents: never a
    /// double allocation, hold or connection; every call answered.
    @Suite struct RaceTests {
        let fixtures: Fixtures
        var admin: AssignmentAPI { fixtures.admin }

        init() throws {
            fixtures = try Fixtures()
        }

        /// What one racing call came to.
        enum Outcome: Sendable {
            case success([String])
            case failure(RPCError)
            case other(String)

            var ids: [String]? { if case .success(let ids) = self { ids } else { nil } }
            var error: RPCError? { if case .failure(let error) = self { error } else { nil } }
        }

        /// Runs `count` calls at once (released together by a barrier).
        private func race(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> [String]) async -> [Outcome] {
            let barrier = Barrier(parties: count)
            return await withTaskGroup(of: Outcome.self) { group in
                for index in 0..<count {
                    group.addTask {
                        await barrier.arriveAndWait()
                        do {
                            return .success(try await body(index))
                        } catch let error as RPCError {
                            return .failure(error)
                        } catch {
                            return .other("\(error)")
                        }
                    }
                }
                var outcomes: [Outcome] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
        }

        @Test func twentyClientsAllocatingOneNumberOneWins() async throws {
            let (_, numbers) = try await fixtures.pool(1)
            let target = numbers[0].numberId
            var organizations: [String] = []
            for _ in 0..<20 { organizations.append(try await fixtures.organization()) }
            let apis = organizations.map { fixtures.api(.orgAdmin($0)) }

            let outcomes = try await withTimeout(.seconds(60), "20 concurrent allocations") { [apis] in
                await race(20) { index in
                    try await apis[index].allocate(ids: [target]).numbers.compactMap { $0.number?.numberId }
                }
            }
            let winners = outcomes.compactMap(\.ids)
            #expect(winners.count == 1, "exactly one allocation succeeds: \(outcomes)")
            #expect(winners.first == [target])
            for outcome in outcomes where outcome.ids == nil {
                #expect(outcome.error?.code == .failedPrecondition, "losers get FAILED_PRECONDITION: \(outcome)")
            }

            // Exactly one organisation holds it, and the history shows one assignment.
            var holders: [String] = []
            for (index, organization) in organizations.enumerated()
            where try await apis[index].listAllNumbers().numberIDs.contains(target) {
                holders.append(organization)
            }
            #expect(holders.count == 1)
            let assigned = try await admin.historyAll(number: target).filter { $0.action == "assigned" }
            #expect(assigned.count == 1)
            #expect(assigned.first?.organizationId == holders.first)
        }

        @Test func twentyClientsAllocatingByFilterFromTenNumbers() async throws {
            let (block, numbers) = try await fixtures.pool(10)
            var organizations: [String] = []
            for _ in 0..<20 { organizations.append(try await fixtures.organization()) }
            let apis = organizations.map { fixtures.api(.orgAdmin($0)) }

            let outcomes = try await withTimeout(.seconds(60), "20 concurrent allocations by filter") { [apis] in
                await race(20) { index in
                    try await apis[index].allocate(matching: block.filter, count: 1).numbers.compactMap { $0.number?.numberId }
                }
            }
            let winners = outcomes.compactMap(\.ids)
            #expect(winners.count == 10, "\(outcomes)")
            #expect(winners.allSatisfy { $0.count == 1 })
            let won = winners.flatMap { $0 }
            #expect(Set(won).count == 10, "ten distinct numbers")
            #expect(Set(won) == Set(numbers.map(\.numberId)))
            for outcome in outcomes where outcome.ids == nil {
                #expect(outcome.error?.code == .failedPrecondition, "\(outcome)")
            }
            #expect(try await admin.searchAll(block.filter).isEmpty)

            var total = 0
            for api in apis { total += try await api.listAllNumbers().count }
            #expect(total == 10)
        }

        @Test func concurrentRetriesWithOneKeyAllocateOnce() async throws {
            let organization = try await fixtures.organization()
            let (block, _) = try await fixtures.pool(5)
            let api = fixtures.api(.orgAdmin(organization))
            let key = Random.key()
            let outcomes = try await withTimeout(.seconds(60), "10 concurrent retries") {
                await race(10) { _ in
                    try await api.allocate(matching: block.filter, count: 1, key: key).numbers.compactMap { $0.number?.numberId }
                }
            }
            let answers = outcomes.compactMap(\.ids)
            #expect(answers.count == 10, "every retry is answered: \(outcomes)")
            #expect(Set(answers).count == 1, "with the same answer: \(answers)")
            #expect(try await api.listAllNumbers().count == 1)
            #expect(try await admin.searchAll(block.filter).count == 4)
        }

        @Test func concurrentConnectsOfOneAgentUnderTheOnePolicy() async throws {
            let organization = try await fixtures.organization(policy: .one)
            let agent = try await fixtures.agent(of: organization)
            let numbers = try await fixtures.allocated(10, to: organization)
            let ids = numbers.map(\.numberId)

            let outcomes = try await withTimeout(.seconds(60), "10 concurrent connects") {
                await race(10) { index in
                    let api = fixtures.api(.orgAdmin(organization))
                    return [try await api.connect(ids[index], agent: agent.id).number?.number?.numberId ?? ""]
                }
            }
            let winners = outcomes.compactMap(\.ids)
            #expect(winners.count == 1, "one agent, one number: \(outcomes)")
            for outcome in outcomes where outcome.ids == nil {
                #expect(outcome.error?.code == .failedPrecondition, "\(outcome)")
            }
            let connected = try await admin.listAllNumbers(organization).filter { $0.status == .connected }
            #expect(connected.count == 1)
            #expect(connected.first?.agentId == agent.id)
        }

        @Test func fiftyClientsReservingAllocatingAndConnectingStayConsistent() async throws {
            let (block, numbers) = try await fixtures.pool(8)
            let poolIDs = numbers.map(\.numberId)
            var organizations: [String] = []
            var agents: [String: [String]] = [:]
            for _ in 0..<5 {
                let organization = try await fixtures.organization(policy: .one)
                organizations.append(organization)
                agents[organization] = [try await fixtures.agent(of: organization).id, try await fixtures.agent(of: organization).id]
            }
            let agentsByOrganization = agents

            let outcomes = try await withTimeout(.seconds(120), "50 concurrent clients") { [organizations] in
                await race(50) { index in
                    let organization = organizations[index % organizations.count]
                    let api = fixtures.api(.orgAdmin(organization))
                    switch index % 4 {
                    case 0:
                        return try await api.allocate(ids: [poolIDs[index % poolIDs.count]]).numbers.compactMap { $0.number?.numberId }
                    case 1:
                        let allocated = try await api.allocate(matching: block.filter, count: 1)
                        let id = allocated.numbers.first?.number?.numberId ?? ""
                        let agent = agentsByOrganization[organization]![index % 2]
                        _ = try? await api.connect(id, agent: agent)
                        return [id]
                    case 2:
                        let hold = try await api.reserve(matching: block.filter, count: 2, holdSeconds: 30)
                        return try await api.confirm(hold.hold?.id ?? "").numbers.compactMap { $0.number?.numberId }
                    default:
                        let hold = try await api.reserve(ids: [poolIDs[(index * 3) % poolIDs.count]])
                        _ = try await api.cancel(hold.hold?.id ?? "")
                        return []
                    }
                }
            }
            for outcome in outcomes {
                switch outcome {
                case .success: break
                case .failure(let error):
                    #expect([.failedPrecondition, .notFound].contains(error.code), "a clear refusal: \(error)")
                case .other(let text):
                    Issue.record("not an RPC answer: \(text)")
                }
            }

            // Final state: every number held by at most one organisation, nothing both held and offered.
            var holderOf: [String: String] = [:]
            var connectedAgents: [String: [String]] = [:]
            for organization in organizations {
                for entry in try await admin.listAllNumbers(organization) {
                    let id = try #require(entry.number?.numberId)
                    #expect(holderOf[id] == nil, "\(id) assigned to \(holderOf[id] ?? "") and \(organization)")
                    holderOf[id] = organization
                    if !entry.agentId.isEmpty { connectedAgents[entry.agentId, default: []].append(id) }
                }
            }
            for (agent, ids) in connectedAgents {
                #expect(ids.count == 1, "agent \(agent) connected to \(ids) under the one policy")
            }
            let offered = Set(try await admin.searchAll(block.filter).map(\.numberId))
            #expect(offered.isDisjoint(with: holderOf.keys))
            // Cancelled holds come back; nothing is lost.
            let stillHeld = try await eventually(within: .seconds(5)) {
                let offeredNow = Set(try await admin.searchAll(block.filter).map(\.numberId))
                return offeredNow.union(holderOf.keys) == Set(poolIDs)
            }
            #expect(stillHeld, "every number is either assigned or offered")

            // The history agrees: for each number, assignments minus releases match its holder.
            for id in poolIDs {
                let entries = try await admin.historyAll(number: id)
                let assigned = entries.filter { $0.action == "assigned" }
                #expect(assigned.count == (holderOf[id] == nil ? 0 : 1), "history of \(id): \(entries.map(\.action))")
                if let holder = holderOf[id] { #expect(assigned.first?.organizationId == holder) }
            }
        }
    }
}

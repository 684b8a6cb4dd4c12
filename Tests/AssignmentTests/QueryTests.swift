import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// ListOrganizationNumbers, GetSummary and GetHistory.
    @Suite struct QueryTests {
        let fixtures: Fixtures
        var admin: AssignmentAPI { fixtures.admin }

        init() throws {
            fixtures = try Fixtures()
        }

        @Test func summaryCountsNumbersConnectionsAndCostPerCurrency() async throws {
            let organization = try await fixtures.organization(policy: .many)
            let agent = try await fixtures.agent(of: organization)
            let costs: [(Int64, String)] = [(1_150_000, "USD"), (2_000_000, "USD"), (500_000, "EUR")]
            let (_, numbers) = try await fixtures.pool(3) { index, item in
                item.monthlyCostMicros = costs[index].0
                item.currency = costs[index].1
            }
            let api = fixtures.api(.orgAdmin(organization))

            let empty = try await api.summary()
            #expect(empty.myNumbers == 0 && empty.connectedToAgents == 0)
            #expect(empty.monthlyCostMicros.values.allSatisfy { $0 == 0 })
            #expect(empty.availableInPool >= 3, "the three imported numbers are in the pool")

            _ = try await api.allocate(ids: numbers.map(\.numberId))
            _ = try await api.connect(numbers[0].numberId, agent: agent.id)
            _ = try await api.connect(numbers[2].numberId, agent: agent.id)

            let summary = try await api.summary()
            #expect(summary.myNumbers == 3)
            #expect(summary.connectedToAgents == 2)
            #expect(summary.monthlyCostMicros["USD"] == 3_150_000)
            #expect(summary.monthlyCostMicros["EUR"] == 500_000)
            #expect(summary.monthlyCostMicros.count == 2, "\(summary.monthlyCostMicros)")
            #expect(summary.availableInPool > 0)
            // The same figures for members and platform admins (naming the organisation).
            let asMember = try await fixtures.api(.member(organization)).summary()
            #expect(asMember.myNumbers == 3 && asMember.connectedToAgents == 2)
            let asAdmin = try await admin.summary(organization)
            #expect(asAdmin.myNumbers == 3 && asAdmin.monthlyCostMicros == summary.monthlyCostMicros)

            _ = try await api.disconnect(numbers[0].numberId)
            _ = try await api.release(numbers[0].numberId)
            let after = try await api.summary()
            #expect(after.myNumbers == 2)
            #expect(after.connectedToAgents == 1)
            #expect(after.monthlyCostMicros["USD"] == 2_000_000)
            #expect(after.monthlyCostMicros["EUR"] == 500_000)
        }

        @Test func summaryCountsOwnedNumbersToo() async throws {
            let organization = try await fixtures.organization()
            _ = try await fixtures.owned(2, by: organization)
            _ = try await fixtures.allocated(1, to: organization)
            let summary = try await fixtures.api(.member(organization)).summary()
            #expect(summary.myNumbers == 3)
            #expect(summary.connectedToAgents == 0)
        }

        @Test func listOrganizationNumbersPaginates() async throws {
            let organization = try await fixtures.organization(policy: .many)
            let agent = try await fixtures.agent(of: organization, name: "Paginated agent")
            let numbers = try await fixtures.allocated(5, to: organization)
            let api = fixtures.api(.member(organization))
            _ = try await fixtures.api(.owner(organization)).connect(numbers[3].numberId, agent: agent.id)

            var seen: [AssignmentV1.AssignedNumber] = []
            var token = ""
            var pages = 0
            repeat {
                let page = try await api.listNumbers(pageSize: 2, pageToken: token)
                #expect(page.numbers.count <= 2)
                seen += page.numbers
                token = page.nextPageToken
                pages += 1
            } while !token.isEmpty && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 5)
            #expect(seen.numberIDs == Set(numbers.map(\.numberId)))
            let connected = try #require(seen.entry(numbers[3].numberId))
            #expect(connected.status == .connected && connected.agentName == "Paginated agent")
            #expect(seen.filter { $0.status == .assigned }.count == 4)
            for entry in seen {
                let pool = try #require(numbers.first { $0.numberId == entry.number?.numberId })
                #expect(entry.number?.e164 == pool.e164)
                #expect(entry.organizationId == organization)
            }
            await expectRPCError(.invalidArgument, field: "page_size") { try await api.listNumbers(pageSize: 1001) }
        }

        @Test func historyOfAnOrganisationPaginatesAndNamesTheActors() async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            let (block, _) = try await fixtures.pool(3)
            let owner = Caller.owner(organization)
            let orgAdmin = Caller.orgAdmin(organization)
            let platform = Caller.admin()

            let allocated = try await fixtures.api(owner).allocate(matching: block.filter, count: 2)
            let ids = allocated.numbers.compactMap { $0.number?.numberId }
            _ = try await fixtures.api(orgAdmin).connect(ids[0], agent: agent.id)
            _ = try await fixtures.api(platform).disconnect(ids[0])
            _ = try await fixtures.api(platform).allocate(matching: block.filter, count: 1, organization: organization)
            _ = try await fixtures.api(orgAdmin).setSchedule(simpleSchedule(ids[1], agent: agent.id))

            let all = try await fixtures.api(.member(organization)).historyAll(organization: organization, pageSize: 1000)
            #expect(all.allSatisfy { $0.organizationId == organization })
            #expect(Set(all.map(\.id)).count == all.count, "entry ids are unique")
            func actors(_ action: String) -> Set<String> { Set(all.filter { $0.action == action }.map(\.actor)) }
            #expect(actors("assigned") == [owner.actor, platform.actor], "\(all.map { ($0.action, $0.actor) })")
            #expect(all.filter { $0.action == "assigned" }.count == 3)
            #expect(actors("connected") == [orgAdmin.actor])
            #expect(actors("disconnected") == [platform.actor])
            #expect(actors("schedule_set") == [orgAdmin.actor])
            #expect(owner.actor.hasPrefix("org_owner:") && owner.actor.hasSuffix("@" + organization))

            // Page by page gives the same entries, each once.
            let paged = try await fixtures.api(.member(organization)).historyAll(organization: organization, pageSize: 2)
            #expect(paged.map(\.id) == all.map(\.id))
            let firstPage = try await admin.history(organization: organization, pageSize: 2)
            #expect(firstPage.entries.count == 2)
            #expect(!firstPage.nextPageToken.isEmpty)

            // Exactly one of number_id and organization_id.
            await expectRPCError(.invalidArgument) { try await admin.history() }
            await expectRPCError(.invalidArgument) { try await admin.history(number: ids[0], organization: organization) }
        }

        @Test func historyOfANumberNobodyHeldYetIsEmptyAndOfAnUnknownOneNotFound() async throws {
            let (_, numbers) = try await fixtures.pool(1)
            #expect(try await admin.historyAll(number: numbers[0].numberId).isEmpty)
            await expectRPCError(.notFound) { try await admin.history(number: UUID().uuidString.lowercased()) }
            let organization = try await fixtures.organization()
            await expectRPCError(.notFound) { try await fixtures.api(.orgAdmin(organization)).history(number: numbers[0].numberId) }
        }

        @Test func historyOfANumberCoversEveryOrganisationThatHeldIt() async throws {
            let first = try await fixtures.organization()
            let second = try await fixtures.organization()
            let (_, numbers) = try await fixtures.pool(1)
            let id = numbers[0].numberId
            _ = try await fixtures.api(.orgAdmin(first)).allocate(ids: [id])
            _ = try await fixtures.api(.orgAdmin(first)).release(id)
            let back = try await eventually(within: .seconds(releaseCooldownSeconds + 8)) { try await admin.isAvailable(numbers[0].e164) }
            try #require(back)
            _ = try await fixtures.api(.orgAdmin(second)).allocate(ids: [id])

            let entries = try await admin.historyAll(number: id)
            #expect(Set(entries.filter { $0.action == "assigned" }.map(\.organizationId)) == [first, second])
            #expect(entries.contains { $0.action == "released" && $0.organizationId == first })
            // The current holder sees its own part but nothing of the earlier holder.
            let visible = try await fixtures.api(.orgAdmin(second)).historyAll(number: id)
            #expect(!visible.isEmpty)
            #expect(visible.allSatisfy { $0.organizationId == second },
                    "another organisation's history does not leak: \(visible)")
            // The earlier holder sees only its own part (or nothing).
            switch try await outcome({ try await fixtures.api(.orgAdmin(first)).historyAll(number: id) }) {
            case .success(let earlier):
                #expect(earlier.allSatisfy { $0.organizationId == first }, "\(earlier)")
            case .failure(let error):
                #expect(error.code == .notFound, "\(error)")
            }
        }
    }
}

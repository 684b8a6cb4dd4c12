import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// Organisations and agents: who may change them, and what deleting them
    /// does to numbers. Also numbers an organisation brought itself.
    @Suite struct DirectoryTests {
        let fixtures: Fixtures
        var admin: AssignmentAPI { fixtures.admin }

        init() throws {
            fixtures = try Fixtures()
        }

        @Test func upsertAndListRoundTrip() async throws {
            let organization = try await fixtures.organization(policy: .many, timeZone: "Europe/Berlin")
            var changed = AssignmentV1.Organization()
            changed.id = organization
            changed.slug = organization
            changed.externalId = "ext-" + organization
            changed.name = "Renamed " + organization
            changed.timeZone = "Europe/Berlin"
            changed.numbersPerAgent = .many
            let response = try await admin.upsertOrganization(changed)
            #expect(response.consistencyToken > 0)
            #expect(response.organization?.name == changed.name)
            #expect(response.organization?.timeZone == "Europe/Berlin")
            #expect(response.organization?.numbersPerAgent == .many)

            let first = try await fixtures.agent(of: organization, name: "First")
            let second = try await fixtures.agent(of: organization, name: "Second")
            var renamed = first
            renamed.name = "First renamed"
            let agentResponse = try await admin.upsertAgent(renamed)
            #expect(agentResponse.consistencyToken > 0)
            #expect(agentResponse.agent?.name == "First renamed")
            #expect(agentResponse.agent?.externalAssistantId == first.externalAssistantId)

            let agents = try await admin.listAgents(organization).agents
            #expect(Set(agents.map(\.id)) == [first.id, second.id])
            #expect(agents.first { $0.id == first.id }?.name == "First renamed")
            // Members of the organisation may read its agents.
            let asMember = try await fixtures.api(.member(organization)).listAgents(organization).agents
            #expect(Set(asMember.map(\.id)) == [first.id, second.id])
        }

        @Test func organisationsAreValidated() async throws {
            var organization = AssignmentV1.Organization()
            organization.id = Random.organization()
            organization.slug = organization.id
            organization.name = "Bad zone"
            organization.timeZone = "Mars/Olympus"
            await expectRPCError(.invalidArgument, field: "time_zone") { try await admin.upsertOrganization(organization) }
            organization.timeZone = "America/New_York"
            organization.id = ""
            await expectRPCError(.invalidArgument, field: "id") { try await admin.upsertOrganization(organization) }
            await expectRPCError(.invalidArgument) {
                try await admin.call("UpsertOrganization", AssignmentV1.UpsertOrganizationRequest(), as: AssignmentV1.OrganizationResponse.self)
            }
        }

        @Test func agentsAreValidated() async throws {
            var agent = AssignmentV1.Agent()
            agent.id = Random.agent()
            agent.organizationId = "org-missing-" + Random.token(8)
            agent.name = "Nobody's"
            await expectRPCError([.failedPrecondition, .notFound, .invalidArgument], "agent of an unknown organisation") {
                try await admin.upsertAgent(agent)
            }
            // An agent cannot move to another organisation.
            let organization = try await fixtures.organization()
            let other = try await fixtures.organization()
            var existing = try await fixtures.agent(of: organization)
            existing.organizationId = other
            await expectRPCError([.failedPrecondition, .invalidArgument, .notFound], "moving an agent between organisations") {
                try await admin.upsertAgent(existing)
            }
            #expect(try await admin.listAgents(other).agents.isEmpty)
        }

        @Test(arguments: [
            ("org_owner", false), ("org_admin", false), ("org_member", false),
            ("service-without-scope", false), ("service-directory-write", true), ("platform_admin", true),
        ])
        func directoryChangesNeedPlatformAdminOrDirectoryWrite(who: String, allowed: Bool) async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            let caller: Caller = switch who {
            case "org_owner": .owner(organization)
            case "org_admin": .orgAdmin(organization)
            case "org_member": .member(organization)
            case "service-without-scope": .service(["events:read"])
            case "service-directory-write": .service(["directory:write"])
            default: .admin()
            }
            let api = fixtures.api(caller)

            var newOrganization = AssignmentV1.Organization()
            newOrganization.id = Random.organization()
            newOrganization.slug = newOrganization.id
            newOrganization.name = "New"
            newOrganization.timeZone = "UTC"
            var renamed = AssignmentV1.Organization()
            renamed.id = organization
            renamed.slug = organization
            renamed.name = "Renamed by \(who)"
            renamed.timeZone = "UTC"
            var newAgent = AssignmentV1.Agent()
            newAgent.id = Random.agent()
            newAgent.organizationId = organization
            newAgent.name = "New agent"

            if allowed {
                #expect(try await api.upsertOrganization(newOrganization).consistencyToken > 0)
                #expect(try await api.upsertOrganization(renamed).consistencyToken > 0)
                #expect(try await api.upsertAgent(newAgent).consistencyToken > 0)
                #expect(try await api.deleteAgent(agent.id).consistencyToken > 0)
                #expect(try await api.deleteOrganization(newOrganization.id).consistencyToken > 0)
            } else {
                await expectRPCError(.permissionDenied, "\(who)") { try await api.upsertOrganization(newOrganization) }
                await expectRPCError(.permissionDenied, "\(who)") { try await api.upsertOrganization(renamed) }
                await expectRPCError(.permissionDenied, "\(who)") { try await api.upsertAgent(newAgent) }
                await expectRPCError(.permissionDenied, "\(who)") { try await api.deleteAgent(agent.id) }
                await expectRPCError(.permissionDenied, "\(who)") { try await api.deleteOrganization(organization) }
                // Nothing changed.
                #expect(try await admin.listAgents(organization).agents.map(\.id) == [agent.id])
            }
        }

        @Test func unauthenticatedCallsAreRefused() async throws {
            let api = fixtures.api(nil)
            await expectRPCError(.unauthenticated) { try await api.search(.prefix("1415")) }
            await expectRPCError(.unauthenticated) { try await api.listNumbers(Random.organization()) }
            await expectRPCError(.unauthenticated) { try await api.deleteOrganization(Random.organization()) }
        }

        @Test func deletingAnAgentDisconnectsItsNumbers() async throws {
            let organization = try await fixtures.organization(policy: .many)
            let agent = try await fixtures.agent(of: organization)
            let keeper = try await fixtures.agent(of: organization)
            let numbers = try await fixtures.allocated(3, to: organization)
            let api = fixtures.api(.orgAdmin(organization))
            _ = try await api.connect(numbers[0].numberId, agent: agent.id)
            _ = try await api.connect(numbers[1].numberId, agent: agent.id)
            _ = try await api.connect(numbers[2].numberId, agent: keeper.id)

            let deleted = try await admin.deleteAgent(agent.id)
            #expect(deleted.consistencyToken > 0)
            let listed = try await api.listAllNumbers()
            #expect(listed.count == 3, "the numbers stay with the organisation")
            for id in [numbers[0].numberId, numbers[1].numberId] {
                let entry = try #require(listed.entry(id))
                #expect(entry.status == .assigned)
                #expect(entry.agentId.isEmpty)
            }
            #expect(listed.entry(numbers[2].numberId)?.agentId == keeper.id)
            #expect(try await admin.listAgents(organization).agents.map(\.id) == [keeper.id])
            // The deleted agent cannot be connected; the freed numbers can be released.
            await expectRPCError([.failedPrecondition, .notFound]) { try await api.connect(numbers[0].numberId, agent: agent.id) }
            _ = try await api.release(numbers[0].numberId)
            let actions = try await admin.historyAll(number: numbers[1].numberId).map(\.action)
            #expect(actions.contains("disconnected"), "\(actions)")
        }

        @Test func deletingAnOrganisationReturnsPoolNumbersAndKeepsOwnedOnesOut() async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            let (block, pool) = try await fixtures.pool(2)
            _ = try await admin.allocate(ids: pool.map(\.numberId), organization: organization)
            _ = try await fixtures.api(.orgAdmin(organization)).connect(pool[0].numberId, agent: agent.id)
            let (ownedBlock, owned) = try await fixtures.owned(1, by: organization)
            _ = try await fixtures.api(.orgAdmin(organization)).setSchedule(
                simpleSchedule(pool[1].numberId, agent: agent.id))
            #expect(try await admin.searchAll(block.filter).isEmpty)

            let deleted = try await admin.deleteOrganization(organization)
            #expect(deleted.consistencyToken > 0)

            // Nothing is assigned to it any more.
            switch try await outcome({ try await admin.listAllNumbers(organization) }) {
            case .success(let listed): #expect(listed.isEmpty)
            case .failure(let error): #expect(error.code == .notFound, "\(error)")
            }
            switch try await outcome({ try await admin.summary(organization) }) {
            case .success(let summary): #expect(summary.myNumbers == 0 && summary.connectedToAgents == 0)
            case .failure(let error): #expect(error.code == .notFound, "\(error)")
            }
            #expect(try await admin.listAgents(organization).agents.isEmpty)

            // Its pool numbers are offered again (after the cool-down at most).
            let back = try await eventually(within: .seconds(releaseCooldownSeconds + 10)) {
                Set(try await admin.searchAll(block.filter).map(\.numberId)) == Set(pool.map(\.numberId))
            }
            #expect(back, "pool numbers of a deleted organisation return to the pool\n\(fixtures.stack.logs)")
            // Its own numbers never are.
            #expect(try await admin.searchAll(ownedBlock.filter).isEmpty)
            #expect(try await !admin.isAvailable(owned[0].e164))
            // And another organisation can take the returned ones.
            let other = try await fixtures.organization()
            let taken = try await admin.allocate(ids: pool.map(\.numberId), organization: other)
            #expect(taken.numbers.count == 2)
            #expect(try await fixtures.api(.orgAdmin(other)).listAllNumbers().allSatisfy { !$0.hasSchedule && $0.agentId.isEmpty })
        }

        @Test func switchingToTheOnePolicyIsRefusedWhileAnAgentHasSeveralNumbers() async throws {
            let organization = try await fixtures.organization(policy: .many)
            let agent = try await fixtures.agent(of: organization)
            let numbers = try await fixtures.allocated(2, to: organization)
            let api = fixtures.api(.orgAdmin(organization))
            for number in numbers { _ = try await api.connect(number.numberId, agent: agent.id) }

            var change = AssignmentV1.Organization()
            change.id = organization
            change.slug = organization
            change.name = "Now one per agent"
            change.timeZone = "UTC"
            change.numbersPerAgent = .one
            await expectRPCError(.failedPrecondition) { try await admin.upsertOrganization(change) }
            // Still MANY: a third number can join the same agent.
            let third = try await fixtures.allocated(1, to: organization)[0]
            _ = try await api.connect(third.numberId, agent: agent.id)

            // Once the agent has one number left, the switch works and is enforced.
            _ = try await api.disconnect(numbers[0].numberId)
            _ = try await api.disconnect(numbers[1].numberId)
            _ = try await admin.upsertOrganization(change)
            await expectRPCError(.failedPrecondition) { try await api.connect(numbers[0].numberId, agent: agent.id) }
        }

        @Test func ownershipChangesInInventoryMoveNumbersInAndOutOfThePool() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(1)
            let number = numbers[0]
            let api = fixtures.api(.orgAdmin(organization))

            _ = try await fixtures.inventory.setOwner(number.numberId, organization)
            let owned = try await eventually {
                try await api.listAllNumbers().entry(number.numberId)?.ownedByOrganization == true
            }
            #expect(owned, "a pool number given an owner in inventory is assigned to it\n\(fixtures.stack.logs)")
            #expect(try await admin.searchAll(block.filter).isEmpty)
            await expectRPCError(.failedPrecondition) { try await api.release(number.numberId) }

            _ = try await fixtures.inventory.setOwner(number.numberId, "")
            let pooled = try await eventually {
                try await admin.isAvailable(number.e164)
            }
            #expect(pooled, "a number whose owner is removed joins the pool")
            #expect(try await api.listAllNumbers().entry(number.numberId) == nil)
        }

        @Test func ownedNumbersAreAssignedAutomaticallyAndNeverPooled() async throws {
            let organization = try await fixtures.organization()
            let (block, owned) = try await fixtures.owned(2, by: organization)
            let api = fixtures.api(.orgAdmin(organization))
            let listed = try await api.listAllNumbers()
            for result in owned {
                let entry = try #require(listed.entry(result.numberId))
                #expect(entry.ownedByOrganization)
                #expect(entry.organizationId == organization)
                #expect(entry.status == .assigned)
                #expect(entry.number?.e164 == result.e164)
            }
            #expect(try await admin.searchAll(block.filter).isEmpty)
            #expect(try await admin.search(.prefix(String(owned[0].e164.dropFirst()))).numbers.isEmpty)

            await expectRPCError(.failedPrecondition) { try await api.release(owned[0].numberId) }
            await expectRPCError(.failedPrecondition) { try await admin.release(owned[0].numberId) }
            #expect(try await api.listAllNumbers().numberIDs.isSuperset(of: [owned[0].numberId]))

            // Nobody else can reserve or allocate them.
            let other = try await fixtures.organization()
            let otherAPI = fixtures.api(.orgAdmin(other))
            await expectRPCError([.failedPrecondition, .notFound]) { try await otherAPI.reserve(ids: [owned[0].numberId]) }
            await expectRPCError([.failedPrecondition, .notFound]) { try await otherAPI.allocate(ids: [owned[1].numberId]) }
            await expectRPCError([.failedPrecondition]) {
                try await otherAPI.allocate(matching: block.filter, count: 1)
            }

            // They can be connected like any other number.
            let agent = try await fixtures.agent(of: organization)
            let connected = try await api.connect(owned[0].numberId, agent: agent.id)
            #expect(connected.number?.status == .connected)
            #expect(connected.number?.ownedByOrganization == true)
        }
    }
}

/// A valid schedule: weekdays 09:00-17:00 to `agent`, the rest to the fallback.
func simpleSchedule(_ numberID: String, agent: String) -> AssignmentV1.Schedule {
    var schedule = AssignmentV1.Schedule()
    schedule.numberId = numberID
    schedule.timeZone = "America/New_York"
    var rule = AssignmentV1.WeeklyRule()
    rule.days = [.monday, .tuesday, .wednesday, .thursday, .friday]
    rule.start = "09:00"
    rule.end = "17:00"
    var target = AssignmentV1.RouteTarget()
    target.target = .agentId(agent)
    rule.target = target
    schedule.rules = [rule]
    schedule.fallbackDestination = "sip:frontdesk@example.com"
    return schedule
}

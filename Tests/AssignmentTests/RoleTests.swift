import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// Every role against its own organisation's numbers and another's:
    /// owners and admins change their own, members only read, platform admins
    /// do everything, and another organisation's number is NOT_FOUND.
    @Suite struct RoleTests {
        let fixtures: Fixtures
        var admin: AssignmentAPI { fixtures.admin }

        init() throws {
            fixtures = try Fixtures()
        }

        /// Two organisations, each with an agent, an assigned number with a
        /// schedule, and a spare assigned number; plus a block of pool numbers.
        struct World {
            var mine: String
            var theirs: String
            var myAgent: AssignmentV1.Agent
            var theirAgent: AssignmentV1.Agent
            var myNumbers: [AssignmentV1.PoolNumber]
            var theirNumbers: [AssignmentV1.PoolNumber]
            var block: Block
            var theirHold: String
        }

        private func world() async throws -> World {
            let mine = try await fixtures.organization(policy: .many)
            let theirs = try await fixtures.organization(policy: .many)
            let myAgent = try await fixtures.agent(of: mine)
            let theirAgent = try await fixtures.agent(of: theirs)
            let myNumbers = try await fixtures.allocated(2, to: mine)
            let theirNumbers = try await fixtures.allocated(2, to: theirs)
            _ = try await admin.connect(theirNumbers[0].numberId, agent: theirAgent.id)
            _ = try await admin.setSchedule(simpleSchedule(myNumbers[0].numberId, agent: myAgent.id))
            _ = try await admin.setSchedule(simpleSchedule(theirNumbers[0].numberId, agent: theirAgent.id))
            let (block, _) = try await fixtures.pool(4)
            let theirHold = try #require(try await admin.reserve(matching: block.filter, count: 1, organization: theirs).hold).id
            return World(mine: mine, theirs: theirs, myAgent: myAgent, theirAgent: theirAgent,
                         myNumbers: myNumbers, theirNumbers: theirNumbers, block: block, theirHold: theirHold)
        }

        private static func caller(_ role: String, _ organization: String) -> Caller {
            switch role {
            case "org_owner": .owner(organization)
            case "org_admin": .orgAdmin(organization)
            case "org_member": .member(organization)
            default: .admin()
            }
        }

        @Test(arguments: ["org_owner", "org_admin", "org_member", "platform_admin"])
        func readsOfTheOwnOrganisation(role: String) async throws {
            let w = try await world()
            let api = fixtures.api(Self.caller(role, w.mine))
            let org = role == "platform_admin" ? w.mine : ""
            #expect(try await api.listAllNumbers(org).numberIDs == Set(w.myNumbers.map(\.numberId)))
            #expect(try await api.summary(org).myNumbers == 2)
            #expect(try await api.getSchedule(w.myNumbers[0].numberId).schedule?.rules.count == 1)
            #expect(try await !api.historyAll(number: w.myNumbers[0].numberId).isEmpty)
            #expect(try await !api.historyAll(organization: w.mine).isEmpty)
            #expect(try await api.listAgents(w.mine).agents.map(\.id) == [w.myAgent.id])
            #expect(try await api.searchAll(w.block.filter).count == 3)
        }

        @Test(arguments: ["org_owner", "org_admin", "org_member"])
        func readsOfAnotherOrganisationAreNotFound(role: String) async throws {
            let w = try await world()
            let api = fixtures.api(Self.caller(role, w.mine))
            let theirIDs = Set(w.theirNumbers.map(\.numberId))

            await expectRPCError(.notFound) { try await api.getSchedule(w.theirNumbers[0].numberId) }
            await expectRPCError(.notFound) { try await api.history(number: w.theirNumbers[0].numberId) }
            // Organisation-wide reads naming another organisation never show its data.
            switch try await outcome({ try await api.listAllNumbers(w.theirs) }) {
            case .success(let value):
                let listed = value
                #expect(listed.numberIDs.isDisjoint(with: theirIDs), "\(role) listed another organisation's numbers")
            case .failure(let error):
                #expect([.notFound, .permissionDenied].contains(error.code), "\(error)")
            }
            switch try await outcome({ try await api.summary(w.theirs) }) {
            case .success(let value):
                let summary = value
                #expect(summary.connectedToAgents == 0, "\(role) saw another organisation's summary: \(summary)")
            case .failure(let error):
                #expect([.notFound, .permissionDenied].contains(error.code), "\(error)")
            }
            switch try await outcome({ try await api.historyAll(organization: w.theirs) }) {
            case .success(let value):
                let entries = value
                #expect(entries.allSatisfy { $0.organizationId != w.theirs }, "\(role) read another organisation's history")
            case .failure(let error):
                #expect([.notFound, .permissionDenied].contains(error.code), "\(error)")
            }
            switch try await outcome({ try await api.listAgents(w.theirs) }) {
            case .success(let value):
                let agents = value.agents
                #expect(!agents.contains { $0.id == w.theirAgent.id }, "\(role) listed another organisation's agents")
            case .failure(let error):
                #expect([.notFound, .permissionDenied].contains(error.code), "\(error)")
            }
        }

        @Test(arguments: ["org_owner", "org_admin", "platform_admin"])
        func writersChangeTheOwnOrganisationsNumbers(role: String) async throws {
            let w = try await world()
            let api = fixtures.api(Self.caller(role, w.mine))
            let org = role == "platform_admin" ? w.mine : ""
            let number = w.myNumbers[1].numberId

            let hold = try #require(try await api.reserve(matching: w.block.filter, count: 1, organization: org).hold)
            #expect(hold.organizationId == w.mine)
            _ = try await api.cancel(hold.id)
            let hold2 = try #require(try await api.reserve(matching: w.block.filter, count: 1, organization: org).hold)
            let confirmed = try await api.confirm(hold2.id)
            #expect(confirmed.numbers.allSatisfy { $0.organizationId == w.mine })
            let allocated = try await api.allocate(matching: w.block.filter, count: 1, organization: org)
            #expect(allocated.numbers.first?.organizationId == w.mine)

            _ = try await api.connect(number, agent: w.myAgent.id)
            _ = try await api.setSchedule(simpleSchedule(number, agent: w.myAgent.id))
            _ = try await api.deleteSchedule(number)
            _ = try await api.disconnect(number)
            _ = try await api.release(number)
            #expect(try await admin.listAllNumbers(w.mine).count == 3)
        }

        @Test func membersOnlyRead() async throws {
            let w = try await world()
            let api = fixtures.api(.member(w.mine))
            let number = w.myNumbers[1].numberId
            let denied: RPCError.Code = .permissionDenied
            await expectRPCError(denied) { try await api.reserve(matching: w.block.filter, count: 1) }
            await expectRPCError(denied) { try await api.allocate(matching: w.block.filter, count: 1) }
            await expectRPCError(denied) { try await api.allocate(ids: [number]) }
            await expectRPCError(denied) { try await api.connect(number, agent: w.myAgent.id) }
            await expectRPCError(denied) { try await api.disconnect(w.myNumbers[0].numberId) }
            await expectRPCError(denied) { try await api.setSchedule(simpleSchedule(number, agent: w.myAgent.id)) }
            await expectRPCError(denied) { try await api.deleteSchedule(w.myNumbers[0].numberId) }
            await expectRPCError(denied) { try await api.release(number) }
            // A hold of the member's own organisation cannot be confirmed or cancelled by a member.
            let myHold = try #require(try await admin.reserve(matching: w.block.filter, count: 1, organization: w.mine).hold)
            await expectRPCError(denied) { try await api.confirm(myHold.id) }
            await expectRPCError(denied) { try await api.cancel(myHold.id) }
            // Nothing changed.
            #expect(try await admin.listAllNumbers(w.mine).numberIDs == Set(w.myNumbers.map(\.numberId)))
            #expect(try await admin.getSchedule(w.myNumbers[0].numberId).schedule?.rules.count == 1)
            #expect(try await admin.searchAll(w.block.filter).count == 2)
        }

        @Test(arguments: ["org_owner", "org_admin", "org_member"])
        func changesToAnotherOrganisationsNumbersAreNotFound(role: String) async throws {
            let w = try await world()
            let api = fixtures.api(Self.caller(role, w.mine))
            // Members may be refused for their role first; nobody learns the number exists.
            let codes: Set<RPCError.Code> = role == "org_member" ? [.notFound, .permissionDenied] : [.notFound]
            let connected = w.theirNumbers[0].numberId, spare = w.theirNumbers[1].numberId

            await expectRPCError(codes) { try await api.release(spare) }
            await expectRPCError(codes) { try await api.release(connected) }
            await expectRPCError(codes) { try await api.connect(spare, agent: w.myAgent.id) }
            await expectRPCError(codes) { try await api.connect(spare, agent: w.theirAgent.id) }
            await expectRPCError(codes) { try await api.disconnect(connected) }
            await expectRPCError(codes) { try await api.setSchedule(simpleSchedule(spare, agent: w.myAgent.id)) }
            await expectRPCError(codes) { try await api.deleteSchedule(connected) }
            await expectRPCError(codes) { try await api.confirm(w.theirHold) }
            await expectRPCError(codes) { try await api.cancel(w.theirHold) }
            await expectRPCError(codes.union([.failedPrecondition])) { try await api.allocate(ids: [spare]) }
            // Org callers may hold only for themselves.
            await expectRPCError([.permissionDenied, .notFound, .invalidArgument]) {
                try await api.reserve(matching: w.block.filter, count: 1, organization: w.theirs)
            }

            // Nothing changed for them.
            let theirs = try await admin.listAllNumbers(w.theirs)
            #expect(theirs.numberIDs == Set(w.theirNumbers.map(\.numberId)))
            #expect(theirs.entry(connected)?.agentId == w.theirAgent.id)
            #expect(try await admin.getSchedule(connected).schedule?.rules.count == 1)
            #expect(try await admin.searchAll(w.block.filter).count == 3, "their hold stands, nothing else held")
            #expect(try await admin.listAllNumbers(w.mine).count == 2)
        }

        @Test func platformAdminsChangeAnyOrganisation() async throws {
            let w = try await world()
            let api = fixtures.api(.admin())
            _ = try await api.confirm(w.theirHold)
            _ = try await api.disconnect(w.theirNumbers[0].numberId)
            _ = try await api.deleteSchedule(w.theirNumbers[0].numberId)
            _ = try await api.connect(w.theirNumbers[1].numberId, agent: w.theirAgent.id)
            _ = try await api.release(w.theirNumbers[0].numberId)
            #expect(try await api.listAllNumbers(w.theirs).count == 2)
            // Platform admins must name the organisation they act for.
            await expectRPCError(.invalidArgument, field: "organization_id") {
                try await api.allocate(matching: w.block.filter, count: 1)
            }
        }
    }
}

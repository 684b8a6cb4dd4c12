import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// ConnectAgent / DisconnectAgent: same-organisation agents only, the
    /// numbers-per-agent policy, and release refused while connected.
    @Suite struct ConnectionTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        @Test func connectShowsTheAgentAndDisconnectClearsIt() async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization, name: "Reception " + Random.token(4))
            let number = try await fixtures.allocated(1, to: organization)[0]
            let api = fixtures.api(.orgAdmin(organization))

            let connected = try await api.connect(number.numberId, agent: agent.id)
            #expect(connected.consistencyToken > 0)
            let state = try #require(connected.number)
            #expect(state.agentId == agent.id)
            #expect(state.agentName == agent.name)
            #expect(state.status == .connected)
            #expect(state.organizationId == organization)

            let listed = try #require(try await api.listAllNumbers().entry(number.numberId))
            #expect(listed.status == .connected)
            #expect(listed.agentId == agent.id)
            #expect(listed.agentName == agent.name)

            let disconnected = try await api.disconnect(number.numberId)
            #expect(disconnected.consistencyToken > 0)
            #expect(disconnected.number?.status == .assigned)
            #expect(disconnected.number?.agentId.isEmpty == true)
            let after = try #require(try await api.listAllNumbers().entry(number.numberId))
            #expect(after.status == .assigned)
            #expect(after.agentId.isEmpty && after.agentName.isEmpty)
        }

        @Test func releaseIsRefusedWhileConnected() async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            let number = try await fixtures.allocated(1, to: organization)[0]
            let api = fixtures.api(.owner(organization))
            _ = try await api.connect(number.numberId, agent: agent.id)

            await expectRPCError(.failedPrecondition) { try await api.release(number.numberId) }
            let still = try #require(try await api.listAllNumbers().entry(number.numberId))
            #expect(still.status == .connected)

            _ = try await api.disconnect(number.numberId)
            _ = try await api.release(number.numberId)
            #expect(try await api.listAllNumbers().isEmpty)
        }

        @Test func anAgentOfAnotherOrganisationCannotBeConnected() async throws {
            let organization = try await fixtures.organization()
            let other = try await fixtures.organization()
            let foreignAgent = try await fixtures.agent(of: other)
            let number = try await fixtures.allocated(1, to: organization)[0]

            for caller in [Caller.orgAdmin(organization), .admin()] {
                await expectRPCError([.failedPrecondition, .notFound], "\(caller)") {
                    try await fixtures.api(caller).connect(number.numberId, agent: foreignAgent.id)
                }
            }
            await expectRPCError([.failedPrecondition, .notFound]) {
                try await fixtures.api(.orgAdmin(organization)).connect(number.numberId, agent: "agent-does-not-exist-" + Random.token(6))
            }
            let state = try #require(try await fixtures.admin.listAllNumbers(organization).entry(number.numberId))
            #expect(state.status == .assigned && state.agentId.isEmpty)
        }

        @Test func oneAgentOneNumberByDefault() async throws {
            let organization = try await fixtures.organization(policy: .unspecified)
            let agent = try await fixtures.agent(of: organization)
            let numbers = try await fixtures.allocated(2, to: organization)
            let api = fixtures.api(.orgAdmin(organization))

            _ = try await api.connect(numbers[0].numberId, agent: agent.id)
            await expectRPCError(.failedPrecondition) {
                try await api.connect(numbers[1].numberId, agent: agent.id)
            }
            let listed = try await api.listAllNumbers()
            #expect(listed.entry(numbers[1].numberId)?.status == .assigned)

            // Reconnecting the same pair is harmless; after a disconnect the agent is free again.
            _ = try? await api.connect(numbers[0].numberId, agent: agent.id)
            _ = try await api.disconnect(numbers[0].numberId)
            _ = try await api.connect(numbers[1].numberId, agent: agent.id)
            #expect(try await api.listAllNumbers().entry(numbers[1].numberId)?.agentId == agent.id)
        }

        @Test func explicitOnePolicyAlsoRefusesASecondNumber() async throws {
            let organization = try await fixtures.organization(policy: .one)
            let agent = try await fixtures.agent(of: organization)
            let numbers = try await fixtures.allocated(2, to: organization)
            let api = fixtures.api(.owner(organization))
            _ = try await api.connect(numbers[0].numberId, agent: agent.id)
            await expectRPCError(.failedPrecondition) {
                try await api.connect(numbers[1].numberId, agent: agent.id)
            }
        }

        @Test func manyPolicyAllowsSeveralNumbersPerAgent() async throws {
            let organization = try await fixtures.organization(policy: .many)
            let agent = try await fixtures.agent(of: organization)
            let numbers = try await fixtures.allocated(3, to: organization)
            let api = fixtures.api(.orgAdmin(organization))
            for number in numbers {
                let response = try await api.connect(number.numberId, agent: agent.id)
                #expect(response.number?.status == .connected)
            }
            let listed = try await api.listAllNumbers()
            #expect(listed.count == 3)
            #expect(listed.allSatisfy { $0.agentId == agent.id && $0.status == .connected })
            let summary = try await api.summary()
            #expect(summary.myNumbers == 3)
            #expect(summary.connectedToAgents == 3)
        }

        @Test func aNumberHasOneAgentAtATime() async throws {
            let organization = try await fixtures.organization(policy: .many)
            let first = try await fixtures.agent(of: organization)
            let second = try await fixtures.agent(of: organization)
            let number = try await fixtures.allocated(1, to: organization)[0]
            let api = fixtures.api(.orgAdmin(organization))
            _ = try await api.connect(number.numberId, agent: first.id)
            // Either moved to the second agent or refused until disconnected; never both.
            switch try await outcome({ try await api.connect(number.numberId, agent: second.id) }) {
            case .success(let moved): #expect(moved.number?.agentId == second.id)
            case .failure(let error): #expect(error.code == .failedPrecondition, "\(error)")
            }
            let entry = try #require(try await api.listAllNumbers().entry(number.numberId))
            #expect([first.id, second.id].contains(entry.agentId))
        }

        @Test func aPoolNumberCannotBeConnectedOrReleased() async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            let (_, numbers) = try await fixtures.pool(1)
            await expectRPCError([.notFound, .failedPrecondition]) {
                try await fixtures.api(.orgAdmin(organization)).connect(numbers[0].numberId, agent: agent.id)
            }
            await expectRPCError([.notFound, .failedPrecondition]) {
                try await fixtures.api(.orgAdmin(organization)).release(numbers[0].numberId)
            }
            #expect(try await fixtures.admin.isAvailable(numbers[0].e164))
        }
    }
}

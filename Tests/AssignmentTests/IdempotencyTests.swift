import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// Idempotency keys on mutations and consistency tokens in their answers.
    @Suite struct IdempotencyTests {
        let fixtures: Fixtures
        var admin: AssignmentAPI { fixtures.admin }

        init() throws {
            fixtures = try Fixtures()
        }

        @Test func repeatedAllocateWithTheSameKeyTakesOneNumber() async throws {
            let organization = try await fixtures.organization()
            let (block, _) = try await fixtures.pool(3)
            let api = fixtures.api(.orgAdmin(organization))
            let key = Random.key()
            let first = try await api.allocate(matching: block.filter, count: 1, key: key)
            let second = try await api.allocate(matching: block.filter, count: 1, key: key)
            #expect(first == second, "the same answer again")
            #expect(first.consistencyToken > 0)
            #expect(try await api.listAllNumbers().count == 1, "no second allocation")
            #expect(try await admin.searchAll(block.filter).count == 2)

            // A new key is a new request.
            _ = try await api.allocate(matching: block.filter, count: 1, key: Random.key())
            #expect(try await api.listAllNumbers().count == 2)
        }

        @Test func repeatedReserveReturnsTheSameHold() async throws {
            let organization = try await fixtures.organization()
            let (block, _) = try await fixtures.pool(3)
            let api = fixtures.api(.owner(organization))
            let key = Random.key()
            let first = try await api.reserve(matching: block.filter, count: 2, key: key)
            let second = try await api.reserve(matching: block.filter, count: 2, key: key)
            #expect(first == second)
            #expect(try await admin.searchAll(block.filter).count == 1)

            let confirmKey = Random.key()
            let holdID = try #require(first.hold?.id)
            let confirmed = try await api.confirm(holdID, key: confirmKey)
            let again = try await api.confirm(holdID, key: confirmKey)
            #expect(confirmed == again)
            #expect(confirmed.numbers.count == 2)
        }

        @Test func repeatedReleaseAndConnectAreAnsweredOnce() async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            let numbers = try await fixtures.allocated(2, to: organization)
            let api = fixtures.api(.orgAdmin(organization))

            let connectKey = Random.key()
            let connected = try await api.connect(numbers[0].numberId, agent: agent.id, key: connectKey)
            #expect(try await api.connect(numbers[0].numberId, agent: agent.id, key: connectKey) == connected)

            let releaseKey = Random.key()
            let released = try await api.release(numbers[1].numberId, key: releaseKey)
            // Without the key a second release would fail; with it, the first answer comes back.
            #expect(try await api.release(numbers[1].numberId, key: releaseKey) == released)
            let connections = try await admin.historyAll(number: numbers[0].numberId).filter { $0.action == "connected" }
            #expect(connections.count == 1)
            let releases = try await admin.historyAll(number: numbers[1].numberId).filter { $0.action == "released" }
            #expect(releases.count == 1)
        }

        @Test func keysBelongToTheCaller() async throws {
            let first = try await fixtures.organization()
            let second = try await fixtures.organization()
            let (block, _) = try await fixtures.pool(2)
            let key = Random.key()
            let mine = try await fixtures.api(.orgAdmin(first)).allocate(matching: block.filter, count: 1, key: key)
            // The same key and the same bytes from someone else is their own request.
            let theirs = try await fixtures.api(.orgAdmin(second)).allocate(matching: block.filter, count: 1, key: key)
            #expect(theirs.numbers.first?.organizationId == second)
            #expect(theirs.numbers.first?.number?.numberId != mine.numbers.first?.number?.numberId)
            #expect(try await admin.searchAll(block.filter).isEmpty)
        }

        @Test func theSameKeyWithADifferentRequestIsRefused() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(3)
            let api = fixtures.api(.orgAdmin(organization))
            let key = Random.key()
            _ = try await api.allocate(ids: [numbers[0].numberId], key: key)
            await expectRPCError(.invalidArgument, field: "idempotency-key") {
                try await api.allocate(ids: [numbers[1].numberId], key: key)
            }
            await expectRPCError(.invalidArgument, field: "idempotency-key") {
                try await api.release(numbers[0].numberId, key: key)
            }
            #expect(try await api.listAllNumbers().numberIDs == [numbers[0].numberId])
            #expect(try await admin.searchAll(block.filter).count == 2)

            let directoryKey = Random.key()
            var organizationChange = AssignmentV1.Organization()
            organizationChange.id = organization
            organizationChange.slug = organization
            organizationChange.name = "First name"
            organizationChange.timeZone = "UTC"
            _ = try await admin.upsertOrganization(organizationChange, key: directoryKey)
            organizationChange.name = "Second name"
            await expectRPCError(.invalidArgument, field: "idempotency-key") {
                try await admin.upsertOrganization(organizationChange, key: directoryKey)
            }
        }

        @Test func everyMutationAnswersWithAConsistencyToken() async throws {
            let organization = try await fixtures.organization(policy: .many)
            let agent = try await fixtures.agent(of: organization)
            let (block, _) = try await fixtures.pool(3)
            let api = fixtures.api(.orgAdmin(organization))
            var tokens: [(String, UInt64)] = []

            var org = AssignmentV1.Organization()
            org.id = organization
            org.slug = organization
            org.name = "Tokens"
            org.timeZone = "UTC"
            org.numbersPerAgent = .many
            tokens.append(("UpsertOrganization", try await admin.upsertOrganization(org).consistencyToken))
            var second = agent
            second.id = Random.agent()
            tokens.append(("UpsertAgent", try await admin.upsertAgent(second).consistencyToken))
            let held = try await api.reserve(matching: block.filter, count: 1)
            tokens.append(("Reserve", held.consistencyToken))
            tokens.append(("CancelHold", try await api.cancel(held.hold?.id ?? "").consistencyToken))
            let held2 = try await api.reserve(matching: block.filter, count: 1)
            tokens.append(("ConfirmHold", try await api.confirm(held2.hold?.id ?? "").consistencyToken))
            let allocated = try await api.allocate(matching: block.filter, count: 1)
            tokens.append(("Allocate", allocated.consistencyToken))
            let id = try #require(allocated.numbers.first?.number?.numberId)
            tokens.append(("ConnectAgent", try await api.connect(id, agent: agent.id).consistencyToken))
            tokens.append(("SetSchedule", try await api.setSchedule(simpleSchedule(id, agent: agent.id)).consistencyToken))
            tokens.append(("DeleteSchedule", try await api.deleteSchedule(id).consistencyToken))
            tokens.append(("DisconnectAgent", try await api.disconnect(id).consistencyToken))
            tokens.append(("Release", try await api.release(id).consistencyToken))
            tokens.append(("DeleteAgent", try await admin.deleteAgent(second.id).consistencyToken))
            tokens.append(("DeleteOrganization", try await admin.deleteOrganization(organization).consistencyToken))

            for (method, token) in tokens {
                #expect(token > 0, "\(method) answered consistency token 0")
            }
            // Event positions grow in commit order; these calls ran one after another.
            let values = tokens.map(\.1)
            #expect(values == values.sorted(), "\(tokens)")
        }
    }
}

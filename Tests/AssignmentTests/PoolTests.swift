import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// SearchAvailable, Reserve, ConfirmHold, CancelHold, Allocate, Release:
    /// the whole pool lifecycle, holds expiring and the release cool-down.
    @Suite struct PoolTests {
        let fixtures: Fixtures
        var admin: AssignmentAPI { fixtures.admin }

        init() throws {
            fixtures = try Fixtures()
        }

        @Test func searchFiltersByEveryCriterion() async throws {
            let regionName = "Testville " + Random.token(8)
            let (block, numbers) = try await fixtures.pool(3) { index, item in
                switch index {
                case 0:
                    item.capabilities = capabilities(voice: true)
                    item.monthlyCostMicros = 1_000_000
                    item.currency = "USD"
                    item.region = regionName
                case 1:
                    item.capabilities = capabilities(voice: true, sms: true)
                    item.monthlyCostMicros = 3_000_000
                    item.currency = "USD"
                default:
                    item.capabilities = capabilities(sms: true, mms: true, fax: true)
                    item.monthlyCostMicros = 500_000
                    item.currency = "USD"
                }
            }
            let (voiceOnly, voiceSMS, messaging) = (numbers[0], numbers[1], numbers[2])
            #expect(voiceOnly.voice && !voiceOnly.sms)
            #expect(voiceSMS.voice && voiceSMS.sms)
            #expect(messaging.sms && messaging.mms && messaging.fax && !messaging.voice)
            #expect(voiceOnly.country == "US")
            #expect(voiceOnly.region == regionName)
            #expect(voiceOnly.monthlyCostMicros == 1_000_000 && voiceOnly.currency == "USD")
            #expect(voiceOnly.provider == "twilio")
            #expect(!voiceOnly.numberType.isEmpty)

            func found(_ edit: (inout AssignmentV1.NumberFilter) -> Void) async throws -> Set<String> {
                var filter = block.filter
                edit(&filter)
                return Set(try await admin.searchAll(filter).map(\.e164))
            }
            let all = Set(numbers.map(\.e164))
            #expect(try await found { _ in } == all)
            #expect(try await found { $0.country = "US" } == all)
            #expect(try await found { $0.country = "GB" }.isEmpty)
            #expect(try await found { $0.region = regionName } == [voiceOnly.e164])
            #expect(try await found { $0.capability = "sms" } == [voiceSMS.e164, messaging.e164])
            #expect(try await found { $0.capability = "voice" } == [voiceOnly.e164, voiceSMS.e164])
            #expect(try await found { $0.capability = "fax" } == [messaging.e164])
            #expect(try await found { $0.maxMonthlyCostMicros = 1_000_000 } == [voiceOnly.e164, messaging.e164])
            #expect(try await found { $0.maxMonthlyCostMicros = 499_999 }.isEmpty)
            #expect(try await found { $0.numberType = voiceOnly.numberType } == all)
            #expect(try await found { $0.numberType = "toll_free" }.isEmpty)
            // The last five digits of a number (unique within the block).
            let tail = String(voiceSMS.e164.suffix(5))
            #expect(try await found { $0.contains = tail } == [voiceSMS.e164])
            // Prefix alone: the block's whole E.164 digits find exactly one number.
            #expect(Set(try await admin.searchAll(.prefix(String(messaging.e164.dropFirst()))).map(\.e164)) == [messaging.e164])
            // Contains alone (no prefix) finds the number too.
            var containsOnly = AssignmentV1.NumberFilter()
            containsOnly.contains = String(voiceOnly.e164.dropFirst())
            #expect(try await admin.searchAll(containsOnly).map(\.e164) == [voiceOnly.e164])
        }

        @Test func searchPaginatesWithCursorsAndBoundsThePageSize() async throws {
            let (block, numbers) = try await fixtures.pool(5)
            var seen: [String] = []
            var token = ""
            var pages = 0
            repeat {
                let page = try await admin.search(block.filter, pageSize: 2, pageToken: token)
                #expect(page.numbers.count <= 2)
                seen += page.numbers.map(\.e164)
                token = page.nextPageToken
                pages += 1
            } while !token.isEmpty && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 5)
            #expect(Set(seen) == Set(numbers.map(\.e164)), "every number once across pages")
            #expect(try await admin.search(block.filter, pageSize: 1000).numbers.count == 5)
            await expectRPCError(.invalidArgument, field: "page_size") {
                try await admin.search(block.filter, pageSize: 1001)
            }
            await expectRPCError(.invalidArgument, field: "page_token") {
                try await admin.search(block.filter, pageSize: 2, pageToken: "not-a-token!")
            }
        }

        @Test func reserveConfirmAssignsTheHeldNumbers() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(3)
            let ownerAPI = fixtures.api(.orgAdmin(organization))
            let ids = [numbers[0].numberId, numbers[1].numberId]

            let before = Date()
            let held = try await ownerAPI.reserve(ids: ids)
            let hold = try #require(held.hold)
            #expect(!hold.id.isEmpty)
            #expect(hold.organizationId == organization)
            #expect(Set(hold.numbers.map(\.numberId)) == Set(ids))
            #expect(held.consistencyToken > 0)
            // hold_seconds 0 means 300 s.
            let expiresIn = Double(hold.expiresAtMicros) / 1_000_000 - before.timeIntervalSince1970
            #expect((290...310).contains(expiresIn), "default hold lasts 300 s, got \(expiresIn)")

            // Held numbers are not offered; the third still is.
            #expect(try await admin.searchAll(block.filter).map(\.numberId) == [numbers[2].numberId])
            // Nor assigned yet.
            #expect(try await ownerAPI.listAllNumbers().numberIDs.isDisjoint(with: ids))

            let confirmed = try await ownerAPI.confirm(hold.id)
            #expect(confirmed.consistencyToken > 0)
            #expect(Set(confirmed.numbers.compactMap { $0.number?.numberId }) == Set(ids))
            for number in confirmed.numbers {
                #expect(number.organizationId == organization)
                #expect(number.status == .assigned)
                #expect(number.agentId.isEmpty)
                #expect(!number.ownedByOrganization)
                #expect(number.assignedAtMicros > 0)
            }
            let listed = try await ownerAPI.listAllNumbers()
            #expect(listed.numberIDs == Set(ids))
            #expect(listed.allSatisfy { $0.status == .assigned && $0.organizationId == organization })
            #expect(try await admin.searchAll(block.filter).map(\.numberId) == [numbers[2].numberId])

            // A confirmed hold is used up: cancelling it returns nothing to the pool.
            _ = try? await ownerAPI.cancel(hold.id)
            #expect(try await ownerAPI.listAllNumbers().numberIDs == Set(ids))
            #expect(try await admin.searchAll(block.filter).map(\.numberId) == [numbers[2].numberId])
        }

        @Test func cancelHoldReturnsTheNumbers() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(2)
            let ownerAPI = fixtures.api(.owner(organization))
            let hold = try #require(try await ownerAPI.reserve(ids: numbers.map(\.numberId)).hold)
            #expect(try await admin.searchAll(block.filter).isEmpty)

            let cancelled = try await ownerAPI.cancel(hold.id)
            #expect(cancelled.consistencyToken > 0)
            #expect(Set(try await admin.searchAll(block.filter).map(\.numberId)) == Set(numbers.map(\.numberId)))
            await expectRPCError([.failedPrecondition, .notFound]) { try await ownerAPI.confirm(hold.id) }
            #expect(try await ownerAPI.listAllNumbers().isEmpty)
        }

        @Test func reserveByIdsIsAllOrNothing() async throws {
            let first = try await fixtures.organization()
            let second = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(3)
            _ = try await fixtures.api(.orgAdmin(first)).allocate(ids: [numbers[0].numberId])

            // One of the three is taken: nothing is held.
            let secondAPI = fixtures.api(.orgAdmin(second))
            await expectRPCError(.failedPrecondition) {
                try await secondAPI.reserve(ids: numbers.map(\.numberId))
            }
            #expect(Set(try await admin.searchAll(block.filter).map(\.numberId)) == [numbers[1].numberId, numbers[2].numberId])
            await expectRPCError(.failedPrecondition) {
                try await secondAPI.allocate(ids: numbers.map(\.numberId))
            }
            #expect(try await secondAPI.listAllNumbers().isEmpty)

            // An id that is not a catalogue number at all: nothing is held either.
            await expectRPCError([.failedPrecondition, .notFound, .invalidArgument]) {
                try await secondAPI.reserve(ids: [numbers[1].numberId, UUID().uuidString])
            }
            #expect(try await admin.searchAll(block.filter).count == 2)
            // The remaining two can be held together.
            let hold = try #require(try await secondAPI.reserve(ids: [numbers[1].numberId, numbers[2].numberId]).hold)
            #expect(hold.numbers.count == 2)
            #expect(try await admin.searchAll(block.filter).isEmpty)
        }

        @Test func reserveByFilterIsAllOrNothing() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(4)
            let api = fixtures.api(.orgAdmin(organization))

            await expectRPCError(.failedPrecondition) {
                try await api.reserve(matching: block.filter, count: 5)
            }
            #expect(try await admin.searchAll(block.filter).count == 4, "a failed reserve holds nothing")

            let hold = try #require(try await api.reserve(matching: block.filter, count: 3).hold)
            #expect(hold.numbers.count == 3)
            #expect(Set(hold.numbers.map(\.numberId)).isSubset(of: Set(numbers.map(\.numberId))))
            #expect(hold.numbers.allSatisfy { $0.e164.hasPrefix(block.description) })
            let left = try await admin.searchAll(block.filter)
            #expect(left.count == 1)
            #expect(!hold.numbers.map(\.numberId).contains(left[0].numberId))

            await expectRPCError(.failedPrecondition) {
                try await api.allocate(matching: block.filter, count: 2)
            }
            let allocated = try await api.allocate(matching: block.filter, count: 1)
            #expect(allocated.numbers.map { $0.number?.numberId } == [left[0].numberId])
            #expect(try await admin.searchAll(block.filter).isEmpty)
        }

        @Test func reserveValidatesHoldSecondsAndCount() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(1)
            let api = fixtures.api(.orgAdmin(organization))
            await expectRPCError(.invalidArgument, field: "hold_seconds") {
                try await api.reserve(ids: [numbers[0].numberId], holdSeconds: 3601)
            }
            await expectRPCError(.invalidArgument) {
                try await api.reserve(matching: block.filter, count: 0)
            }
            await expectRPCError(.invalidArgument) {
                try await api.reserve(ids: [])
            }
            await expectRPCError(.invalidArgument) {
                try await api.call("Reserve", AssignmentV1.ReserveRequest(), as: AssignmentV1.HoldResponse.self)
            }
            #expect(try await admin.searchAll(block.filter).count == 1)

            let before = Date()
            let hold = try #require(try await api.reserve(ids: [numbers[0].numberId], holdSeconds: 3600).hold)
            let expiresIn = Double(hold.expiresAtMicros) / 1_000_000 - before.timeIntervalSince1970
            #expect((3590...3610).contains(expiresIn), "hold_seconds 3600 is allowed, got \(expiresIn)")
            _ = try await api.cancel(hold.id)
        }

        @Test func anExpiredHoldFreesItsNumbers() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(2)
            let api = fixtures.api(.orgAdmin(organization))
            let reserveSent = ContinuousClock.now
            let hold = try #require(try await api.reserve(matching: block.filter, count: 2, holdSeconds: 1).hold)
            let offered = try await admin.searchAll(block.filter)
            #expect(offered.isEmpty || ContinuousClock.now - reserveSent >= .seconds(1), "held numbers are not offered")

            try await Task.sleep(for: .milliseconds(1_500))
            await expectRPCError([.failedPrecondition, .notFound], "confirming an expired hold") {
                try await api.confirm(hold.id)
            }
            let back = try await eventually(within: .seconds(10)) {
                try await admin.searchAll(block.filter).count == 2
            }
            #expect(back, "numbers of an expired hold are offered again\n\(fixtures.stack.logs)")
            #expect(try await api.listAllNumbers().isEmpty)
            await expectRPCError([.failedPrecondition, .notFound]) { try await api.confirm(hold.id) }

            // The sweeper records the expiry (it runs every second or so).
            var actions: [String] = []
            let recorded = try await eventually(within: .seconds(10)) {
                actions = try await admin.historyAll(number: numbers[0].numberId).map(\.action)
                return actions.contains("hold_expired")
            }
            #expect(recorded, "history records hold_expired: \(actions)")
            #expect(actions.contains("reserved"), "\(actions)")
            #expect(!actions.contains("assigned"), "\(actions)")
        }

        @Test func allocateAssignsAtOnce() async throws {
            let organization = try await fixtures.organization()
            let (block, numbers) = try await fixtures.pool(2)
            let api = fixtures.api(.owner(organization))
            let response = try await api.allocate(ids: [numbers[0].numberId])
            #expect(response.consistencyToken > 0)
            let assigned = try #require(response.numbers.first)
            #expect(assigned.number?.numberId == numbers[0].numberId)
            #expect(assigned.number?.e164 == numbers[0].e164)
            #expect(assigned.organizationId == organization)
            #expect(assigned.status == .assigned)
            #expect(try await admin.searchAll(block.filter).map(\.numberId) == [numbers[1].numberId])
            #expect(try await api.listAllNumbers().numberIDs == [numbers[0].numberId])

            // Allocating an assigned number again, even by the same organisation, is refused.
            await expectRPCError(.failedPrecondition) { try await api.allocate(ids: [numbers[0].numberId]) }
        }

        @Test func releaseReturnsTheNumberAfterTheCooldown() async throws {
            let organization = try await fixtures.organization()
            let other = try await fixtures.organization()
            let (_, numbers) = try await fixtures.pool(1)
            let number = numbers[0]
            let api = fixtures.api(.orgAdmin(organization))
            let otherAPI = fixtures.api(.orgAdmin(other))
            _ = try await api.allocate(ids: [number.numberId])
            #expect(try await !admin.isAvailable(number.e164))

            // The cool-down starts inside the release call, so no earlier than here.
            let releaseSent = ContinuousClock.now
            let cooldown = Duration.seconds(releaseCooldownSeconds)
            let released = try await api.release(number.numberId)
            #expect(released.consistencyToken > 0)
            #expect(try await api.listAllNumbers().isEmpty)

            // During the cool-down the number is neither offered nor taken. (On a
            // loaded machine the calls may end after the cool-down; then either answer is right.)
            let offered = try await admin.isAvailable(number.e164)
            #expect(!offered || ContinuousClock.now - releaseSent >= cooldown,
                    "offered \(ContinuousClock.now - releaseSent) after the release, within the \(cooldown) cool-down")
            let early = try await outcome { try await otherAPI.allocate(ids: [number.numberId]) }
            var taken = false
            switch early {
            case .success:
                taken = true
                #expect(ContinuousClock.now - releaseSent >= cooldown,
                        "allocated \(ContinuousClock.now - releaseSent) after the release, within the \(cooldown) cool-down")
            case .failure(let error):
                #expect(error.code == .failedPrecondition, "\(error)")
            }

            if !taken {
                let back = try await eventually(within: cooldown + .seconds(8)) {
                    try await admin.isAvailable(number.e164)
                }
                #expect(back, "offered again after the cool-down")
                #expect(ContinuousClock.now - releaseSent >= cooldown)
                // And can be allocated again.
                let again = try await otherAPI.allocate(ids: [number.numberId])
                #expect(again.numbers.first?.organizationId == other)
            }
            #expect(try await otherAPI.listAllNumbers().numberIDs == [number.numberId])

            // Releasing a number that is not the caller's (any more) is refused.
            await expectRPCError([.failedPrecondition, .notFound]) { try await api.release(number.numberId) }
        }

        @Test func retiredNumbersLeaveThePool() async throws {
            let (block, numbers) = try await fixtures.pool(2)
            _ = try await fixtures.inventory.retire(numbers[0].numberId)
            let gone = try await eventually {
                try await admin.searchAll(block.filter).map(\.numberId) == [numbers[1].numberId]
            }
            #expect(gone, "a retired number is no longer offered\n\(fixtures.stack.logs)")
            let organization = try await fixtures.organization()
            await expectRPCError([.failedPrecondition, .notFound]) {
                try await fixtures.api(.orgAdmin(organization)).allocate(ids: [numbers[0].numberId])
            }
        }

        @Test func historyRecordsTheLifecycleWithTheActor() async throws {
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            let (_, numbers) = try await fixtures.pool(1)
            let id = numbers[0].numberId
            let caller = Caller.orgAdmin(organization)
            let api = fixtures.api(caller)

            let hold = try #require(try await api.reserve(ids: [id]).hold)
            _ = try await api.confirm(hold.id)
            _ = try await api.connect(id, agent: agent.id)
            _ = try await api.disconnect(id)
            _ = try await api.release(id)

            let entries = try await api.historyAll(number: id)
            let actions = entries.map(\.action)
            for action in ["reserved", "assigned", "connected", "disconnected", "released"] {
                #expect(actions.contains(action), "history of \(id): \(actions)")
            }
            let mine = entries.filter { ["reserved", "assigned", "connected", "disconnected", "released"].contains($0.action) }
            for entry in mine {
                #expect(entry.actor == caller.actor, "\(entry)")
                #expect(entry.numberId == id)
                #expect(entry.organizationId == organization)
                #expect(entry.atMicros > 0)
                #expect(entry.id > 0)
            }
            #expect(mine.first { $0.action == "connected" }?.agentId == agent.id)
            // Entries are in the order things happened.
            let order = ["reserved", "assigned", "connected", "disconnected", "released"].compactMap { action in
                entries.firstIndex { $0.action == action }
            }
            let ascending = order == order.sorted(), descending = order == order.sorted(by: >)
            #expect(ascending || descending, "history in chronological order: \(actions)")
            let times = mine.map(\.atMicros)
            #expect(times == times.sorted() || times == times.sorted(by: >))
        }
    }
}

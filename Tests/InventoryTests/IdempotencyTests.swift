import Auth
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// Idempotency keys on mutations: a repeat gets the first answer and has no
/// second effect; a key reused for something else is refused; keys belong to
/// the caller.
@Suite(.inventoryProcess) struct IdempotencyTests {
    let caller = Caller.admin("idem-" + Random.token(6))
    let api: InventoryAPI

    init() throws {
        api = try InventoryServer.shared.api(caller)
    }

    @Test func repeatedImportGetsTheSameAnswerAndImportsOnce() async throws {
        let numbers = try await Numbers.fresh(2)
        let items = numbers.map { number in importItem(number) { $0.credentials = credentials(twilioCredentials()) } }
        let key = Random.key()
        let first = try await api.importNumbers(items, key: key)
        #expect(first.created == 2)
        let ids = first.results.map(\.numberId)
        let events = try await ids.asyncMap { try await AdminDB.outboxCount(aggregate: $0) }
        #expect(events == [2, 2], "imported + credentials_changed each")

        let second = try await api.importNumbers(items, key: key)
        #expect(second == first, "the same answer, not ALREADY_PRESENT: \(second.results)")
        #expect(second.results.map(\.outcome) == [.created, .created])
        #expect(second.consistencyToken == first.consistencyToken)
        #expect(try await ids.asyncMap { try await AdminDB.outboxCount(aggregate: $0) } == events, "no second event")
        #expect(try await AdminDB.query("SELECT 1 FROM inventory.numbers WHERE e164 = ANY($1::text[])", [numbers]).count == 2)

        // Without the key, the same request is simply judged again.
        let unkeyed = try await api.importNumbers(items)
        #expect(unkeyed.results.map(\.outcome) == [.alreadyPresent, .alreadyPresent])
    }

    @Test func repeatedUpdateDoesNotApplyTwice() async throws {
        let number = try await api.create(importItem(try await Numbers.fresh()))
        let key = Random.key()
        let first = try await api.update(number.id, expectedVersion: 1, mask: ["label"], key: key) { $0.label = "once" }
        #expect(first.number?.version == 2)
        let again = try await api.update(number.id, expectedVersion: 1, mask: ["label"], key: key) { $0.label = "once" }
        #expect(again == first, "same version and token, not ABORTED")
        #expect(try await api.get(id: number.id).number?.version == 2)
        let updates = try await AdminDB.events(aggregate: number.id).filter { $0.type == "inventory.number.updated" }
        #expect(updates.count == 1)

        // Every other mutation too.
        let retireKey = Random.key()
        let retired = try await api.retire(number.id, key: retireKey)
        #expect(try await api.retire(number.id, key: retireKey) == retired, "not FAILED_PRECONDITION")
        let restoreKey = Random.key()
        let restored = try await api.restore(number.id, key: restoreKey)
        #expect(try await api.restore(number.id, key: restoreKey) == restored)
        let credentialsKey = Random.key()
        let fields = twilioCredentials()
        let set = try await api.setCredentials(number.id, fields, key: credentialsKey)
        #expect(try await api.setCredentials(number.id, fields, key: credentialsKey) == set)
        #expect(try await api.get(id: number.id).number?.version == 5)
    }

    @Test func sameKeyWithADifferentRequestIsRefused() async throws {
        let numbers = try await Numbers.fresh(2)
        let key = Random.key()
        let first = try await api.importNumbers([importItem(numbers[0])], key: key)
        #expect(first.created == 1)

        let error = await expectRPCError(.invalidArgument, field: "idempotency-key") {
            try await api.importNumbers([importItem(numbers[1])], key: key)
        }
        #expect(error?.message.contains("idempotency-key") == true, "\(String(describing: error))")
        await expectRPCError(.notFound, "the refused request had no effect") { try await api.get(number: numbers[1]) }

        // Reusing it for another method is a different request too.
        await expectRPCError(.invalidArgument, field: "idempotency-key") {
            try await api.retire(first.results[0].numberId, key: key)
        }
        #expect(try await api.get(id: first.results[0].numberId).number?.lifecycle == .active)
    }

    @Test func keysBelongToTheCaller() async throws {
        let server = try InventoryServer.shared
        let other = server.api(.admin("idem-other-" + Random.token(6)))
        let numbers = try await Numbers.fresh(2)
        let key = Random.key()
        let mine = try await api.importNumbers([importItem(numbers[0])], key: key)
        #expect(mine.created == 1)

        // Another caller's identical request with the same key runs on its own (and finds the number present).
        let theirs = try await other.importNumbers([importItem(numbers[0])], key: key)
        #expect(theirs.results.first?.outcome == .alreadyPresent)
        // And a different request with that key is not a conflict for them.
        let different = try await other.importNumbers([importItem(numbers[1])], key: Random.key())
        #expect(different.created == 1)
        let otherKeyReuse = try await server.api(.admin("idem-third-" + Random.token(6))).importNumbers([importItem(numbers[1])], key: key)
        #expect(otherKeyReuse.results.first?.outcome == .alreadyPresent)
    }

    @Test func concurrentRepeatsHaveOneEffect() async throws {
        let server = try InventoryServer.shared
        let number = try await Numbers.fresh()
        let key = Random.key()
        let caller = self.caller
        let responses = try await withThrowingTaskGroup(of: InventoryV1.ImportNumbersResponse.self) { group in
            for _ in 0..<5 {
                group.addTask { try await server.api(caller).importNumbers([importItem(number)], key: key) }
            }
            var all: [InventoryV1.ImportNumbersResponse] = []
            for try await response in group { all.append(response) }
            return all
        }
        #expect(Set(responses).count == 1, "\(responses)")
        #expect(responses.first?.results.first?.outcome == .created)
        let id = try #require(responses.first?.results.first?.numberId)
        #expect(try await AdminDB.outboxCount(aggregate: id) == 1)
    }

    @Test func failedCallsDoNotConsumeTheKey() async throws {
        let number = try await api.create(importItem(try await Numbers.fresh()))
        let key = Random.key()
        await expectRPCError(.aborted) {
            try await api.update(number.id, expectedVersion: 7, mask: ["label"], key: key) { $0.label = "x" }
        }
        // The same key with a corrected request works: the failure stored nothing.
        let fixed = try await api.update(number.id, expectedVersion: 1, mask: ["label"], key: key) { $0.label = "x" }
        #expect(fixed.number?.version == 2)
    }

    @Test func keyLengthIsBounded() async throws {
        await expectRPCError(.invalidArgument, field: "idempotency-key") {
            try await api.importNumbers([importItem(try await Numbers.fresh())], key: String(repeating: "k", count: 201))
        }
        await expectRPCError(.invalidArgument, field: "idempotency-key") {
            try await api.importNumbers([importItem(try await Numbers.fresh())], key: "")
        }
    }
}

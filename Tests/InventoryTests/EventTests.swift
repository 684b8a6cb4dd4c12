import Auth
import Credentials
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// Every change is an outbox event in the same transaction, and every
/// mutation answers with the position of its last event.
@Suite(.inventoryProcess) struct EventTests {
    let admin: InventoryAPI

    init() throws {
        admin = try InventoryServer.shared.api(.admin())
    }

    private func numberChanged(_ row: OutboxRow) throws -> InventoryV1.PhoneNumber {
        try #require(try InventoryV1.NumberChanged(serializedBytes: row.payload).number)
    }

    @Test func lifecycleOfOneNumberAsEvents() async throws {
        let imported = try await admin.importNumbers([importItem(try await Numbers.fresh()) { $0.label = "v1" }])
        let id = try #require(imported.results.first?.numberId)
        var events = try await AdminDB.events(aggregate: id)
        #expect(events.map(\.type) == ["inventory.number.imported"])
        #expect(imported.consistencyToken == UInt64(events[0].position))
        let afterImport = try numberChanged(events[0])
        #expect(afterImport.id == id && afterImport.label == "v1" && afterImport.version == 1 && afterImport.lifecycle == .active)
        #expect(afterImport == (try await admin.get(id: id).number), "the event carries the whole number")

        let updated = try await admin.update(id, mask: ["label"]) { $0.label = "v2" }
        events = try await AdminDB.events(aggregate: id)
        #expect(events.map(\.type).last == "inventory.number.updated")
        #expect(updated.consistencyToken == UInt64(events.last!.position))
        #expect(try numberChanged(events.last!) == updated.number)

        let retired = try await admin.retire(id, reason: "done")
        events = try await AdminDB.events(aggregate: id)
        #expect(events.map(\.type).last == "inventory.number.retired")
        #expect(retired.consistencyToken == UInt64(events.last!.position))
        #expect(try numberChanged(events.last!).lifecycle == .retired)

        let restored = try await admin.restore(id)
        events = try await AdminDB.events(aggregate: id)
        #expect(events.map(\.type).last == "inventory.number.restored")
        #expect(restored.consistencyToken == UInt64(events.last!.position))
        #expect(try numberChanged(events.last!).lifecycle == .active)
        #expect(try numberChanged(events.last!).version == 4)

        #expect(events.map(\.type) == ["inventory.number.imported", "inventory.number.updated",
                                       "inventory.number.retired", "inventory.number.restored"])
        #expect(events.map(\.position) == events.map(\.position).sorted())
        #expect(Set(events.map(\.position)).count == events.count)

        // A refused change writes nothing.
        await expectRPCError(.failedPrecondition) { try await admin.restore(id) }
        #expect(try await AdminDB.events(aggregate: id).count == events.count)
    }

    @Test func credentialsChangesTravelSealed() async throws {
        let ring = try CredentialKeyRing(configuration: ServiceProcess.testCredentialKeys)
        let initial = twilioCredentials()
        let imported = try await admin.importNumbers([importItem(try await Numbers.fresh()) { $0.credentials = credentials(initial) }])
        let id = try #require(imported.results.first?.numberId)
        var events = try await AdminDB.events(aggregate: id)
        #expect(events.map(\.type) == ["inventory.number.imported", "inventory.number.credentials_changed"])
        #expect(imported.consistencyToken == UInt64(events.last!.position), "the token is the last event's position")
        #expect(try numberChanged(events[0]).hasCredentials)

        func sealed(_ row: OutboxRow) throws -> InventoryV1.CredentialsChanged {
            try InventoryV1.CredentialsChanged(serializedBytes: row.payload)
        }
        let first = try sealed(events[1])
        #expect(first.numberId == id && first.provider == "twilio" && first.keyId == "k2" && first.version == 1)
        let opened = try ring.decrypt(SealedCredentials(keyID: first.keyId, ciphertext: first.ciphertext),
                                      associatedData: CredentialKeyRing.associatedData(numberID: id))
        #expect(opened.fields == initial)

        let replacement = twilioCredentials()
        let set = try await admin.setCredentials(id, replacement)
        events = try await AdminDB.events(aggregate: id)
        #expect(Array(events.map(\.type).suffix(2)) == ["inventory.number.updated", "inventory.number.credentials_changed"])
        #expect(set.consistencyToken == UInt64(events.last!.position))
        let second = try sealed(events.last!)
        #expect(second.version == set.number?.version)
        #expect(try ring.decrypt(SealedCredentials(keyID: second.keyId, ciphertext: second.ciphertext),
                                 associatedData: CredentialKeyRing.associatedData(numberID: id)).fields == replacement)

        let cleared = try await admin.setCredentials(id, [:])
        events = try await AdminDB.events(aggregate: id)
        let removal = try sealed(events.last!)
        #expect(events.last?.type == "inventory.number.credentials_changed")
        #expect(removal.ciphertext.isEmpty && removal.keyId.isEmpty, "empty ciphertext announces removal")
        #expect(cleared.consistencyToken == UInt64(events.last!.position))
        #expect(try numberChanged(events[events.count - 2]).hasCredentials == false)
    }

    @Test func batchImportTokenCoversTheWholeBatch() async throws {
        let numbers = try await Numbers.fresh(3)
        let response = try await admin.importNumbers(numbers.map { importItem($0) })
        #expect(response.created == 3)
        var positions: [Int64] = []
        for result in response.results {
            let events = try await AdminDB.events(aggregate: result.numberId)
            #expect(events.map(\.type) == ["inventory.number.imported"])
            positions += events.map(\.position)
        }
        #expect(response.consistencyToken == UInt64(positions.max()!))
        #expect(positions == positions.sorted(), "events follow the order of the request")

        // Nothing new: the answer still carries a token at least as new as the batch.
        let again = try await admin.importNumbers(numbers.map { importItem($0) })
        #expect(again.alreadyPresent == 3)
        #expect(again.consistencyToken >= response.consistencyToken)
        for result in again.results { #expect(try await AdminDB.outboxCount(aggregate: result.numberId) == 1) }
    }

    /// A batch mixing catalogued and new numbers: only the new ones are
    /// created, keep the ids the answer gives, and get an event each.
    @Test func mixedBatchCreatesOnlyTheNewNumbers() async throws {
        let numbers = try await Numbers.fresh(4)
        let first = try await admin.importNumbers([importItem(numbers[0]), importItem(numbers[2])])
        #expect(first.created == 2)
        let mixed = try await admin.importNumbers(numbers.map { importItem($0) })
        #expect(mixed.results.map(\.outcome) == [.alreadyPresent, .created, .alreadyPresent, .created], "\(mixed.results)")
        #expect(mixed.results[0].numberId == first.results[0].numberId)
        #expect(mixed.results[2].numberId == first.results[1].numberId)
        for result in mixed.results {
            #expect(try await AdminDB.outboxCount(aggregate: result.numberId) == 1, "\(result.e164)")
            let stored = try await admin.get(id: result.numberId)
            #expect(stored.number?.e164 == result.e164)
        }
    }

    /// A batch larger than one insert statement whose middle statement meets
    /// catalogued numbers: the statements before and after it are all new,
    /// and each number's outcome still says which it was.
    @Test func numbersAlreadyPresentInALaterStatementKeepTheOthersCreated() async throws {
        let numbers = try await Numbers.fresh(2_500)
        let present = [1_000, 1_500, 1_999].map { numbers[$0] }
        let first = try await admin.importNumbers(present.map { importItem($0) })
        #expect(first.created == 3)
        let batch = try await admin.importNumbers(numbers.map { importItem($0) })
        #expect(batch.created == 2_497 && batch.alreadyPresent == 3, "\(batch.created) created, \(batch.alreadyPresent) present")
        for (index, result) in batch.results.enumerated() {
            let expected: InventoryV1.ImportResult.Outcome = present.contains(numbers[index]) ? .alreadyPresent : .created
            #expect(result.outcome == expected, "item \(index)")
        }
        for index in [0, 999, 1_000, 1_001, 2_000, 2_499] {
            let result = batch.results[index]
            #expect(try await AdminDB.outboxCount(aggregate: result.numberId) == 1, "item \(index)")
        }
    }
}

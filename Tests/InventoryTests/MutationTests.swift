import Auth
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// UpdateNumber, SetCredentials/GetCredentials, RetireNumber/RestoreNumber,
/// RotateCredentialKeys, and optimistic concurrency.
@Suite(.inventoryProcess) struct MutationTests {
    let adminCaller = Caller.admin("editor-" + Random.token(6))
    let admin: InventoryAPI

    init() throws {
        admin = try InventoryServer.shared.api(adminCaller)
    }

    private func fresh(_ edit: (inout InventoryV1.ImportItem) -> Void = { _ in }) async throws -> InventoryV1.PhoneNumber {
        try await admin.create(importItem(try await Numbers.fresh(), edit))
    }

    // MARK: UpdateNumber

    @Test func updateChangesOnlyTheMaskedFields() async throws {
        let original = try await fresh { $0.label = "before"; $0.region = "Somewhere" }
        let response = try await admin.update(original.id, expectedVersion: 1, mask: ["label"]) {
            $0.label = "after"
            $0.region = "ignored: not in the mask"
            $0.provider = "vonage"
        }
        let updated = try #require(response.number)
        #expect(updated.label == "after")
        #expect(updated.region == "Somewhere")
        #expect(updated.provider == "twilio")
        #expect(updated.version == 2)
        #expect(updated.updatedBy.contains(adminCaller.principal.subject))
        #expect(updated.updatedAtMicros >= original.updatedAtMicros)
        #expect(updated.createdAtMicros == original.createdAtMicros)
        #expect(updated.createdBy == original.createdBy)
        #expect(response.consistencyToken > 0)
        #expect(try await admin.get(id: original.id).number == updated)
    }

    @Test func updateEveryField() async throws {
        let original = try await fresh()
        let owner = Random.organization()
        let pnSID = "PN" + Random.hex(32)
        let response = try await admin.update(original.id, expectedVersion: original.version,
                                              mask: ["region", "provider", "provider_ids", "capabilities", "monthly_cost", "label", "owner_organization_id"]) {
            $0.region = "New region"
            $0.provider = "twilio"
            var ids = InventoryV1.ProviderIds()
            ids.providerNumberId = pnSID
            ids.vapiPhoneNumberId = "vapi-123"
            $0.providerIds = ids
            $0.capabilities = capabilities(sms: true, mms: true)
            $0.monthlyCostMicros = 2_500_000
            $0.currency = "EUR"
            $0.label = "every field"
            $0.ownerOrganizationId = owner
        }
        let updated = try #require(response.number)
        #expect(updated.region == "New region")
        #expect(updated.providerIds?.providerNumberId == pnSID)
        #expect(updated.providerIds?.vapiPhoneNumberId == "vapi-123")
        #expect(updated.capabilities == capabilities(sms: true, mms: true))
        #expect(updated.monthlyCostMicros == 2_500_000 && updated.currency == "EUR")
        #expect(updated.label == "every field")
        #expect(updated.ownerOrganizationId == owner)
        #expect(updated.version == original.version + 1, "one update, one version")

        // And back to the pool.
        let pooled = try await admin.update(original.id, mask: ["owner_organization_id"]) { $0.ownerOrganizationId = "" }
        #expect(pooled.number?.ownerOrganizationId == "")
        let cleared = try await admin.update(original.id, mask: ["monthly_cost"]) { _ in }
        #expect(cleared.number?.monthlyCostMicros == 0 && cleared.number?.currency == "")
    }

    @Test func updateRejectsUnknownAndEmptyMasks() async throws {
        let number = try await fresh()
        let unknown = await expectRPCError(.invalidArgument, field: "update_mask") {
            try await admin.update(number.id, mask: ["label", "e164"]) { $0.label = "x"; }
        }
        #expect(unknown?.message.contains("e164") == true, "\(String(describing: unknown))")
        await expectRPCError(.invalidArgument, field: "update_mask") { try await admin.update(number.id, mask: []) { $0.label = "x" } }
        await expectRPCError(.invalidArgument, field: "update_mask") { try await admin.update(number.id, mask: ["lifecycle"]) { _ in } }
        #expect(try await admin.get(id: number.id).number == number, "a refused update changes nothing")
    }

    @Test func updateValidatesValuesLikeImport() async throws {
        let number = try await fresh()
        await expectRPCError(.invalidArgument, field: "patch.label") { try await admin.update(number.id, mask: ["label"]) { $0.label = "a\u{1b}b" } }
        await expectRPCError(.invalidArgument, field: "patch.region") { try await admin.update(number.id, mask: ["region"]) { $0.region = "a\nb" } }
        await expectRPCError(.invalidArgument, field: "patch.provider") { try await admin.update(number.id, mask: ["provider"]) { $0.provider = "" } }
        await expectRPCError(.invalidArgument, field: "patch.capabilities") {
            try await admin.update(number.id, mask: ["capabilities"]) { $0.capabilities = capabilities() }
        }
        await expectRPCError(.invalidArgument, field: "patch.currency") {
            try await admin.update(number.id, mask: ["monthly_cost"]) { $0.monthlyCostMicros = 5; $0.currency = "dollars" }
        }
        await expectRPCError(.invalidArgument, field: "patch.monthly_cost_micros") {
            try await admin.update(number.id, mask: ["monthly_cost"]) { $0.monthlyCostMicros = -5; $0.currency = "USD" }
        }
        await expectRPCError(.invalidArgument, field: "patch.provider_ids.provider_number_id") {
            try await admin.update(number.id, mask: ["provider_ids"]) {
                var ids = InventoryV1.ProviderIds()
                ids.providerNumberId = "PNnothex"
                $0.providerIds = ids
            }
        }
        await expectRPCError(.invalidArgument, field: "id") { try await admin.update("nope", mask: ["label"]) { $0.label = "x" } }
        await expectRPCError(.notFound) { try await admin.update(UUID().uuidString, mask: ["label"]) { $0.label = "x" } }
        #expect(try await admin.get(id: number.id).number == number, "a refused update changes nothing")
    }

    @Test func providerCannotChangeUnderItsCredentials() async throws {
        let number = try await fresh { $0.credentials = credentials(twilioCredentials()) }
        await expectRPCError(.failedPrecondition) { try await admin.update(number.id, mask: ["provider"]) { $0.provider = "vonage" } }
        let same = try await admin.update(number.id, mask: ["provider"]) { $0.provider = "twilio" }
        #expect(same.number?.provider == "twilio")
        _ = try await admin.setCredentials(number.id, [:])
        let changed = try await admin.update(number.id, mask: ["provider"]) { $0.provider = "vonage" }
        #expect(changed.number?.provider == "vonage")
    }

    /// Changing provider and provider ids together is judged on the result,
    /// whatever order the mask names them in.
    @Test func providerAndProviderIdsChangeTogether() async throws {
        let masks = [["provider", "provider_ids"], ["provider_ids", "provider"], ["provider", "provider_ids", "label"],
                     ["label", "provider_ids", "provider", "region"], ["capabilities", "provider", "provider_ids"],
                     ["provider_ids", "monthly_cost", "provider"], ["region", "provider", "provider_ids"],
                     ["provider_ids", "label", "region", "provider"]]
        for mask in masks {
            // From twilio to vonage with an id that is not a Twilio SID.
            let number = try await fresh {
                var ids = InventoryV1.ProviderIds()
                ids.providerNumberId = "PN" + Random.hex(32)
                $0.providerIds = ids
                $0.capabilities = capabilities(voice: true)
            }
            do {
                let updated = try await admin.update(number.id, mask: mask) {
                    $0.provider = "vonage"
                    var ids = InventoryV1.ProviderIds()
                    ids.providerNumberId = "vonage-number-1"
                    $0.providerIds = ids
                    $0.label = "moved"
                    $0.region = "Somewhere"
                    $0.capabilities = capabilities(voice: true)
                }
                #expect(updated.number?.provider == "vonage" && updated.number?.providerIds?.providerNumberId == "vonage-number-1")
            } catch {
                Issue.record("mask \(mask): \(error)")
            }
        }
    }

    /// A provider change cannot leave ids behind that the new provider would refuse.
    @Test func providerChangeRechecksTheKeptProviderIds() async throws {
        let number = try await admin.create(importItem(try await Numbers.fresh(), provider: "sip") {
            var ids = InventoryV1.ProviderIds()
            ids.providerNumberId = "trunk-line-7"
            $0.providerIds = ids
        })
        #expect(number.providerIds?.providerNumberId == "trunk-line-7")
        await expectRPCError(.invalidArgument, "twilio with a provider number id that is not a PN SID") {
            try await admin.update(number.id, mask: ["provider"]) { $0.provider = "twilio" }
        }
        #expect(try await admin.get(id: number.id).number?.provider == "sip")
    }

    // MARK: Optimistic concurrency

    @Test func staleExpectedVersionIsAborted() async throws {
        let number = try await fresh()
        let first = try await admin.update(number.id, expectedVersion: 1, mask: ["label"]) { $0.label = "one" }
        #expect(first.number?.version == 2)

        let stale = await expectRPCError(.aborted, field: "expected_version") {
            try await admin.update(number.id, expectedVersion: 1, mask: ["label"]) { $0.label = "lost" }
        }
        #expect(stale?.message.contains("2") == true, "says the current version: \(String(describing: stale))")
        await expectRPCError(.aborted, field: "expected_version") {
            try await admin.update(number.id, expectedVersion: 3, mask: ["label"]) { $0.label = "future" }
        }
        #expect(try await admin.get(id: number.id).number?.label == "one")

        let current = try await admin.update(number.id, expectedVersion: 2, mask: ["label"]) { $0.label = "two" }
        #expect(current.number?.version == 3 && current.number?.label == "two")
        let unchecked = try await admin.update(number.id, expectedVersion: 0, mask: ["label"]) { $0.label = "three" }
        #expect(unchecked.number?.version == 4, "0 skips the check")

        await expectRPCError(.aborted, field: "expected_version") { try await admin.retire(number.id, expectedVersion: 2) }
        await expectRPCError(.aborted, field: "expected_version") { try await admin.setCredentials(number.id, twilioCredentials(), expectedVersion: 2) }
        let retired = try await admin.retire(number.id, expectedVersion: 4)
        await expectRPCError(.aborted, field: "expected_version") { try await admin.restore(number.id, expectedVersion: 4) }
        #expect(try await admin.restore(number.id, expectedVersion: 5).number?.version == 6)
        #expect(retired.number?.version == 5)
    }

    @Test func concurrentUpdatesWithTheSameVersionHaveOneWinner() async throws {
        let number = try await fresh()
        let server = try InventoryServer.shared
        let contenders = 6
        let outcomes = await withTaskGroup(of: (String, Result<InventoryV1.NumberResponse, RPCError>).self) { group in
            for index in 0..<contenders {
                group.addTask {
                    // One connection each, so the calls really race.
                    let api = server.api(.admin())
                    let label = "writer \(index)"
                    do {
                        return (label, .success(try await api.update(number.id, expectedVersion: 1, mask: ["label"]) { $0.label = label }))
                    } catch {
                        return (label, .failure(error as? RPCError ?? RPCError(.unknown, "\(error)")))
                    }
                }
            }
            var all: [(String, Result<InventoryV1.NumberResponse, RPCError>)] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let winners = outcomes.filter { if case .success = $0.1 { true } else { false } }
        #expect(winners.count == 1, "\(outcomes)")
        for (_, outcome) in outcomes {
            if case .failure(let error) = outcome {
                #expect(error.code == .aborted, "\(error)")
                #expect(error.fieldViolations.contains { $0.field == "expected_version" })
            }
        }
        let final = try #require(try await admin.get(id: number.id).number)
        #expect(final.version == 2)
        #expect(final.label == winners.first?.0)
    }

    // MARK: Credentials

    @Test func setAndGetCredentials() async throws {
        let number = try await fresh()
        #expect(!number.hasCredentials)
        await expectRPCError(.notFound, "no credentials yet") { try await admin.getCredentials(number.id) }

        let fields = ["account_sid": "AC" + Random.hex(32), "auth_token": "tok-" + Random.token(20), "phone_number_sid": "PN" + Random.hex(32)]
        let set = try await admin.setCredentials(number.id, fields, expectedVersion: number.version)
        #expect(set.number?.hasCredentials == true)
        #expect(set.number?.version == number.version + 1)
        #expect(set.consistencyToken > 0)

        let read = try await admin.getCredentials(number.id)
        #expect(read.numberId == number.id)
        #expect(read.provider == "twilio")
        #expect(read.credentials?.fields == fields)

        // Replace, then clear.
        let replacement = twilioCredentials()
        _ = try await admin.setCredentials(number.id, replacement)
        #expect(try await admin.getCredentials(number.id).credentials?.fields == replacement)
        let cleared = try await admin.setCredentials(number.id, [:])
        #expect(cleared.number?.hasCredentials == false)
        await expectRPCError(.notFound) { try await admin.getCredentials(number.id) }
        #expect(try await AdminDB.credentialsKeyID(number.id) == nil)
    }

    @Test func credentialsForEveryProviderKind() async throws {
        let cases: [(provider: String, fields: [String: String])] = [
            ("vonage", ["api_key": "key-" + Random.token(6), "api_secret": "sec-" + Random.token(12)]),
            ("telnyx", ["api_key": "KEY" + Random.token(20)]),
            ("plivo", ["auth_id": "MA" + Random.token(18), "auth_token": Random.token(30)]),
            ("sip", ["username": "agent", "password": Random.token(16), "host": "sip.example.com:5061"]),
            ("bandwidth", ["account_id": Random.digits(7), "api_password": Random.token(16)]),
        ]
        for (provider, fields) in cases {
            let number = try await admin.create(importItem(try await Numbers.fresh(), provider: provider) { $0.credentials = credentials(fields) })
            #expect(number.hasCredentials, "\(provider)")
            let read = try await admin.getCredentials(number.id)
            #expect(read.provider == provider)
            #expect(read.credentials?.fields == fields, "\(provider)")
        }
    }

    @Test func setCredentialsValidatesPerProvider() async throws {
        let number = try await fresh()
        let secret = "SuperSecretToken" + Random.token(10)
        let error = await expectRPCError(.invalidArgument, field: "credentials.account_sid") {
            try await admin.setCredentials(number.id, ["account_sid": "AC-" + secret, "auth_token": secret])
        }
        #expect(error.map { !"\($0)".contains(secret) } == true, "the error echoes the secret: \(String(describing: error))")
        await expectRPCError(.invalidArgument, field: "credentials.auth_token") {
            try await admin.setCredentials(number.id, ["account_sid": "AC" + Random.hex(32)])
        }
        let unknown = await expectRPCError(.invalidArgument, field: "credentials.api_secret") {
            try await admin.setCredentials(number.id, ["account_sid": "AC" + Random.hex(32), "auth_token": secret, "api_secret": secret])
        }
        #expect(unknown.map { !"\($0)".contains(secret) } == true)
        await expectRPCError(.invalidArgument, field: "number_id") { try await admin.setCredentials("", twilioCredentials()) }
        await expectRPCError(.notFound) { try await admin.setCredentials(UUID().uuidString, twilioCredentials()) }
        #expect(try await admin.get(id: number.id).number == number, "refused credentials change nothing")
    }

    // MARK: Retire, restore

    @Test func retireAndRestore() async throws {
        let number = try await fresh()
        let retired = try await admin.retire(number.id, expectedVersion: 1, reason: "ported out")
        #expect(retired.number?.lifecycle == .retired)
        #expect(retired.number?.version == 2)
        #expect(retired.consistencyToken > 0)
        #expect(try await admin.get(id: number.id).number?.lifecycle == .retired, "a retired number can still be read")

        let twice = await expectRPCError(.failedPrecondition) { try await admin.retire(number.id) }
        #expect(twice?.message.contains("retired") == true)
        #expect(try await admin.get(id: number.id).number?.version == 2, "a refused retire changes nothing")

        let restored = try await admin.restore(number.id, expectedVersion: 2)
        #expect(restored.number?.lifecycle == .active)
        #expect(restored.number?.version == 3)
        await expectRPCError(.failedPrecondition) { try await admin.restore(number.id) }

        await expectRPCError(.invalidArgument, field: "reason") { try await admin.retire(number.id, reason: "bad\u{1}reason") }
        await expectRPCError(.notFound) { try await admin.retire(UUID().uuidString) }
        await expectRPCError(.notFound) { try await admin.restore(UUID().uuidString) }
        await expectRPCError(.invalidArgument, field: "id") { try await admin.restore("x") }
    }

    @Test func retireRecordsItsReason() async throws {
        let number = try await fresh()
        _ = try await admin.retire(number.id, reason: "ported out to another carrier")
        let row = try #require(try await AdminDB.query("SELECT retired_reason FROM inventory.numbers WHERE id = $1::uuid", [number.id]).first)
        #expect(try row.decode(String?.self, column: "retired_reason") == "ported out to another carrier")
    }
}

import Auth
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// One way an import item can be wrong: the item (built around a fresh valid
/// number), the field the rejection must name and words its reason must use.
struct RejectionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var field: String
    var reasonMentions: [String]
    /// Whether the item's number is the fresh valid one (so the test can check it was not imported).
    var usesFreshNumber = true
    var make: @Sendable (_ freshNumber: String, _ secret: String) -> InventoryV1.ImportItem

    var testDescription: String { name }

    static let all: [RejectionCase] = [
        RejectionCase(name: "not a number", field: "number", reasonMentions: ["not a phone number"], usesFreshNumber: false) { _, _ in
            importItem("hello world")
        },
        RejectionCase(name: "empty number", field: "number", reasonMentions: ["not a phone number"], usesFreshNumber: false) { _, _ in
            importItem("")
        },
        RejectionCase(name: "too short", field: "number", reasonMentions: ["too short"], usesFreshNumber: false) { _, _ in
            importItem("+1 415 23")
        },
        RejectionCase(name: "invalid number (area code 555)", field: "number", reasonMentions: ["not a valid phone number"],
                      usesFreshNumber: false) { _, _ in
            importItem("+1 (555) 234-5678")
        },
        RejectionCase(name: "invalid for its region (US digits read as GB)", field: "number", reasonMentions: ["+44"],
                      usesFreshNumber: false) { fresh, _ in
            importItem(String(fresh.dropFirst(2))) { $0.regionHint = "GB" }
        },
        RejectionCase(name: "national form without a region hint", field: "number", reasonMentions: ["country code"],
                      usesFreshNumber: false) { fresh, _ in
            importItem(String(fresh.dropFirst(2)))
        },
        RejectionCase(name: "country disagreeing with the number", field: "country", reasonMentions: ["GB", "US"]) { fresh, _ in
            importItem(fresh) { $0.country = "GB" }
        },
        RejectionCase(name: "unknown region hint", field: "region_hint", reasonMentions: ["XX", "region"]) { fresh, _ in
            importItem(fresh) { $0.regionHint = "XX" }
        },
        RejectionCase(name: "region with control characters", field: "region", reasonMentions: ["control"]) { fresh, _ in
            importItem(fresh) { $0.region = "Somewhere\n" }
        },
        RejectionCase(name: "missing provider", field: "provider", reasonMentions: ["required"]) { fresh, _ in
            importItem(fresh, provider: "")
        },
        RejectionCase(name: "malformed provider", field: "provider", reasonMentions: ["lower-case"]) { fresh, _ in
            importItem(fresh, provider: "Twilio Inc")
        },
        RejectionCase(name: "bad Twilio phone number SID", field: "provider_ids.provider_number_id", reasonMentions: ["PN", "32"]) { fresh, _ in
            importItem(fresh) {
                var ids = InventoryV1.ProviderIds()
                ids.providerNumberId = "PN1234"
                $0.providerIds = ids
            }
        },
        RejectionCase(name: "trunk id with spaces", field: "provider_ids.trunk_id", reasonMentions: ["letters"]) { fresh, _ in
            importItem(fresh) {
                var ids = InventoryV1.ProviderIds()
                ids.trunkId = "TK 123"
                $0.providerIds = ids
            }
        },
        RejectionCase(name: "every capability false", field: "capabilities", reasonMentions: ["voice", "sms"]) { fresh, _ in
            importItem(fresh) { $0.capabilities = capabilities() }
        },
        RejectionCase(name: "negative monthly cost", field: "monthly_cost_micros", reasonMentions: ["between 0"]) { fresh, _ in
            importItem(fresh) { $0.monthlyCostMicros = -1; $0.currency = "USD" }
        },
        RejectionCase(name: "lower-case currency", field: "currency", reasonMentions: ["ISO 4217"]) { fresh, _ in
            importItem(fresh) { $0.monthlyCostMicros = 1_000_000; $0.currency = "usd" }
        },
        RejectionCase(name: "cost without currency", field: "currency", reasonMentions: ["ISO 4217"]) { fresh, _ in
            importItem(fresh) { $0.monthlyCostMicros = 1_000_000 }
        },
        RejectionCase(name: "label with control characters", field: "label", reasonMentions: ["control"]) { fresh, _ in
            importItem(fresh) { $0.label = "front\u{7}desk" }
        },
        RejectionCase(name: "label too long", field: "label", reasonMentions: ["longer"]) { fresh, _ in
            importItem(fresh) { $0.label = String(repeating: "x", count: 201) }
        },
        RejectionCase(name: "malformed owner organization", field: "owner_organization_id", reasonMentions: ["letters"]) { fresh, _ in
            importItem(fresh) { $0.ownerOrganizationId = "org with spaces" }
        },
        RejectionCase(name: "owner organization named like the pool filter", field: "owner_organization_id",
                      reasonMentions: ["pool"]) { fresh, _ in
            importItem(fresh) { $0.ownerOrganizationId = "pool" }
        },
        RejectionCase(name: "twilio account_sid format", field: "credentials.account_sid", reasonMentions: ["AC", "32 hexadecimal"]) { fresh, secret in
            importItem(fresh) { $0.credentials = credentials(["account_sid": "AC" + secret, "auth_token": secret]) }
        },
        RejectionCase(name: "twilio without auth_token", field: "credentials.auth_token", reasonMentions: ["required"]) { fresh, _ in
            importItem(fresh) { $0.credentials = credentials(["account_sid": "AC" + Random.hex(32)]) }
        },
        RejectionCase(name: "twilio phone_number_sid format", field: "credentials.phone_number_sid", reasonMentions: ["PN"]) { fresh, secret in
            importItem(fresh) {
                $0.credentials = credentials(["account_sid": "AC" + Random.hex(32), "auth_token": secret, "phone_number_sid": "PN" + secret])
            }
        },
        RejectionCase(name: "vonage without api_secret", field: "credentials.api_secret", reasonMentions: ["required", "vonage"]) { fresh, secret in
            importItem(fresh, provider: "vonage") { $0.credentials = credentials(["api_key": secret]) }
        },
        RejectionCase(name: "telnyx with an empty api_key", field: "credentials.api_key", reasonMentions: ["empty"]) { fresh, _ in
            importItem(fresh, provider: "telnyx") { $0.credentials = credentials(["api_key": ""]) }
        },
        RejectionCase(name: "sip without host", field: "credentials.host", reasonMentions: ["required", "sip"]) { fresh, secret in
            importItem(fresh, provider: "sip") { $0.credentials = credentials(["username": "agent", "password": secret]) }
        },
        RejectionCase(name: "sip with a malformed host", field: "credentials.host", reasonMentions: ["hostname"]) { fresh, secret in
            importItem(fresh, provider: "sip") {
                $0.credentials = credentials(["username": "agent", "password": secret, "host": "bad host/\(secret)"])
            }
        },
        RejectionCase(name: "unknown credentials field", field: "credentials.webhook_secret", reasonMentions: ["unknown field"]) { fresh, secret in
            importItem(fresh) {
                var fields = twilioCredentials(authToken: secret)
                fields["webhook_secret"] = secret
                $0.credentials = credentials(fields)
            }
        },
        RejectionCase(name: "generic provider with a malformed field name", field: "credentials", reasonMentions: ["field names"]) { fresh, secret in
            importItem(fresh, provider: "bandwidth") { $0.credentials = credentials(["Api-Token": secret]) }
        },
        RejectionCase(name: "credentials value with surrounding whitespace", field: "credentials.auth_token",
                      reasonMentions: ["whitespace"]) { fresh, secret in
            importItem(fresh) { $0.credentials = credentials(twilioCredentials(authToken: secret + "\n")) }
        },
    ]
}

/// Every reason an import item is rejected: the item's result names the field
/// and the problem, never echoes a credential, and nothing is imported.
@Suite(.inventoryProcess) struct ImportRejectionTests {
    @Test(arguments: RejectionCase.all)
    func rejects(_ rejection: RejectionCase) async throws {
        let admin = try InventoryServer.shared.api(.admin())
        let fresh = try await Numbers.fresh(prefix: "+1415")
        let secret = "SuperSecret" + Random.token(12)
        let item = rejection.make(fresh, secret)

        let response = try await admin.importNumbers([item])
        let result = try #require(response.results.first)
        #expect(result.outcome == .rejected, "\(result)")
        #expect(result.index == 0)
        #expect(result.field == rejection.field, "reason: \(result.reason)")
        for word in rejection.reasonMentions {
            #expect(result.reason.localizedCaseInsensitiveContains(word), "reason should mention '\(word)': \(result.reason)")
        }
        #expect(result.numberId.isEmpty)
        #expect(!result.reason.contains(secret), "the reason echoes a credential: \(result.reason)")
        #expect(!response.serializedBytes().containsSubsequence(Array(secret.utf8)), "the response carries a credential")
        #expect(response.created == 0 && response.alreadyPresent == 0 && response.rejected == 1)

        if rejection.usesFreshNumber {
            #expect(result.e164 == fresh || result.e164.isEmpty)
            await expectRPCError(.notFound, "a rejected item must not be imported") { try await admin.get(number: fresh) }
        }
    }

    /// An organisation may only import numbers it owns itself.
    @Test func organisationImportingForAnotherOrganisation() async throws {
        let (orgA, orgB) = (Random.organization(), Random.organization())
        let owner = try InventoryServer.shared.api(.owner(orgA))
        let admin = try InventoryServer.shared.api(.admin())
        let number = try await Numbers.fresh()
        do {
            let response = try await owner.importNumbers([importItem(number) { $0.ownerOrganizationId = orgB }])
            // Accepted alternative to a failed call: the item is rejected, naming the owner field.
            let result = try #require(response.results.first)
            #expect(result.outcome == .rejected)
            #expect(result.field == "owner_organization_id", "\(result)")
        } catch let error as RPCError {
            #expect(error.code == .permissionDenied, "\(error)")
        }
        await expectRPCError(.notFound) { try await admin.get(number: number) }
    }
}

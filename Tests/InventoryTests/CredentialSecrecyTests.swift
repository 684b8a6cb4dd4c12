import Auth
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// A credential's clear text is nowhere but in the answer to GetCredentials:
/// not in the inventory tables, the outbox, stored idempotent answers, the
/// service log (at debug level), other answers or error messages.
@Suite(InventoryProcessTrait(environment: ["PHONE_LOG_LEVEL": "debug"]))
struct CredentialSecrecyTests {
    @Test func secretsAreNeverStoredOrShownInClear() async throws {
        let server = try InventoryServer.shared
        let admin = server.api(.admin())
        let service = server.api(.service(["inventory:read"]))
        let organization = Random.organization()
        let secrets = (0..<6).map { "SuperSecretToken\($0)x" + Random.token(16) }
        let numbers = try await Numbers.fresh(3)

        // Through import (with an idempotency key, so the answer is stored) ...
        let imported = try await admin.importNumbers([importItem(numbers[0]) {
            $0.ownerOrganizationId = organization
            $0.credentials = credentials(twilioCredentials(authToken: secrets[0]))
        }], key: Random.key())
        let first = try #require(imported.results.first?.numberId)
        // ... through SetCredentials (keyed too) on twilio and sip numbers ...
        let second = try await admin.create(importItem(numbers[1], provider: "sip") { $0.ownerOrganizationId = organization })
        _ = try await admin.setCredentials(second.id, ["username": "agent", "password": secrets[1], "host": "sip.example.com"],
                                           key: Random.key())
        _ = try await admin.setCredentials(first, twilioCredentials(authToken: secrets[2]), key: Random.key())
        // ... an org owner's import ...
        _ = try await server.api(.owner(organization)).importNumbers([importItem(numbers[2], provider: "vonage") {
            $0.credentials = credentials(["api_key": "key-" + Random.token(6), "api_secret": secrets[3]])
        }], key: Random.key())
        // ... and refused attempts, whose errors must not echo the value.
        let refused = await expectRPCError(.invalidArgument, field: "credentials.account_sid") {
            try await admin.setCredentials(first, ["account_sid": secrets[4], "auth_token": secrets[4]], key: Random.key())
        }
        #expect(refused.map { !"\($0)".contains(secrets[4]) } == true, "\(String(describing: refused))")
        let badImport = try await admin.importNumbers([importItem(try await Numbers.fresh()) {
            $0.credentials = credentials(["account_sid": "AC" + Random.hex(32), "auth_token": secrets[5], "extra": secrets[5]])
        }])
        #expect(badImport.results.first?.outcome == .rejected)
        #expect(!(badImport.results.first?.reason.contains(secrets[5]) ?? true))

        // Reading them back is the one place they appear.
        #expect(try await admin.getCredentials(first).credentials?.fields["auth_token"] == secrets[2])
        #expect(try await admin.getCredentials(second.id).credentials?.fields["password"] == secrets[1])
        let stored = [secrets[0], secrets[1], secrets[2], secrets[3]]

        // Answers that describe numbers.
        var request = InventoryV1.ListNumbersRequest()
        request.ownerOrganizationId = organization
        let listings = [try await admin.list(request).serializedBytes(), try await service.list(request).serializedBytes(),
                        try await admin.get(id: first).serializedBytes(), try await service.get(id: second.id).serializedBytes()]
        #expect(try await admin.list(request).numbers.count == 3)
        for secret in secrets {
            for bytes in listings { #expect(!bytes.containsSubsequence(Array(secret.utf8)), "an answer carries \(secret)") }
        }

        for secret in secrets {
            let hex = Array(secret.utf8).map { String(format: "%02x", $0) }.joined()
            for table in ["numbers", "outbox", "idempotency_keys", "outbox_head"] {
                let rows = try await AdminDB.query(
                    "SELECT count(*)::int8 AS n FROM inventory.\(table) t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0",
                    [secret, hex])
                #expect(try rows.first?.decode(Int64.self, column: "n") == 0, "inventory.\(table) holds \(secret) in clear")
            }
            let payloads = try await AdminDB.query(
                "SELECT count(*)::int8 AS n FROM inventory.outbox WHERE position(convert_to($1, 'UTF8') IN payload) > 0", [secret])
            #expect(try payloads.first?.decode(Int64.self, column: "n") == 0, "an outbox payload holds \(secret)")
            let answers = try await AdminDB.query(
                "SELECT count(*)::int8 AS n FROM inventory.idempotency_keys WHERE position(convert_to($1, 'UTF8') IN response) > 0", [secret])
            #expect(try answers.first?.decode(Int64.self, column: "n") == 0, "a stored answer holds \(secret)")
        }
        // Every other column of every table in the schema, whatever its type.
        let tables = try await AdminDB.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'inventory' AND table_type = 'BASE TABLE'"
        ).map { try $0.decode(String.self, column: "table_name") }
        #expect(tables.contains("numbers") && tables.contains("outbox") && tables.contains("idempotency_keys"))
        for table in tables {
            for secret in stored {
                let rows = try await AdminDB.query(
                    "SELECT count(*)::int8 AS n FROM inventory.\"\(table)\" t WHERE strpos(t::text, $1) > 0", [secret])
                #expect(try rows.first?.decode(Int64.self, column: "n") == 0, "inventory.\(table) holds a secret")
            }
        }

        // The stored ciphertext is really there (so the search above searched something).
        #expect(try await AdminDB.credentialsKeyID(first) == "k2")

        // The log, at debug level, after all of the above (GetCredentials included).
        let log = server.process.log
        #expect(log.contains("credentials read"), "the audit line for GetCredentials is in the log")
        #expect(!log.isEmpty)
        for secret in secrets { #expect(!log.contains(secret), "the service log holds \(secret)") }
    }
}

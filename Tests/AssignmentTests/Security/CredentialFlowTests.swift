import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Store
import Testing
import TestSupport

extension AssignmentTests {
    /// Credentials set through inventory reach lookup sealed, and their clear
    /// text appears only in answers to callers holding credentials:read: in
    /// no table of any service's schema, no service's log, and no other answer.
    @Suite struct CredentialFlowTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        @Test func clearTextOnlyInAllowedAnswers() async throws {
            let services = try await ThreeServices.start(fixtures.stack, lookupEnvironment: ["PHONE_LOG_LEVEL": "debug"])
            defer { Task { await services.stop() } }
            let secrets = (0..<2).map { "FlowSecret\($0)x" + Random.token(20) }
            let accountSID = "AC" + String(repeating: "7", count: 32)

            // Imported with credentials, then given new ones (keyed, so the answer is stored).
            let (_, numbers) = try await fixtures.pool(1) { _, item in
                item.credentials = .with { $0.fields = ["account_sid": accountSID, "auth_token": secrets[0]] }
            }
            let number = numbers[0]
            var setRequest = InventoryV1.SetCredentialsRequest()
            setRequest.numberId = number.numberId
            setRequest.credentials = .with { $0.fields = ["account_sid": accountSID, "auth_token": secrets[1]] }
            let set = try await fixtures.inventory.client.unary(
                InventoryAPI.prefix + "SetCredentials", setRequest, as: InventoryV1.NumberResponse.self,
                metadata: [MetadataKey.idempotencyKey: Random.key()])
            let organization = try await fixtures.organization()
            let agent = try await fixtures.agent(of: organization)
            _ = try await fixtures.admin.allocate(ids: [number.numberId], organization: organization)
            let connected = try await fixtures.admin.connect(number.numberId, agent: agent.id)
            let token = after(assignment: connected.consistencyToken, inventory: set.consistencyToken)

            // The one allowed answer: lookup, for a caller with credentials:read.
            let reader = services.lookup.api(.callHandler(credentials: true))
            let opened = try await reader.resolve(number.e164, credentials: true, after: token)
            #expect(opened.credentials == ["account_sid": accountSID, "auth_token": secrets[1]])
            #expect(opened.organization?.id == organization)

            // Everything else, as callers without credentials:read.
            var answers: [(String, [UInt8])] = []
            let callHandler = services.lookup.api(.callHandler())
            let owner = services.lookup.api(.owner(organization))
            for (name, api) in [("call handler", callHandler), ("org owner", owner)] {
                await expectRPCError(.permissionDenied, "\(name) asking for credentials") {
                    try await api.resolve(number.e164, credentials: true, after: token)
                }
                let route = try await api.resolve(number.e164, after: token)
                #expect(route.hasCredentials && route.credentials.isEmpty, "\(name): \(route)")
                answers.append(("lookup Resolve as \(name)", route.serializedBytes()))
                answers.append(("lookup ListByOrganization as \(name)", try await api.call(
                    "ListByOrganization", LookupV1.ListByOrganizationRequest.with { $0.organizationId = organization },
                    as: LookupV1.ListRoutesResponse.self).serializedBytes()))
                answers.append(("lookup BatchResolve as \(name)", try await api.call(
                    "BatchResolve", LookupV1.BatchResolveRequest.with { $0.numbers = [number.e164] },
                    as: LookupV1.BatchResolveResponse.self).serializedBytes()))
            }
            let inventoryReader = services.client(.inventory, Caller.service(["inventory:read"]).principal)
            defer { inventoryReader.close() }
            answers.append(("inventory GetNumber", try await inventoryReader.unary(
                InventoryAPI.prefix + "GetNumber", InventoryV1.GetNumberRequest.with { $0.key = .id(number.numberId) },
                as: InventoryV1.NumberResponse.self).serializedBytes()))
            answers.append(("inventory ListNumbers", try await inventoryReader.unary(
                InventoryAPI.prefix + "ListNumbers", InventoryV1.ListNumbersRequest.with { $0.query = number.e164 },
                as: InventoryV1.ListNumbersResponse.self).serializedBytes()))
            await expectRPCError(.permissionDenied) {
                try await inventoryReader.unary(InventoryAPI.prefix + "GetCredentials",
                                                InventoryV1.GetCredentialsRequest.with { $0.numberId = number.numberId },
                                                as: InventoryV1.GetCredentialsResponse.self)
            }
            answers.append(("assignment ListOrganizationNumbers", try await fixtures.admin.listNumbers(organization).serializedBytes()))
            answers.append(("assignment GetHistory", try await fixtures.admin.history(number: number.numberId).serializedBytes()))
            for (name, bytes) in answers {
                for secret in secrets { #expect(!bytes.containsSubsequence(Array(secret.utf8)), "\(name) carries a secret") }
            }

            // Every table of every schema, bytea shown both as hex and as escaped text.
            let scanned = try await TestPostgres.withAdmin(maxConnections: 1) { database in
                let tables = try await database.query("""
                    SELECT table_schema || '.' || quote_ident(table_name) AS name FROM information_schema.tables
                     WHERE table_schema IN ('inventory', 'assignment', 'lookup') AND table_type = 'BASE TABLE'
                    """).map { try $0.decode(String.self, column: "name") }
                for output in ["hex", "escape"] {
                    _ = try await database.execute("SET bytea_output = '\(output)'")
                    for table in tables {
                        for secret in secrets {
                            let hex = Array(secret.utf8).map { String(format: "%02x", $0) }.joined()
                            let rows = try await database.query(
                                "SELECT count(*)::int8 AS n FROM \(table) t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0",
                                [secret, hex])
                            #expect(try rows[0].decode(Int64.self, column: "n") == 0, "\(table) holds a secret (bytea as \(output))")
                        }
                    }
                }
                _ = try await database.execute("RESET bytea_output")
                return tables
            }
            for schema in ["inventory", "assignment", "lookup"] {
                #expect(scanned.contains { $0.hasPrefix(schema + ".") }, "no table of \(schema) was scanned: \(scanned)")
            }
            // The sealed form did reach lookup's schema, so the scan had something to find.
            let sealed = try await TestPostgres.withAdmin(maxConnections: 1) { database in
                try await database.query("SELECT credentials_ciphertext IS NOT NULL AS sealed FROM lookup.numbers WHERE e164 = $1",
                                         [number.e164]).first?.decode(Bool.self, column: "sealed")
            }
            #expect(sealed == true)

            // Every service's log.
            for service in ThreeServices.Service.allCases {
                let log = services.process(service).log
                #expect(!log.isEmpty, "\(service) wrote no log")
                for secret in secrets { #expect(!log.contains(secret), "\(service)'s log holds a secret") }
            }
            print("credential scan: \(scanned.count) tables × 2 bytea forms, \(answers.count) answers, 3 logs")
        }
    }
}

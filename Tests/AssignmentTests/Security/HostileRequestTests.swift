import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Store
import Testing
import TestSupport

extension AssignmentTests {
    /// Hostile values in every string field of every request of every service
    /// (found by reading the .proto files, so new fields are covered without
    /// editing this test), malformed numbers, zones, schedules, page tokens and
    /// ids, oversized frames and too many connections. Each gets a clear
    /// refusal, nothing changes, and every service goes on answering.
    ///
    /// Runs against its own Postgres cluster, so "nothing changed" can be
    /// checked over whole schemas.
    @Suite(.serialized) struct HostileRequestTests {
        enum Category: String, CaseIterable {
            case invalidUTF8, nul, megabyte, sql

            var value: [UInt8] {
                switch self {
                case .invalidUTF8: [0x61, 0xC3, 0x28, 0xFF, 0xFE, 0x62]
                case .nul: Array("ab\u{0}cd".utf8)
                case .megabyte: Array(repeating: UInt8(ascii: "7"), count: 1_000_000)
                case .sql: Array("x'); DROP TABLE inventory.numbers; DROP TABLE assignment.assignments; --".utf8)
                }
            }
        }

        /// What a raw call came to.
        enum Answer: CustomStringConvertible {
            case response(RpcV1.Response)
            /// A server stream started (and was cancelled).
            case streaming
            case closed

            var description: String {
                switch self {
                case .response(let response) where response.status == nil || response.status?.code == .ok:
                    if let results = try? InventoryV1.ImportNumbersResponse(serializedBytes: response.payload).results, !results.isEmpty {
                        "OK: \(results.map { "\($0.outcome) \($0.field) \($0.reason.prefix(200))" })"
                    } else {
                        "OK (\(response.payload.count) bytes)"
                    }
                case .response(let response):
                    response.status.map { "\($0.code) \($0.message.prefix(300)) \($0.fieldViolations.map(\.field))" } ?? ""
                case .streaming: "a stream started"
                case .closed: "the connection closed without an answer"
                }
            }

            var code: RpcV1.Code? {
                if case .response(let response) = self { return response.status?.code ?? .ok }
                return nil
            }

            /// Whether the refusal names `field`, in a violation or its message.
            func names(_ field: String) -> Bool {
                guard case .response(let response) = self, let status = response.status else { return false }
                return status.fieldViolations.contains { $0.field.contains(field) } || status.message.contains(field)
            }
        }

        /// One connection per service, calling as a platform admin.
        final class Peers: @unchecked Sendable {
            let services: ThreeServices
            let token: String
            private var peers: [ThreeServices.Service: RawPeer] = [:]
            private var callID: UInt64 = 0

            init(_ services: ThreeServices) {
                self.services = services
                token = services.stack.signer.token(for: Principal(subject: "hostile", role: .platformAdmin, expiresAt: .distantFuture))
            }

            func call(_ service: ThreeServices.Service, _ method: String, _ payload: [UInt8]) async throws -> Answer {
                let peer = try peers[service] ?? RawPeer(port: services.process(service).port)
                peers[service] = peer
                callID += 1
                let id = callID
                peer.sendFrame(requestFrame(callID: id, method: method, payload: payload, token: token, timeoutMicros: 20_000_000))
                while let frame = await peer.readFrame() {
                    guard frame.callId == id else { continue }
                    switch frame.kind {
                    case .response(let response)?: return .response(response)
                    case .streamMessage?:
                        var cancel = RpcV1.Frame()
                        cancel.callId = id
                        cancel.kind = .cancel(RpcV1.Cancel())
                        peer.sendFrame(cancel.serializedBytes())
                        return .streaming
                    default: continue
                    }
                }
                peers[service] = nil
                return .closed
            }
        }

        // MARK: Requests

        /// A valid request of every method, as bytes, about `world`'s organisation A.
        static func templates(_ world: (a: OrganizationData, pool: Block)) -> [String: (ThreeServices.Service, [UInt8])] {
            let a = world.a
            let inventory = InventoryAPI.prefix, assignment = AssignmentAPI.prefix, lookup = LookupAPI.prefix
            let schedule = AssignmentV1.Schedule.with {
                $0.numberId = a.connected.numberId
                $0.timeZone = "Europe/Paris"
                $0.rules = [.with {
                    $0.days = [.monday]
                    $0.start = "09:00"
                    $0.end = "17:00"
                    $0.target = .with { $0.target = .agentId(a.agent.id) }
                }]
                $0.overrides = [.with {
                    $0.date = "2030-12-25"
                    $0.start = "10:00"
                    $0.end = "12:00"
                    $0.target = .with { $0.target = .fallback(true) }
                }]
                $0.defaultAgentId = a.agent.id
                $0.fallbackDestination = "+14155550100"
            }
            let filter = AssignmentV1.NumberFilter.with {
                $0.country = "US"
                $0.region = "CA"
                $0.capability = "voice"
                $0.numberType = "fixed_line_or_mobile"
                $0.prefix = world.pool.digits
                $0.contains = "1"
            }
            let page = PageTokenSample.valid
            var templates: [String: (ThreeServices.Service, [UInt8])] = [:]
            func add(_ service: ThreeServices.Service, _ method: String, _ message: some ProtoMessage) {
                templates[method] = (service, message.serializedBytes())
            }
            for service in ThreeServices.Service.allCases {
                templates[service.rawValue + " " + StandardMethod.healthCheck] = (service, RpcV1.HealthCheckRequest.with { $0.service = "x" }.serializedBytes())
                templates[service.rawValue + " " + StandardMethod.listMethods] = (service, RpcV1.ListMethodsRequest().serializedBytes())
            }
            for service in [ThreeServices.Service.inventory, .assignment] {
                templates[service.rawValue + " phonenumbers.events.v1.Events/Subscribe"] =
                    (service, EventsV1.SubscribeRequest.with { $0.types = ["inventory.number.updated"] }.serializedBytes())
            }
            add(.inventory, inventory + "ImportNumbers", InventoryV1.ImportNumbersRequest.with {
                $0.items = [.with {
                    $0.number = world.pool.number(999)
                    $0.regionHint = "US"
                    $0.country = "US"
                    $0.region = "San Francisco, CA"
                    $0.provider = "twilio"
                    $0.providerIds = .with { $0.providerNumberId = "PN" + String(repeating: "a", count: 32); $0.trunkId = "TK1"; $0.vapiPhoneNumberId = "v1" }
                    $0.currency = "USD"
                    $0.monthlyCostMicros = 1
                    $0.label = "hostile"
                    $0.credentials = .with { $0.fields = ["account_sid": "AC" + String(repeating: "0", count: 32), "auth_token": "t"] }
                    $0.ownerOrganizationId = a.id
                }]
            })
            add(.inventory, inventory + "GetNumber", InventoryV1.GetNumberRequest.with { $0.key = .id(a.owned.numberId); $0.regionHint = "US" })
            add(.inventory, inventory + "ListNumbers", InventoryV1.ListNumbersRequest.with {
                $0.country = "US"; $0.region = "CA"; $0.provider = "twilio"; $0.ownerOrganizationId = a.id; $0.query = "415"; $0.pageToken = page
            })
            add(.inventory, inventory + "UpdateNumber", InventoryV1.UpdateNumberRequest.with {
                $0.id = a.owned.numberId
                $0.patch = .with {
                    $0.region = "CA"; $0.provider = "twilio"; $0.currency = "USD"; $0.label = a.ownedLabel; $0.ownerOrganizationId = a.id
                    $0.providerIds = .with { $0.providerNumberId = "PN" + String(repeating: "a", count: 32); $0.trunkId = "TK1"; $0.vapiPhoneNumberId = "v1" }
                }
                $0.updateMask = ["label"]
            })
            add(.inventory, inventory + "SetCredentials", InventoryV1.SetCredentialsRequest.with {
                $0.numberId = a.owned.numberId
                $0.credentials = .with { $0.fields = ["account_sid": "AC" + String(repeating: "0", count: 32), "auth_token": "t"] }
            })
            add(.inventory, inventory + "GetCredentials", InventoryV1.GetCredentialsRequest.with { $0.numberId = a.owned.numberId })
            add(.inventory, inventory + "RetireNumber", InventoryV1.RetireNumberRequest.with { $0.id = a.owned.numberId; $0.reason = "r" })
            add(.inventory, inventory + "RestoreNumber", InventoryV1.RestoreNumberRequest.with { $0.id = a.owned.numberId })
            add(.inventory, inventory + "RotateCredentialKeys", InventoryV1.RotateCredentialKeysRequest())

            add(.assignment, assignment + "UpsertOrganization", AssignmentV1.UpsertOrganizationRequest.with {
                $0.organization = .with {
                    $0.id = a.id; $0.slug = a.id; $0.externalId = "ext-" + a.id; $0.name = "Test organisation " + a.id
                    $0.timeZone = "America/Los_Angeles"; $0.numbersPerAgent = .many
                }
            })
            add(.assignment, assignment + "DeleteOrganization", AssignmentV1.DeleteOrganizationRequest.with { $0.id = "org-absent" })
            add(.assignment, assignment + "UpsertAgent", AssignmentV1.UpsertAgentRequest.with { $0.agent = a.agent })
            add(.assignment, assignment + "DeleteAgent", AssignmentV1.DeleteAgentRequest.with { $0.id = "agent-absent" })
            add(.assignment, assignment + "ListAgents", AssignmentV1.ListAgentsRequest.with { $0.organizationId = a.id })
            add(.assignment, assignment + "SearchAvailable", AssignmentV1.SearchAvailableRequest.with { $0.filter = filter; $0.pageToken = page })
            let reserve = AssignmentV1.ReserveRequest.with {
                $0.organizationId = a.id
                $0.selection = .matching(.with { $0.filter = filter; $0.count = 1 })
            }
            add(.assignment, assignment + "Reserve", reserve)
            add(.assignment, assignment + "Allocate", reserve)
            add(.assignment, assignment + "ConfirmHold", AssignmentV1.ConfirmHoldRequest.with { $0.holdId = UUID().uuidString })
            add(.assignment, assignment + "CancelHold", AssignmentV1.CancelHoldRequest.with { $0.holdId = UUID().uuidString })
            add(.assignment, assignment + "Release", AssignmentV1.ReleaseRequest.with { $0.numberId = a.connected.numberId })
            add(.assignment, assignment + "ConnectAgent", AssignmentV1.ConnectAgentRequest.with {
                $0.numberId = a.connected.numberId; $0.agentId = a.agent.id
            })
            add(.assignment, assignment + "DisconnectAgent", AssignmentV1.DisconnectAgentRequest.with { $0.numberId = UUID().uuidString })
            add(.assignment, assignment + "SetSchedule", AssignmentV1.SetScheduleRequest.with { $0.schedule = schedule })
            add(.assignment, assignment + "GetSchedule", AssignmentV1.GetScheduleRequest.with { $0.numberId = a.connected.numberId })
            add(.assignment, assignment + "DeleteSchedule", AssignmentV1.DeleteScheduleRequest.with { $0.numberId = UUID().uuidString })
            add(.assignment, assignment + "ListOrganizationNumbers", AssignmentV1.ListOrganizationNumbersRequest.with {
                $0.organizationId = a.id; $0.pageToken = page
            })
            add(.assignment, assignment + "GetSummary", AssignmentV1.GetSummaryRequest.with { $0.organizationId = a.id })
            add(.assignment, assignment + "GetHistory", AssignmentV1.GetHistoryRequest.with { $0.numberId = a.connected.numberId; $0.pageToken = page })

            add(.lookup, lookup + "Resolve", LookupV1.ResolveRequest.with { $0.number = a.connected.e164; $0.regionHint = "US" })
            add(.lookup, lookup + "BatchResolve", LookupV1.BatchResolveRequest.with { $0.numbers = [a.connected.e164]; $0.regionHint = "US" })
            add(.lookup, lookup + "IsAssigned", LookupV1.IsAssignedRequest.with { $0.number = a.connected.e164; $0.regionHint = "US" })
            add(.lookup, lookup + "ResolveTenant", LookupV1.ResolveTenantRequest.with { $0.key = .tenantId(a.id); $0.regionHint = "US" })
            add(.lookup, lookup + "ListByAgent", LookupV1.ListByAgentRequest.with { $0.agentId = a.agent.id; $0.pageToken = page })
            add(.lookup, lookup + "ListByOrganization", LookupV1.ListByOrganizationRequest.with { $0.organizationId = a.id; $0.pageToken = page })
            add(.lookup, lookup + "GetStatus", LookupV1.GetStatusRequest())
            return templates
        }

        /// UpdateNumber applies only the patch fields its mask names: name the one under test.
        static func masking(_ path: ProtoSchema.StringPath, in method: String, _ template: [UInt8]) throws -> [UInt8] {
            guard method.hasSuffix("/UpdateNumber"), path.steps.count > 1, path.steps[0].name == "patch" else { return template }
            var request = try InventoryV1.UpdateNumberRequest(serializedBytes: template)
            request.updateMask = [path.steps[1].name == "currency" ? "monthly_cost" : path.steps[1].name]
            return request.serializedBytes()
        }

        enum PageTokenSample {
            /// Well-formed but past every row: an empty last page.
            static let valid = Data("v1:~".utf8).base64EncodedString()
        }

        /// A refusal inside an OK answer: per-item results of imports and batches.
        static func itemRefusal(_ method: String, _ answer: Answer) -> String? {
            guard case .response(let response) = answer, response.status == nil || response.status?.code == .ok else { return nil }
            if method.hasSuffix("/ImportNumbers"), let result = try? InventoryV1.ImportNumbersResponse(serializedBytes: response.payload).results.first,
               result.outcome == .rejected {
                return result.field + " " + result.reason
            }
            if method.hasSuffix("/BatchResolve"), let result = try? LookupV1.BatchResolveResponse(serializedBytes: response.payload).results.first,
               case .error(let error)? = result.outcome, error.code == UInt32(RPCError.Code.invalidArgument.rawValue) {
                return error.message
            }
            return nil
        }

        // MARK: The tests

        /// Every row of the three schemas, summed up.
        static func digest(_ database: Database) async throws -> [String: String] {
            let tables = try await database.query("""
                SELECT table_schema || '.' || quote_ident(table_name) AS name FROM information_schema.tables
                 WHERE table_schema IN ('inventory', 'assignment', 'lookup') AND table_type = 'BASE TABLE'
                """).map { try $0.decode(String.self, column: "name") }
            var digest: [String: String] = [:]
            for table in tables {
                digest[table] = try await database.query(
                    "SELECT count(*)::text || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS d FROM \(table) t"
                ).first?.decode(String.self, column: "d")
            }
            return digest
        }

        /// `digest` once the setup's own writes are done: lookup may still be
        /// applying its last events (and storing its stream positions) when
        /// the setup's check sees the route it waited for.
        static func settledDigest(_ database: Database) async throws -> [String: String] {
            var last = try await digest(database)
            for _ in 0..<50 {
                try await Task.sleep(for: .milliseconds(200))
                let next = try await digest(database)
                if next == last { return next }
                last = next
            }
            return last
        }

        /// Starts inventory, assignment and lookup on a private cluster, with A's data.
        static func withPrivateSystem(_ body: (ThreeServices, Fixtures, OrganizationData, Block, PrivatePostgres) async throws -> Void) async throws {
            try await PrivatePostgres.with { postgres in
                let environment = ["PG_PORT": String(postgres.port), "PG_HOST": "127.0.0.1"]
                let stack = try await AssignmentStack.start(environment: environment)
                do {
                    let services = try await ThreeServices.start(stack, lookupEnvironment: environment)
                    let fixtures = Fixtures(stack: stack)
                    let (pool, _) = try await fixtures.pool(4)
                    let a = try await fixtures.organizationData(holdFrom: pool)
                    _ = try #require(try await eventually {
                        (try? await services.lookup.api(.callHandler()).resolve(a.connected.e164))?.agent?.id == a.agent.id
                    }, "lookup did not catch up")
                    try await body(services, fixtures, a, pool, postgres)
                    await services.stop()
                } catch {
                    await stack.stop()
                    throw error
                }
                await stack.stop()
            }
        }

        @Test func hostileValuesInEveryStringFieldOfEveryRequest() async throws {
            let schema = try ProtoSchema.load()
            try await Self.withPrivateSystem { services, _, a, pool, postgres in
                let templates = Self.templates((a, pool))
                let peers = Peers(services)

                // Every method listed has a template, and a request type in the .proto files.
                var methods: [(service: ThreeServices.Service, method: String, key: String)] = []
                for service in ThreeServices.Service.allCases {
                    for method in try await services.listedMethods(service) {
                        let key = templates[method.name] != nil ? method.name : service.rawValue + " " + method.name
                        #expect(templates[key] != nil, "\(service) \(method.name) has no template request")
                        #expect(schema.requests[method.name] != nil, "no request type for \(method.name) in the .proto files")
                        methods.append((service, method.name, key))
                    }
                }

                let admin = Database(configuration: postgres.adminConfiguration(maxConnections: 1), logger: TestPostgres.logger)
                defer { Task { await admin.close() } }
                let before = try await Self.settledDigest(admin)
                var tried = 0
                var fields: Set<String> = []
                for category in Category.allCases {
                    if category == .sql {
                        let after = try await Self.digest(admin)
                        #expect(after == before, "refused requests changed: \(after.filter { before[$0.key] != $0.value }.keys.sorted())")
                    }
                    for (service, method, key) in methods {
                        guard let (_, template) = templates[key], let request = schema.requests[method] else { continue }
                        for path in schema.stringPaths(of: request) {
                            fields.insert(request + "." + path.description)
                            tried += 1
                            let payload = try Wire.setting(path, to: category.value, in: Self.masking(path, in: method, template))
                            let answer = try await peers.call(service, method, payload)
                            let cell = "\(method) \(path) = \(category)"
                            switch category {
                            case .invalidUTF8, .nul:
                                #expect(answer.code == .invalidArgument && path.names.contains(where: answer.names), "\(cell): \(answer)")
                            case .megabyte:
                                let refused = (answer.code == .invalidArgument && path.names.contains(where: answer.names))
                                    || answer.code == .resourceExhausted
                                    || path.names.contains { Self.itemRefusal(method, answer)?.contains($0) == true }
                                #expect(refused, "\(cell): \(answer)")
                            case .sql:
                                #expect(![.internal, .unknown, .unavailable, .deadlineExceeded, .dataLoss].contains(answer.code ?? .ok)
                                        && !answer.description.contains("closed"), "\(cell): \(answer)")
                            }
                        }
                    }
                }
                // Nothing was dropped, and every service still answers.
                let after = try await Self.digest(admin)
                #expect(Set(after.keys) == Set(before.keys), "tables changed: \(Set(before.keys).symmetricDifference(after.keys))")
                for service in ThreeServices.Service.allCases {
                    let health = try await peers.call(service, StandardMethod.healthCheck, [])
                    #expect(health.code == .ok, "\(service) after hostile input: \(health)")
                }
                print("hostile input: \(fields.count) string fields of \(methods.count) methods × \(Category.allCases.count) values = \(tried) requests")
            }
        }

        /// Malformed values of particular meaning, each with the field its refusal must name.
        static func malformed(_ a: OrganizationData) -> [(ThreeServices.Service, String, [UInt8], String)] {
            let inventory = InventoryAPI.prefix, assignment = AssignmentAPI.prefix, lookup = LookupAPI.prefix
            var cases: [(ThreeServices.Service, String, [UInt8], String)] = []
            func add(_ service: ThreeServices.Service, _ method: String, _ field: String, _ message: some ProtoMessage) {
                cases.append((service, method, message.serializedBytes(), field))
            }
            // Numbers.
            for number in ["+1", "abc", "+99999999999999999999", "tel:", "12345", "+1 (415) 555-012345678", "sip:@", String(repeating: "9", count: 5_000)] {
                add(.inventory, inventory + "GetNumber", "number", InventoryV1.GetNumberRequest.with { $0.key = .number(number) })
                add(.inventory, inventory + "ImportNumbers", "number", InventoryV1.ImportNumbersRequest.with {
                    $0.items = [.with { $0.number = number; $0.provider = "twilio" }]
                })
                add(.lookup, lookup + "Resolve", "number", LookupV1.ResolveRequest.with { $0.number = number })
                add(.lookup, lookup + "IsAssigned", "number", LookupV1.IsAssignedRequest.with { $0.number = number })
            }
            add(.lookup, lookup + "Resolve", "region_hint", LookupV1.ResolveRequest.with { $0.number = "(415) 555-0100"; $0.regionHint = "ZZZ" })
            add(.lookup, lookup + "Resolve", "at_time_micros", LookupV1.ResolveRequest.with { $0.number = a.connected.e164; $0.atTimeMicros = -1 })
            add(.lookup, lookup + "BatchResolve", "numbers", LookupV1.BatchResolveRequest.with { $0.numbers = Array(repeating: a.connected.e164, count: 1_001) })
            // Time zones.
            for zone in ["Mars/Olympus", "../../etc/passwd", "UTC+25", "", String(repeating: "Europe/", count: 200)] {
                add(.assignment, assignment + "UpsertOrganization", "time_zone", AssignmentV1.UpsertOrganizationRequest.with {
                    $0.organization = .with { $0.id = a.id; $0.slug = a.id; $0.name = "n"; $0.timeZone = zone; $0.numbersPerAgent = .many }
                })
            }
            add(.assignment, assignment + "UpsertOrganization", "numbers_per_agent", AssignmentV1.UpsertOrganizationRequest.with {
                $0.organization = .with { $0.id = a.id; $0.slug = a.id; $0.name = "n"; $0.timeZone = "UTC"; $0.numbersPerAgent = .unrecognized(7) }
            })
            // Schedules.
            func schedule(_ edit: (inout AssignmentV1.Schedule) -> Void) -> AssignmentV1.SetScheduleRequest {
                var schedule = IsolationMatrixTests.schedule(a.connected.numberId, agent: a.agent.id)
                edit(&schedule)
                return .with { $0.schedule = schedule }
            }
            add(.assignment, assignment + "SetSchedule", "time_zone", schedule { $0.timeZone = "Nowhere/Land" })
            for start in ["25:00", "9:00", "12:60", "24:00", "aa:bb", "-1:00", "09:00:00", "０９:００"] {
                add(.assignment, assignment + "SetSchedule", "start", schedule { $0.rules[0].start = start })
            }
            add(.assignment, assignment + "SetSchedule", "end", schedule { $0.rules[0].end = "24:01" })
            for days in [[AssignmentV1.Weekday.unrecognized(99)], [.unrecognized(-1)], [.unspecified], []] {
                add(.assignment, assignment + "SetSchedule", "days", schedule { $0.rules[0].days = days })
            }
            add(.assignment, assignment + "SetSchedule", "rules", schedule { $0.rules = Array(repeating: $0.rules[0], count: 10_000) })
            for date in ["2026-02-30", "2026-13-01", "yesterday", "2026-1-1"] {
                add(.assignment, assignment + "SetSchedule", "date", schedule {
                    $0.overrides = [.with { $0.date = date; $0.target = .with { $0.target = .agentId(a.agent.id) } }]
                })
            }
            add(.assignment, assignment + "SetSchedule", "overrides", schedule {
                $0.overrides = Array(repeating: .with { $0.date = "2030-01-01"; $0.target = .with { $0.target = .agentId(a.agent.id) } }, count: 10_000)
            })
            for destination in ["javascript:alert(1)", "+1", "sip:", "sip:a b@c.d"] {
                add(.assignment, assignment + "SetSchedule", "fallback_destination", schedule { $0.fallbackDestination = destination })
            }
            add(.assignment, assignment + "SetSchedule", "default_agent_id", schedule { $0.defaultAgentId = "agent-of-nobody" })
            add(.assignment, assignment + "SetSchedule", "agent_id", schedule { $0.rules[0].target = .with { $0.target = .agentId("agent-of-nobody") } })
            // Page tokens and sizes.
            for token in ["garbage!!", Data("v2:x".utf8).base64EncodedString(), Data(String(repeating: "v1:", count: 100).utf8).base64EncodedString(), "%%%"] {
                add(.inventory, inventory + "ListNumbers", "page_token", InventoryV1.ListNumbersRequest.with { $0.pageToken = token })
                add(.assignment, assignment + "SearchAvailable", "page_token", AssignmentV1.SearchAvailableRequest.with { $0.pageToken = token })
                add(.assignment, assignment + "ListOrganizationNumbers", "page_token", AssignmentV1.ListOrganizationNumbersRequest.with {
                    $0.organizationId = a.id; $0.pageToken = token
                })
                add(.assignment, assignment + "GetHistory", "page_token", AssignmentV1.GetHistoryRequest.with { $0.organizationId = a.id; $0.pageToken = token })
                add(.lookup, lookup + "ListByAgent", "page_token", LookupV1.ListByAgentRequest.with { $0.agentId = a.agent.id; $0.pageToken = token })
                add(.lookup, lookup + "ListByOrganization", "page_token", LookupV1.ListByOrganizationRequest.with { $0.organizationId = a.id; $0.pageToken = token })
            }
            add(.inventory, inventory + "ListNumbers", "page_size", InventoryV1.ListNumbersRequest.with { $0.pageSize = 1_000_000 })
            add(.assignment, assignment + "SearchAvailable", "page_size", AssignmentV1.SearchAvailableRequest.with { $0.pageSize = 1_000_000 })
            add(.lookup, lookup + "ListByOrganization", "page_size", LookupV1.ListByOrganizationRequest.with { $0.organizationId = a.id; $0.pageSize = 1_000_000 })
            // Ids.
            for id in ["123", UUID().uuidString + "x", "../../etc/passwd", "1; DROP TABLE inventory.numbers", String(repeating: "f", count: 10_000)] {
                add(.inventory, inventory + "GetNumber", "id", InventoryV1.GetNumberRequest.with { $0.key = .id(id) })
                add(.inventory, inventory + "RetireNumber", "id", InventoryV1.RetireNumberRequest.with { $0.id = id })
                add(.assignment, assignment + "Release", "number_id", AssignmentV1.ReleaseRequest.with { $0.numberId = id })
                add(.assignment, assignment + "ConfirmHold", "hold_id", AssignmentV1.ConfirmHoldRequest.with { $0.holdId = id })
                add(.assignment, assignment + "ConnectAgent", "agent_id", AssignmentV1.ConnectAgentRequest.with {
                    $0.numberId = a.connected.numberId; $0.agentId = id + " !"
                })
                add(.assignment, assignment + "Reserve", "ids", AssignmentV1.ReserveRequest.with {
                    $0.organizationId = a.id; $0.selection = .numbers(.with { $0.ids = [id] })
                })
            }
            add(.assignment, assignment + "Reserve", "hold_seconds", AssignmentV1.ReserveRequest.with {
                $0.organizationId = a.id; $0.holdSeconds = 100_000; $0.selection = .matching(.with { $0.count = 1 })
            })
            add(.assignment, assignment + "Allocate", "count", AssignmentV1.ReserveRequest.with {
                $0.organizationId = a.id; $0.selection = .matching(.with { $0.count = 0 })
            })
            add(.assignment, assignment + "Allocate", "count", AssignmentV1.ReserveRequest.with {
                $0.organizationId = a.id; $0.selection = .matching(.with { $0.count = 100_000 })
            })
            add(.lookup, lookup + "ListByAgent", "agent_id", LookupV1.ListByAgentRequest.with { $0.agentId = "a b" })
            add(.lookup, lookup + "ListByOrganization", "organization_id", LookupV1.ListByOrganizationRequest.with { $0.organizationId = "" })
            return cases
        }

        @Test func malformedValuesOversizedFramesAndTooManyConnections() async throws {
            try await Self.withPrivateSystem { services, _, a, _, postgres in
                let peers = Peers(services)
                let admin = Database(configuration: postgres.adminConfiguration(maxConnections: 1), logger: TestPostgres.logger)
                defer { Task { await admin.close() } }
                let before = try await Self.settledDigest(admin)

                let cases = Self.malformed(a)
                for (service, method, payload, field) in cases {
                    let answer = try await peers.call(service, method, payload)
                    let refused = (answer.code == .invalidArgument && answer.names(field))
                        || Self.itemRefusal(method, answer)?.contains(field) == true
                    #expect(refused, "\(method) with bad \(field): \(answer)")
                }
                let after = try await Self.digest(admin)
                #expect(after == before, "refused requests changed: \(after.filter { before[$0.key] != $0.value }.keys.sorted())")

                // A frame over the limit: RESOURCE_EXHAUSTED on call 0, the connection
                // closes, and the service answers the next connection.
                for service in ThreeServices.Service.allCases {
                    let peer = try RawPeer(port: services.process(service).port)
                    let length = UInt32(1 << 20) + 1
                    // Only the length: the refusal must not wait for the bytes.
                    peer.send([UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)])
                    let answer = await peer.readFrame()
                    guard case .response(let response)? = answer?.kind else { Issue.record("\(service): no answer to an oversized frame"); continue }
                    #expect(answer?.callId == 0 && response.status?.code == .resourceExhausted, "\(service): \(response)")
                    #expect(await peer.isClosedByServer(), "\(service) kept an oversized frame's connection")
                    #expect(try await Peers(services).call(service, StandardMethod.healthCheck, []).code == .ok)
                }
                print("malformed values: \(cases.count) requests; oversized frames: 3")
            }
        }

        @Test func connectionsBeyondTheLimitAreRefusedAndTheServiceStillServes() async throws {
            let limit = 4
            let process = try ServiceProcess("inventory", jwtSecret: assignmentTestSecret,
                                             environment: ["PG_POOL_SIZE": "2", "PHONE_MAX_CONNECTIONS": String(limit)])
            defer { Task { await process.terminate() } }
            try await process.waitUntilHealthy()
            var peers: [RawPeer] = []
            for _ in 0..<(limit * 5) { peers.append(try RawPeer(port: process.port)) }
            var served = 0
            for (index, peer) in peers.enumerated() {
                let answer = await peer.call(UInt64(index + 1), method: StandardMethod.healthCheck, payload: [], token: nil)
                if let answer, answer.status == nil || answer.status?.code == .ok { served += 1 }
            }
            #expect(served > 0 && served <= limit, "\(served) of \(peers.count) connections served with a limit of \(limit)")
            peers.removeAll()
            // Once they are gone, a new client is served.
            let served2 = try await eventually(within: .seconds(10)) {
                let peer = try RawPeer(port: process.port)
                return await peer.call(1, method: StandardMethod.healthCheck, payload: [], token: nil) != nil
            }
            #expect(served2, "inventory did not serve again after the flood")
            #expect(process.process.isRunning)
        }
    }
}


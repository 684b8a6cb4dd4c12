import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// Every method of every service, called by every kind of caller, on
    /// organisation A's data: the status each must get, and that nothing of
    /// A's ever reaches anyone who is not A (or a platform admin or a service
    /// allowed to read it).
    @Suite(.serialized) struct IsolationMatrixTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        /// Who calls. "A" owns the data every call is about; "B" is another organisation.
        enum Actor: String, CaseIterable, Sendable {
            case platformAdmin, ownerOfA, adminOfA, memberOfA, ownerOfB, adminOfB, memberOfB
            case serviceWithScope, serviceWithoutScope, anonymous

            /// The caller's principal; a service holds `scopes` (the method's) or an unrelated one.
            func principal(a: String, b: String, scopes: [String]) -> Principal? {
                let never = Date.distantFuture
                switch self {
                case .platformAdmin: return Principal(subject: "admin", role: .platformAdmin, expiresAt: never)
                case .ownerOfA: return Principal(subject: "owner-a", role: .orgOwner, organizationID: a, expiresAt: never)
                case .adminOfA: return Principal(subject: "admin-a", role: .orgAdmin, organizationID: a, expiresAt: never)
                case .memberOfA: return Principal(subject: "member-a", role: .orgMember, organizationID: a, expiresAt: never)
                case .ownerOfB: return Principal(subject: "owner-b", role: .orgOwner, organizationID: b, expiresAt: never)
                case .adminOfB: return Principal(subject: "admin-b", role: .orgAdmin, organizationID: b, expiresAt: never)
                case .memberOfB: return Principal(subject: "member-b", role: .orgMember, organizationID: b, expiresAt: never)
                case .serviceWithScope: return Principal(subject: "svc", role: .service, scopes: Set(scopes), expiresAt: never)
                case .serviceWithoutScope: return Principal(subject: "svc", role: .service, scopes: ["unrelated:read"], expiresAt: never)
                case .anonymous: return nil
                }
            }

            /// May see A's data: A itself, platform admins and services let in.
            var isInsider: Bool { [.platformAdmin, .ownerOfA, .adminOfA, .memberOfA, .serviceWithScope].contains(self) }
        }

        /// The status each actor must get (`.ok` for success).
        typealias Expectation = @Sendable (Actor) -> RPCError.Code

        /// Reads of one organisation's data: A and readers; B is told it does not exist.
        static let organizationRead: Expectation = { actor in
            switch actor {
            case .platformAdmin, .ownerOfA, .adminOfA, .memberOfA, .serviceWithScope: .ok
            case .ownerOfB, .adminOfB, .memberOfB: .notFound
            case .serviceWithoutScope: .permissionDenied
            case .anonymous: .unauthenticated
            }
        }
        /// Changes to one organisation's data: its owners and admins; members
        /// and services may not; B's writers are told it does not exist.
        static let organizationWrite: Expectation = { actor in
            switch actor {
            case .platformAdmin, .ownerOfA, .adminOfA: .ok
            case .memberOfA, .memberOfB, .serviceWithScope, .serviceWithoutScope: .permissionDenied
            case .ownerOfB, .adminOfB: .notFound
            case .anonymous: .unauthenticated
            }
        }
        /// Every reader gets an answer, B's holding only what B may see.
        static let anyReader: Expectation = { actor in
            switch actor {
            case .serviceWithoutScope: .permissionDenied
            case .anonymous: .unauthenticated
            default: .ok
            }
        }
        /// Platform admins and services with the method's scope only.
        static let scopedService: Expectation = { actor in
            switch actor {
            case .platformAdmin, .serviceWithScope: .ok
            case .anonymous: .unauthenticated
            default: .permissionDenied
            }
        }
        static let platformAdminOnly: Expectation = { actor in
            switch actor {
            case .platformAdmin: .ok
            case .anonymous: .unauthenticated
            default: .permissionDenied
            }
        }
        static let open: Expectation = { _ in .ok }

        /// What one call acts on: A's data, or (for calls that succeed and
        /// would use it up) something of A's made for that call alone.
        struct Target: Sendable {
            var number: String = ""
            var e164: String = ""
            var agent: String = ""
            var hold: String = ""
            var organization: String = ""
        }

        struct World: Sendable {
            var a: OrganizationData
            var b: OrganizationData
            var pool: Block
            var unused: UnusedNumbers
        }

        struct Row: Sendable {
            var service: ThreeServices.Service
            var method: String
            var expected: Expectation
            /// Builds the call's target; `fresh` asks for one of its own.
            var target: @Sendable (_ world: World, _ fresh: Bool) async throws -> Target
            var call: @Sendable (_ client: RPCClient, _ target: Target, _ world: World) async throws -> Exchange
            /// Extra checks of a successful answer.
            var check: (@Sendable (_ actor: Actor, _ exchange: Exchange) throws -> Void)?
        }

        // MARK: The rows

        private func rows() -> [Row] {
            let fixtures = self.fixtures
            let admin = fixtures.admin
            let a: @Sendable (World, Bool) async throws -> Target = { world, _ in
                Target(number: world.a.connected.numberId, e164: world.a.connected.e164, agent: world.a.agent.id,
                       hold: world.a.holdID, organization: world.a.id)
            }
            let owned: @Sendable (World, Bool) async throws -> Target = { world, _ in
                Target(number: world.a.owned.numberId, e164: world.a.owned.e164, organization: world.a.id)
            }
            /// A's connected number, or a number newly allocated to A (and connected, when asked).
            func allocated(connected: Bool = false, schedule: Bool = false) -> @Sendable (World, Bool) async throws -> Target {
                { world, fresh in
                    guard fresh else { return try await a(world, false) }
                    let number = try #require(try await admin.allocate(matching: world.pool.filter, count: 1, organization: world.a.id)
                        .numbers.first?.number)
                    if connected { _ = try await admin.connect(number.numberId, agent: world.a.agent.id) }
                    if schedule { _ = try await admin.setSchedule(Self.schedule(number.numberId, agent: world.a.agent.id)) }
                    return Target(number: number.numberId, e164: number.e164, agent: world.a.agent.id, organization: world.a.id)
                }
            }
            let hold: @Sendable (World, Bool) async throws -> Target = { world, fresh in
                guard fresh else { return try await a(world, false) }
                let hold = try #require(try await admin.reserve(matching: world.pool.filter, count: 1, organization: world.a.id).hold)
                return Target(hold: hold.id, organization: world.a.id)
            }
            /// A number A brings itself, newly imported when asked (retired too, when asked).
            func ownedNumber(retired: Bool) -> @Sendable (World, Bool) async throws -> Target {
                { world, fresh in
                    guard fresh else { return try await owned(world, false) }
                    let e164 = try world.unused.next()
                    let imported = try await fixtures.inventory.importNumbers([.with {
                        $0.number = e164
                        $0.provider = "twilio"
                        $0.ownerOrganizationId = world.a.id
                    }])
                    let id = try #require(imported.results.first { $0.outcome == .created }?.numberId, "\(imported)")
                    if retired { _ = try await fixtures.inventory.retire(id) }
                    return Target(number: id, e164: e164, organization: world.a.id)
                }
            }
            let unusedNumber: @Sendable (World, Bool) async throws -> Target = { world, _ in
                Target(e164: try world.unused.next(), organization: world.a.id)
            }

            let inventory = InventoryAPI.prefix, assignment = AssignmentAPI.prefix, lookup = LookupAPI.prefix
            func row(_ service: ThreeServices.Service, _ method: String, _ expected: @escaping Expectation,
                     _ target: @escaping @Sendable (World, Bool) async throws -> Target,
                     check: (@Sendable (Actor, Exchange) throws -> Void)? = nil,
                     _ call: @escaping @Sendable (RPCClient, Target, World) async throws -> Exchange) -> Row {
                Row(service: service, method: method, expected: expected, target: target, call: call, check: check)
            }

            var rows: [Row] = []
            for service in ThreeServices.Service.allCases {
                rows.append(row(service, StandardMethod.healthCheck, Self.open, a) { client, _, _ in
                    try await client.exchange(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(), as: RpcV1.HealthCheckResponse.self)
                })
                rows.append(row(service, StandardMethod.listMethods, Self.open, a) { client, _, _ in
                    try await client.exchange(StandardMethod.listMethods, RpcV1.ListMethodsRequest(), as: RpcV1.ListMethodsResponse.self)
                })
            }
            for service in [ThreeServices.Service.inventory, .assignment] {
                rows.append(row(service, "phonenumbers.events.v1.Events/Subscribe", Self.scopedService, a) { client, _, _ in
                    try await Self.firstEvent(client)
                })
            }

            // Inventory.
            rows += [
                row(.inventory, inventory + "ImportNumbers", { actor in
                    // B's writers get an answer rejecting the item: they may not import for A.
                    [.ownerOfB, .adminOfB].contains(actor) ? .ok : Self.organizationWrite(actor)
                }, unusedNumber, check: { actor, exchange in
                    let response = try InventoryV1.ImportNumbersResponse(serializedBytes: exchange.response)
                    let outcome = response.results.first?.outcome
                    #expect(outcome == (actor.isInsider ? .created : .rejected), "\(actor): \(response.results)")
                }) { client, target, _ in
                    try await client.exchange(inventory + "ImportNumbers", InventoryV1.ImportNumbersRequest.with {
                        $0.items = [.with {
                            $0.number = target.e164
                            $0.provider = "twilio"
                            $0.ownerOrganizationId = target.organization
                        }]
                    }, as: InventoryV1.ImportNumbersResponse.self)
                },
                row(.inventory, inventory + "GetNumber", Self.organizationRead, owned) { client, target, _ in
                    try await client.exchange(inventory + "GetNumber", InventoryV1.GetNumberRequest.with { $0.key = .id(target.number) },
                                              as: InventoryV1.NumberResponse.self)
                },
                row(.inventory, inventory + "ListNumbers", Self.anyReader, owned, check: { actor, exchange in
                    let listed = try InventoryV1.ListNumbersResponse(serializedBytes: exchange.response).numbers
                    #expect(listed.count == (actor.isInsider ? 1 : 0), "\(actor) listed \(listed.map(\.e164))")
                }) { client, _, world in
                    try await client.exchange(inventory + "ListNumbers", InventoryV1.ListNumbersRequest.with {
                        $0.query = world.a.owned.e164
                    }, as: InventoryV1.ListNumbersResponse.self)
                },
                row(.inventory, inventory + "UpdateNumber", Self.organizationWrite, owned) { client, target, world in
                    try await client.exchange(inventory + "UpdateNumber", InventoryV1.UpdateNumberRequest.with {
                        $0.id = target.number
                        $0.patch = .with { $0.label = world.a.ownedLabel }
                        $0.updateMask = ["label"]
                    }, as: InventoryV1.NumberResponse.self)
                },
                row(.inventory, inventory + "SetCredentials", Self.organizationWrite, owned) { client, target, _ in
                    try await client.exchange(inventory + "SetCredentials", InventoryV1.SetCredentialsRequest.with {
                        $0.numberId = target.number
                        $0.credentials = .with { $0.fields = ["account_sid": "AC" + String(repeating: "1", count: 32), "auth_token": "matrix-token"] }
                    }, as: InventoryV1.NumberResponse.self)
                },
                row(.inventory, inventory + "GetCredentials", Self.scopedService, owned) { client, target, _ in
                    try await client.exchange(inventory + "GetCredentials", InventoryV1.GetCredentialsRequest.with { $0.numberId = target.number },
                                              as: InventoryV1.GetCredentialsResponse.self)
                },
                row(.inventory, inventory + "RetireNumber", Self.organizationWrite, ownedNumber(retired: false)) { client, target, _ in
                    try await client.exchange(inventory + "RetireNumber", InventoryV1.RetireNumberRequest.with { $0.id = target.number },
                                              as: InventoryV1.NumberResponse.self)
                },
                row(.inventory, inventory + "RestoreNumber", Self.organizationWrite, ownedNumber(retired: true)) { client, target, _ in
                    try await client.exchange(inventory + "RestoreNumber", InventoryV1.RestoreNumberRequest.with { $0.id = target.number },
                                              as: InventoryV1.NumberResponse.self)
                },
                row(.inventory, inventory + "RotateCredentialKeys", Self.platformAdminOnly, a) { client, _, _ in
                    try await client.exchange(inventory + "RotateCredentialKeys", InventoryV1.RotateCredentialKeysRequest(),
                                              as: InventoryV1.RotateCredentialKeysResponse.self)
                },
            ]

            // Assignment.
            let organizationMessage: @Sendable (String) -> AssignmentV1.Organization = { id in
                .with {
                    $0.id = id
                    $0.slug = id
                    $0.externalId = "ext-" + id
                    $0.name = "Test organisation " + id
                    $0.timeZone = "America/Los_Angeles"
                    $0.numbersPerAgent = .many
                }
            }
            rows += [
                row(.assignment, assignment + "UpsertOrganization", Self.scopedService, a) { client, target, _ in
                    try await client.exchange(assignment + "UpsertOrganization", AssignmentV1.UpsertOrganizationRequest.with {
                        $0.organization = organizationMessage(target.organization)
                    }, as: AssignmentV1.OrganizationResponse.self)
                },
                row(.assignment, assignment + "DeleteOrganization", Self.scopedService, { world, fresh in
                    fresh ? Target(organization: try await fixtures.organization()) : try await a(world, false)
                }) { client, target, _ in
                    try await client.exchange(assignment + "DeleteOrganization", AssignmentV1.DeleteOrganizationRequest.with {
                        $0.id = target.organization
                    }, as: AssignmentV1.MutationResponse.self)
                },
                row(.assignment, assignment + "UpsertAgent", Self.scopedService, a) { client, _, world in
                    try await client.exchange(assignment + "UpsertAgent", AssignmentV1.UpsertAgentRequest.with { $0.agent = world.a.agent },
                                              as: AssignmentV1.AgentResponse.self)
                },
                row(.assignment, assignment + "DeleteAgent", Self.scopedService, { world, fresh in
                    fresh ? Target(agent: try await fixtures.agent(of: world.a.id).id) : try await a(world, false)
                }) { client, target, _ in
                    try await client.exchange(assignment + "DeleteAgent", AssignmentV1.DeleteAgentRequest.with { $0.id = target.agent },
                                              as: AssignmentV1.MutationResponse.self)
                },
                row(.assignment, assignment + "ListAgents", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(assignment + "ListAgents", AssignmentV1.ListAgentsRequest.with { $0.organizationId = target.organization },
                                              as: AssignmentV1.ListAgentsResponse.self)
                },
                row(.assignment, assignment + "SearchAvailable", Self.anyReader, a) { client, _, world in
                    try await client.exchange(assignment + "SearchAvailable", AssignmentV1.SearchAvailableRequest.with {
                        $0.filter = world.pool.filter
                    }, as: AssignmentV1.SearchAvailableResponse.self)
                },
                row(.assignment, assignment + "Reserve", Self.organizationWrite, a) { client, target, world in
                    try await client.exchange(assignment + "Reserve", AssignmentAPI.reserveRequest(
                        matching: world.pool.filter, count: 1, organization: target.organization, holdSeconds: 60),
                        as: AssignmentV1.HoldResponse.self)
                },
                row(.assignment, assignment + "ConfirmHold", Self.organizationWrite, hold) { client, target, _ in
                    try await client.exchange(assignment + "ConfirmHold", AssignmentV1.ConfirmHoldRequest.with { $0.holdId = target.hold },
                                              as: AssignmentV1.AssignedNumbersResponse.self)
                },
                row(.assignment, assignment + "CancelHold", Self.organizationWrite, hold) { client, target, _ in
                    try await client.exchange(assignment + "CancelHold", AssignmentV1.CancelHoldRequest.with { $0.holdId = target.hold },
                                              as: AssignmentV1.MutationResponse.self)
                },
                row(.assignment, assignment + "Allocate", Self.organizationWrite, a) { client, target, world in
                    try await client.exchange(assignment + "Allocate", AssignmentAPI.reserveRequest(
                        matching: world.pool.filter, count: 1, organization: target.organization, holdSeconds: 0),
                        as: AssignmentV1.AssignedNumbersResponse.self)
                },
                row(.assignment, assignment + "Release", Self.organizationWrite, allocated()) { client, target, _ in
                    try await client.exchange(assignment + "Release", AssignmentV1.ReleaseRequest.with { $0.numberId = target.number },
                                              as: AssignmentV1.MutationResponse.self)
                },
                row(.assignment, assignment + "ConnectAgent", Self.organizationWrite, allocated()) { client, target, _ in
                    try await client.exchange(assignment + "ConnectAgent", AssignmentV1.ConnectAgentRequest.with {
                        $0.numberId = target.number
                        $0.agentId = target.agent
                    }, as: AssignmentV1.AssignedNumberResponse.self)
                },
                row(.assignment, assignment + "DisconnectAgent", Self.organizationWrite, allocated(connected: true)) { client, target, _ in
                    try await client.exchange(assignment + "DisconnectAgent", AssignmentV1.DisconnectAgentRequest.with { $0.numberId = target.number },
                                              as: AssignmentV1.AssignedNumberResponse.self)
                },
                row(.assignment, assignment + "SetSchedule", Self.organizationWrite, a) { client, target, _ in
                    try await client.exchange(assignment + "SetSchedule", AssignmentV1.SetScheduleRequest.with {
                        $0.schedule = Self.schedule(target.number, agent: target.agent)
                    }, as: AssignmentV1.ScheduleResponse.self)
                },
                row(.assignment, assignment + "GetSchedule", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(assignment + "GetSchedule", AssignmentV1.GetScheduleRequest.with { $0.numberId = target.number },
                                              as: AssignmentV1.ScheduleResponse.self)
                },
                row(.assignment, assignment + "DeleteSchedule", Self.organizationWrite, allocated(schedule: true)) { client, target, _ in
                    try await client.exchange(assignment + "DeleteSchedule", AssignmentV1.DeleteScheduleRequest.with { $0.numberId = target.number },
                                              as: AssignmentV1.MutationResponse.self)
                },
                row(.assignment, assignment + "ListOrganizationNumbers", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(assignment + "ListOrganizationNumbers", AssignmentV1.ListOrganizationNumbersRequest.with {
                        $0.organizationId = target.organization
                    }, as: AssignmentV1.ListOrganizationNumbersResponse.self)
                },
                row(.assignment, assignment + "GetSummary", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(assignment + "GetSummary", AssignmentV1.GetSummaryRequest.with { $0.organizationId = target.organization },
                                              as: AssignmentV1.Summary.self)
                },
                row(.assignment, assignment + "GetHistory", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(assignment + "GetHistory", AssignmentV1.GetHistoryRequest.with { $0.numberId = target.number },
                                              as: AssignmentV1.GetHistoryResponse.self)
                },
            ]

            // Lookup. Batch and IsAssigned answer per number: B learns nothing of A's.
            let perNumber: Expectation = { actor in [.ownerOfB, .adminOfB, .memberOfB].contains(actor) ? .ok : Self.organizationRead(actor) }
            rows += [
                row(.lookup, lookup + "Resolve", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(lookup + "Resolve", LookupV1.ResolveRequest.with { $0.number = target.e164 },
                                              as: LookupV1.ResolveResponse.self)
                },
                row(.lookup, lookup + "BatchResolve", perNumber, a, check: { actor, exchange in
                    let results = try LookupV1.BatchResolveResponse(serializedBytes: exchange.response).results
                    switch results.first?.outcome {
                    case .route?: #expect(actor.isInsider, "\(actor) resolved A's number")
                    case .error(let error)?:
                        #expect(!actor.isInsider && error.code == UInt32(RPCError.Code.notFound.rawValue), "\(actor): \(error)")
                    case nil: Issue.record("\(actor): no result")
                    }
                }) { client, target, _ in
                    try await client.exchange(lookup + "BatchResolve", LookupV1.BatchResolveRequest.with { $0.numbers = [target.e164] },
                                              as: LookupV1.BatchResolveResponse.self)
                },
                row(.lookup, lookup + "IsAssigned", perNumber, a, check: { actor, exchange in
                    let response = try LookupV1.IsAssignedResponse(serializedBytes: exchange.response)
                    #expect(response.assigned == actor.isInsider, "\(actor): \(response)")
                }) { client, target, _ in
                    try await client.exchange(lookup + "IsAssigned", LookupV1.IsAssignedRequest.with { $0.number = target.e164 },
                                              as: LookupV1.IsAssignedResponse.self)
                },
                row(.lookup, lookup + "ResolveTenant", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(lookup + "ResolveTenant", LookupV1.ResolveTenantRequest.with { $0.key = .tenantId(target.organization) },
                                              as: LookupV1.ResolveTenantResponse.self)
                },
                row(.lookup, lookup + "ListByAgent", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(lookup + "ListByAgent", LookupV1.ListByAgentRequest.with { $0.agentId = target.agent },
                                              as: LookupV1.ListRoutesResponse.self)
                },
                row(.lookup, lookup + "ListByOrganization", Self.organizationRead, a) { client, target, _ in
                    try await client.exchange(lookup + "ListByOrganization", LookupV1.ListByOrganizationRequest.with {
                        $0.organizationId = target.organization
                    }, as: LookupV1.ListRoutesResponse.self)
                },
                row(.lookup, lookup + "GetStatus", Self.scopedService, a) { client, _, _ in
                    try await client.exchange(lookup + "GetStatus", LookupV1.GetStatusRequest(), as: LookupV1.GetStatusResponse.self)
                },
            ]
            return rows
        }

        static func schedule(_ number: String, agent: String) -> AssignmentV1.Schedule {
            .with {
                $0.numberId = number
                $0.rules = [.with {
                    $0.days = [.monday]
                    $0.start = "09:00"
                    $0.end = "17:00"
                    $0.target = .with { $0.target = .agentId(agent) }
                }]
            }
        }

        /// The first message of an event stream from position zero.
        static func firstEvent(_ client: RPCClient) async throws -> Exchange {
            let request = EventsV1.SubscribeRequest()
            let stream = client.serverStream("phonenumbers.events.v1.Events/Subscribe", request,
                                             as: EventsV1.SubscribeResponse.self, timeout: .seconds(20))
            do {
                for try await message in stream {
                    return Exchange(request: request.serializedBytes(), response: message.serializedBytes())
                }
            } catch {
                throw FailedExchange(request: request.serializedBytes(), error: (error as? RPCError) ?? RPCError(.unknown, "\(error)"))
            }
            throw FailedExchange(request: request.serializedBytes(), error: RPCError(.internal, "the event stream ended without a message"))
        }

        // MARK: The test

        /// What A's data looks like to a platform admin in every service.
        private func snapshot(_ world: World, _ services: ThreeServices) async throws -> [String] {
            let admin = fixtures.admin
            let owned = try await fixtures.inventory.get(world.a.owned.numberId)
            let lookup = services.lookup.api(.callHandler())
            return [
                "\(owned.version) \(owned.lifecycle) \(owned.label) \(owned.hasCredentials)",
                "\(try await admin.listAllNumbers(world.a.id).sorted { $0.number?.e164 ?? "" < $1.number?.e164 ?? "" })",
                "\(try await admin.getSchedule(world.a.connected.numberId).schedule?.version ?? -1)",
                "\(try await admin.listAgents(world.a.id).agents)",
                "\(try await admin.historyAll(organization: world.a.id).count)",
                "\(try await admin.searchAll(world.pool.filter).map(\.numberId))",
                "\(try await lookup.resolve(world.a.connected.e164, at: Date(timeIntervalSince1970: 1_900_000_000)))",
            ]
        }

        @Test func everyMethodEveryCallerOwnAndOtherOrganisation() async throws {
            let services = try await ThreeServices.start(fixtures.stack)
            defer { Task { await services.stop() } }
            let (pool, offered) = try await fixtures.pool(24)
            let world = World(a: try await fixtures.organizationData(holdFrom: pool),
                              b: try await fixtures.organizationData(holdFrom: pool), pool: pool,
                              unused: UnusedNumbers(pool, taken: Set(offered.map(\.e164))))
            // Lookup has caught up with A's connection before anyone asks.
            let caughtUp = try await eventually {
                (try? await services.lookup.api(.callHandler()).resolve(world.a.connected.e164))?.agent?.id == world.a.agent.id
            }
            try #require(caughtUp, "lookup did not route \(world.a.connected.e164) to A's agent")

            // Every listed method has a row, and every row a listed method.
            let rows = rows()
            var scopes: [String: [String]] = [:]
            for service in ThreeServices.Service.allCases {
                let listed = try await services.listedMethods(service)
                for method in listed { scopes[service.rawValue + " " + method.name] = method.scopes }
                let covered = Set(rows.filter { $0.service == service }.map(\.method))
                #expect(Set(listed.map(\.name)) == covered,
                        "\(service): methods without a row: \(Set(listed.map(\.name)).subtracting(covered).sorted()); rows without a method: \(covered.subtracting(listed.map(\.name)).sorted())")
            }

            let before = try await snapshot(world, services)
            var cells = 0
            // Refusals first, on A's data itself, which must come through unchanged;
            // then the calls that succeed, each on a target of its own.
            for succeeding in [false, true] {
                for row in rows {
                    for actor in Actor.allCases where (row.expected(actor) == .ok) == succeeding {
                        cells += 1
                        let target = try await row.target(world, succeeding)
                        let principal = actor.principal(a: world.a.id, b: world.b.id,
                                                        scopes: scopes[row.service.rawValue + " " + row.method] ?? [])
                        let client = services.client(row.service, principal)
                        defer { client.close() }
                        try await run(row, actor, target, world, client)
                    }
                }
                if !succeeding {
                    let after = try await snapshot(world, services)
                    #expect(after == before, "refused calls changed A's data")
                }
            }
            print("isolation matrix: \(rows.count) methods × \(Actor.allCases.count) callers = \(cells) cells")
            #expect(cells == rows.count * Actor.allCases.count)
        }

        private func run(_ row: Row, _ actor: Actor, _ target: Target, _ world: World, _ client: RPCClient) async throws {
            let cell = "\(row.method) as \(actor)"
            let expected = row.expected(actor)
            let leaks: @Sendable ([UInt8], [UInt8]) -> [String] = { request, answer in
                guard !actor.isInsider else { return [] }
                // What the caller wrote may come back; nothing else of A's.
                return world.a.markers.filter { marker in
                    let bytes = Array(marker.utf8)
                    return !request.containsSubsequence(bytes) && answer.containsSubsequence(bytes)
                }
            }
            do {
                let exchange = try await row.call(client, target, world)
                #expect(expected == .ok, "\(cell): expected \(expected), got OK")
                #expect(leaks(exchange.request, exchange.response).isEmpty,
                        "\(cell): the answer holds A's \(leaks(exchange.request, exchange.response))")
                if expected == .ok { try row.check?(actor, exchange) }
            } catch let failed as FailedExchange {
                let error = failed.error
                #expect(error.code == expected, "\(cell): \(error)")
                let text = Array((error.message + " " + error.fieldViolations.map { $0.field + " " + $0.description }.joined(separator: " ")).utf8)
                #expect(leaks(failed.request, text).isEmpty, "\(cell): the refusal holds A's \(leaks(failed.request, text)): \(error)")
            }
        }
    }
}

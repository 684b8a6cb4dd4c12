import Foundation
import NIOCore
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// Lookup as a process beside inventory and assignment: numbers become
    /// resolvable as they are imported, allocated, connected and scheduled, and
    /// every later change shows.
    @Suite struct LookupRoutingTests {
        let fixtures: Fixtures
        let lookup: LookupReplica

        init() async throws {
            fixtures = try Fixtures()
            lookup = try await LookupReplica.start(fixtures.stack)
        }

        /// An organisation in New York with a day agent and a night agent, and
        /// one number allocated to it and connected to the day agent.
        private func connectedNumber() async throws -> (organization: String, day: AssignmentV1.Agent, night: AssignmentV1.Agent,
                                                        number: AssignmentV1.PoolNumber, token: UInt64) {
            let organization = try await fixtures.organization(policy: .many, timeZone: "America/New_York")
            let day = try await fixtures.agent(of: organization, name: "Day desk")
            let night = try await fixtures.agent(of: organization, name: "Night desk")
            let number = try await fixtures.allocated(1, to: organization)[0]
            let connected = try await fixtures.admin.connect(number.numberId, agent: day.id)
            return (organization, day, night, number, connected.consistencyToken)
        }

        @Test func connectedNumberResolvesToItsAgentWithEverythingACallNeeds() async throws {
            let (organization, day, _, number, token) = try await connectedNumber()
            let api = lookup.api(.callHandler())
            let route = try await api.resolve(number.e164, after: after(assignment: token))
            #expect(route.numberId == number.numberId)
            #expect(route.e164 == number.e164)
            #expect(route.country == "US")
            #expect(route.provider == "twilio")
            #expect(route.organization?.id == organization)
            #expect(route.organization?.slug == organization)
            #expect(route.organization?.externalId == "ext-" + organization)
            #expect(route.destination == .agent)
            #expect(route.reason == .connectedAgent)
            #expect(route.agent?.id == day.id)
            #expect(route.agent?.name == "Day desk")
            #expect(route.agent?.externalAssistantId == day.externalAssistantId)
            #expect(route.connectedAgentId == day.id)
            #expect(!route.hasSchedule)
        }

        @Test func scheduleChoosesTheAgentOnTheOrganisationsWallClockAcrossDST() async throws {
            let (_, day, night, number, _) = try await connectedNumber()
            var schedule = AssignmentV1.Schedule()
            schedule.numberId = number.numberId
            // No zone of its own: the organisation's (New York) applies.
            schedule.rules = [rule([.monday, .tuesday, .wednesday, .thursday, .friday], "09:00", "17:00", .agentId(day.id))]
            schedule.defaultAgentId = night.id
            let set = try await fixtures.admin.setSchedule(schedule)
            let api = lookup.api(.callHandler())
            let token = after(assignment: set.consistencyToken)

            // 13:30 UTC is 08:30 in New York in winter (EST) but 09:30 after
            // the 8 March 2026 change to EDT: the same UTC time routes differently.
            let winter = try await api.resolve(number.e164, at: try utc("2026-03-02T13:30:00Z"), after: token)
            #expect(winter.agent?.id == night.id)
            #expect(winter.reason == .scheduleDefaultAgent)
            #expect(winter.timeZone == "America/New_York")
            let summer = try await api.resolve(number.e164, at: try utc("2026-03-09T13:30:00Z"), after: token)
            #expect(summer.agent?.id == day.id)
            #expect(summer.reason == .scheduleRule)
            #expect(summer.hasSchedule)
            // Monday 17:00 local ends the window; Saturday has none.
            let evening = try await api.resolve(number.e164, at: try utc("2026-03-09T21:00:00Z"), after: token)
            #expect(evening.agent?.id == night.id)
            let saturday = try await api.resolve(number.e164, at: try utc("2026-03-14T15:00:00Z"), after: token)
            #expect(saturday.agent?.id == night.id)

            // A holiday override to the fallback destination wins over the rule.
            var holiday = AssignmentV1.DateOverride()
            holiday.date = "2026-03-09"
            holiday.target = target(.fallback(true))
            schedule.overrides = [holiday]
            schedule.fallbackDestination = "+16502530000"
            let updated = try await fixtures.admin.setSchedule(schedule)
            let closed = try await api.resolve(number.e164, at: try utc("2026-03-09T15:00:00Z"),
                                               after: after(assignment: updated.consistencyToken))
            #expect(closed.destination == .fallback)
            #expect(closed.fallbackDestination == "+16502530000")
            #expect(closed.reason == .scheduleOverride)
        }

        @Test func disconnectReleaseAndRetireAreReflected() async throws {
            let (_, _, _, number, _) = try await connectedNumber()
            let api = lookup.api(.callHandler())

            let disconnected = try await fixtures.admin.disconnect(number.numberId)
            let idle = try await api.resolve(number.e164, after: after(assignment: disconnected.consistencyToken))
            #expect(idle.destination == .none)
            #expect(idle.reason == .noAgent)
            #expect(idle.connectedAgentId.isEmpty)

            let released = try await fixtures.admin.release(number.numberId)
            let pool = await expectRPCError(.failedPrecondition) {
                try await api.resolve(number.e164, after: after(assignment: released.consistencyToken))
            }
            #expect(pool?.message.contains("pool") == true, "\(String(describing: pool))")

            let retired = try await fixtures.inventory.retire(number.numberId)
            let retiredError = await expectRPCError(.failedPrecondition) {
                try await api.resolve(number.e164, after: after(inventory: UInt64(retired.consistencyToken)))
            }
            #expect(retiredError?.message.contains("retired") == true, "\(String(describing: retiredError))")

            let unknown = await expectRPCError(.notFound) { try await api.resolve("+15005550006") }
            #expect(unknown?.message.contains("+15005550006") == true)
        }

        @Test func deletingTheOrganisationUnassignsItsNumbers() async throws {
            let (organization, _, _, number, _) = try await connectedNumber()
            let api = lookup.api(.callHandler())
            let deleted = try await fixtures.admin.deleteOrganization(organization)
            let token = after(assignment: deleted.consistencyToken)
            await expectRPCError(.failedPrecondition) { try await api.resolve(number.e164, after: token) }
            var tenant = LookupV1.ResolveTenantRequest()
            tenant.key = .tenantId(organization)
            tenant.minToken = token
            await expectRPCError(.notFound) {
                try await api.call("ResolveTenant", tenant, as: LookupV1.ResolveTenantResponse.self)
            }
        }

        @Test func minTokenReadsYourOwnWriteAndTimesOutClearly() async throws {
            let (_, _, night, number, _) = try await connectedNumber()
            let api = lookup.api(.callHandler())
            // Straight after the write, with its token: no polling needed.
            let moved = try await fixtures.admin.connect(number.numberId, agent: night.id)
            let route = try await api.resolve(number.e164, after: after(assignment: moved.consistencyToken))
            #expect(route.agent?.id == night.id)

            let future = after(assignment: moved.consistencyToken + 1_000_000)
            let timedOut = await expectRPCError(.deadlineExceeded) {
                try await api.resolve(number.e164, after: future, timeout: .milliseconds(300))
            }
            #expect(timedOut?.message.contains("min_token") == true, "\(String(describing: timedOut))")
        }

        @Test func acceptsTheFormsCallPlatformsSend() async throws {
            let (_, day, _, number, token) = try await connectedNumber()
            let api = lookup.api(.callHandler())
            _ = try await api.resolve(number.e164, after: after(assignment: token))
            let digits = String(number.e164.dropFirst())
            let area = digits.dropFirst().prefix(3), exchange = digits.dropFirst(4).prefix(3), line = digits.suffix(4)
            for form in [digits, "+1 (\(area)) \(exchange)-\(line)", "+1-\(area)-\(exchange)-\(line)",
                         "tel:+1-\(area)-\(exchange)-\(line)", "sip:\(number.e164)@sip.example.com;user=phone",
                         "  \(number.e164) "] {
                let route = try await api.resolve(form)
                #expect(route.agent?.id == day.id, "form \(form)")
            }
            let national = try await api.resolve("(\(area)) \(exchange)-\(line)", region: "US")
            #expect(national.e164 == number.e164)

            for bad in ["", "hello", "+12", "(\(area)) \(exchange)-\(line)", String(repeating: "9", count: 300), "+1' OR 1=1 --"] {
                let error = await expectRPCError(.invalidArgument, field: "number") { try await api.resolve(bad) }
                #expect(error?.message.isEmpty == false, "input \(bad.prefix(20))")
            }
        }

        @Test func credentialsOnlyWhenAskedAndOnlyWithTheScope() async throws {
            let organization = try await fixtures.organization()
            let sid = "AC" + String(repeating: "ab", count: 16)
            let (_, numbers) = try await fixtures.pool(1) { _, item in
                var credentials = InventoryV1.Credentials()
                credentials.fields = ["account_sid": sid, "auth_token": "tok-secret-1234567890"]
                item.credentials = credentials
            }
            let allocated = try await fixtures.admin.allocate(ids: [numbers[0].numberId], organization: organization)
            let token = after(assignment: allocated.consistencyToken)
            let e164 = numbers[0].e164

            let plain = try await lookup.api(.callHandler(credentials: true)).resolve(e164, after: token)
            #expect(plain.hasCredentials)
            #expect(plain.credentials.isEmpty, "credentials only when asked")

            let opened = try await lookup.api(.callHandler(credentials: true)).resolve(e164, credentials: true, after: token)
            #expect(opened.credentials["account_sid"] == sid)
            #expect(opened.credentials["auth_token"] == "tok-secret-1234567890")

            await expectRPCError(.permissionDenied) {
                try await lookup.api(.callHandler()).resolve(e164, credentials: true, after: token)
            }
            await expectRPCError(.permissionDenied) {
                try await lookup.api(.owner(organization)).resolve(e164, credentials: true, after: token)
            }
            // The same without a token to wait for: the form call handling sends, answered on the fast lane.
            #expect(try await lookup.api(.callHandler(credentials: true)).resolve(e164, credentials: true).credentials == opened.credentials)
            await expectRPCError(.permissionDenied) {
                try await lookup.api(.callHandler()).resolve(e164, credentials: true)
            }
            #expect(!lookup.process.log.contains("tok-secret-1234567890"), "a credential reached lookup's log")
        }

        @Test func organisationUsersSeeOnlyTheirOwnNumbers() async throws {
            let (organization, day, _, number, token) = try await connectedNumber()
            let mine = try await lookup.api(.member(organization)).resolve(number.e164, after: after(assignment: token))
            #expect(mine.agent?.id == day.id)
            let other = try await fixtures.organization()
            let hidden = await expectRPCError(.notFound) {
                try await lookup.api(.member(other)).resolve(number.e164, after: after(assignment: token))
            }
            #expect(hidden?.message.contains(organization) == false, "the message must not name the owner")
            var list = LookupV1.ListByOrganizationRequest()
            list.organizationId = organization
            await expectRPCError(.notFound) {
                try await lookup.api(.member(other)).call("ListByOrganization", list, as: LookupV1.ListRoutesResponse.self)
            }
            await expectRPCError(.unauthenticated) {
                try await LookupAPI(client: RPCClient(target: RPCTarget(host: "127.0.0.1", port: lookup.process.port)))
                    .resolve(number.e164)
            }
        }

        @Test func batchReverseAndTenantQueries() async throws {
            let (organization, day, _, number, token) = try await connectedNumber()
            let api = lookup.api(.callHandler())
            let second = try await fixtures.allocated(1, to: organization)[0]
            let connected = try await fixtures.admin.connect(second.numberId, agent: day.id)
            let latest = after(assignment: connected.consistencyToken)

            var batch = LookupV1.BatchResolveRequest()
            batch.numbers = [number.e164, "not a number", "+15005550006", second.e164]
            batch.minToken = latest
            let results = try await api.call("BatchResolve", batch, as: LookupV1.BatchResolveResponse.self).results
            #expect(results.count == 4)
            guard results.count == 4 else { return }
            if case .route(let route) = results[0].outcome { #expect(route.agent?.id == day.id) } else { Issue.record("\(results[0])") }
            if case .error(let error) = results[1].outcome { #expect(error.code == UInt32(RPCError.Code.invalidArgument.rawValue)) } else { Issue.record("\(results[1])") }
            if case .error(let error) = results[2].outcome { #expect(error.code == UInt32(RPCError.Code.notFound.rawValue)) } else { Issue.record("\(results[2])") }
            if case .route(let route) = results[3].outcome { #expect(route.numberId == second.numberId) } else { Issue.record("\(results[3])") }
            batch.numbers = Array(repeating: number.e164, count: 1_001)
            await expectRPCError(.invalidArgument, field: "numbers") {
                try await api.call("BatchResolve", batch, as: LookupV1.BatchResolveResponse.self)
            }

            var byAgent = LookupV1.ListByAgentRequest()
            byAgent.agentId = day.id
            byAgent.pageSize = 1
            let firstPage = try await api.call("ListByAgent", byAgent, as: LookupV1.ListRoutesResponse.self)
            byAgent.pageToken = firstPage.nextPageToken
            let secondPage = try await api.call("ListByAgent", byAgent, as: LookupV1.ListRoutesResponse.self)
            #expect(Set((firstPage.routes + secondPage.routes).map(\.numberId)) == [number.numberId, second.numberId])
            #expect(secondPage.nextPageToken.isEmpty)

            var byOrganization = LookupV1.ListByOrganizationRequest()
            byOrganization.organizationId = "ext-" + organization
            let listed = try await api.call("ListByOrganization", byOrganization, as: LookupV1.ListRoutesResponse.self)
            #expect(listed.routes.map(\.e164) == [number.e164, second.e164].sorted())

            var assigned = LookupV1.IsAssignedRequest()
            assigned.number = second.e164
            let yes = try await api.call("IsAssigned", assigned, as: LookupV1.IsAssignedResponse.self)
            #expect(yes.assigned && yes.organizationId == organization)
            assigned.number = "+15005550006"
            #expect(try await !api.call("IsAssigned", assigned, as: LookupV1.IsAssignedResponse.self).assigned)

            for key in [LookupV1.ResolveTenantRequest.Key.tenantId(organization), .tenantId("ext-" + organization), .number(second.e164)] {
                var tenant = LookupV1.ResolveTenantRequest()
                tenant.key = key
                let answer = try await api.call("ResolveTenant", tenant, as: LookupV1.ResolveTenantResponse.self)
                #expect(answer.organization?.id == organization, "\(key)")
                #expect(answer.numberCount == 2)
                #expect(answer.agentCount == 2)
            }

            let status = try await api.status()
            #expect(status.ready)
            #expect(status.streams.map(\.stream).sorted() == ["assignment", "inventory"])
            #expect(status.streams.allSatisfy { $0.connected && $0.appliedPosition > 0 })
            #expect(status.numbers >= 2)

            // The same positions and lag as Prometheus metrics.
            let scrape = try await HTTPResponse.get(port: lookup.process.metricsPort, "/metrics")
            let metrics = PrometheusText(scrape.body)
            for stream in status.streams {
                let applied = try #require(metrics.value("events_consumer_applied_position", ["stream": stream.stream]), "\(scrape.body.prefix(3000))")
                #expect(applied >= Double(stream.appliedPosition) - 1 && applied > 0)
                #expect(metrics.value("events_consumer_lag_events", ["stream": stream.stream]) != nil)
            }
        }
    }
}

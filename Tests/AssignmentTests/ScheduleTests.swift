import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// SetSchedule / GetSchedule / DeleteSchedule: validation and round trip.
    @Suite struct ScheduleTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        /// An organisation with two agents and one assigned number.
        private func setUp() async throws -> (organization: String, agents: [AssignmentV1.Agent], number: String, api: AssignmentAPI) {
            let organization = try await fixtures.organization(policy: .many)
            let agents = [try await fixtures.agent(of: organization), try await fixtures.agent(of: organization)]
            let number = try await fixtures.allocated(1, to: organization)[0].numberId
            return (organization, agents, number, fixtures.api(.orgAdmin(organization)))
        }

        private func fullSchedule(_ number: String, agents: [AssignmentV1.Agent]) -> AssignmentV1.Schedule {
            var schedule = AssignmentV1.Schedule()
            schedule.numberId = number
            schedule.timeZone = "America/Chicago"
            schedule.rules = [
                rule([.monday, .tuesday, .wednesday, .thursday, .friday], "09:00", "17:00", .agentId(agents[0].id)),
                rule([.friday, .saturday], "22:00", "02:00", .agentId(agents[1].id)),
                rule([.sunday], "00:00", "24:00", .fallback(true)),
            ]
            var holiday = AssignmentV1.DateOverride()
            holiday.date = "2030-12-25"
            holiday.target = target(.fallback(true))
            var halfDay = AssignmentV1.DateOverride()
            halfDay.date = "2030-12-24"
            halfDay.start = "12:00"
            halfDay.end = "18:00"
            halfDay.target = target(.agentId(agents[1].id))
            schedule.overrides = [holiday, halfDay]
            schedule.defaultAgentId = agents[0].id
            schedule.fallbackDestination = "+16502530000"
            return schedule
        }

        @Test func setGetAndDeleteRoundTrip() async throws {
            let (organization, agents, number, api) = try await setUp()
            let schedule = fullSchedule(number, agents: agents)
            let set = try await api.setSchedule(schedule)
            #expect(set.consistencyToken > 0)
            let stored = try #require(set.schedule)
            #expect(stored.version > 0)

            let got = try #require(try await api.getSchedule(number).schedule)
            #expect(got.numberId == number)
            #expect(got.timeZone == "America/Chicago")
            #expect(got.rules == schedule.rules)
            #expect(got.overrides == schedule.overrides)
            #expect(got.defaultAgentId == agents[0].id)
            #expect(got.fallbackDestination == "+16502530000")
            #expect(got.version == stored.version)
            // Members read schedules too.
            #expect(try await fixtures.api(.member(organization)).getSchedule(number).schedule?.rules == schedule.rules)
            #expect(try await api.listAllNumbers().entry(number)?.hasSchedule == true)

            // Replacing bumps the version; a SIP fallback is accepted.
            var replacement = simpleSchedule(number, agent: agents[1].id)
            replacement.fallbackDestination = "sip:+16502530000@sip.example.com"
            let replaced = try #require(try await api.setSchedule(replacement).schedule)
            #expect(replaced.version > stored.version)
            let gotAgain = try #require(try await api.getSchedule(number).schedule)
            #expect(gotAgain.rules == replacement.rules)
            #expect(gotAgain.overrides.isEmpty)
            #expect(gotAgain.defaultAgentId.isEmpty)
            #expect(gotAgain.fallbackDestination == replacement.fallbackDestination)

            let deleted = try await api.deleteSchedule(number)
            #expect(deleted.consistencyToken > 0)
            switch try await outcome({ try await api.getSchedule(number) }) {
            case .success(let after): #expect(after.schedule == nil || after.schedule?.rules.isEmpty == true, "deleted: \(after)")
            case .failure(let error): #expect(error.code == .notFound, "\(error)")
            }
            #expect(try await api.listAllNumbers().entry(number)?.hasSchedule == false)

            let actions = try await api.historyAll(number: number).map(\.action)
            #expect(actions.filter { $0 == "schedule_set" }.count == 2, "\(actions)")
            #expect(actions.contains("schedule_deleted"), "\(actions)")
        }

        @Test func deletingAnAgentTakesItOutOfSchedules() async throws {
            let (_, agents, number, api) = try await setUp()
            _ = try await api.setSchedule(fullSchedule(number, agents: agents))
            _ = try await fixtures.admin.deleteAgent(agents[1].id)
            let schedule = try #require(try await api.getSchedule(number).schedule)
            let targets = schedule.rules.compactMap(\.target?.target) + schedule.overrides.compactMap(\.target?.target)
            #expect(!targets.contains(.agentId(agents[1].id)), "\(schedule)")
            #expect(schedule.defaultAgentId == agents[0].id)
            // What is left is still a valid schedule: it can be set again as it is.
            _ = try await api.setSchedule(schedule)
        }

        @Test func aReleasedNumberLosesItsSchedule() async throws {
            let (_, agents, number, api) = try await setUp()
            _ = try await api.setSchedule(fullSchedule(number, agents: agents))
            _ = try await api.release(number)
            await expectRPCError(.notFound) { try await api.getSchedule(number) }
            let next = try await fixtures.organization()
            let back = try await eventually(within: .seconds(releaseCooldownSeconds + 8)) {
                (try? await fixtures.admin.allocate(ids: [number], organization: next)) != nil
            }
            try #require(back)
            let entry = try #require(try await fixtures.api(.orgAdmin(next)).listAllNumbers().entry(number))
            #expect(!entry.hasSchedule)
            switch try await outcome({ try await fixtures.api(.orgAdmin(next)).getSchedule(number) }) {
            case .success(let response): #expect(response.schedule == nil || response.schedule?.rules.isEmpty == true, "\(response)")
            case .failure(let error): #expect(error.code == .notFound, "\(error)")
            }
        }

        @Test func emptyTimeZoneMeansTheOrganisations() async throws {
            let (_, agents, number, api) = try await setUp()
            var schedule = simpleSchedule(number, agent: agents[0].id)
            schedule.timeZone = ""
            let stored = try #require(try await api.setSchedule(schedule).schedule)
            #expect(stored.timeZone.isEmpty || stored.timeZone == "America/Los_Angeles", "\(stored.timeZone)")
        }

        /// One invalid change per case; each is INVALID_ARGUMENT naming the field.
        @Test(arguments: [
            "time zone", "start hour", "end minute", "no days", "unspecified day", "bad fallback",
            "fallback sip without host", "override date", "override time", "override start only", "no target",
        ])
        func invalidSchedulesAreRefused(problem: String) async throws {
            let (_, agents, number, api) = try await setUp()
            var schedule = fullSchedule(number, agents: agents)
            var field: String?
            switch problem {
            case "time zone":
                schedule.timeZone = "Mars/Olympus"
                field = "time_zone"
            case "start hour":
                schedule.rules[0].start = "25:00"
                field = "start"
            case "end minute":
                schedule.rules[0].end = "17:60"
                field = "end"
            case "no days":
                schedule.rules[0].days = []
                field = "days"
            case "unspecified day":
                schedule.rules[0].days = [.unspecified]
                field = "days"
            case "bad fallback":
                schedule.fallbackDestination = "call-the-office"
                field = "fallback_destination"
            case "fallback sip without host":
                schedule.fallbackDestination = "sip:"
                field = "fallback_destination"
            case "override date":
                schedule.overrides[0].date = "2030-02-30"
                field = "date"
            case "override time":
                schedule.overrides[1].start = "9am"
                field = "start"
            case "override start only":
                schedule.overrides[1].end = ""
                field = "end"
            default:
                schedule.rules[0].target = nil
                field = "target"
            }
            await expectRPCError(.invalidArgument, field: field, problem) { try await api.setSchedule(schedule) }
            await expectNoSchedule(api, number)
        }

        @Test func agentsMustBelongToTheNumbersOrganisation() async throws {
            let (_, agents, number, api) = try await setUp()
            let other = try await fixtures.organization()
            let foreign = try await fixtures.agent(of: other)
            let codes: Set<RPCError.Code> = [.invalidArgument, .failedPrecondition, .notFound]

            var inRule = fullSchedule(number, agents: agents)
            inRule.rules[1].target = target(.agentId(foreign.id))
            await expectRPCError(codes, "agent of another organisation in a rule") { try await api.setSchedule(inRule) }

            var asDefault = fullSchedule(number, agents: agents)
            asDefault.defaultAgentId = foreign.id
            await expectRPCError(codes, "agent of another organisation as default") { try await api.setSchedule(asDefault) }

            var inOverride = fullSchedule(number, agents: agents)
            inOverride.overrides[1].target = target(.agentId(foreign.id))
            await expectRPCError(codes, "agent of another organisation in an override") { try await api.setSchedule(inOverride) }

            var unknown = fullSchedule(number, agents: agents)
            unknown.defaultAgentId = "agent-unknown-" + Random.token(6)
            await expectRPCError(codes, "unknown agent") { try await api.setSchedule(unknown) }
            await expectNoSchedule(api, number)
        }

        @Test func scheduleMethodsOnForeignOrPoolNumbersAreNotFound() async throws {
            let (_, agents, number, api) = try await setUp()
            _ = try await api.setSchedule(simpleSchedule(number, agent: agents[0].id))
            let other = try await fixtures.organization()
            let otherAPI = fixtures.api(.orgAdmin(other))
            await expectRPCError(.notFound) { try await otherAPI.getSchedule(number) }
            await expectRPCError(.notFound) { try await otherAPI.deleteSchedule(number) }
            await expectRPCError(.notFound) { try await otherAPI.setSchedule(simpleSchedule(number, agent: agents[0].id)) }
            #expect(try await api.getSchedule(number).schedule?.rules.count == 1)

            let (_, pool) = try await fixtures.pool(1)
            await expectRPCError([.notFound, .failedPrecondition]) {
                try await api.setSchedule(simpleSchedule(pool[0].numberId, agent: agents[0].id))
            }
        }

        private func expectNoSchedule(_ api: AssignmentAPI, _ number: String,
                                      sourceLocation: SourceLocation = #_sourceLocation) async {
            switch try? await outcome({ try await api.getSchedule(number) }) {
            case .success(let response):
                #expect(response.schedule == nil || response.schedule?.rules.isEmpty == true,
                        "a refused schedule is not stored: \(response)", sourceLocation: sourceLocation)
            case .failure(let error):
                #expect(error.code == .notFound, "\(error)", sourceLocation: sourceLocation)
            case nil:
                Issue.record("GetSchedule failed", sourceLocation: sourceLocation)
            }
        }
    }
}

func target(_ target: AssignmentV1.RouteTarget.Target) -> AssignmentV1.RouteTarget {
    var result = AssignmentV1.RouteTarget()
    result.target = target
    return result
}

func rule(_ days: [AssignmentV1.Weekday], _ start: String, _ end: String,
          _ to: AssignmentV1.RouteTarget.Target) -> AssignmentV1.WeeklyRule {
    var rule = AssignmentV1.WeeklyRule()
    rule.days = days
    rule.start = start
    rule.end = end
    rule.target = target(to)
    return rule
}

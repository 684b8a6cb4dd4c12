import ArgumentParser
import Protos
import RPC

/// `phonectl schedule …`: time-based routing of a number.
struct Schedules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Time-based routing of a number: which agent takes calls when.",
        discussion: """
            Precedence: a matching date override, then the first matching weekly rule, then the default agent, \
            then the fallback destination.
            """,
        subcommands: [SetSchedule.self, GetSchedule.self, DeleteSchedule.self])

    struct SetSchedule: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Replace a number's schedule, from a JSON file or from flags.",
            discussion: """
                The JSON file has the form `schedule get --json` prints, e.g. \
                {"time_zone": "Europe/London", "rules": [{"days": ["mon-fri"], "start": "09:00", "end": "17:00", \
                "target": {"agent_id": "agent-7"}}], "overrides": [{"date": "2025-12-25", "target": {"fallback": true}}], \
                "default_agent_id": "", "fallback_destination": "+442079460000"}. Flags add to the file's rules and \
                overrides and replace its other fields. \(AssignmentViews.writers)
                """)

        @OptionGroup var number: NumberArgument
        @Option(help: ArgumentHelp("A schedule in JSON; - reads stdin.", valueName: "file")) var file: String?
        @Option(help: "IANA zone (default: the organisation's).") var timeZone: String?
        @Option(help: ArgumentHelp("A weekly rule \"DAYS HH:MM-HH:MM AGENT|fallback\", e.g. \"mon-fri 09:00-17:00 agent-7\" (repeatable).",
                                   valueName: "rule"))
        var rule: [String] = []
        @Option(help: ArgumentHelp("A date override \"YYYY-MM-DD [HH:MM-HH:MM] AGENT|fallback\" (repeatable).", valueName: "override"))
        var override: [String] = []
        @Option(help: "Agent taking calls no rule covers.") var defaultAgent: String?
        @Option(help: "E.164 number or SIP URI taking calls no agent takes.") var fallbackDestination: String?
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var schedule = try file.map { path throws(RPCError) in try ScheduleSpec.fromJSON(try InputFile.data(path), field: "--file") }
                ?? AssignmentV1.Schedule()
            schedule.numberId = try await number.id(in: session)
            if let timeZone { schedule.timeZone = timeZone }
            if let defaultAgent { schedule.defaultAgentId = defaultAgent }
            if let fallbackDestination { schedule.fallbackDestination = fallbackDestination }
            for text in rule { schedule.rules.append(try ScheduleSpec.rule(text)) }
            for text in override { schedule.overrides.append(try ScheduleSpec.override(text)) }
            var request = AssignmentV1.SetScheduleRequest()
            request.schedule = schedule
            let response = try await session.call(.assignment, "SetSchedule", request, as: AssignmentV1.ScheduleResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { AssignmentViews.schedule(response.schedule) + "\n" + Format.token(response.consistencyToken) }
        }
    }

    struct GetSchedule: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Show a number's schedule.",
            discussion: AssignmentViews.readers)

        @OptionGroup var number: NumberArgument
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.GetScheduleRequest()
            request.numberId = try await number.id(in: session)
            let response = try await session.call(.assignment, "GetSchedule", request, as: AssignmentV1.ScheduleResponse.self, idempotent: true)
            options.emit(response) { AssignmentViews.schedule(response.schedule) }
        }
    }

    struct DeleteSchedule: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove a number's schedule: its connected agent takes every call again.",
            discussion: AssignmentViews.writers)

        @OptionGroup var number: NumberArgument
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.DeleteScheduleRequest()
            request.numberId = try await number.id(in: session)
            let response = try await session.call(.assignment, "DeleteSchedule", request, as: AssignmentV1.MutationResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { "deleted the schedule of \(number.number)\n" + Format.token(response.consistencyToken) }
        }
    }
}

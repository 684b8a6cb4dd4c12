import Foundation
import Protos
import RPC

/// The short text forms of schedules on the command line, and the JSON file
/// form (the one `schedule get --json` prints, so it can be edited and set).
///   rule:     "mon-fri 09:00-17:00 agent-7", "sat,sun 00:00-24:00 fallback"
///   override: "2025-12-25 fallback", "2025-12-24 12:00-24:00 agent-7"
enum ScheduleSpec {
    private static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    static func rule(_ text: String) throws(RPCError) -> AssignmentV1.WeeklyRule {
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 3 else { throw RPCError.local("'\(text)' is not DAYS HH:MM-HH:MM AGENT|fallback", field: "--rule") }
        var rule = AssignmentV1.WeeklyRule()
        rule.days = try days(parts[0], field: "--rule")
        (rule.start, rule.end) = try window(parts[1], field: "--rule")
        rule.target = target(parts[2])
        return rule
    }

    static func override(_ text: String) throws(RPCError) -> AssignmentV1.DateOverride {
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            throw RPCError.local("'\(text)' is not YYYY-MM-DD [HH:MM-HH:MM] AGENT|fallback", field: "--override")
        }
        var override = AssignmentV1.DateOverride()
        override.date = parts[0]
        if parts.count == 3 { (override.start, override.end) = try window(parts[1], field: "--override") }
        override.target = target(parts[parts.count - 1])
        return override
    }

    /// "mon-fri", "sat,sun", "monday" → weekdays.
    static func days(_ text: String, field: String) throws(RPCError) -> [AssignmentV1.Weekday] {
        var result: [AssignmentV1.Weekday] = []
        for part in text.lowercased().split(separator: ",") {
            let bounds = try part.split(separator: "-").map { name throws(RPCError) in try dayIndex(String(name), field: field) }
            guard bounds.count == 1 || (bounds.count == 2 && bounds[0] <= bounds[1]) else {
                throw RPCError.local("'\(part)' is not a day or a range such as mon-fri", field: field)
            }
            result += (bounds[0]...bounds[bounds.count - 1]).map { AssignmentV1.Weekday(rawValue: Int32($0 + 1)) }
        }
        return result
    }

    static func days(_ days: [AssignmentV1.Weekday]) -> String {
        days.map { dayNames.indices.contains(Int($0.rawValue) - 1) ? dayNames[Int($0.rawValue) - 1] : "?" }.joined(separator: ",")
    }

    static func target(_ text: String) -> AssignmentV1.RouteTarget {
        var target = AssignmentV1.RouteTarget()
        target.target = text == "fallback" ? .fallback(true) : .agentId(text)
        return target
    }

    static func target(_ target: AssignmentV1.RouteTarget?) -> String {
        switch target?.target {
        case .agentId(let agent): agent
        case .fallback: "fallback"
        case nil: "-"
        }
    }

    private static func dayIndex(_ name: String, field: String) throws(RPCError) -> Int {
        guard name.count >= 3, let index = dayNames.firstIndex(where: { name.hasPrefix($0) }) else {
            throw RPCError.local("'\(name)' is not a weekday (mon … sun)", field: field)
        }
        return index
    }

    private static func window(_ text: String, field: String) throws(RPCError) -> (String, String) {
        let bounds = text.split(separator: "-").map(String.init)
        guard bounds.count == 2 else { throw RPCError.local("'\(text)' is not HH:MM-HH:MM", field: field) }
        return (bounds[0], bounds[1])
    }

    /// A schedule from JSON: a Schedule object, or a ScheduleResponse holding one.
    static func fromJSON(_ data: Data, field: String) throws(RPCError) -> AssignmentV1.Schedule {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let file: ScheduleFile
        do {
            let wrapped = try decoder.decode(ScheduleFileWrapper.self, from: data)
            file = try wrapped.schedule ?? decoder.decode(ScheduleFile.self, from: data)
        } catch {
            throw RPCError.local("is not a schedule in JSON: \(error)", field: field)
        }
        var schedule = AssignmentV1.Schedule()
        schedule.timeZone = file.timeZone ?? ""
        schedule.defaultAgentId = file.defaultAgentId ?? ""
        schedule.fallbackDestination = file.fallbackDestination ?? ""
        for entry in file.rules ?? [] {
            var rule = AssignmentV1.WeeklyRule()
            for name in entry.days { rule.days += try days(name, field: field) }
            (rule.start, rule.end) = (entry.start, entry.end)
            rule.target = entry.target.message
            schedule.rules.append(rule)
        }
        for entry in file.overrides ?? [] {
            var override = AssignmentV1.DateOverride()
            (override.date, override.start, override.end) = (entry.date, entry.start ?? "", entry.end ?? "")
            override.target = entry.target.message
            schedule.overrides.append(override)
        }
        return schedule
    }

    private struct ScheduleFileWrapper: Decodable { var schedule: ScheduleFile? }

    private struct ScheduleFile: Decodable {
        var timeZone: String?
        var rules: [Rule]?
        var overrides: [Override]?
        var defaultAgentId: String?
        var fallbackDestination: String?
    }

    private struct Rule: Decodable {
        var days: [String]
        var start: String
        var end: String
        var target: Target
    }

    private struct Override: Decodable {
        var date: String
        var start: String?
        var end: String?
        var target: Target
    }

    private struct Target: Decodable {
        var agentId: String?
        var fallback: Bool?

        var message: AssignmentV1.RouteTarget {
            var target = AssignmentV1.RouteTarget()
            if let agentId { target.target = .agentId(agentId) } else if fallback == true { target.target = .fallback(true) }
            return target
        }
    }
}

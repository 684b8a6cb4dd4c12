import Foundation
import PhoneNumbers
import Protos
import RPC

/// Checks a time-based routing schedule; every problem names its field.
/// Precedence (documented in the proto): a matching date override, then the
/// first matching weekly rule in list order, then the default agent, then
/// the fallback destination — so overlapping rules are allowed and resolved
/// by order.
enum ScheduleValidator {
    static let maximumRules = 100
    static let maximumOverrides = 400

    /// Validates `schedule`; `agents` are the ids of the organisation's agents.
    static func validate(_ schedule: AssignmentV1.Schedule, agents: Set<String>) throws(RPCError) {
        _ = try TimeZones.validate(schedule.timeZone, field: "schedule.time_zone", required: false)
        guard schedule.rules.count <= maximumRules else {
            throw RPCError.invalidArgument(field: "schedule.rules", "at most \(maximumRules) rules")
        }
        guard schedule.overrides.count <= maximumOverrides else {
            throw RPCError.invalidArgument(field: "schedule.overrides", "at most \(maximumOverrides) overrides")
        }
        var usesFallback = false
        for (index, rule) in schedule.rules.enumerated() {
            let field = "schedule.rules[\(index)]"
            guard !rule.days.isEmpty else { throw RPCError.invalidArgument(field: "\(field).days", "name at least one day") }
            for day in rule.days where !(1...7).contains(day.rawValue) {
                throw RPCError.invalidArgument(field: "\(field).days", "holds an unknown weekday")
            }
            let start = try minutes(rule.start, field: "\(field).start", allowEndOfDay: false)
            let end = try minutes(rule.end, field: "\(field).end", allowEndOfDay: true)
            guard start != end else { throw RPCError.invalidArgument(field: "\(field).end", "must differ from start") }
            usesFallback = try checkTarget(rule.target, field: "\(field).target", agents: agents) || usesFallback
        }
        for (index, override) in schedule.overrides.enumerated() {
            let field = "schedule.overrides[\(index)]"
            guard date(override.date) else {
                throw RPCError.invalidArgument(field: "\(field).date", "must be a date YYYY-MM-DD")
            }
            if !(override.start.isEmpty && override.end.isEmpty) {
                let start = try minutes(override.start, field: "\(field).start", allowEndOfDay: false)
                let end = try minutes(override.end, field: "\(field).end", allowEndOfDay: true)
                guard start < end else { throw RPCError.invalidArgument(field: "\(field).end", "must be after start") }
            }
            usesFallback = try checkTarget(override.target, field: "\(field).target", agents: agents) || usesFallback
        }
        if !schedule.defaultAgentId.isEmpty && !agents.contains(schedule.defaultAgentId) {
            throw RPCError.invalidArgument(field: "schedule.default_agent_id", "is not an agent of the number's organization")
        }
        try checkDestination(schedule.fallbackDestination)
        if usesFallback && schedule.fallbackDestination.isEmpty {
            throw RPCError.invalidArgument(field: "schedule.fallback_destination", "is required when a rule routes to the fallback")
        }
    }

    /// Minutes since midnight of "HH:MM" (24:00 allowed for ends).
    static func minutes(_ text: String, field: String, allowEndOfDay: Bool) throws(RPCError) -> Int {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...59).contains(minutes),
              (0...23).contains(hours) || (allowEndOfDay && hours == 24 && minutes == 0) else {
            throw RPCError.invalidArgument(field: field, "must be a time HH:MM from 00:00 to \(allowEndOfDay ? "24:00" : "23:59")")
        }
        return hours * 60 + minutes
    }

    static func date(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return false }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        let calendar = Calendar(identifier: .gregorian)
        return (1...12).contains(month) && calendar.date(from: components).map {
            calendar.component(.day, from: $0) == day
        } ?? false
    }

    /// Returns whether the target is the fallback.
    private static func checkTarget(_ target: AssignmentV1.RouteTarget?, field: String, agents: Set<String>) throws(RPCError) -> Bool {
        switch target?.target {
        case .agentId(let agent):
            guard agents.contains(agent) else {
                throw RPCError.invalidArgument(field: "\(field).agent_id", "is not an agent of the number's organization")
            }
            return false
        case .fallback(true):
            return true
        default:
            throw RPCError.invalidArgument(field: field, "set agent_id or fallback")
        }
    }

    private static func checkDestination(_ destination: String) throws(RPCError) {
        guard !destination.isEmpty else { return }
        let field = "schedule.fallback_destination"
        let lower = destination.lowercased()
        if lower.hasPrefix("sip:") || lower.hasPrefix("sips:") {
            let rest = destination[destination.index(after: destination.firstIndex(of: ":")!)...]
            guard destination.utf8.count <= 256, rest.contains("@") || rest.contains("."),
                  !rest.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
                throw RPCError.invalidArgument(field: field, "is not a SIP URI such as sip:frontdesk@pbx.example.com")
            }
            return
        }
        let number: PhoneNumber
        do {
            number = try PhoneNumber(parsing: destination)
        } catch {
            throw RPCError.invalidArgument(field: field, "is neither a SIP URI nor a valid E.164 number: \(error.description)")
        }
        guard number.e164 == destination else {
            throw RPCError.invalidArgument(field: field, "write the number in E.164 form: \(number.e164)")
        }
    }
}

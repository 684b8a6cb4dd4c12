public import Foundation
import Synchronization
public import Protos

/// Who takes a call on a number at a given moment.
public enum RouteDecision: Sendable, Hashable {
    case agent(String)
    /// The schedule's fallback destination (E.164 number or SIP URI).
    case fallback(String)
    /// Nothing in the schedule applies and there is no default or fallback.
    case unrouted
}

/// Evaluates a time-based routing schedule at an instant, on the wall clock of
/// the schedule's time zone (or the organisation's), so DST changes move the
/// windows with local time. Precedence: a matching date override, then the
/// first matching weekly rule in list order, then the default agent, then the
/// fallback destination.
public struct ScheduleEvaluator: Sendable {
    private let schedule: AssignmentV1.Schedule
    private let calendar: Calendar
    /// The zone the schedule is evaluated in.
    public var timeZone: String { calendar.timeZone.identifier }

    /// nil when neither the schedule's nor the organisation's zone is a known zone.
    public init?(_ schedule: AssignmentV1.Schedule, organizationTimeZone: String) {
        let identifier = schedule.timeZone.isEmpty ? organizationTimeZone : schedule.timeZone
        guard let calendar = Self.calendar(in: identifier) else { return nil }
        self.schedule = schedule
        self.calendar = calendar
    }

    /// One calendar per zone, shared: schedules are many, zones few, and each
    /// calendar is a sizeable object.
    private static let calendars = Mutex<[String: Calendar]>([:])

    private static func calendar(in identifier: String) -> Calendar? {
        if let cached = calendars.withLock({ $0[identifier] }) { return cached }
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendars.withLock { $0[identifier] = calendar }
        return calendar
    }

    /// Which part of the schedule decided.
    public enum Source: Sendable, Hashable {
        case override, rule, defaultAgent, fallback, nothing
    }

    public func decide(at instant: Date) -> RouteDecision {
        evaluate(at: instant).decision
    }

    public func evaluate(at instant: Date) -> (decision: RouteDecision, source: Source) {
        let local = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: instant)
        let minute = (local.hour ?? 0) * 60 + (local.minute ?? 0)
        let date = String(format: "%04d-%02d-%02d", local.year ?? 0, local.month ?? 0, local.day ?? 0)
        // Foundation counts Sunday as 1; the schedule counts Monday as 1.
        let weekday = ((local.weekday ?? 1) + 5) % 7 + 1

        for override in schedule.overrides where override.date == date {
            if override.start.isEmpty && override.end.isEmpty { return (target(override.target), .override) }
            if let start = Self.minutes(override.start), let end = Self.minutes(override.end), start <= minute, minute < end {
                return (target(override.target), .override)
            }
        }
        for rule in schedule.rules where Self.matches(rule, weekday: weekday, minute: minute) {
            return (target(rule.target), .rule)
        }
        if !schedule.defaultAgentId.isEmpty { return (.agent(schedule.defaultAgentId), .defaultAgent) }
        if !schedule.fallbackDestination.isEmpty { return (.fallback(schedule.fallbackDestination), .fallback) }
        return (.unrouted, .nothing)
    }

    /// A window with end before start runs past midnight into the next day.
    static func matches(_ rule: AssignmentV1.WeeklyRule, weekday: Int, minute: Int) -> Bool {
        guard let start = minutes(rule.start), let end = minutes(rule.end) else { return false }
        let days = Set(rule.days.map { Int($0.rawValue) })
        if start < end { return days.contains(weekday) && start <= minute && minute < end }
        let previous = (weekday + 5) % 7 + 1
        return (days.contains(weekday) && minute >= start) || (days.contains(previous) && minute < end)
    }

    private func target(_ target: AssignmentV1.RouteTarget?) -> RouteDecision {
        switch target?.target {
        case .agentId(let agent): return .agent(agent)
        case .fallback(true) where !schedule.fallbackDestination.isEmpty: return .fallback(schedule.fallbackDestination)
        default: return .unrouted
        }
    }

    /// Minutes since midnight of "HH:MM" ("24:00" is 1440); nil if malformed.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...24).contains(hours), (0...59).contains(minutes), hours * 60 + minutes <= 1440 else { return nil }
        return hours * 60 + minutes
    }
}

import Foundation
import LookupService
import Protos
import Testing

private func instant(_ iso: String) -> Date {
    let formatter = ISO8601DateFormatter()
    return formatter.date(from: iso)!
}

private func rule(_ days: [AssignmentV1.Weekday], _ start: String, _ end: String, agent: String) -> AssignmentV1.WeeklyRule {
    var rule = AssignmentV1.WeeklyRule()
    rule.days = days
    rule.start = start
    rule.end = end
    rule.target = .with { $0.target = .agentId(agent) }
    return rule
}

private let weekdays: [AssignmentV1.Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday]

/// Business hours in New York with a night shift, a default agent and a holiday.
private func officeSchedule(timeZone: String = "") -> AssignmentV1.Schedule {
    var schedule = AssignmentV1.Schedule()
    schedule.timeZone = timeZone
    schedule.rules = [
        rule(weekdays, "09:00", "17:00", agent: "day"),
        rule([.friday], "22:00", "06:00", agent: "night"),
    ]
    var holiday = AssignmentV1.DateOverride()
    holiday.date = "2026-12-25"
    holiday.target = .with { $0.target = .fallback(true) }
    schedule.overrides = [holiday]
    schedule.defaultAgentId = "default"
    schedule.fallbackDestination = "+14155550100"
    return schedule
}

@Suite struct ScheduleEvaluatorTests {
    let evaluator = ScheduleEvaluator(officeSchedule(), organizationTimeZone: "America/New_York")!

    @Test func businessHoursFollowLocalTimeAcrossTheDSTChange() {
        // Friday 6 March 2026 is EST (UTC-5); Monday 9 March is EDT (UTC-4).
        #expect(evaluator.decide(at: instant("2026-03-06T14:30:00Z")) == .agent("day"))      // 09:30 EST
        #expect(evaluator.decide(at: instant("2026-03-06T13:30:00Z")) == .agent("default"))  // 08:30 EST
        #expect(evaluator.decide(at: instant("2026-03-09T13:30:00Z")) == .agent("day"))      // 09:30 EDT
        #expect(evaluator.decide(at: instant("2026-03-09T12:30:00Z")) == .agent("default"))  // 08:30 EDT
        #expect(evaluator.decide(at: instant("2026-03-09T20:59:00Z")) == .agent("day"))      // 16:59 EDT
        #expect(evaluator.decide(at: instant("2026-03-09T21:00:00Z")) == .agent("default"))  // 17:00 EDT: end is exclusive
    }

    @Test func overnightWindowRunsIntoTheNextDay() {
        #expect(evaluator.decide(at: instant("2026-03-07T04:00:00Z")) == .agent("night"))    // Fri 23:00 EST
        #expect(evaluator.decide(at: instant("2026-03-07T08:00:00Z")) == .agent("night"))    // Sat 03:00 EST
        #expect(evaluator.decide(at: instant("2026-03-07T11:00:00Z")) == .agent("default"))  // Sat 06:00 EST
        #expect(evaluator.decide(at: instant("2026-03-06T08:00:00Z")) == .agent("default"))  // Fri 03:00: Thursday has no night shift
    }

    @Test func dateOverrideWinsOverRules() {
        #expect(evaluator.decide(at: instant("2026-12-25T15:00:00Z")) == .fallback("+14155550100")) // Fri 10:00 EST, holiday
        #expect(evaluator.decide(at: instant("2026-12-24T15:00:00Z")) == .agent("day"))
    }

    @Test func scheduleZoneOverridesTheOrganisations() {
        let london = ScheduleEvaluator(officeSchedule(timeZone: "Europe/London"), organizationTimeZone: "America/New_York")!
        #expect(london.decide(at: instant("2026-03-06T09:30:00Z")) == .agent("day"))         // 09:30 GMT
        #expect(evaluator.decide(at: instant("2026-03-06T09:30:00Z")) == .agent("default"))  // 04:30 EST
    }

    @Test func firstMatchingRuleWinsAndFallbackComesLast() {
        var schedule = AssignmentV1.Schedule()
        schedule.rules = [rule(weekdays, "09:00", "12:00", agent: "first"), rule(weekdays, "10:00", "24:00", agent: "second")]
        schedule.fallbackDestination = "sip:desk@pbx.example.com"
        let evaluator = ScheduleEvaluator(schedule, organizationTimeZone: "UTC")!
        #expect(evaluator.decide(at: instant("2026-03-09T11:00:00Z")) == .agent("first"))
        #expect(evaluator.decide(at: instant("2026-03-09T23:59:00Z")) == .agent("second"))
        #expect(evaluator.decide(at: instant("2026-03-08T11:00:00Z")) == .fallback("sip:desk@pbx.example.com")) // Sunday
        #expect(ScheduleEvaluator(AssignmentV1.Schedule(), organizationTimeZone: "UTC")!.decide(at: Date()) == .unrouted)
    }

    @Test func unknownZoneIsRefused() {
        #expect(ScheduleEvaluator(AssignmentV1.Schedule(), organizationTimeZone: "Mars/Olympus") == nil)
    }
}

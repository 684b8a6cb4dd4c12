import Protos

/// How assignment's answers are shown to people.
enum AssignmentViews {
    static let directoryWriters = "Platform admins and services with directory:write."
    static let writers = "Platform admins; org owners and admins for their own organisation (--org may then be omitted)."
    static let readers = "Platform admins, services with assignment:read; org owners, admins and members for their own organisation."

    static func pool(_ numbers: [AssignmentV1.PoolNumber]) -> String {
        var table = Table("e164", "country", "region", "type", "provider", "capabilities", "monthly", "id")
        for number in numbers {
            table.add(number.e164, number.country, Format.text(number.region), Format.text(number.numberType), number.provider,
                      Format.capabilities(voice: number.voice, sms: number.sms, mms: number.mms, fax: number.fax),
                      Format.money(micros: number.monthlyCostMicros, currency: number.currency), number.numberId)
        }
        return table.render(empty: "(no numbers)")
    }

    static func assigned(_ numbers: [AssignmentV1.AssignedNumber]) -> String {
        var table = Table("e164", "organization", "status", "agent", "schedule", "owned", "assigned at", "id")
        for entry in numbers {
            let agent = entry.agentId.isEmpty ? "-" : entry.agentName.isEmpty ? entry.agentId : "\(entry.agentId) (\(entry.agentName))"
            table.add(entry.number?.e164 ?? "-", entry.organizationId, Format.name(entry.status), agent,
                      Format.yesNo(entry.hasSchedule), Format.yesNo(entry.ownedByOrganization),
                      Format.time(micros: entry.assignedAtMicros), entry.number?.numberId ?? "-")
        }
        return table.render(empty: "(no numbers)")
    }

    static func hold(_ response: AssignmentV1.HoldResponse) -> String {
        guard let hold = response.hold else { return Format.token(response.consistencyToken) }
        return Fields([("hold", hold.id), ("organization", hold.organizationId), ("expires", Format.time(micros: hold.expiresAtMicros))]).render()
            + "\n\n" + pool(hold.numbers) + "\n" + Format.token(response.consistencyToken)
    }

    static func organization(_ organization: AssignmentV1.Organization?) -> String {
        guard let organization else { return "(no organization)" }
        return Fields([("id", organization.id), ("slug", Format.text(organization.slug)), ("external id", Format.text(organization.externalId)),
                       ("name", organization.name), ("time zone", organization.timeZone),
                       ("numbers per agent", Format.name(organization.numbersPerAgent))]).render()
    }

    static func agents(_ agents: [AssignmentV1.Agent]) -> String {
        var table = Table("id", "organization", "name", "assistant id")
        for agent in agents { table.add(agent.id, agent.organizationId, agent.name, Format.text(agent.externalAssistantId)) }
        return table.render(empty: "(no agents)")
    }

    static func history(_ entries: [AssignmentV1.HistoryEntry]) -> String {
        var table = Table("at", "action", "actor", "organization", "agent", "number id", "detail")
        for entry in entries {
            table.add(Format.time(micros: entry.atMicros), entry.action, entry.actor, Format.text(entry.organizationId),
                      Format.text(entry.agentId), Format.text(entry.numberId), Format.text(entry.detail))
        }
        return table.render(empty: "(no history)")
    }

    static func schedule(_ schedule: AssignmentV1.Schedule?) -> String {
        guard let schedule else { return "(no schedule)" }
        var fields = Fields([("number id", schedule.numberId),
                             ("time zone", schedule.timeZone.isEmpty ? "(the organization's)" : schedule.timeZone),
                             ("default agent", Format.text(schedule.defaultAgentId)),
                             ("fallback", Format.text(schedule.fallbackDestination)), ("version", String(schedule.version))])
        for (index, rule) in schedule.rules.enumerated() {
            fields.add("rule \(index + 1)", "\(ScheduleSpec.days(rule.days)) \(rule.start)-\(rule.end) → \(ScheduleSpec.target(rule.target))")
        }
        for override in schedule.overrides {
            let window = override.start.isEmpty && override.end.isEmpty ? "all day" : "\(override.start)-\(override.end)"
            fields.add("override", "\(override.date) \(window) → \(ScheduleSpec.target(override.target))")
        }
        return fields.render()
    }
}

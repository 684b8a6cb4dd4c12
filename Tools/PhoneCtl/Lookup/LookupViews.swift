import Protos

/// How lookup's answers are shown to people.
enum LookupViews {
    static let callers = "Platform admins and services with lookup:read; org users for their own organisation's numbers."

    static func route(_ route: LookupV1.Route?) -> String {
        guard let route else { return "(no route)" }
        var fields = Fields([("number", route.e164), ("id", route.numberId), ("country", route.country),
                             ("region", Format.text(route.region)), ("type", Format.text(route.numberType))])
        if let organization = route.organization {
            fields.add("organization", "\(organization.id) (\(organization.name), \(organization.timeZone))")
        }
        fields.add("destination", destination(route))
        fields.add("reason", Format.name(route.reason))
        fields.add("connected agent", Format.text(route.connectedAgentId))
        fields.add("schedule", route.hasSchedule ? "yes, in \(route.timeZone)" : "no")
        fields.add("provider", route.provider)
        fields.add("capabilities", route.capabilities.map { Format.capabilities(voice: $0.voice, sms: $0.sms, mms: $0.mms, fax: $0.fax) } ?? "-")
        fields.add("owned by organization", Format.yesNo(route.ownedByOrganization))
        fields.add("credentials", Format.yesNo(route.hasCredentials))
        for key in route.credentials.keys.sorted() { fields.add("  " + key, route.credentials[key] ?? "") }
        return fields.render()
    }

    static func routes(_ routes: [LookupV1.Route]) -> String {
        var table = Table("e164", "organization", "destination", "reason", "provider")
        for route in routes {
            table.add(route.e164, route.organization?.id ?? "-", destination(route), Format.name(route.reason), route.provider)
        }
        return table.render(empty: "(no numbers)")
    }

    /// "agent agent-7 (Front desk)", "fallback +44…", "none".
    static func destination(_ route: LookupV1.Route) -> String {
        switch route.destination {
        case .agent: "agent \(route.agent?.id ?? "?")" + (route.agent.map { $0.name.isEmpty ? "" : " (\($0.name))" } ?? "")
        case .fallback: "fallback \(route.fallbackDestination)"
        default: Format.name(route.destination)
        }
    }

    static func tenant(_ response: LookupV1.ResolveTenantResponse) -> String {
        let organization = response.organization ?? LookupV1.Organization()
        return Fields([("id", organization.id), ("slug", Format.text(organization.slug)), ("external id", Format.text(organization.externalId)),
                       ("name", organization.name), ("time zone", organization.timeZone),
                       ("numbers", String(response.numberCount)), ("agents", String(response.agentCount))]).render()
    }

    static func status(_ status: LookupV1.GetStatusResponse) -> String {
        var table = Table("stream", "applied", "head", "lag", "last applied", "connected")
        for stream in status.streams {
            table.add(stream.stream, String(stream.appliedPosition), String(stream.headPosition), String(stream.lagEvents),
                      stream.lastAppliedAgeMicros == 0 ? "-" : "\(stream.lastAppliedAgeMicros / 1_000) ms ago", Format.yesNo(stream.connected))
        }
        let counts = Fields([("ready", Format.yesNo(status.ready)), ("numbers", String(status.numbers)),
                             ("assigned", String(status.assignedNumbers)), ("organizations", String(status.organizations)),
                             ("agents", String(status.agents)), ("schedules", String(status.schedules)),
                             ("load", "\(status.loadMicros / 1_000) ms")])
        return counts.render() + "\n\n" + table.render(empty: "(no streams)")
    }
}

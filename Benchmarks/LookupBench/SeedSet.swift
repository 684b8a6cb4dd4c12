import Credentials
import Foundation
import Protos

/// The seeded projection: organisations, agents, numbers and schedules derived
/// from their indexes alone, so every subcommand (the SQL seed, the Redis
/// load, the load generator) agrees on what number `i` is without reading the
/// database, and every run seeds the same rows.
struct SeedSet: Sendable {
    var numbers: Int
    var organizations: Int
    var agentsPerOrganization: Int

    /// Area codes of the seeded numbers, a million each.
    static let areaCodes = ["415", "628", "650", "510", "408", "707", "925", "669", "831", "209"]
    static var capacity: Int { areaCodes.count * 1_000_000 }
    static let timeZones = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
                            "America/Phoenix", "Europe/London", "Europe/Berlin", "Australia/Sydney"]
    static let providers = ["twilio", "telnyx", "vonage"]

    /// "+1 AAA 0XX XXXX". Exchanges starting with 0 are not valid in the NANP,
    /// so inventory never imports a seeded number (lookup's e164 index is
    /// unique: a real number under another id would stop its consumer).
    static func e164(_ index: Int) -> String {
        let line = String(index % 1_000_000)
        return "+1" + areaCodes[index / 1_000_000] + "0" + String(repeating: "0", count: 6 - line.count) + line
    }

    /// Redis' key of the `index`th number's route: `route:` and the index in
    /// 12 digits (what redis-benchmark's `__rand_int__` becomes), as long as
    /// `route:+1AAANXXXXXX`.
    static func redisKey(_ index: Int) -> String {
        let digits = String(index)
        return "route:" + String(repeating: "0", count: 12 - digits.count) + digits
    }

    // MARK: Organisations and agents

    func organizationID(_ index: Int) -> String { "bench-org-\(index)" }
    func agentID(_ index: Int) -> String { "bench-agent-\(index)" }
    /// The `nth` agent of an organisation (agents are numbered organisation by organisation).
    func agentIndex(organization: Int, _ nth: Int) -> Int { organization * agentsPerOrganization + nth % agentsPerOrganization }

    func organization(_ index: Int) -> AssignmentV1.Organization {
        var organization = AssignmentV1.Organization()
        organization.id = organizationID(index)
        organization.slug = "bench-org-slug-\(index)"
        organization.externalId = "ext-\(index)"
        organization.name = "Benchmark Organisation \(index)"
        organization.timeZone = Self.timeZones[index % Self.timeZones.count]
        return organization
    }

    func agent(_ index: Int) -> AssignmentV1.Agent {
        var agent = AssignmentV1.Agent()
        agent.id = agentID(index)
        agent.organizationId = organizationID(index / agentsPerOrganization)
        agent.name = "Agent \(index)"
        agent.externalAssistantId = Self.uuid(UInt64(index), salt: 3)
        return agent
    }

    // MARK: Numbers

    /// Whether number `index` has provider credentials: every 10th.
    static func hasCredentials(_ index: Int) -> Bool { index % 10 == 3 }

    /// The seeded number nearest `index` (below `numbers`) that has credentials.
    static func withCredentials(near index: Int, numbers: Int) -> Int {
        let near = index - index % 10 + 3
        return near < numbers ? near : near - 10
    }

    /// Number `index` as lookup holds it: organisation `index % organizations`,
    /// connected to one of its agents; every 10th has provider credentials (to
    /// be sealed), every 100th a schedule, every 20th was brought by its
    /// organisation.
    struct Number {
        var id: String
        var e164: String
        var organization: Int
        var agent: Int
        var provider: String
        var providerNumberID: String
        var trunkID: String
        var vapiPhoneNumberID: String
        var owned: Bool
        var credentials: ProviderCredentials?
        var schedule: AssignmentV1.Schedule?
    }

    func number(_ index: Int) -> Number {
        let organization = index % organizations
        let agent = agentIndex(organization: organization, index / organizations)
        let provider = Self.providers[index % Self.providers.count]
        let id = Self.uuid(UInt64(index), salt: 1)
        return Number(
            id: id, e164: Self.e164(index), organization: organization, agent: agent, provider: provider,
            providerNumberID: provider == "twilio" ? "PN" + Self.hex(UInt64(index), salt: 2) : Self.uuid(UInt64(index), salt: 2),
            trunkID: provider == "twilio" ? "TK" + Self.hex(UInt64(index % 97), salt: 4) : "",
            vapiPhoneNumberID: Self.uuid(UInt64(index), salt: 5),
            owned: index % 20 == 0,
            credentials: Self.hasCredentials(index) ? Self.credentials(UInt64(index), provider: provider) : nil,
            schedule: index % 100 == 7 ? schedule(numberID: id, organization: organization) : nil)
    }

    /// Weekdays 09–17 to the first agent, weekends 10–14 to the second,
    /// weeknights to the fallback, Christmas Day to the fallback, else the third.
    func schedule(numberID: String, organization: Int) -> AssignmentV1.Schedule {
        func target(agent: Int?) -> AssignmentV1.RouteTarget {
            var target = AssignmentV1.RouteTarget()
            target.target = agent.map { .agentId(agentID(agentIndex(organization: organization, $0))) } ?? .fallback(true)
            return target
        }
        func rule(_ days: [AssignmentV1.Weekday], _ start: String, _ end: String, agent: Int?) -> AssignmentV1.WeeklyRule {
            var rule = AssignmentV1.WeeklyRule()
            rule.days = days
            rule.start = start
            rule.end = end
            rule.target = target(agent: agent)
            return rule
        }
        let weekdays: [AssignmentV1.Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday]
        var schedule = AssignmentV1.Schedule()
        schedule.numberId = numberID
        schedule.rules = [
            rule(weekdays, "09:00", "17:00", agent: 0),
            rule([.saturday, .sunday], "10:00", "14:00", agent: 1),
            rule(weekdays, "17:00", "09:00", agent: nil),
        ]
        var holiday = AssignmentV1.DateOverride()
        holiday.date = "2025-12-25"
        holiday.target = target(agent: nil)
        schedule.overrides = [holiday]
        schedule.defaultAgentId = agentID(agentIndex(organization: organization, 2))
        schedule.fallbackDestination = "+14155550100"
        schedule.version = 1
        return schedule
    }

    /// What lookup answers for a number without a schedule, built from the
    /// same facts: the value Redis holds for it.
    func resolveResponse(_ index: Int) -> LookupV1.ResolveResponse {
        let number = number(index)
        let organization = organization(number.organization)
        var route = LookupV1.Route()
        route.numberId = number.id
        route.e164 = number.e164
        route.country = "US"
        route.region = "CA"
        route.numberType = "fixed_line_or_mobile"
        route.organization = .with {
            $0.id = organization.id
            $0.slug = organization.slug
            $0.externalId = organization.externalId
            $0.name = organization.name
            $0.timeZone = organization.timeZone
        }
        route.destination = .agent
        route.reason = .connectedAgent
        let agent = agent(number.agent)
        route.agent = .with {
            $0.id = agent.id
            $0.name = agent.name
            $0.externalAssistantId = agent.externalAssistantId
        }
        route.connectedAgentId = agent.id
        route.provider = number.provider
        route.providerIds = .with {
            $0.providerNumberId = number.providerNumberID
            $0.trunkId = number.trunkID
            $0.vapiPhoneNumberId = number.vapiPhoneNumberID
        }
        route.capabilities = .with { $0.voice = true; $0.sms = true }
        route.ownedByOrganization = number.owned
        route.hasCredentials = number.credentials != nil
        var response = LookupV1.ResolveResponse()
        response.route = route
        response.applied = .with { $0.inventory = 1_000; $0.assignment = 1_000 }
        return response
    }

    // MARK: Deterministic identifiers

    /// SplitMix64: a well-mixed 64-bit value per seed.
    static func mix(_ seed: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A version-4-shaped UUID, lower case, as lookup prints ids.
    static func uuid(_ value: UInt64, salt: UInt64) -> String {
        let high = mix(value &* 8 &+ salt), low = mix(~(value &* 8 &+ salt))
        let bytes = withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) }
        var uuid = bytes
        uuid[6] = (uuid[6] & 0x0F) | 0x40
        uuid[8] = (uuid[8] & 0x3F) | 0x80
        let text = hexString(uuid)
        let parts = [text.prefix(8), text.dropFirst(8).prefix(4), text.dropFirst(12).prefix(4),
                     text.dropFirst(16).prefix(4), text.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    /// 32 hex digits (a Twilio-style SID body).
    static func hex(_ value: UInt64, salt: UInt64) -> String {
        let seed = value &* 8 &+ salt
        return hexString(withUnsafeBytes(of: mix(seed)) { Array($0) } + withUnsafeBytes(of: mix(~seed)) { Array($0) })
    }

    /// Credentials of the shape inventory accepts for `provider`: what lookup
    /// opens when a call asks for them.
    static func credentials(_ value: UInt64, provider: String) -> ProviderCredentials {
        switch provider {
        case "twilio":
            ProviderCredentials(provider: provider, fields: ["account_sid": "AC" + hex(value, salt: 6), "auth_token": hex(value, salt: 7)])
        case "vonage":
            ProviderCredentials(provider: provider, fields: ["api_key": String(hex(value, salt: 6).prefix(8)), "api_secret": hex(value, salt: 7)])
        default:
            ProviderCredentials(provider: provider, fields: ["api_key": "KEY" + hex(value, salt: 6).uppercased() + "_" + hex(value, salt: 7)])
        }
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

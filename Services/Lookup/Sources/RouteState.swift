import Credentials
import Foundation
import Protos

/// Interned strings: each distinct value (organisation id, provider, country,
/// region, …) is stored once and numbers refer to it by a 32-bit symbol.
/// Symbol 0 is the empty string, meaning "none".
struct Symbols: Sendable {
    private var ids: [String: UInt32] = ["": 0]
    private var names: [String] = [""]

    mutating func intern(_ name: String) -> UInt32 {
        if let id = ids[name] { return id }
        let id = UInt32(names.count)
        ids[name] = id
        names.append(name)
        return id
    }

    /// The symbol of a string already interned; nil if it never was.
    func find(_ name: String) -> UInt32? { ids[name] }

    subscript(symbol: UInt32) -> String { names[Int(symbol)] }
}

/// One number in memory: what inventory says it is and who holds it.
struct NumberEntry: Sendable {
    var id: UUID
    var key: E164Key
    var cataloged = false
    var country: UInt32 = 0
    var region: UInt32 = 0
    var numberType: UInt32 = 0
    var provider: UInt32 = 0
    var providerNumberID = ""
    var trunkID = ""
    var vapiPhoneNumberID = ""
    var capabilities = Capabilities(bits: 0)
    var retired = false
    var owner: UInt32 = 0
    var credentials: SealedCredentials?
    var organization: UInt32 = 0
    var agent: UInt32 = 0
    var state = AssignmentFacts.State.available
}

struct AgentEntry: Sendable {
    var organization: UInt32
    var message: LookupV1.Agent
}

struct ScheduleEntry: Sendable {
    var schedule: AssignmentV1.Schedule
    /// nil when neither the schedule's nor the organisation's zone is known.
    var evaluator: ScheduleEvaluator?
    /// Agents the schedule can route to (rules, overrides, default).
    var agents: Set<UInt32>
}

/// The whole route projection in memory: numbers by E.164 key and by id,
/// organisations, agents, schedules, and the reverse indexes the list methods
/// use. Changes are applied in stream order; `RouteStore` guards it.
struct RouteState: Sendable {
    var symbols = Symbols()
    private(set) var entries: [NumberEntry] = []
    private(set) var slotByKey: [UInt64: Int32] = [:]
    private(set) var slotByID: [UUID: Int32] = [:]
    private(set) var organizations: [UInt32: LookupV1.Organization] = [:]
    /// Slug and external id → organisation symbol, for ResolveTenant.
    private(set) var organizationAliases: [String: UInt32] = [:]
    private(set) var agents: [UInt32: AgentEntry] = [:]
    private(set) var schedules: [Int32: ScheduleEntry] = [:]
    /// Numbers held by each organisation.
    private(set) var numbersByOrganization: [UInt32: Set<Int32>] = [:]
    /// Numbers each agent is connected to.
    private(set) var connectedNumbers: [UInt32: Set<Int32>] = [:]
    /// Numbers whose schedule can route to each agent.
    private(set) var scheduledNumbers: [UInt32: Set<Int32>] = [:]

    // MARK: Reads

    func slot(for key: E164Key) -> Int32? { slotByKey[key.value] }
    func slot(for id: UUID) -> Int32? { slotByID[id] }
    subscript(slot: Int32) -> NumberEntry { entries[Int(slot)] }
    func schedule(at slot: Int32) -> ScheduleEntry? { schedules[slot] }

    func organization(_ symbol: UInt32) -> LookupV1.Organization? { organizations[symbol] }
    func agent(_ symbol: UInt32) -> AgentEntry? { agents[symbol] }

    /// An organisation by id, slug or external id.
    func organizationSymbol(named name: String) -> UInt32? {
        if let symbol = symbols.find(name), organizations[symbol] != nil { return symbol }
        return organizationAliases[name]
    }

    var numberCount: Int { entries.count }
    var assignedCount: Int { numbersByOrganization.values.reduce(0) { $0 + $1.count } }
    var organizationCount: Int { organizations.count }
    var agentCount: Int { agents.count }
    var scheduleCount: Int { schedules.count }

    func numbers(of organization: UInt32) -> Set<Int32> { numbersByOrganization[organization] ?? [] }
    func numbers(reachingAgent agent: UInt32) -> Set<Int32> {
        (connectedNumbers[agent] ?? []).union(scheduledNumbers[agent] ?? [])
    }
    func agentCount(of organization: UInt32) -> Int { agents.values.count { $0.organization == organization } }

    // MARK: Changes

    mutating func apply(_ change: ProjectionChange) {
        switch change {
        case .cataloged(let facts): catalog(facts)
        case .credentials(let id, let sealed):
            guard let slot = slotByID[id] else { return }
            entries[Int(slot)].credentials = sealed
        case .assignment(let facts): assign(facts)
        case .schedule(let id, let schedule):
            guard let slot = slotByID[id] else { return }
            setSchedule(schedule, at: slot)
        case .organization(let organization): upsertOrganization(organization)
        case .organizationDeleted(let id): deleteOrganization(id)
        case .agent(let agent):
            let organization = symbols.intern(agent.organizationId)
            agents[symbols.intern(agent.id)] = AgentEntry(organization: organization, message: .with {
                $0.id = agent.id
                $0.name = agent.name
                $0.externalAssistantId = agent.externalAssistantId
            })
        case .agentDeleted(let id):
            if let symbol = symbols.find(id) { agents[symbol] = nil }
        }
    }

    /// The entry for a number, created (uncatalogued) on first sight.
    private mutating func slot(id: UUID, key: E164Key) -> Int32 {
        if let slot = slotByID[id] {
            let old = entries[Int(slot)].key
            if old != key {
                slotByKey[old.value] = nil
                slotByKey[key.value] = slot
                entries[Int(slot)].key = key
            }
            return slot
        }
        let slot = Int32(entries.count)
        entries.append(NumberEntry(id: id, key: key))
        slotByID[id] = slot
        slotByKey[key.value] = slot
        return slot
    }

    private mutating func catalog(_ facts: CatalogFacts) {
        guard let key = E164Key(e164: facts.e164) else { return }
        let slot = slot(id: facts.numberID, key: key)
        var entry = entries[Int(slot)]
        entry.cataloged = true
        entry.country = symbols.intern(facts.country)
        entry.region = symbols.intern(facts.region)
        entry.numberType = symbols.intern(facts.numberType)
        entry.provider = symbols.intern(facts.provider)
        entry.providerNumberID = facts.providerNumberID
        entry.trunkID = facts.trunkID
        entry.vapiPhoneNumberID = facts.vapiPhoneNumberID
        entry.capabilities = facts.capabilities
        entry.retired = facts.retired
        entry.owner = symbols.intern(facts.ownerOrganizationID ?? "")
        entries[Int(slot)] = entry
    }

    private mutating func assign(_ facts: AssignmentFacts) {
        guard let key = E164Key(e164: facts.e164) else { return }
        let slot = slot(id: facts.numberID, key: key)
        let before = entries[Int(slot)]
        let organization = facts.state == .available ? 0 : symbols.intern(facts.organizationID ?? "")
        let agent = symbols.intern(facts.agentID ?? "")
        // Assignment drops a number's schedule whenever the number leaves its
        // organisation (without an event of its own), so lookup does too.
        if organization != before.organization || facts.state != .assigned {
            setSchedule(nil, at: slot)
        }
        if before.organization != organization {
            if before.organization != 0 { numbersByOrganization[before.organization]?.remove(slot) }
            if organization != 0 { numbersByOrganization[organization, default: []].insert(slot) }
        }
        if before.agent != agent {
            if before.agent != 0 { connectedNumbers[before.agent]?.remove(slot) }
            if agent != 0 { connectedNumbers[agent, default: []].insert(slot) }
        }
        entries[Int(slot)].organization = organization
        entries[Int(slot)].agent = agent
        entries[Int(slot)].state = facts.state
    }

    private mutating func setSchedule(_ schedule: AssignmentV1.Schedule?, at slot: Int32) {
        if let old = schedules.removeValue(forKey: slot) {
            for agent in old.agents { scheduledNumbers[agent]?.remove(slot) }
        }
        guard let schedule else { return }
        let organization = organizations[entries[Int(slot)].organization]
        var agents = Set<UInt32>()
        for target in schedule.rules.map(\.target) + schedule.overrides.map(\.target) {
            if case .agentId(let id) = target?.target { agents.insert(symbols.intern(id)) }
        }
        if !schedule.defaultAgentId.isEmpty { agents.insert(symbols.intern(schedule.defaultAgentId)) }
        for agent in agents { scheduledNumbers[agent, default: []].insert(slot) }
        schedules[slot] = ScheduleEntry(
            schedule: schedule,
            evaluator: ScheduleEvaluator(schedule, organizationTimeZone: organization?.timeZone ?? ""),
            agents: agents)
    }

    private mutating func upsertOrganization(_ organization: AssignmentV1.Organization) {
        let symbol = symbols.intern(organization.id)
        let previous = organizations[symbol]
        if let previous {
            organizationAliases[previous.slug] = nil
            organizationAliases[previous.externalId] = nil
        }
        organizations[symbol] = .with {
            $0.id = organization.id
            $0.slug = organization.slug
            $0.externalId = organization.externalId
            $0.name = organization.name
            $0.timeZone = organization.timeZone
        }
        if !organization.slug.isEmpty { organizationAliases[organization.slug] = symbol }
        if !organization.externalId.isEmpty { organizationAliases[organization.externalId] = symbol }
        // Schedules without a zone of their own follow the organisation's.
        if previous?.timeZone != organization.timeZone {
            for slot in numbers(of: symbol) where schedules[slot] != nil {
                setSchedule(schedules[slot]?.schedule, at: slot)
            }
        }
    }

    private mutating func deleteOrganization(_ id: String) {
        guard let symbol = symbols.find(id), let previous = organizations.removeValue(forKey: symbol) else { return }
        organizationAliases[previous.slug] = nil
        organizationAliases[previous.externalId] = nil
        // Its agents go with it (assignment deletes them by cascade).
        agents = agents.filter { $0.value.organization != symbol }
    }
}

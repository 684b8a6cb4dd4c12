import Credentials
import Foundation
import Protos

/// What numbers share in large groups: country, number type, provider,
/// region and the provider's trunk (a handful per provider account).
/// Numbers refer to one by index (far fewer profiles than numbers).
struct Profile: Hashable, Sendable {
    var country = ""
    var numberType = ""
    var provider = ""
    var region = ""
    /// The trunk id's symbol (0: none).
    var trunk: UInt32 = 0
}

/// One number as memory holds it: 40 bytes, strings as symbols or an arena
/// offset. No links of its organisation's or agent's lists: those listings
/// scan the numbers instead (`RouteStore.memberKeys`), which costs a
/// listing milliseconds and saves every number 12 bytes.
struct PackedNumber: Sendable {
    /// The E.164 key in the low 50 bits (15 digits stay below 10^15 < 2^50)
    /// and the flags above it: bits 0 catalogued, 1 retired, 2–3 assignment
    /// state, 4–7 capabilities, 8 has a schedule, 9 has credentials (so that
    /// Resolve needs no lookup in `schedules` or the arena to know).
    private var keyAndFlags: UInt64
    var id: UUID
    /// Index of its `Profile` (0: none).
    var profile: UInt32 = 0
    /// Arena offset of its `NumberExtras` (0: none).
    var extras: UInt32 = 0
    var organization: UInt32 = 0
    var agent: UInt32 = 0

    private static let keyBits: UInt64 = 50
    private static let keyMask: UInt64 = 1 << keyBits - 1

    init(key: UInt64, id: UUID) {
        precondition(key <= Self.keyMask, "an E.164 key has at most 15 digits")
        keyAndFlags = key
        self.id = id
    }

    var key: UInt64 {
        get { keyAndFlags & Self.keyMask }
        set {
            precondition(newValue <= Self.keyMask, "an E.164 key has at most 15 digits")
            keyAndFlags = keyAndFlags & ~Self.keyMask | newValue
        }
    }

    private var flags: UInt16 {
        get { UInt16(truncatingIfNeeded: keyAndFlags >> Self.keyBits) }
        set { keyAndFlags = keyAndFlags & Self.keyMask | UInt64(newValue) << Self.keyBits }
    }

    var cataloged: Bool {
        get { flag(0x1) }
        set { setFlag(0x1, newValue) }
    }
    var retired: Bool {
        get { flag(0x2) }
        set { setFlag(0x2, newValue) }
    }
    var state: AssignmentFacts.State {
        get { [.available, .reserved, .assigned][Int(flags >> 2 & 3)] }
        set { flags = flags & ~0b1100 | UInt16(newValue == .available ? 0 : newValue == .reserved ? 1 : 2) << 2 }
    }
    var capabilities: Capabilities {
        get { Capabilities(bits: UInt8(flags >> 4 & 0xf)) }
        set { flags = flags & ~0xf0 | UInt16(newValue.bits & 0xf) << 4 }
    }
    var hasSchedule: Bool {
        get { flag(0x100) }
        set { setFlag(0x100, newValue) }
    }
    var hasCredentials: Bool {
        get { flag(0x200) }
        set { setFlag(0x200, newValue) }
    }

    private func flag(_ mask: UInt16) -> Bool { flags & mask != 0 }
    private mutating func setFlag(_ mask: UInt16, _ on: Bool) { flags = on ? flags | mask : flags & ~mask }
}

/// A number with its strings, for answering.
struct NumberEntry: Sendable {
    var id: UUID
    var key: E164Key
    var cataloged: Bool
    var retired: Bool
    var state: AssignmentFacts.State
    var country: String
    var region: String
    var numberType: String
    var provider: String
    var providerNumberID: String
    var trunkID: String
    var vapiPhoneNumberID: String
    var capabilities: Capabilities
    var owner: UInt32
    var organization: UInt32
    var agent: UInt32
    var hasCredentials: Bool
    /// Filled only when asked for (`RouteState.entry(_:withCredentials:)`).
    var credentials: SealedCredentials?
}

/// An agent as the general path reads it, decoded from `encodedAgents`.
struct AgentEntry: Sendable {
    let organization: UInt32
    let message: LookupV1.Agent
}

/// A profile's fields as a route encodes them, in wire format.
final class EncodedProfile: Sendable {
    /// Route fields 3 to 5: country, region, number type.
    let place: [UInt8]
    /// Route field 14.
    let provider: [UInt8]
    /// The trunk id's symbol (route field 15.2, written between the arena's texts).
    let trunk: UInt32

    init(_ profile: Profile) {
        trunk = profile.trunk
        var place = ProtoWriter(capacity: 64)
        place.string(3, profile.country)
        place.string(4, profile.region)
        place.string(5, profile.numberType)
        self.place = place.bytes
        var provider = ProtoWriter(capacity: 16)
        provider.string(14, profile.provider)
        self.provider = provider.bytes
    }
}

/// The whole route projection in memory: numbers packed in one array, indexed
/// by E.164 key and by id, organisations, agents and schedules. Changes are
/// applied in stream order; `RouteStore` guards it.
struct RouteState: Sendable {
    var symbols = Symbols()
    private(set) var numbers: ContiguousArray<PackedNumber> = []
    private(set) var arena = ByteArena()
    private(set) var byKey = SlotTable()
    private var byID = SlotTable()
    /// Profiles by index, and the index of each.
    private var profiles: [Profile] = [Profile()]
    /// The same, encoded for `encodedResolve`.
    private(set) var encodedProfiles: [EncodedProfile] = [EncodedProfile(Profile())]
    private var profileIndexes: [Profile: UInt32] = [Profile(): 0]
    /// Slug and external id → organisation symbol, for ResolveTenant.
    private var organizationAliases: [String: UInt32] = [:]
    /// Organisations and agents by symbol, in wire format (`encodedResolve`
    /// copies them into answers as they are).
    private(set) var encodedOrganizations = EncodedBySymbol()
    private(set) var encodedAgents = EncodedBySymbol()
    /// Arena offsets of the numbers' schedules, kept encoded: a few hundred
    /// bytes, decoded only when a call on the number needs it (a decoded
    /// schedule is several times larger).
    private var schedules: [Int32: UInt32] = [:]
    /// How many numbers each organisation holds.
    private var organizationCounts = SymbolMap<Int>()

    init() {}

    /// Sized for `expected` numbers, so loading does not regrow.
    init(expectedNumbers expected: Int) {
        numbers = ContiguousArray(unsafeUninitializedCapacity: expected) { buffer, count in
            HugePages.advise(buffer)
            count = 0
        }
        byKey = SlotTable(minimumCapacity: expected)
        byID = SlotTable(minimumCapacity: expected)
    }

    // MARK: Reads

    func slot(for key: E164Key) -> Int32? {
        withUnsafePointer(to: self) { Self.slot(for: key, in: $0) }
    }

    /// `slot(for:)` for state read in place (see `encodedResolve(_:in:viewer:applied:into:)`).
    @inline(__always)
    static func slot(for key: E164Key, in state: UnsafePointer<RouteState>) -> Int32? {
        state.pointee.byKey.find(hash: SlotTable.hash(key.value)) { state.pointee.numbers[Int($0)].key == key.value }
    }

    func slot(for id: UUID) -> Int32? {
        byID.find(hash: Self.hash(id)) { numbers[Int($0)].id == id }
    }

    subscript(slot: Int32) -> NumberEntry { entry(slot, withCredentials: false) }

    /// The number with its strings; the sealed credentials only when asked for
    /// (copying them out is wasted work on every other call).
    func entry(_ slot: Int32, withCredentials: Bool) -> NumberEntry {
        let packed = numbers[Int(slot)]
        let profile = profiles[Int(packed.profile)]
        let extras = arena.extras(at: packed.extras, withCredentials: withCredentials)
        return NumberEntry(
            id: packed.id, key: E164Key(value: packed.key), cataloged: packed.cataloged, retired: packed.retired,
            state: packed.state, country: profile.country, region: profile.region, numberType: profile.numberType,
            provider: profile.provider,
            providerNumberID: extras.providerNumberID.string, trunkID: symbols[profile.trunk],
            vapiPhoneNumberID: extras.vapiPhoneNumberID.string, capabilities: packed.capabilities, owner: extras.owner,
            organization: packed.organization, agent: packed.agent, hasCredentials: packed.hasCredentials,
            credentials: extras.credentials)
    }

    private mutating func profileIndex(_ profile: Profile) -> UInt32 {
        if let index = profileIndexes[profile] { return index }
        let index = UInt32(profiles.count)
        profiles.append(profile)
        encodedProfiles.append(EncodedProfile(profile))
        profileIndexes[profile] = index
        return index
    }

    func hasSchedule(_ slot: Int32) -> Bool { numbers[Int(slot)].hasSchedule }

    /// The number's schedule, ready to evaluate in its zone (or its
    /// organisation's); nil without a schedule or a known zone.
    func evaluator(for slot: Int32) -> ScheduleEvaluator? {
        guard let offset = schedules[slot],
              let schedule = arena.scheduleBytes(at: offset, { try? AssignmentV1.Schedule(serializedBytes: $0) }) else { return nil }
        return ScheduleEvaluator(schedule, organizationTimeZone: organization(numbers[Int(slot)].organization)?.timeZone ?? "")
    }

    func organization(_ symbol: UInt32) -> LookupV1.Organization? { encodedOrganizations.message(symbol) }

    func agent(_ symbol: UInt32) -> AgentEntry? {
        guard let place = encodedAgents.place(symbol), let message = encodedAgents.message(symbol, as: LookupV1.Agent.self) else {
            return nil
        }
        return AgentEntry(organization: place.organization, message: message)
    }

    /// An organisation by id, slug or external id.
    func organizationSymbol(named name: String) -> UInt32? {
        if let symbol = symbols.find(name), encodedOrganizations.place(symbol) != nil { return symbol }
        return organizationAliases[name]
    }

    var numberCount: Int { numbers.count }
    var assignedCount: Int { organizationCounts.values.reduce(0, +) }
    var organizationCount: Int { encodedOrganizations.count }
    var agentCount: Int { encodedAgents.count }
    var scheduleCount: Int { schedules.count }

    func numberCount(of organization: UInt32) -> Int { organizationCounts[organization] ?? 0 }

    /// Whose numbers a listing wants.
    enum Membership: Sendable {
        /// The numbers an organisation holds (assigned or on hold).
        case organization(UInt32)
        /// Numbers connected to the agent or whose schedule can route to it.
        case agent(UInt32)
    }

    func isMember(_ slot: Int32, of membership: Membership) -> Bool {
        let number = numbers[Int(slot)]
        switch membership {
        case .organization(let symbol): return number.organization == symbol
        case .agent(let symbol):
            guard number.agent != symbol else { return true }
            guard number.hasSchedule, let offset = schedules[slot] else { return false }
            return arena.schedule(at: offset, reaches: symbol)
        }
    }

    /// Adds to `keys` the E.164 keys above `after` of the members among the
    /// numbers in `slots`.
    func memberKeys(of membership: Membership, in slots: Range<Int>, above after: UInt64, into keys: inout [UInt64]) {
        numbers.withUnsafeBufferPointer { numbers in
            for slot in slots.clamped(to: numbers.indices) where numbers[slot].key > after {
                if isMember(Int32(slot), of: membership) { keys.append(numbers[slot].key) }
            }
        }
    }

    func agentCount(of organization: UInt32) -> Int { encodedAgents.symbols(of: organization).count }

    // MARK: Changes

    mutating func apply(_ change: ProjectionChange) {
        switch change {
        case .cataloged(let facts): catalog(facts)
        case .credentials(let id, let sealed):
            guard let slot = slot(for: id) else { return }
            var extras = arena.extras(at: numbers[Int(slot)].extras)
            extras.credentials = sealed
            store(extras, at: slot)
        case .assignment(let facts): assign(facts)
        case .schedule(let id, let schedule):
            guard let slot = slot(for: id) else { return }
            setSchedule(schedule, at: slot)
        case .organization(let organization): upsertOrganization(organization)
        case .organizationDeleted(let id): deleteOrganization(id)
        case .agent(let agent):
            let organization = symbols.intern(agent.organizationId), symbol = symbols.intern(agent.id)
            let message = LookupV1.Agent.with {
                $0.id = agent.id
                $0.name = agent.name
                $0.externalAssistantId = agent.externalAssistantId
            }
            encodedAgents.set(symbol, message.serializedBytes(), organization: organization)
        case .agentDeleted(let id):
            if let symbol = symbols.find(id) { encodedAgents.remove(symbol) }
        }
    }

    private static func hash(_ id: UUID) -> UInt64 {
        let halves = withUnsafeBytes(of: id.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        return SlotTable.hash(halves.0 ^ halves.1 &* 31)
    }

    /// The number's slot, created (uncatalogued) on first sight.
    private mutating func slot(id: UUID, key: E164Key) -> Int32 {
        if let slot = slot(for: id) {
            let old = numbers[Int(slot)].key
            if old != key.value {
                do {
                    // A second reference for the tables' rehashing, dropped before the
                    // key is written: writing through a shared array copied all of it.
                    let numbers = self.numbers
                    byKey.remove(slot, hash: SlotTable.hash(old)) { SlotTable.hash(numbers[Int($0)].key) }
                    byKey.insert(slot, hash: SlotTable.hash(key.value)) {
                        SlotTable.hash($0 == slot ? key.value : numbers[Int($0)].key)
                    }
                }
                numbers[Int(slot)].key = key.value
            }
            return slot
        }
        return append(id: id, key: key)
    }

    /// A new number's slot, indexed by key and id.
    private mutating func append(id: UUID, key: E164Key) -> Int32 {
        let slot = Int32(numbers.count)
        numbers.append(PackedNumber(key: key.value, id: id))
        let numbers = self.numbers  // the tables rehash from it when they grow
        byKey.insert(slot, hash: SlotTable.hash(key.value)) { SlotTable.hash(numbers[Int($0)].key) }
        byID.insert(slot, hash: Self.hash(id)) { Self.hash(numbers[Int($0)].id) }
        return slot
    }

    /// Adds a batch of rows read at start-up, asking the CPU a few rows ahead
    /// for where each row's inserts and symbol lookups will land: a million
    /// rows at random places in the indexes and the symbol table otherwise
    /// wait for memory one by one (a sixth of the load's CPU).
    mutating func load(_ rows: UnsafeBufferPointer<LoadedNumber>) {
        let ahead = 8
        for index in rows.indices {
            if index + ahead < rows.count {
                let row = rows[index + ahead]
                byKey.prefetch(SlotTable.hash(row.key.value))
                byID.prefetch(Self.hash(row.id))
                symbols.prefetch(row.organization)
                symbols.prefetch(row.agent)
            }
            load(rows[index])
        }
    }

    /// Adds a number read from lookup's schema at start-up. Every row there is
    /// a different number (by id and by E.164), so no index is searched first.
    mutating func load(_ number: LoadedNumber) {
        let slot = append(id: number.id, key: number.key)
        // The catalogue's extras and the credentials in one record, stored once.
        if let entry = number.catalog { catalog(entry, at: slot, credentials: number.credentials) }
        else if number.credentials != nil { store(NumberExtras(credentials: number.credentials), at: slot) }
        let organization = number.state == .available ? 0 : symbols.intern(number.organization)
        assign(organization: organization, agent: symbols.intern(number.agent), state: number.state, at: slot)
    }

    private mutating func catalog(_ facts: CatalogFacts) {
        guard let key = E164Key(e164: facts.e164) else { return }
        catalog(CatalogEntry(facts), at: slot(id: facts.numberID, key: key))
    }

    /// Catalogues the number in `slot`; `credentials` are its sealed
    /// credentials when known (at start-up), else it keeps those it has.
    private mutating func catalog(_ entry: CatalogEntry, at slot: Int32, credentials: SealedCredentials? = nil) {
        var number = numbers[Int(slot)]
        number.cataloged = true
        var profile = entry.profile
        profile.trunk = symbols.intern(entry.trunk)
        number.profile = profileIndex(profile)
        number.capabilities = entry.capabilities
        number.retired = entry.retired
        numbers[Int(slot)] = number
        var extras = credentials == nil ? arena.extras(at: number.extras) : NumberExtras(credentials: credentials)
        extras.providerNumberID = entry.providerNumberID
        extras.vapiPhoneNumberID = entry.vapiPhoneNumberID
        extras.owner = symbols.intern(entry.owner)
        store(extras, at: slot)
    }

    /// Gives the number in `slot` these extras, stored again only when they
    /// changed (the arena never frees).
    private mutating func store(_ extras: NumberExtras, at slot: Int32) {
        let offset = numbers[Int(slot)].extras
        if offset == 0 ? !extras.isEmpty : arena.extras(at: offset) != extras {
            numbers[Int(slot)].extras = arena.append(extras)
        }
        numbers[Int(slot)].hasCredentials = extras.credentials != nil
    }

    private mutating func assign(_ facts: AssignmentFacts) {
        guard let key = E164Key(e164: facts.e164) else { return }
        let organization = facts.state == .available ? 0 : symbols.intern(facts.organizationID ?? "")
        assign(organization: organization, agent: symbols.intern(facts.agentID ?? ""), state: facts.state,
               at: slot(id: facts.numberID, key: key))
    }

    private mutating func assign(organization: UInt32, agent: UInt32, state: AssignmentFacts.State, at slot: Int32) {
        let before = numbers[Int(slot)]
        // Assignment drops a number's schedule whenever the number leaves its
        // organisation (without an event of its own), so lookup does too.
        if organization != before.organization || state != .assigned {
            setSchedule(nil, at: slot)
        }
        if before.organization != organization {
            if before.organization != 0 { organizationCounts[before.organization] = numberCount(of: before.organization) - 1 }
            if organization != 0 { organizationCounts[organization] = numberCount(of: organization) + 1 }
            numbers[Int(slot)].organization = organization
        }
        numbers[Int(slot)].agent = agent
        numbers[Int(slot)].state = state
    }

    private mutating func setSchedule(_ schedule: AssignmentV1.Schedule?, at slot: Int32) {
        schedules[slot] = nil
        numbers[Int(slot)].hasSchedule = schedule != nil
        guard let schedule else { return }
        var agents = Set<UInt32>()
        for target in schedule.rules.map(\.target) + schedule.overrides.map(\.target) {
            if case .agentId(let id) = target?.target { agents.insert(symbols.intern(id)) }
        }
        if !schedule.defaultAgentId.isEmpty { agents.insert(symbols.intern(schedule.defaultAgentId)) }
        schedules[slot] = arena.appendSchedule(schedule.serializedBytes(), agents: agents.sorted())
    }

    private mutating func upsertOrganization(_ organization: AssignmentV1.Organization) {
        let symbol = symbols.intern(organization.id)
        if let previous = self.organization(symbol) {
            organizationAliases[previous.slug] = nil
            organizationAliases[previous.externalId] = nil
        }
        let message = LookupV1.Organization.with {
            $0.id = organization.id
            $0.slug = organization.slug
            $0.externalId = organization.externalId
            $0.name = organization.name
            $0.timeZone = organization.timeZone
        }
        encodedOrganizations.set(symbol, message.serializedBytes())
        if !organization.slug.isEmpty { organizationAliases[organization.slug] = symbol }
        if !organization.externalId.isEmpty { organizationAliases[organization.externalId] = symbol }
    }

    private mutating func deleteOrganization(_ id: String) {
        guard let symbol = symbols.find(id), let previous = organization(symbol) else { return }
        encodedOrganizations.remove(symbol)
        organizationAliases[previous.slug] = nil
        organizationAliases[previous.externalId] = nil
        // Its agents go with it (assignment deletes them by cascade).
        for agent in encodedAgents.symbols(of: symbol) { encodedAgents.remove(agent) }
    }
}

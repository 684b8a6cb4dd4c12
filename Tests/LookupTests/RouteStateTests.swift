import Credentials
import Foundation
import Protos
import RPC
import Testing
@testable import LookupService

/// The projection's rules, applied in memory exactly as events arrive.
@Suite struct RouteStateTests {
    let numberID = UUID()
    let e164 = "+14155550100"
    var key: E164Key { E164Key(e164: e164)! }
    let noon = Date(timeIntervalSince1970: 1_773_072_000) // 2026-03-09T16:00:00Z, a Monday

    private func catalogued() -> RouteState {
        var state = RouteState()
        state.apply(.organization(.with { $0.id = "org-a"; $0.slug = "acme"; $0.externalId = "ext-a"; $0.timeZone = "America/New_York" }))
        state.apply(.agent(.with { $0.id = "agent-1"; $0.organizationId = "org-a"; $0.name = "One" }))
        state.apply(.agent(.with { $0.id = "agent-2"; $0.organizationId = "org-a"; $0.name = "Two" }))
        state.apply(.cataloged(CatalogFacts(numberID: numberID, e164: e164, country: "US", region: "CA", numberType: "fixed_line",
                                            provider: "twilio", providerNumberID: "PN1", trunkID: "", vapiPhoneNumberID: "",
                                            capabilities: Capabilities(voice: true, sms: true, mms: false, fax: false),
                                            retired: false, ownerOrganizationID: nil, version: 1)))
        return state
    }

    private func assign(_ state: inout RouteState, org: String?, agent: String?, _ assignment: AssignmentFacts.State = .assigned) {
        state.apply(.assignment(AssignmentFacts(numberID: numberID, e164: e164, organizationID: org, agentID: agent, state: assignment)))
    }

    /// The keys of the numbers `agent` can take calls on, as ListByAgent scans for them.
    private func reaching(_ state: RouteState, _ agent: String) -> [UInt64] {
        var keys: [UInt64] = []
        state.memberKeys(of: .agent(state.symbols.find(agent)!), in: 0..<state.numberCount, above: 0, into: &keys)
        return keys
    }

    private func route(_ state: RouteState, viewer: Viewer = nil, at instant: Date? = nil) throws -> LookupV1.Route {
        try state.resolve(key, at: instant ?? noon, viewer: viewer).get().route
    }

    @Test func poolHeldAndRetiredNumbersAreDistinctAnswers() throws {
        var state = catalogued()
        #expect(throws: RPCError(.failedPrecondition, "number +14155550100 is in the pool, not assigned to an organisation")) {
            try route(state)
        }
        assign(&state, org: "org-a", agent: nil, .reserved)
        #expect(throws: RPCError(.failedPrecondition, "number +14155550100 is on hold for an organisation and not yet assigned")) {
            try route(state)
        }
        #expect(throws: RPCError(.notFound, "number +14155550199 is not in the catalogue")) {
            try state.resolve(E164Key(e164: "+14155550199")!, at: noon, viewer: nil).get()
        }
        assign(&state, org: "org-a", agent: "agent-1")
        #expect(try route(state).agent?.name == "One")
        var facts = CatalogFacts(numberID: numberID, e164: e164, country: "US", region: "CA", numberType: "fixed_line",
                                 provider: "twilio", providerNumberID: "PN1", trunkID: "", vapiPhoneNumberID: "",
                                 capabilities: Capabilities(bits: 1), retired: true, ownerOrganizationID: nil, version: 2)
        state.apply(.cataloged(facts))
        #expect(throws: RPCError(.failedPrecondition, "number +14155550100 is retired")) { try route(state) }
        facts.retired = false
        state.apply(.cataloged(facts))
        #expect(try route(state).capabilities == .with { $0.voice = true })
    }

    @Test func scheduleFollowsTheOrganisationsZoneAndLeavesWithTheNumber() throws {
        var state = catalogued()
        assign(&state, org: "org-a", agent: "agent-1")
        var schedule = AssignmentV1.Schedule()
        schedule.numberId = numberID.uuidString
        schedule.rules = [.with {
            $0.days = [.monday]
            $0.start = "09:00"
            $0.end = "12:00"
            $0.target = .with { $0.target = .agentId("agent-2") }
        }]
        state.apply(.schedule(numberID: numberID, schedule))
        // 16:00 UTC is 12:00 in New York (after the window) but 09:00 in Los Angeles.
        #expect(try route(state).reason == .scheduleConnectedAgent)
        state.apply(.organization(.with { $0.id = "org-a"; $0.slug = "acme"; $0.externalId = "ext-a"; $0.timeZone = "America/Los_Angeles" }))
        #expect(try route(state).agent?.id == "agent-2")
        #expect(try route(state).reason == .scheduleRule)
        #expect(reaching(state, "agent-2") == [key.value])

        // Released and allocated again: assignment dropped the schedule, so does lookup.
        assign(&state, org: nil, agent: nil, .available)
        assign(&state, org: "org-a", agent: "agent-1")
        #expect(try !route(state).hasSchedule)
        #expect(reaching(state, "agent-2").isEmpty)
    }

    @Test func tenantsSeeOnlyTheirOwnNumbersAndDeletedOrganisationsLoseTheirAgents() throws {
        var state = catalogued()
        assign(&state, org: "org-a", agent: "agent-1")
        #expect(try route(state, viewer: "org-a").organization?.slug == "acme")
        #expect(throws: RPCError(.notFound, "number +14155550100 is not in the catalogue")) { try route(state, viewer: "org-b") }
        #expect(state.organizationSymbol(named: "ext-a") == state.organizationSymbol(named: "org-a"))

        state.apply(.agentDeleted(id: "agent-1"))
        #expect(try route(state).destination == .none)
        state.apply(.organizationDeleted(id: "org-a"))
        #expect(state.organizationSymbol(named: "acme") == nil)
        #expect(state.agentCount == 0)
    }
}

/// A number's extras (provider ids, owner, credentials) live in one arena
/// record; each change keeps what it does not touch.
@Suite struct NumberExtrasTests {
    let id = UUID()
    let key = E164Key(e164: "+14155550100")!

    private func facts(providerNumberID: String, owner: String?) -> CatalogFacts {
        CatalogFacts(numberID: id, e164: "+14155550100", country: "US", region: "CA", numberType: "mobile", provider: "twilio",
                     providerNumberID: providerNumberID, trunkID: "", vapiPhoneNumberID: "vapi-1",
                     capabilities: Capabilities(bits: 1), retired: false, ownerOrganizationID: owner, version: 1)
    }

    @Test func ownerAndCredentialsSurviveEachOthersChanges() throws {
        var state = RouteState()
        state.apply(.organization(.with { $0.id = "org-a"; $0.timeZone = "UTC" }))
        state.apply(.cataloged(facts(providerNumberID: "PN1", owner: "org-a")))
        state.apply(.assignment(AssignmentFacts(numberID: id, e164: "+14155550100", organizationID: "org-a", agentID: nil, state: .assigned)))
        let sealed = SealedCredentials(keyID: "k1", ciphertext: [1, 2, 3])
        state.apply(.credentials(numberID: id, sealed: sealed))
        let slot = try #require(state.slot(for: id))
        func route() throws -> LookupV1.Route { try state.resolve(key, at: Date(), viewer: nil).get().route }

        #expect(state.entry(slot, withCredentials: true).credentials == sealed)
        #expect(try route().ownedByOrganization && route().hasCredentials && route().providerIds?.providerNumberId == "PN1")

        // A catalogue change keeps the credentials; a credentials change keeps the ids and owner.
        state.apply(.cataloged(facts(providerNumberID: "PN2", owner: "org-a")))
        #expect(state.entry(slot, withCredentials: true).credentials == sealed)
        #expect(try route().providerIds?.providerNumberId == "PN2")
        state.apply(.credentials(numberID: id, sealed: nil))
        #expect(state.entry(slot, withCredentials: true).credentials == nil)
        #expect(try !route().hasCredentials && route().ownedByOrganization && route().providerIds?.vapiPhoneNumberId == "vapi-1")

        // Owned only while the owner holds it.
        state.apply(.cataloged(facts(providerNumberID: "PN2", owner: nil)))
        #expect(try !route().ownedByOrganization)
        state.apply(.cataloged(facts(providerNumberID: "PN2", owner: "org-b")))
        #expect(try !route().ownedByOrganization)
        state.apply(.cataloged(facts(providerNumberID: "PN2", owner: "org-a")))
        #expect(try route().ownedByOrganization)
    }

    /// Facts that did not change are not stored again (the arena never frees).
    @Test func anUnchangedCatalogueEventStoresNothing() throws {
        var state = RouteState()
        state.apply(.cataloged(facts(providerNumberID: "PN1", owner: "org-a")))
        let offset = state.numbers[0].extras
        state.apply(.cataloged(facts(providerNumberID: "PN1", owner: "org-a")))
        #expect(state.numbers[0].extras == offset)
        state.apply(.cataloged(facts(providerNumberID: "PN3", owner: "org-a")))
        #expect(state.numbers[0].extras != offset)
    }
}

/// Listings scan the numbers a chunk at a time: what they find is what a
/// walk over every number finds, whatever the chunks.
@Suite struct MemberKeysTests {
    @Test func chunkedScansFindEveryMemberInOrder() throws {
        let store = RouteStore()
        var changes: [ProjectionChange] = [.organization(.with { $0.id = "org-a" }), .organization(.with { $0.id = "org-b" }),
                                           .agent(.with { $0.id = "agent-1"; $0.organizationId = "org-a" })]
        var expected: (a: [UInt64], agent: [UInt64]) = ([], [])
        // Enough members that a short page's scan trims what it has gathered.
        for index in 0..<3_000 {
            // Keys descending as slots ascend, so the order comes from sorting, not from the scan.
            let e164 = "+1415555\(String(format: "%04d", 9_999 - index))"
            let org = index % 3 == 0 ? "org-b" : "org-a", agent = index % 5 == 0 && org == "org-a" ? "agent-1" : nil
            let id = UUID()
            changes.append(.assignment(AssignmentFacts(numberID: id, e164: e164, organizationID: org, agentID: agent, state: .assigned)))
            if org == "org-a" { expected.a.append(E164Key(e164: e164)!.value) }
            if agent != nil { expected.agent.append(E164Key(e164: e164)!.value) }
        }
        store.apply(changes, from: .assignment, through: 1)
        let (a, agent) = store.read { ($0.symbols.find("org-a")!, $0.symbols.find("agent-1")!) }
        for chunk in [1, 7, 64, 1 << 16] {
            #expect(store.memberKeys(of: .organization(a), above: 0, limit: 10_000, chunk: chunk) == expected.a.sorted())
            #expect(store.memberKeys(of: .agent(agent), above: 0, limit: 10_000, chunk: chunk) == expected.agent.sorted())
            // A page: the smallest keys above the last one seen.
            let after = expected.a.sorted()[4]
            #expect(store.memberKeys(of: .organization(a), above: after, limit: 3, chunk: chunk) == Array(expected.a.sorted()[5..<8]))
        }
        #expect(store.read { $0.numberCount(of: a) } == expected.a.count)
    }
}

/// The packed layout at scale: indexes grow, strings round-trip through the arena.
@Suite struct RouteStateScaleTests {
    @Test func tenThousandNumbersKeepTheirFactsThroughIndexGrowth() throws {
        var state = RouteState()
        state.apply(.organization(.with { $0.id = "org"; $0.timeZone = "UTC" }))
        let ids = (0..<10_000).map { _ in UUID() }
        for (index, id) in ids.enumerated() {
            let e164 = "+1415\(String(format: "%07d", index))"
            state.apply(.cataloged(CatalogFacts(
                numberID: id, e164: e164, country: "US", region: "San Francisco, CA", numberType: "mobile",
                provider: index % 2 == 0 ? "twilio" : "telnyx",
                providerNumberID: index % 2 == 0 ? "PN" + String(repeating: "ab", count: 16) : id.uuidString.lowercased(),
                trunkID: "TK" + String(repeating: "0", count: 32), vapiPhoneNumberID: index % 3 == 0 ? "" : "vapi-\(index)",
                capabilities: Capabilities(bits: 5), retired: false, ownerOrganizationID: nil, version: 1)))
            state.apply(.assignment(AssignmentFacts(numberID: id, e164: e164, organizationID: "org", agentID: nil, state: .assigned)))
        }
        #expect(state.numberCount == 10_000)
        #expect(state.numberCount(of: state.symbols.find("org")!) == 10_000)
        for (index, id) in ids.enumerated() where index % 997 == 0 {
            let slot = try #require(state.slot(for: id))
            #expect(state.slot(for: E164Key(e164: "+1415\(String(format: "%07d", index))")!) == slot)
            let entry = state[slot]
            #expect(entry.country == "US" && entry.numberType == "mobile" && entry.region == "San Francisco, CA")
            #expect(entry.providerNumberID == (index % 2 == 0 ? "PN" + String(repeating: "ab", count: 16) : id.uuidString.lowercased()))
            #expect(entry.vapiPhoneNumberID == (index % 3 == 0 ? "" : "vapi-\(index)"))
            #expect(entry.capabilities == Capabilities(bits: 5))
            #expect(entry.state == .assigned)
        }
    }

    /// A number is 40 bytes: its flags share the E.164 key's word, and its
    /// trunk is part of its profile. Neither may leak into the other.
    @Test func packedNumbersKeepKeyFlagsAndTrunkApart() throws {
        #expect(MemoryLayout<PackedNumber>.stride == 40)
        var packed = PackedNumber(key: 999_999_999_999_999, id: UUID())  // the largest 15-digit key
        packed.cataloged = true
        packed.retired = true
        packed.state = .assigned
        packed.capabilities = Capabilities(bits: 0xf)
        packed.hasSchedule = true
        packed.hasCredentials = true
        #expect(packed.key == 999_999_999_999_999)
        packed.key = 1_000_000
        #expect(packed.key == 1_000_000)
        #expect(packed.cataloged && packed.retired && packed.state == .assigned && packed.hasSchedule && packed.hasCredentials)
        #expect(packed.capabilities == Capabilities(bits: 0xf))
        packed.retired = false
        packed.capabilities = Capabilities(bits: 0)
        #expect(packed.key == 1_000_000 && !packed.retired && packed.cataloged && packed.hasCredentials)

        // Two numbers alike but for their trunks keep their own trunk; a third shares the first's profile.
        var state = RouteState()
        let ids = [UUID(), UUID(), UUID()]
        for (index, trunk) in ["TK" + String(repeating: "a", count: 32), "TK" + String(repeating: "b", count: 32),
                               "TK" + String(repeating: "a", count: 32)].enumerated() {
            state.apply(.cataloged(CatalogFacts(
                numberID: ids[index], e164: "+1999999999999\(index)", country: "US", region: "CA", numberType: "mobile",
                provider: "twilio", providerNumberID: "PN\(index)", trunkID: trunk, vapiPhoneNumberID: "",
                capabilities: Capabilities(bits: 1), retired: index == 1, ownerOrganizationID: nil, version: 1)))
        }
        let entries = try ids.map { state[try #require(state.slot(for: $0))] }
        #expect(entries.map(\.trunkID) == ["TK" + String(repeating: "a", count: 32), "TK" + String(repeating: "b", count: 32),
                                            "TK" + String(repeating: "a", count: 32)])
        #expect(entries.map(\.key.e164) == ["+19999999999990", "+19999999999991", "+19999999999992"])
        #expect(entries.map(\.retired) == [false, true, false])
    }

    /// A number that changes its E.164 is found by the new one only, and the
    /// change is made in place (it once copied every number).
    @Test func aNumberChangingItsE164IsFoundByTheNewOneOnly() throws {
        var state = RouteState(expectedNumbers: 100)
        state.apply(.organization(.with { $0.id = "org"; $0.timeZone = "UTC" }))
        let ids = (0..<100).map { _ in UUID() }
        func catalog(_ index: Int, _ e164: String) {
            state.apply(.cataloged(CatalogFacts(
                numberID: ids[index], e164: e164, country: "US", region: "CA", numberType: "mobile", provider: "twilio",
                providerNumberID: "PN\(index)", trunkID: "", vapiPhoneNumberID: "", capabilities: Capabilities(bits: 1),
                retired: false, ownerOrganizationID: nil, version: 1)))
        }
        for index in ids.indices { catalog(index, "+1415555\(String(format: "%04d", index))") }
        let storage = state.numbers.withUnsafeBufferPointer { $0.baseAddress }
        catalog(42, "+16505550042")
        #expect(state.numbers.withUnsafeBufferPointer { $0.baseAddress } == storage)
        let slot = try #require(state.slot(for: ids[42]))
        #expect(state.slot(for: E164Key(e164: "+16505550042")!) == slot)
        #expect(state.slot(for: E164Key(e164: "+14155550042")!) == nil)
        #expect(state[slot].key.e164 == "+16505550042" && state[slot].providerNumberID == "PN42")
        for index in ids.indices where index != 42 {
            #expect(state.slot(for: E164Key(e164: "+1415555\(String(format: "%04d", index))")!) == state.slot(for: ids[index]))
        }
        #expect(state.numberCount == 100)
    }
}

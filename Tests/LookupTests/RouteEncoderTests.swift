import Auth
import Credentials
import Foundation
import Protos
import Testing
@testable import LookupService

/// Resolve's hot path writes wire format itself; it must answer exactly what
/// the general path (a `LookupV1.Route` serialised by protobuf-c) answers.
@Suite struct RouteEncoderTests {
    /// Numbers of every kind the fast path meets or must leave alone.
    private func state() -> (RouteState, [E164Key]) {
        var state = RouteState()
        state.apply(.organization(.with { $0.id = "org-a"; $0.slug = "acme"; $0.externalId = "ext-a"; $0.name = "Acme Ünïcode"; $0.timeZone = "America/New_York" }))
        state.apply(.organization(.with { $0.id = "org-b"; $0.name = String(repeating: "Long name ", count: 30) }))
        state.apply(.agent(.with { $0.id = "agent-1"; $0.organizationId = "org-a"; $0.name = "One"; $0.externalAssistantId = "asst_1" }))
        state.apply(.agent(.with { $0.id = "agent-b"; $0.organizationId = "org-b"; $0.name = "Bee" }))
        var keys: [E164Key] = []
        for index in 0..<40 {
            let id = UUID()
            let e164 = "+1415555\(String(format: "%04d", index))"
            keys.append(E164Key(e164: e164)!)
            let owner: String? = index % 7 == 0 ? "org-a" : nil
            state.apply(.cataloged(CatalogFacts(
                numberID: id, e164: e164, country: "US", region: index % 3 == 0 ? "" : "San Francisco, CA",
                numberType: index % 2 == 0 ? "mobile" : "fixed_line", provider: index % 4 == 0 ? "" : "twilio",
                providerNumberID: index % 5 == 0 ? "" : "PN" + String(repeating: "a", count: 32),
                trunkID: index % 6 == 0 ? "trunk-\(index % 2)" : "", vapiPhoneNumberID: index % 8 == 0 ? UUID().uuidString : (index % 8 == 4 ? UUID().uuidString.lowercased() : ""),
                capabilities: Capabilities(bits: UInt8(index % 16)), retired: index == 13, ownerOrganizationID: owner, version: 1)))
            // Every assignment state, agents of the same, another or no organisation.
            let org = index % 10 == 9 ? nil : (index % 3 == 1 ? "org-b" : "org-a")
            let agent = [nil, "agent-1", "agent-b", "agent-gone"][index % 4]
            let assignment: AssignmentFacts.State = org == nil ? .available : (index % 11 == 5 ? .reserved : .assigned)
            state.apply(.assignment(AssignmentFacts(numberID: id, e164: e164, organizationID: org, agentID: agent, state: assignment)))
            if index % 9 == 2 {
                state.apply(.credentials(numberID: id, sealed: SealedCredentials(keyID: "k1", ciphertext: Array(repeating: 7, count: 40))))
            }
            // Schedules of each outcome: a default agent, a weekday rule in
            // another zone with a fallback, an override to an unknown agent.
            if index % 12 == 3 {
                state.apply(.schedule(numberID: id, .with { $0.numberId = id.uuidString; $0.defaultAgentId = "agent-1" }))
            }
            if index % 12 == 7 {
                state.apply(.schedule(numberID: id, .with {
                    $0.numberId = id.uuidString
                    $0.timeZone = "Europe/Paris"
                    $0.rules = [.with { $0.days = [.monday, .tuesday, .wednesday]; $0.start = "09:00"; $0.end = "17:00"; $0.target = .with { $0.target = .agentId("agent-1") } },
                                .with { $0.days = [.thursday, .friday]; $0.start = "22:00"; $0.end = "06:00"; $0.target = .with { $0.target = .fallback(true) } }]
                    $0.fallbackDestination = "+14155550000"
                }))
            }
            if index % 12 == 11 {
                state.apply(.schedule(numberID: id, .with {
                    $0.numberId = id.uuidString
                    $0.overrides = [.with { $0.date = "2026-07-04"; $0.target = .with { $0.target = .agentId("agent-nobody") } }]
                }))
            }
        }
        return (state, keys)
    }

    @Test("every number the fast path answers gets the general path's answer, for every viewer")
    func sameAnswers() throws {
        let (state, keys) = state()
        let (fast, scheduled) = try expectSameAnswers(state, keys)
        #expect(fast >= 120, "the fast path answered only \(fast) lookups")
        #expect(scheduled >= 12, "only \(scheduled) of them had a schedule")
    }

    @Test("organisations and agents renamed, moved and deleted are answered as the general path answers them")
    func sameAnswersAfterChanges() throws {
        var (state, keys) = state()
        // Renamed often enough that their encodings are compacted more than once.
        for round in 0..<200 {
            state.apply(.organization(.with { $0.id = "org-b"; $0.name = String(repeating: "Renamed \(round) ", count: 20) }))
            state.apply(.agent(.with { $0.id = "agent-1"; $0.organizationId = "org-a"; $0.name = "One, round \(round)" }))
        }
        state.apply(.organization(.with { $0.id = "org-a"; $0.slug = "acme"; $0.name = "Acme renamed"; $0.timeZone = "Europe/Paris" }))
        let (before, _) = try expectSameAnswers(state, keys)
        state.apply(.agent(.with { $0.id = "agent-b"; $0.organizationId = "org-a"; $0.name = "Bee moved" }))  // to the other organisation
        state.apply(.agentDeleted(id: "agent-1"))
        let (afterAgents, _) = try expectSameAnswers(state, keys)
        state.apply(.organizationDeleted(id: "org-b"))  // its numbers are left to the general path
        let (afterOrganization, _) = try expectSameAnswers(state, keys)
        #expect(before >= 120 && afterAgents == before && afterOrganization < afterAgents,
                "fast answers: \(before), \(afterAgents), \(afterOrganization)")
        #expect(state.encodedOrganizations.place(state.symbols.find("org-b")!) == nil)
        #expect(state.encodedAgents.place(state.symbols.find("agent-1")!) == nil)
    }

    /// Every key, viewer and instant: the fast path answers exactly as the
    /// general path, or leaves the call to it; how many it answered (and how
    /// many of those had a schedule).
    private func expectSameAnswers(_ state: RouteState, _ keys: [E164Key]) throws -> (fast: Int, scheduled: Int) {
        let applied = LookupV1.ConsistencyToken.with { $0.inventory = 300; $0.assignment = 1 << 40 }
        var fast = 0, scheduled = 0
        // Instants inside and outside the schedules' windows, and on the override's date.
        let instants = [1_783_000_000, 1_783_112_400, 1_783_152_000, 1_783_418_400].map { Date(timeIntervalSince1970: $0) }
        for viewer: Viewer in [nil, "org-a", "org-b"] {
            for key in keys {
                for instant in instants {
                    let general = state.resolve(key, at: instant, viewer: viewer)
                    guard let encoded = state.encodedResolve(key, at: instant, viewer: viewer, applied: applied) else {
                        // Left to the general path: its errors.
                        if case .success = general { Issue.record("\(key.e164): a route the fast path left") }
                        continue
                    }
                    fast += 1
                    if case .success(let resolved) = general, resolved.route.hasSchedule { scheduled += 1 }
                    var expected = LookupV1.ResolveResponse()
                    expected.route = try general.get().route
                    expected.applied = applied
                    let decoded = try LookupV1.ResolveResponse(serializedBytes: encoded)
                    #expect(decoded == expected, "\(key.e164) as \(viewer ?? "admin")")
                    #expect(encoded == expected.serializedBytes(), "\(key.e164): the same bytes as protobuf-c writes")
                }
            }
        }
        return (fast, scheduled)
    }

    @Test("prefetching a read's requests (found, absent, malformed, none at all) changes no answer")
    func prefetchingChangesNoAnswer() throws {
        let (state, keys) = state()
        let store = RouteStore()
        let empty = RouteStore()
        store.replace(with: state, inventory: 300, assignment: 1 << 40)
        let admin = Principal(subject: "t", role: .service, organizationID: nil, scopes: ["lookup:read"], expiresAt: Date() + 600)
        let requests = keys.map { key in LookupV1.ResolveRequest.with { $0.number = key.e164 }.serializedBytes() }
            + [LookupV1.ResolveRequest.with { $0.number = "+19995550100" }.serializedBytes(), [0x0a, 40, 0x2b], [], [0xff, 0xff]]
        func answers(from store: RouteStore) -> [[UInt8]?] {
            requests.map { request in
                var out = ProtoWriter(capacity: 16)
                let answered = request.withUnsafeBytes { LookupHandlers.fastResolve($0, admin, from: store, keyRing: nil, into: &out) }
                return answered ? out.bytes : nil
            }
        }
        for store in [store, empty] {
            let before = answers(from: store)
            let buffers = requests.map { request in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: request.count, alignment: 1)
                buffer.copyBytes(from: request)
                return buffer
            }
            defer { buffers.forEach { $0.deallocate() } }
            LookupHandlers.prefetchResolves(buffers.map { UnsafeRawBufferPointer($0) }, from: store)
            #expect(answers(from: store) == before)
        }
        #expect(answers(from: store).compactMap { $0 }.count >= 10, "the batch holds numbers the fast path answers")
    }

    @Test("Resolve's fast path answers a request the projection can answer now as the handler reads it, and declines everything else")
    func fastPath() throws {
        let (state, keys) = state()
        let store = RouteStore()
        store.replace(with: state, inventory: 300, assignment: 1 << 40)
        func principal(_ role: Role, _ org: String?) -> Principal {
            Principal(subject: "t", role: role, organizationID: org, scopes: ["lookup:read"], expiresAt: Date() + 600)
        }
        func fast(_ request: LookupV1.ResolveRequest, _ principal: Principal?) -> [UInt8]? {
            var out = ProtoWriter(capacity: 16)
            let answered = request.serializedBytes().withUnsafeBytes {
                LookupHandlers.fastResolve($0, principal, from: store, keyRing: nil, into: &out)
            }
            #expect(answered || out.bytes.isEmpty, "a declined call writes nothing")
            return answered ? out.bytes : nil
        }
        var answered = 0
        for (caller, viewer) in [(principal(.service, nil), nil), (principal(.orgMember, "org-a"), "org-a"), (principal(.orgAdmin, "org-b"), "org-b")] as [(Principal, Viewer)] {
            for key in keys {
                #expect(try NumberInput.key(key.e164, regionHint: "") == key, "the handler reads \(key.e164) as the fast path does")
                let expected = state.encodedResolve(key, viewer: viewer, applied: store.appliedToken)
                #expect(fast(.with { $0.number = key.e164 }, caller) == expected, "\(key.e164) as \(viewer ?? "platform")")
                if expected != nil { answered += 1 }
            }
        }
        #expect(answered >= 30, "the fast path answered only \(answered) lookups")

        // Every form and option the handler reads without libphonenumber and
        // can answer now: the handler's answer, as it reads the request.
        let key = try #require(keys.first { state.encodedResolve($0, viewer: nil, applied: store.appliedToken) != nil })
        let admin = principal(.service, nil)
        // A scheduled number routed otherwise at the instant asked for than now.
        func answer(_ key: E164Key, at seconds: Int) -> [UInt8]? {
            state.encodedResolve(key, at: Date(timeIntervalSince1970: Double(seconds)), viewer: nil, applied: store.appliedToken)
        }
        let now = Int(Date().timeIntervalSince1970)
        let (scheduled, seconds) = try #require(keys.lazy.flatMap { key in
            [1_783_000_000, 1_783_112_400, 1_783_152_000, 1_783_418_400].lazy.map { (key, $0) }
        }.first { key, seconds in answer(key, at: seconds) != nil && answer(key, at: seconds) != answer(key, at: now) })
        let withSchedule = answer(scheduled, at: seconds)
        let answeredForms: [(LookupV1.ResolveRequest, [UInt8]?)] = [
            (.with { $0.number = String(key.e164.dropFirst()) }, state.encodedResolve(key, viewer: nil, applied: store.appliedToken)),
            (.with { $0.number = "tel:" + key.e164 }, state.encodedResolve(key, viewer: nil, applied: store.appliedToken)),
            (.with { $0.number = "sip:" + key.e164 + "@pbx.example.com;user=phone" }, state.encodedResolve(key, viewer: nil, applied: store.appliedToken)),
            (.with { $0.number = key.e164; $0.regionHint = "US" }, state.encodedResolve(key, viewer: nil, applied: store.appliedToken)),
            (.with { $0.number = scheduled.e164; $0.atTimeMicros = Int64(seconds) * 1_000_000 }, withSchedule),
            (.with { $0.number = key.e164; $0.minToken = .with { $0.inventory = 300; $0.assignment = 1 } },
             state.encodedResolve(key, viewer: nil, applied: store.appliedToken)),
        ]
        for (request, expected) in answeredForms {
            #expect(expected != nil && fast(request, admin) == expected, "\(request)")
        }
        // Left to the handler: national forms, errors, a token not applied yet, credentials without a key ring.
        let declined: [LookupV1.ResolveRequest] = [
            .with { $0.number = String(key.e164.dropFirst()); $0.regionHint = "US" },  // national with a hint: libphonenumber
            .with { $0.number = key.e164; $0.regionHint = "USA" },
            .with { $0.number = key.e164 + "\u{0}" },
            .with { $0.number = "sip:" + key.e164 + "@hôte.example" },
            .with { $0.number = "+1415555abcd" },
            .with { $0.number = key.e164; $0.atTimeMicros = -1 },
            .with { $0.number = key.e164; $0.includeCredentials = true },  // with no key ring to open them
            .with { $0.number = key.e164; $0.minToken = .with { $0.inventory = 301 } },
            .with { $0.number = key.e164; $0.minToken = .with { $0.assignment = (1 << 40) + 1 } },
        ]
        for request in declined { #expect(fast(request, admin) == nil, "\(request)") }
        // A field the handler does not know, and a token with one: the general path decides.
        let number = LookupV1.ResolveRequest.with { $0.number = key.e164 }.serializedBytes()
        for extra: [UInt8] in [[6 << 3, 1], [5 << 3 | 2, 2, 3 << 3, 1]] {
            var out = ProtoWriter(capacity: 16)
            #expect(!(number + extra).withUnsafeBytes { LookupHandlers.fastResolve($0, admin, from: store, keyRing: nil, into: &out) }, "\(extra)")
        }
        #expect(fast(.with { $0.number = key.e164 }, nil) == nil, "no caller")
        #expect(fast(.with { $0.number = key.e164 }, principal(.orgMember, nil)) == nil, "an organisation role without its organisation")
        var out = ProtoWriter(capacity: 16)
        #expect(![UInt8]([0x0a, 40, 0x2b]).withUnsafeBytes { LookupHandlers.fastResolve($0, admin, from: store, keyRing: nil, into: &out) },
                "a truncated request")
    }

    @Test("mutated requests: the fast path answers only what the handler would answer, as it would")
    func mutatedRequests() throws {
        let (state, keys) = state()
        let store = RouteStore()
        store.replace(with: state, inventory: 300, assignment: 1 << 40)
        let admin = Principal(subject: "t", role: .service, organizationID: nil, scopes: ["lookup:read"], expiresAt: Date() + 600)
        var random = SystemRandomNumberGenerator()
        let seeds: [[UInt8]] = keys.map { key in
            LookupV1.ResolveRequest.with {
                $0.number = ["", "tel:", "sip:", " "].randomElement(using: &random)! + key.e164
                $0.regionHint = ["", "US", "us", "GB"].randomElement(using: &random)!
                $0.atTimeMicros = [0, 1_783_112_400_000_000].randomElement(using: &random)!
                $0.minToken = [nil, .with { $0.inventory = 300 }].randomElement(using: &random)!
            }.serializedBytes()
        }
        var answered = 0
        for _ in 0..<20_000 {
            var bytes = seeds.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 0...3, using: &random) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
                }
            }
            var out = ProtoWriter(capacity: 16)
            guard bytes.withUnsafeBytes({ LookupHandlers.fastResolve($0, admin, from: store, keyRing: nil, into: &out) }) else { continue }
            answered += 1
            // What the handler makes of the same bytes: it must answer, and the same.
            let request = try LookupV1.ResolveRequest(serializedBytes: bytes)
            let key = try NumberInput.key(request.number, regionHint: request.regionHint)
            let instant = try LookupHandlers.instant(request.atTimeMicros)
            #expect(!request.includeCredentials && store.satisfies(request.minToken), "\(request)")
            guard request.atTimeMicros != 0 || !state.hasSchedule(state.slot(for: key)!) else { continue }  // "now" moves
            #expect(out.bytes == state.encodedResolve(key, at: instant, viewer: nil, applied: store.appliedToken), "\(request)")
        }
        #expect(answered >= 2_000, "the fast path answered only \(answered) of the mutated requests")
    }

    @Test("credentials asked for are opened into the answer as the general path opens them; any it cannot open are left to it")
    func credentialsOpened() throws {
        let ring = try CredentialKeyRing(keys: [(id: "k1", key: Array(repeating: 1, count: 32))], activeKeyID: "k1")
        let stranger = try CredentialKeyRing(keys: [(id: "k1", key: Array(repeating: 2, count: 32))], activeKeyID: "k1")
        var (state, keys) = state()
        // Besides the fixture's unopenable ciphertexts: credentials sealed for
        // the number, by another ring's key of the same id, and for another number.
        for (index, key) in keys.enumerated() where index % 3 == 0 {
            let id = state.numbers[Int(try #require(state.slot(for: key)))].id
            let credentials = ProviderCredentials(provider: "twilio", fields: [
                "account_sid": "AC" + String(repeating: "0", count: 32), "auth_token": "secret-\(index)", "phone_number_sid": "PN" + String(repeating: "1", count: 32)])
            let sealer = index % 9 == 3 ? stranger : ring
            let owner = index % 9 == 6 ? UUID() : id
            state.apply(.credentials(numberID: id, sealed: try sealer.encrypt(
                credentials, associatedData: CredentialKeyRing.associatedData(numberID: owner.uuidString.lowercased()))))
        }
        let store = RouteStore()
        store.replace(with: state, inventory: 300, assignment: 1 << 40)
        let applied = store.appliedToken
        var opened = 0, declined = 0
        let instant = Date(timeIntervalSince1970: 1_783_112_400)
        for viewer: Viewer in [nil, "org-a", "org-b"] {
            for key in keys {
                guard case .success(let resolved) = state.resolve(key, at: instant, viewer: viewer, withCredentials: true) else {
                    #expect(state.encodedResolve(key, at: instant, viewer: viewer, applied: applied, opening: ring) == nil)
                    continue
                }
                var expected = LookupV1.ResolveResponse.with { $0.route = resolved.route; $0.applied = applied }
                if let sealed = resolved.sealed {
                    let numberID = CredentialKeyRing.associatedData(numberID: resolved.route.numberId)
                    guard let credentials = try? ring.decrypt(sealed, associatedData: numberID) else {
                        #expect(state.encodedResolve(key, at: instant, viewer: viewer, applied: applied, opening: ring) == nil,
                                "\(key.e164): credentials the general path cannot open")
                        declined += 1
                        continue
                    }
                    expected.route?.credentials = credentials.fields
                    opened += 1
                }
                let encoded = try #require(state.encodedResolve(key, at: instant, viewer: viewer, applied: applied, opening: ring), "\(key.e164)")
                #expect(try LookupV1.ResolveResponse(serializedBytes: encoded) == expected, "\(key.e164) as \(viewer ?? "admin")")
            }
        }
        #expect(opened >= 6 && declined >= 6, "opened \(opened), declined \(declined)")

        // Over the fast lane: only for callers with credentials:read, and only with a key ring.
        let key = try #require(keys.enumerated().first { index, key in
            index % 9 == 0 && state.encodedResolve(key, viewer: nil, applied: applied) != nil
        }?.element)
        let request = LookupV1.ResolveRequest.with { $0.number = key.e164; $0.includeCredentials = true }.serializedBytes()
        func fast(_ scopes: [String], _ keyRing: CredentialKeyRing?) -> [UInt8]? {
            let caller = Principal(subject: "t", role: .service, organizationID: nil, scopes: Set(scopes), expiresAt: Date() + 600)
            var out = ProtoWriter(capacity: 16)
            let answered = request.withUnsafeBytes { LookupHandlers.fastResolve($0, caller, from: store, keyRing: keyRing, into: &out) }
            #expect(answered || out.bytes.isEmpty, "a declined call writes nothing")
            return answered ? out.bytes : nil
        }
        let answer = try #require(fast(["lookup:read", "credentials:read"], ring))
        #expect(answer == state.encodedResolve(key, viewer: nil, applied: applied, opening: ring))
        #expect(try LookupV1.ResolveResponse(serializedBytes: answer).route?.credentials["auth_token"]?.hasPrefix("secret-") == true)
        #expect(fast(["lookup:read"], ring) == nil, "without credentials:read the general path refuses")
        #expect(fast(["lookup:read", "credentials:read"], nil) == nil, "without a key ring the general path says so")
    }

    @Test("an id is written as Foundation's lower-case UUID text")
    func uuidText() {
        let ids = [UUID(uuidString: "00000000-0000-0000-0000-000000000000")!,
                   UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!] + (0..<100).map { _ in UUID() }
        for id in ids {
            var writer = ProtoWriter(capacity: 40)
            writer.uuid(1, id)
            #expect(writer.bytes == [0x0a, 36] + Array(id.uuidString.lowercased().utf8), "\(id)")
        }
    }
}

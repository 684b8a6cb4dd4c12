import Auth
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// The callers of the authorization matrix. "A" owns the number under test;
/// "B" is another organisation.
enum Who: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case platformAdmin, ownerOfA, adminOfA, memberOfA, ownerOfB, adminOfB, memberOfB
    case serviceInventoryRead, serviceCredentialsRead, serviceWithoutScopes, anonymous

    var testDescription: String { rawValue }

    func caller(a: String, b: String) -> Caller? {
        switch self {
        case .platformAdmin: .admin()
        case .ownerOfA: .owner(a)
        case .adminOfA: .orgAdmin(a)
        case .memberOfA: .member(a)
        case .ownerOfB: .owner(b)
        case .adminOfB: .orgAdmin(b)
        case .memberOfB: .member(b)
        case .serviceInventoryRead: .service(["inventory:read"])
        case .serviceCredentialsRead: .service(["credentials:read"])
        case .serviceWithoutScopes: .service([])
        case .anonymous: nil
        }
    }

    enum Target: String { case ownedByA, pool }
    enum Operation: String { case get, update, setCredentials, getCredentials, retire, restore, importNumbers, rotateKeys }

    /// The status the call must end with; nil means it succeeds.
    func expected(_ operation: Operation, on target: Target) -> RPCError.Code? {
        let own = target == .ownedByA
        switch self {
        case .anonymous:
            return .unauthenticated
        case .platformAdmin:
            return nil
        case .serviceInventoryRead:
            return operation == .get ? nil : .permissionDenied
        case .serviceCredentialsRead:
            return operation == .getCredentials ? nil : .permissionDenied
        case .serviceWithoutScopes:
            return .permissionDenied
        case .memberOfA:
            // Members read their organisation's numbers and change nothing.
            return operation == .get ? (own ? nil : .notFound) : .permissionDenied
        case .memberOfB:
            return operation == .get ? .notFound : .permissionDenied
        case .ownerOfA, .adminOfA:
            switch operation {
            case .getCredentials, .rotateKeys: return .permissionDenied
            case .importNumbers: return nil
            default: return own ? nil : .notFound
            }
        case .ownerOfB, .adminOfB:
            switch operation {
            case .getCredentials, .rotateKeys: return .permissionDenied
            case .importNumbers: return nil
            default: return .notFound
            }
        }
    }

    var isWriterOfB: Bool { self == .ownerOfB || self == .adminOfB }
    var isWriterOfA: Bool { self == .ownerOfA || self == .adminOfA }
    var organization: Character? {
        switch self {
        case .ownerOfA, .adminOfA, .memberOfA: "A"
        case .ownerOfB, .adminOfB, .memberOfB: "B"
        default: nil
        }
    }
}

@Suite(.inventoryProcess) struct AuthorizationTests {
    /// One caller against a number owned by A and a pool number, for every method.
    @Test(arguments: Who.allCases)
    func matrix(_ who: Who) async throws {
        let server = try InventoryServer.shared
        let admin = server.api(.admin())
        let (orgA, orgB) = (Random.organization(), Random.organization())
        let tag = Random.tag()
        let api = server.api(who.caller(a: orgA, b: orgB))

        func make(_ owner: String, retired: Bool = false) async throws -> InventoryV1.PhoneNumber {
            let number = try await admin.create(importItem(try await Numbers.fresh()) {
                $0.ownerOrganizationId = owner
                $0.label = "\(tag) \(owner.isEmpty ? "pool" : "owned")\(retired ? " retired" : "")"
                $0.credentials = credentials(twilioCredentials())
            })
            guard retired else { return number }
            return try #require(try await admin.retire(number.id).number)
        }
        let numbers: [Who.Target: InventoryV1.PhoneNumber] = [.ownedByA: try await make(orgA), .pool: try await make("")]
        let retiredNumbers: [Who.Target: InventoryV1.PhoneNumber] = [.ownedByA: try await make(orgA, retired: true),
                                                                     .pool: try await make("", retired: true)]

        /// Runs one call, checks its status, and that a refusal leaks nothing about the number.
        func check<T>(_ operation: Who.Operation, _ target: Who.Target, _ number: InventoryV1.PhoneNumber, byNumber: Bool = false,
                      sourceLocation: SourceLocation = #_sourceLocation, _ call: () async throws -> T) async -> T? {
            let expected = who.expected(operation, on: target)
            do {
                let value = try await call()
                #expect(expected == nil, "\(who) \(operation) \(target): expected \(expected!), got success", sourceLocation: sourceLocation)
                return value
            } catch let error as RPCError {
                #expect(error.code == expected, "\(who) \(operation) \(target): \(error)", sourceLocation: sourceLocation)
                // Looked up by number, the answer may repeat what the caller wrote; nothing else.
                #expect((byNumber || !error.message.contains(number.e164)) && !error.message.contains(tag) && !error.message.contains(orgA),
                        "\(who) \(operation) \(target): the refusal leaks data: \(error)", sourceLocation: sourceLocation)
                return nil
            } catch {
                Issue.record("\(who) \(operation) \(target): \(error)", sourceLocation: sourceLocation)
                return nil
            }
        }

        // Listing first, while every number is active.
        let listable: [Who: Set<Who.Target>] = [
            .platformAdmin: [.ownedByA, .pool], .serviceInventoryRead: [.ownedByA, .pool],
            .ownerOfA: [.ownedByA], .adminOfA: [.ownedByA], .memberOfA: [.ownedByA],
            .ownerOfB: [], .adminOfB: [], .memberOfB: [],
        ]
        var request = InventoryV1.ListNumbersRequest()
        request.query = tag
        do {
            let listed = try await api.listAll(request)
            let visible = try #require(listable[who], "\(who) listed \(listed.count) numbers but should be refused")
            #expect(Set(listed.map(\.id)) == Set(visible.compactMap { numbers[$0]?.id }), "\(who) list")
            request.ownerOrganizationId = orgA
            #expect(Set(try await api.listAll(request).map(\.id)) == Set(visible.contains(.ownedByA) ? [numbers[.ownedByA]!.id] : []),
                    "\(who) list owner A")
            request.ownerOrganizationId = "pool"
            #expect(Set(try await api.listAll(request).map(\.id)) == Set(visible.contains(.pool) ? [numbers[.pool]!.id] : []),
                    "\(who) list pool")
        } catch let error as RPCError {
            #expect(listable[who] == nil, "\(who) list: \(error)")
            #expect(error.code == (who == .anonymous ? .unauthenticated : .permissionDenied), "\(who) list: \(error)")
        }

        for target in [Who.Target.ownedByA, .pool] {
            let number = numbers[target]!
            var version = number.version

            if let found = await check(.get, target, number, { try await api.get(id: number.id) }) {
                #expect(found.number == number)
            }
            if let found = await check(.get, target, number, byNumber: true, { try await api.get(number: number.e164) }) {
                #expect(found.number == number)
            }
            if let read = await check(.getCredentials, target, number, { try await api.getCredentials(number.id) }) {
                #expect(read.provider == "twilio")
                #expect(read.credentials?.fields["auth_token"]?.hasPrefix("token-") == true)
            }
            if let updated = await check(.update, target, number, {
                try await api.update(number.id, mask: ["label"]) { $0.label = "\(tag) changed by \(who)" }
            }) {
                #expect(updated.number?.label == "\(tag) changed by \(who)")
                version += 1
            }
            let fresh = twilioCredentials()
            if let set = await check(.setCredentials, target, number, { try await api.setCredentials(number.id, fresh) }) {
                #expect(set.number?.hasCredentials == true)
                #expect(try await admin.getCredentials(number.id).credentials?.fields == fresh)
                version += 1
            }
            if let retired = await check(.retire, target, number, { try await api.retire(number.id, reason: "test") }) {
                #expect(retired.number?.lifecycle == .retired)
                version += 1
            }
            #expect(try await admin.get(id: number.id).number?.version == version, "\(who) \(target): only allowed calls change the number")

            let retiredNumber = retiredNumbers[target]!
            if let restored = await check(.restore, target, retiredNumber, { try await api.restore(retiredNumber.id) }) {
                #expect(restored.number?.lifecycle == .active)
            } else {
                #expect(try await admin.get(id: retiredNumber.id).number?.lifecycle == .retired)
            }
        }

        // Importing: into the caller's own organisation (owner left empty), and naming A.
        let importable = try await Numbers.fresh(2)
        let pool = numbers[.pool]!
        if let response = await check(.importNumbers, .pool, pool, { try await api.importNumbers([importItem(importable[0])]) }) {
            #expect(response.results.first?.outcome == .created, "\(who): \(response.results)")
            let stored = try await admin.get(number: importable[0]).number
            let expectedOwner = who.organization == "A" ? orgA : who.organization == "B" ? orgB : ""
            #expect(stored?.ownerOrganizationId == expectedOwner, "\(who): an organisation's import is owned by it")
        }
        do {
            let response = try await api.importNumbers([importItem(importable[1]) { $0.ownerOrganizationId = orgA }])
            let result = try #require(response.results.first)
            if who.isWriterOfB {
                #expect(result.outcome == .rejected && result.field == "owner_organization_id", "\(who): \(result)")
            } else {
                #expect(who == .platformAdmin || who.isWriterOfA, "\(who) imported for A: \(result)")
                #expect(result.outcome == .created, "\(who): \(result)")
                #expect(try await admin.get(number: importable[1]).number?.ownerOrganizationId == orgA)
            }
        } catch let error as RPCError {
            let expected: RPCError.Code? = who.isWriterOfB ? .permissionDenied : who.expected(.importNumbers, on: .ownedByA)
            #expect(error.code == expected, "\(who) import for A: \(error)")
        }
        if who.isWriterOfB || who.expected(.importNumbers, on: .ownedByA) != nil {
            await expectRPCError(.notFound, "\(who)'s refused import must not create the number") { try await admin.get(number: importable[1]) }
        }

        await RotationLock.shared.acquire()
        _ = await check(.rotateKeys, .pool, pool) { try await api.rotateKeys() }
        await RotationLock.shared.release()
    }

    @Test func tokensThatAreMissingForgedOrExpiredAreUnauthenticated() async throws {
        let server = try InventoryServer.shared
        let admin = server.api(.admin())
        let number = try await admin.create(importItem(try await Numbers.fresh()))
        let forged = TokenSigner(hs256Secret: Array("another-secret-0123456789abcdef".utf8))
            .token(for: Principal(subject: "x", role: .platformAdmin, expiresAt: .distantFuture))
        let expired = server.signer.token(for: Principal(subject: "x", role: .platformAdmin, expiresAt: .distantFuture),
                                          lifetime: 60, now: Date().addingTimeInterval(-3_600))
        for api in [server.api(nil), server.api(rawToken: forged), server.api(rawToken: expired), server.api(rawToken: "not a jwt")] {
            await expectRPCError(.unauthenticated) { try await api.get(id: number.id) }
            await expectRPCError(.unauthenticated) { try await api.list(InventoryV1.ListNumbersRequest()) }
            await expectRPCError(.unauthenticated) { try await api.importNumbers([importItem(try await Numbers.fresh())]) }
            await expectRPCError(.unauthenticated) { try await api.update(number.id, mask: ["label"]) { $0.label = "x" } }
            await expectRPCError(.unauthenticated) { try await api.setCredentials(number.id, twilioCredentials()) }
            await expectRPCError(.unauthenticated) { try await api.getCredentials(number.id) }
            await expectRPCError(.unauthenticated) { try await api.retire(number.id) }
            await expectRPCError(.unauthenticated) { try await api.restore(number.id) }
            await expectRPCError(.unauthenticated) { try await api.rotateKeys() }
        }
        #expect(try await admin.get(id: number.id).number == number)
    }

    @Test func anotherOrganisationsNumberIsNotFoundEvenByNumber() async throws {
        let server = try InventoryServer.shared
        let (orgA, orgB) = (Random.organization(), Random.organization())
        let ownerA = server.api(.owner(orgA))
        let ownerB = server.api(.owner(orgB))
        let e164 = try await Numbers.fresh(prefix: "+1415")
        let number = try await ownerA.create(importItem(e164) { $0.label = "A's secret label" })
        #expect(number.ownerOrganizationId == orgA)

        let byNumber = await expectRPCError(.notFound) { try await ownerB.get(number: "+1 " + e164.dropFirst(2)) }
        #expect(byNumber.map { !$0.message.contains("A's secret label") && !$0.message.contains(orgA) } == true)
        let missingID = UUID().uuidString.lowercased()
        let unknown = await expectRPCError(.notFound) { try await ownerB.get(id: missingID) }
        let hidden = await expectRPCError(.notFound) { try await ownerB.get(id: number.id) }
        #expect(hidden?.message.replacingOccurrences(of: number.id, with: "<id>")
                == unknown?.message.replacingOccurrences(of: missingID, with: "<id>"),
                "another organisation's number looks exactly like a missing one")

        // Importing a number someone else holds is refused without saying whose or what it is.
        let response = try await ownerB.importNumbers([importItem(e164) { $0.label = "mine" }])
        let result = try #require(response.results.first)
        #expect(result.outcome == .rejected)
        #expect(result.numberId.isEmpty, "must not reveal the other organisation's number id")
        #expect(!result.reason.contains(orgA) && !result.reason.contains("secret label") && !result.reason.contains("label"),
                "\(result.reason)")

        // Its own number again, identical, with the owner left empty: already present, not a conflict.
        let again = try await ownerA.importNumbers([importItem(e164) { $0.label = "A's secret label" }])
        #expect(again.results.first?.outcome == .alreadyPresent, "\(again.results)")
        #expect(again.results.first?.numberId == number.id)

        // An organisation cannot move a number to another owner.
        await expectRPCError(.permissionDenied) {
            try await ownerA.update(number.id, mask: ["owner_organization_id"]) { $0.ownerOrganizationId = orgB }
        }
        #expect(try await ownerA.get(id: number.id).number?.ownerOrganizationId == orgA)
    }
}

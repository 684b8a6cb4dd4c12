import Auth
import Foundation
import Protos
import RPC
import Synchronization
import Testing
import TestSupport

/// A run of numbers nobody else uses: the digits after "+" of a US number up
/// to the line number's first digit (e.g. "14152375"), so filters with this
/// prefix see only the test's own numbers.
struct Block: Sendable, CustomStringConvertible {
    let digits: String

    var description: String { "+" + digits }

    /// The E.164 number of this block ending in `suffix` (three digits).
    func number(_ suffix: Int) -> String { "+" + digits + String(format: "%03d", suffix) }

    private static let handedOut = Mutex<Set<String>>([])
    private static let areaCodes = ["206", "212", "213", "303", "305", "312", "404", "415", "503", "512", "617", "650", "702", "713"]

    /// A block with no active number in the catalogue.
    static func fresh(in inventory: InventoryAPI) async throws -> Block {
        for _ in 0..<200 {
            // A US area code, exchange 2xx, then one digit of the line number.
            // Many area codes, so a long-lived development database does not run out.
            let digits = "1" + Self.areaCodes.randomElement()! + "2" + Random.digits(3)
            guard handedOut.withLock({ $0.insert(digits).inserted }) else { continue }
            if try await inventory.list(query: "+" + digits).numbers.isEmpty { return Block(digits: digits) }
        }
        throw ServiceProcessError("no free block of numbers found")
    }

    /// A filter matching this block only.
    var filter: AssignmentV1.NumberFilter { .prefix(digits) }
}

/// Builders of the data each test needs: organisations, agents and numbers
/// in a fresh block, visible to assignment before they are returned.
struct Fixtures: Sendable {
    let stack: AssignmentStack
    let admin: AssignmentAPI
    let inventory: InventoryAPI

    init() throws {
        try self.init(stack: AssignmentStack.shared)
    }

    /// Fixtures of another stack than the suite's.
    init(stack: AssignmentStack) {
        self.stack = stack
        admin = stack.api(.admin())
        inventory = stack.inventoryAdmin()
    }

    func api(_ caller: Caller?) -> AssignmentAPI { stack.api(caller) }

    /// A registered organisation; returns its id.
    @discardableResult
    func organization(_ id: String = Random.organization(), policy: AssignmentV1.Organization.NumbersPerAgent = .one,
                      timeZone: String = "America/Los_Angeles") async throws -> String {
        var organization = AssignmentV1.Organization()
        organization.id = id
        organization.slug = id
        organization.externalId = "ext-" + id
        organization.name = "Test organisation " + id
        organization.timeZone = timeZone
        organization.numbersPerAgent = policy
        let response = try await admin.upsertOrganization(organization)
        let stored = try #require(response.organization, "UpsertOrganization answered no organisation")
        #expect(stored.id == id)
        return id
    }

    /// A registered agent of `organization`.
    func agent(of organization: String, name: String = "Agent " + Random.token(6)) async throws -> AssignmentV1.Agent {
        var agent = AssignmentV1.Agent()
        agent.id = Random.agent()
        agent.organizationId = organization
        agent.name = name
        agent.externalAssistantId = "asst-" + Random.token(10)
        let response = try await admin.upsertAgent(agent)
        let stored = try #require(response.agent, "UpsertAgent answered no agent")
        #expect(!stored.id.isEmpty)
        #expect(stored.organizationId == organization)
        return stored
    }

    /// Imports `count` numbers of a fresh block into the catalogue and waits
    /// until assignment offers all of them; returns them in suffix order.
    func pool(_ count: Int, edit: @Sendable (Int, inout InventoryV1.ImportItem) -> Void = { _, _ in }) async throws
        -> (block: Block, numbers: [AssignmentV1.PoolNumber]) {
        let (block, imported) = try await importBlock(count, owner: nil, edit: edit)
        let expected = Set(imported.map(\.e164))
        var found: [AssignmentV1.PoolNumber] = []
        let visible = try await eventually {
            found = try await admin.searchAll(block.filter).filter { expected.contains($0.e164) }
            return found.count == expected.count
        }
        let problem = "assignment did not offer \(expected.count) imported numbers of \(block) within \(propagationBound) "
            + "(saw \(found.count)); \(await stack.feedProgress())\n\(stack.logs)"
        try #require(visible, "\(problem)")
        let ids = Dictionary(uniqueKeysWithValues: imported.map { ($0.e164, $0.numberId) })
        for number in found {
            #expect(number.numberId == ids[number.e164], "assignment's number id of \(number.e164) is inventory's")
        }
        return (block, found.sorted { $0.e164 < $1.e164 })
    }

    /// Imports `count` numbers owned by `organization` and waits until they
    /// are listed as its numbers; returns their import results.
    func owned(_ count: Int, by organization: String) async throws -> (block: Block, numbers: [InventoryV1.ImportResult]) {
        let (block, imported) = try await importBlock(count, owner: organization) { _, _ in }
        let expected = Set(imported.map(\.numberId))
        var listed: [AssignmentV1.AssignedNumber] = []
        let visible = try await eventually {
            listed = try await admin.listAllNumbers(organization)
            return expected.isSubset(of: Set(listed.compactMap { $0.number?.numberId }))
        }
        let problem = "assignment did not list \(count) numbers owned by \(organization) within \(propagationBound) "
            + "(listed \(listed.count)); \(await stack.feedProgress())\n\(stack.logs)"
        try #require(visible, "\(problem)")
        return (block, imported)
    }

    /// Pool numbers allocated to `organization`.
    func allocated(_ count: Int, to organization: String) async throws -> [AssignmentV1.PoolNumber] {
        let (_, numbers) = try await pool(count)
        let response = try await admin.allocate(ids: numbers.map(\.numberId), organization: organization)
        #expect(response.numbers.count == count)
        return numbers
    }

    /// Imports numbers with distinct random suffixes of a fresh block; every one must be created.
    private func importBlock(_ count: Int, owner: String?,
                             edit: @Sendable (Int, inout InventoryV1.ImportItem) -> Void) async throws
        -> (Block, [InventoryV1.ImportResult]) {
        precondition(count <= 500)
        for _ in 0..<5 {
            let block = try await Block.fresh(in: inventory)
            let suffixes = Array((0..<1000).shuffled().prefix(count)).sorted()
            let items = suffixes.enumerated().map { index, suffix in
                var item = InventoryV1.ImportItem()
                item.number = block.number(suffix)
                item.provider = "twilio"
                if let owner { item.ownerOrganizationId = owner }
                edit(index, &item)
                return item
            }
            let response = try await inventory.importNumbers(items)
            let created = response.results.filter { $0.outcome == .created }
            if created.count == count { return (block, response.results.sorted { $0.index < $1.index }) }
            // A number of the block was already known or is not valid: try another block.
            let problems = response.results.filter { $0.outcome != .created }
            guard problems.allSatisfy({ $0.outcome == .alreadyPresent || $0.field == "number" }) else {
                throw ServiceProcessError("import into \(block) failed: \(problems)")
            }
        }
        throw ServiceProcessError("could not import \(count) fresh numbers")
    }
}

/// Capabilities for an import item.
func capabilities(voice: Bool = false, sms: Bool = false, mms: Bool = false, fax: Bool = false) -> InventoryV1.Capabilities {
    var capabilities = InventoryV1.Capabilities()
    capabilities.voice = voice
    capabilities.sms = sms
    capabilities.mms = mms
    capabilities.fax = fax
    return capabilities
}

extension Array where Element == AssignmentV1.AssignedNumber {
    /// The entry of `numberID`, if listed.
    func entry(_ numberID: String) -> AssignmentV1.AssignedNumber? {
        first { $0.number?.numberId == numberID }
    }

    var numberIDs: Set<String> { Set(compactMap { $0.number?.numberId }) }
}

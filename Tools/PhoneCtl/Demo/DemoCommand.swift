import ArgumentParser
import Foundation
import NIOCore
import Protos
import RPC

/// `phonectl demo`: loads the demo data set; safe to run again.
struct Demo: ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load demo data: organisations, agents, ~1,000 numbers, allocations, connections, a schedule.",
        discussion: """
            Idempotent: running it again finds everything in place and changes nothing. Ends with three \
            commands to try, each on a line starting "try: ". Platform admins only.
            """)

    @Option(help: "Seconds to wait for assignment to see the imported numbers.") var wait: Double = 60
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        let items = DemoData.items()
        let imported = try await importNumbers(items, session: session)
        var connected: [(number: String, agent: String)] = []
        for organization in DemoData.organizations {
            try await register(organization, session: session)
            let numbers = Array(DemoData.numbers(of: organization.country, in: items).prefix(DemoData.allocatedPerOrganization))
            let ids = try await allocate(numbers, to: organization.id, session: session)
            for (index, agent) in organization.agents.enumerated() {
                try await connect(ids[index], agent: agent.id, organization: organization.id, session: session)
                connected.append((numbers[index], agent.id))
            }
        }
        let first = DemoData.organizations[0]
        let firstNumbers = DemoData.numbers(of: first.country, in: items)
        try await schedule(number: firstNumbers[0], organization: first, fallback: firstNumbers[2], session: session)

        print("demo: \(items.count) numbers (created \(imported.created), already present \(imported.alreadyPresent)), "
              + "\(DemoData.organizations.count) organizations, \(DemoData.organizations.count * 2) agents, "
              + "\(DemoData.organizations.count * DemoData.allocatedPerOrganization) allocated, \(connected.count) connected, 1 schedule")
        print("try: phonectl numbers list --country GB --page-size 5")
        print("try: phonectl summary --org \(first.id)")
        print("try: phonectl resolve \(connected[1].number)")
    }

    private func importNumbers(_ items: [InventoryV1.ImportItem], session: Session) async throws -> (created: Int, alreadyPresent: Int) {
        var created = 0, alreadyPresent = 0
        for start in stride(from: 0, to: items.count, by: 500) {
            var request = InventoryV1.ImportNumbersRequest()
            request.items = Array(items[start..<min(start + 500, items.count)])
            let response = try await session.call(.inventory, "ImportNumbers", request, as: InventoryV1.ImportNumbersResponse.self,
                                                  idempotent: true, timeout: .seconds(60))
            created += Int(response.created)
            alreadyPresent += Int(response.alreadyPresent)
            for result in response.results where result.outcome == .rejected {
                Console.error("demo: \(request.items[Int(result.index)].number) not imported: \(result.field): \(result.reason)")
            }
        }
        return (created, alreadyPresent)
    }

    private func register(_ organization: DemoData.Organization, session: Session) async throws {
        var request = AssignmentV1.UpsertOrganizationRequest()
        request.organization = .with {
            $0.id = organization.id
            $0.slug = organization.id.replacingOccurrences(of: "demo-", with: "")
            $0.externalId = "ext-" + organization.id
            $0.name = organization.name
            $0.timeZone = organization.timeZone
            $0.numbersPerAgent = .one
        }
        _ = try await session.call(.assignment, "UpsertOrganization", request, as: AssignmentV1.OrganizationResponse.self, idempotent: true)
        for agent in organization.agents {
            var request = AssignmentV1.UpsertAgentRequest()
            request.agent = .with {
                $0.id = agent.id
                $0.organizationId = organization.id
                $0.name = agent.name
                $0.externalAssistantId = "asst-" + agent.id
            }
            _ = try await session.call(.assignment, "UpsertAgent", request, as: AssignmentV1.AgentResponse.self, idempotent: true)
        }
    }

    /// Allocates the numbers the organisation does not hold yet; waits until
    /// assignment has followed inventory's events far enough to offer them.
    private func allocate(_ numbers: [String], to organization: String, session: Session) async throws -> [String] {
        let ids = try await numbers.asyncMap { try await session.numberID($0) }
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let held = try await heldNumbers(of: organization, session: session)
            let missing = ids.filter { !held.keys.contains($0) }
            if missing.isEmpty { return ids }
            var request = AssignmentV1.ReserveRequest()
            request.organizationId = organization
            request.selection = .numbers(.with { $0.ids = missing })
            do {
                _ = try await session.call(.assignment, "Allocate", request, as: AssignmentV1.AssignedNumbersResponse.self)
                return ids
            } catch {
                // Not in assignment's catalogue yet: it follows inventory's events.
                guard error.code == .failedPrecondition, Date() < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(300))
            }
        }
    }

    private func connect(_ id: String, agent: String, organization: String, session: Session) async throws {
        guard try await heldNumbers(of: organization, session: session)[id] != agent else { return }
        var request = AssignmentV1.ConnectAgentRequest()
        request.numberId = id
        request.agentId = agent
        _ = try await session.call(.assignment, "ConnectAgent", request, as: AssignmentV1.AssignedNumberResponse.self)
    }

    /// Weekday office hours with the reception, Saturday mornings after hours,
    /// otherwise (and on Christmas) another of the organisation's numbers.
    private func schedule(number: String, organization: DemoData.Organization, fallback: String, session: Session) async throws {
        var schedule = AssignmentV1.Schedule()
        schedule.numberId = try await session.numberID(number)
        schedule.rules = [try ScheduleSpec.rule("mon-fri 08:00-18:00 \(organization.agents[0].id)"),
                          try ScheduleSpec.rule("sat 09:00-13:00 \(organization.agents[1].id)")]
        schedule.overrides = [try ScheduleSpec.override("2030-12-25 fallback")]
        schedule.fallbackDestination = fallback
        var request = AssignmentV1.SetScheduleRequest()
        request.schedule = schedule
        _ = try await session.call(.assignment, "SetSchedule", request, as: AssignmentV1.ScheduleResponse.self, idempotent: true)
    }

    /// number id → connected agent id ("" when none) of everything the organisation holds.
    private func heldNumbers(of organization: String, session: Session) async throws -> [String: String] {
        var held: [String: String] = [:]
        var request = AssignmentV1.ListOrganizationNumbersRequest()
        request.organizationId = organization
        request.pageSize = 1_000
        repeat {
            let page = try await session.call(.assignment, "ListOrganizationNumbers", request,
                                              as: AssignmentV1.ListOrganizationNumbersResponse.self, idempotent: true)
            for entry in page.numbers { if let id = entry.number?.numberId { held[id] = entry.agentId } }
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        return held
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

public import Foundation
public import NIOCore
import Protos
public import RPC
public import Store

/// Compares lookup's projection with what inventory and assignment hold: the
/// rows of schema `lookup` with the sources' rows, and each running lookup
/// replica's answers (from memory) with what the sources say they should be.
/// Needs a database login that may read all three schemas (an operator's).
///
/// It first waits until lookup has applied the producers' current heads, so
/// on a quiet system any difference is a real one; writes made while it runs
/// may show up as differences.
public struct ConsistencyCheck: Sendable {
    public struct Report: Sendable {
        public var numbers = 0
        public var organizations = 0
        public var agents = 0
        public var schedules = 0
        public var replicas = 0
        public var differences: [String] = []
        public var isConsistent: Bool { differences.isEmpty }
    }

    public var database: Database
    /// The lookup replicas to question, by name (e.g. host:port), with clients
    /// holding a platform-admin token.
    public var replicas: [(name: String, client: RPCClient)]
    /// How long lookup may take to reach the producers' heads.
    public var catchUp: TimeAmount = .seconds(30)

    public init(database: Database, replicas: [(name: String, client: RPCClient)]) {
        self.database = database
        self.replicas = replicas
    }

    public func run() async throws -> Report {
        var report = Report()
        let heads = try await producerHeads()
        try await waitForProjection(heads, report: &report)
        let expected = try await expectedNumbers()
        report.numbers = expected.count
        try await compareNumbers(expected, report: &report)
        try await compareDirectory(report: &report)
        for replica in replicas {
            try await compareAnswers(of: replica.client, named: replica.name, expected, heads: heads, report: &report)
            report.replicas += 1
        }
        return report
    }

    // MARK: Sources

    /// A number as inventory and assignment hold it, in lookup's terms.
    struct Expected: Equatable {
        var id: UUID
        var e164: String
        var retired: Bool
        var provider: String
        var providerIDs: [String]
        var capabilities: Int32
        var owner: String?
        var credentialsKeyID: String?
        var credentials: [UInt8]?
        var organization: String?
        var agent: String?
        var state: String
    }

    private func producerHeads() async throws -> (inventory: Int64, assignment: Int64) {
        let row = try await database.query("""
            SELECT (SELECT position FROM inventory.outbox_head) AS inventory,
                   (SELECT position FROM assignment.outbox_head) AS assignment
            """).first
        return (try row?.decode(Int64.self, column: "inventory") ?? 0, try row?.decode(Int64.self, column: "assignment") ?? 0)
    }

    private func waitForProjection(_ heads: (inventory: Int64, assignment: Int64), report: inout Report) async throws {
        let deadline = NIODeadline.now() + catchUp
        var positions: [String: Int64] = [:]
        while true {
            let rows = try await database.query("SELECT stream, position FROM lookup.consumer_positions")
            positions = Dictionary(uniqueKeysWithValues: try rows.map {
                (try $0.decode(String.self, column: "stream"), try $0.decode(Int64.self, column: "position"))
            })
            if positions["inventory", default: 0] >= heads.inventory && positions["assignment", default: 0] >= heads.assignment { return }
            guard NIODeadline.now() < deadline else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        report.differences.append("lookup's schema has applied inventory \(positions["inventory", default: 0]) of \(heads.inventory) "
            + "and assignment \(positions["assignment", default: 0]) of \(heads.assignment) events")
    }

    private func expectedNumbers() async throws -> [UUID: Expected] {
        let rows = try await database.query("""
            SELECT n.id, n.e164, n.lifecycle = 'retired' AS retired, n.provider, n.provider_number_id, n.trunk_id,
                   n.vapi_phone_number_id, (n.voice::int + 2 * n.sms::int + 4 * n.mms::int + 8 * n.fax::int) AS capabilities,
                   n.owner_organization_id, n.credentials_key_id, n.credentials_ciphertext,
                   a.organization_id, a.agent_id, coalesce(a.state, 'available') AS state
              FROM inventory.numbers n LEFT JOIN assignment.assignments a ON a.number_id = n.id
            """)
        return Dictionary(uniqueKeysWithValues: try rows.map { row in
            let number = try Self.number(row, organizationColumn: "organization_id", stateColumn: "state")
            return (number.id, number)
        })
    }

    private static func number(_ row: PostgresRow, organizationColumn: String, stateColumn: String) throws -> Expected {
        Expected(
            id: try row.decode(UUID.self, column: "id"), e164: try row.decode(column: "e164"),
            retired: try row.decode(column: "retired"), provider: try row.decode(column: "provider"),
            providerIDs: [try row.decode(column: "provider_number_id"), try row.decode(column: "trunk_id"),
                          try row.decode(column: "vapi_phone_number_id")],
            capabilities: try row.decode(column: "capabilities"), owner: try row.decode(column: "owner_organization_id"),
            credentialsKeyID: try row.decode(column: "credentials_key_id"),
            credentials: try row.decode(column: "credentials_ciphertext"),
            organization: try row.decode(column: organizationColumn), agent: try row.decode(column: "agent_id"),
            state: try row.decode(column: stateColumn))
    }

    // MARK: Lookup's schema

    private func compareNumbers(_ expected: [UUID: Expected], report: inout Report) async throws {
        let rows = try await database.query("""
            SELECT number_id AS id, e164, retired, provider, provider_number_id, trunk_id, vapi_phone_number_id,
                   capabilities::int4 AS capabilities, owner_organization_id, credentials_key_id, credentials_ciphertext,
                   organization_id, agent_id, assignment_state
              FROM lookup.numbers WHERE cataloged
            """)
        var seen = Set<UUID>()
        for row in rows {
            let projected = try Self.number(row, organizationColumn: "organization_id", stateColumn: "assignment_state")
            seen.insert(projected.id)
            guard let source = expected[projected.id] else {
                report.differences.append("lookup holds number \(projected.e164) (\(projected.id)), which inventory does not")
                continue
            }
            if source != projected {
                report.differences.append("number \(source.e164): sources say \(Self.describe(source)); lookup's schema says \(Self.describe(projected))")
            }
        }
        for (id, source) in expected where !seen.contains(id) {
            report.differences.append("number \(source.e164) (\(id)) is missing from lookup's schema")
        }
    }

    private func compareDirectory(report: inout Report) async throws {
        for (table, columns) in [("organizations", "id, slug, external_id, name, time_zone"),
                                 ("agents", "id, organization_id, name, external_assistant_id")] {
            let rows = try await database.query("""
                SELECT 'only in assignment' AS side, * FROM (SELECT \(columns) FROM assignment.\(table)
                                                              EXCEPT SELECT \(columns) FROM lookup.\(table)) a
                UNION ALL
                SELECT 'only in lookup', * FROM (SELECT \(columns) FROM lookup.\(table)
                                                 EXCEPT SELECT \(columns) FROM assignment.\(table)) b
                """)
            for row in rows {
                report.differences.append("\(table): \(try row.decode(String.self, column: "side")): \(try row.decode(String.self, column: "id"))")
            }
            let count = try await database.query("SELECT count(*) AS n FROM assignment.\(table)").first?.decode(Int64.self, column: "n") ?? 0
            if table == "organizations" { report.organizations = Int(count) } else { report.agents = Int(count) }
        }
        let rows = try await database.query("""
            SELECT coalesce(s.number_id, l.number_id) AS number_id, s.schedule AS source, l.schedule AS projected
              FROM assignment.schedules s FULL JOIN lookup.schedules l ON l.number_id = s.number_id
            """)
        for row in rows {
            let id = try row.decode(UUID.self, column: "number_id")
            let source = try row.decode([UInt8]?.self, column: "source").map { try AssignmentV1.Schedule(serializedBytes: $0) }
            let projected = try row.decode([UInt8]?.self, column: "projected").map { try AssignmentV1.Schedule(serializedBytes: $0) }
            if source != nil { report.schedules += 1 }
            if Self.comparable(source) != Self.comparable(projected) {
                report.differences.append("schedule of number \(id): assignment \(source == nil ? "has none" : "has one"), "
                    + "lookup \(projected == nil ? "has none" : "has one")\(source != nil && projected != nil ? " that differs" : "")")
            }
        }
    }

    /// Schedules compare by content; the stored copy and the event's may differ in bookkeeping fields.
    private static func comparable(_ schedule: AssignmentV1.Schedule?) -> AssignmentV1.Schedule? {
        guard var schedule else { return nil }
        schedule.version = 0
        schedule.numberId = schedule.numberId.lowercased()
        return schedule
    }

    // MARK: Lookup's memory

    /// Each number's answer from a replica, against what the sources imply.
    private func compareAnswers(of replica: RPCClient, named name: String, _ expected: [UUID: Expected],
                                heads: (inventory: Int64, assignment: Int64), report: inout Report) async throws {
        let numbers = expected.values.sorted { $0.e164 < $1.e164 }
        let organizations = try await knownOrganizations()
        var start = 0
        while start < numbers.count {
            let chunk = Array(numbers[start..<min(start + 1_000, numbers.count)])
            start += chunk.count
            var request = LookupV1.BatchResolveRequest()
            request.numbers = chunk.map(\.e164)
            request.minToken = .with {
                $0.inventory = UInt64(heads.inventory)
                $0.assignment = UInt64(heads.assignment)
            }
            let response = try await replica.unary("phonenumbers.lookup.v1.Lookup/BatchResolve", request,
                                                   as: LookupV1.BatchResolveResponse.self, timeout: catchUp, idempotent: true)
            for (number, result) in zip(chunk, response.results) {
                if let problem = Self.problem(with: result, for: number, organizations: organizations) {
                    report.differences.append("replica \(name): \(number.e164): \(problem)")
                }
            }
        }
    }

    private func knownOrganizations() async throws -> Set<String> {
        Set(try await database.query("SELECT id FROM assignment.organizations").map { try $0.decode(String.self, column: "id") })
    }

    /// nil when the answer is what the sources imply.
    static func problem(with result: LookupV1.BatchResolveResult, for number: Expected, organizations: Set<String>) -> String? {
        let failedPrecondition = UInt32(RPCError.Code.failedPrecondition.rawValue)
        let routable = !number.retired && number.state == "assigned" && number.organization.map(organizations.contains) == true
        switch result.outcome {
        case .route(let route):
            guard routable else { return "answered a route, but the number is \(number.retired ? "retired" : number.state)" }
            var problems: [String] = []
            if route.numberId != number.id.uuidString.lowercased() { problems.append("number id \(route.numberId)") }
            if route.organization?.id != number.organization { problems.append("organisation \(route.organization?.id ?? "none")") }
            if route.connectedAgentId != (number.agent ?? "") { problems.append("connected agent '\(route.connectedAgentId)'") }
            if route.provider != number.provider { problems.append("provider \(route.provider)") }
            if route.hasCredentials != (number.credentials != nil) { problems.append("has_credentials \(route.hasCredentials)") }
            return problems.isEmpty ? nil : "differs in " + problems.joined(separator: ", ")
        case .error(let error):
            if !routable && error.code == failedPrecondition { return nil }
            return "answered \(error.code): \(error.message), but the number is \(routable ? "routable" : number.state)"
        case nil:
            return "no answer"
        }
    }

    static func describe(_ number: Expected) -> String {
        "retired=\(number.retired) provider=\(number.provider) ids=\(number.providerIDs) capabilities=\(number.capabilities) "
            + "owner=\(number.owner ?? "-") credentials=\(number.credentialsKeyID ?? "-") "
            + "organisation=\(number.organization ?? "-") agent=\(number.agent ?? "-") state=\(number.state)"
    }
}

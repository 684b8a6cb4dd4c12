import Credentials
import Foundation
import Outbox
import Protos
import Store

/// Reads the persisted projection back into memory at start-up: one
/// repeatable-read snapshot of the rows and the stream positions they were
/// built up to, so the consumers resume exactly after them.
enum ProjectionLoader {
    struct Loaded {
        var state: RouteState
        var inventoryPosition: Int64
        var assignmentPosition: Int64
    }

    static func load(from database: Database, positions: ConsumerPositions) async throws -> Loaded {
        try await database.withTransaction(isolation: .repeatableRead, readOnly: true) { transaction in
            let count = try await transaction.query("SELECT count(*) AS n FROM numbers").first?.decode(Int64.self, column: "n") ?? 0
            var state = RouteState(expectedNumbers: Int(count))
            // Organisations and agents first: schedules compile with their zones.
            for row in try await transaction.query("SELECT id, slug, external_id, name, time_zone FROM organizations") {
                var organization = AssignmentV1.Organization()
                organization.id = try row.decode(String.self, at: 0)
                organization.slug = try row.decode(String.self, at: 1)
                organization.externalId = try row.decode(String.self, at: 2)
                organization.name = try row.decode(String.self, at: 3)
                organization.timeZone = try row.decode(String.self, at: 4)
                state.apply(.organization(organization))
            }
            for row in try await transaction.query("SELECT id, organization_id, name, external_assistant_id FROM agents") {
                var agent = AssignmentV1.Agent()
                agent.id = try row.decode(String.self, at: 0)
                agent.organizationId = try row.decode(String.self, at: 1)
                agent.name = try row.decode(String.self, at: 2)
                agent.externalAssistantId = try row.decode(String.self, at: 3)
                state.apply(.agent(agent))
            }
            // A cursor keeps the rows in flight to one batch, and raw rows skip a
            // string per cell: a million numbers load in a few seconds.
            try await transaction.execute("""
                DECLARE projection_numbers NO SCROLL CURSOR FOR
                SELECT number_id, e164, cataloged, country, region, number_type, provider, provider_number_id,
                       trunk_id, vapi_phone_number_id, capabilities, retired, owner_organization_id, inventory_version,
                       credentials_key_id, credentials_ciphertext, organization_id, agent_id, assignment_state
                  FROM numbers
                """)
            // The next batch is fetched and decoded on the database thread while
            // this one goes into memory: Postgres and lookup work at once.
            let fetch = { @Sendable in
                try await transaction.rawRows("FETCH 20000 FROM projection_numbers") { try LoadedNumber($0) }
            }
            var batch = try await fetch()
            while !batch.isEmpty {
                async let next = fetch()
                for number in batch {
                    state.load(number.facts, credentials: number.credentials, assignment: number.assignment)
                }
                batch = try await next
            }
            for row in try await transaction.query("SELECT number_id, schedule FROM schedules") {
                let schedule = try AssignmentV1.Schedule(serializedBytes: try row.decode([UInt8].self, at: 1))
                state.apply(.schedule(numberID: try row.decode(UUID.self, at: 0), schedule))
            }
            return Loaded(
                state: state,
                inventoryPosition: try await positions.load(stream: "inventory", in: transaction),
                assignmentPosition: try await positions.load(stream: "assignment", in: transaction))
        }
    }
}

/// One row of `numbers`, read from libpq's buffers.
private struct LoadedNumber: Sendable {
    var facts: CatalogFacts?
    var credentials: SealedCredentials?
    var assignment: AssignmentFacts

    struct Unreadable: Error, CustomStringConvertible {
        var column: String
        var description: String { "column \(column) is unreadable" }
    }

    init(_ row: RawRow) throws {
        guard let id = row.bytes(0).flatMap(UUIDText.parse) else { throw Unreadable(column: "number_id") }
        let e164 = row.string(1) ?? ""
        if row.bool(2) == true {
            facts = CatalogFacts(
                numberID: id, e164: e164, country: row.string(3) ?? "", region: row.string(4) ?? "",
                numberType: row.string(5) ?? "", provider: row.string(6) ?? "", providerNumberID: row.string(7) ?? "",
                trunkID: row.string(8) ?? "", vapiPhoneNumberID: row.string(9) ?? "",
                capabilities: Capabilities(bits: UInt8(truncatingIfNeeded: row.int64(10) ?? 0)),
                retired: row.bool(11) ?? false, ownerOrganizationID: row.string(12), version: row.int64(13) ?? 0)
        }
        if let keyID = row.string(14), let ciphertext = row.bytea(15) {
            credentials = SealedCredentials(keyID: keyID, ciphertext: ciphertext)
        }
        assignment = AssignmentFacts(
            numberID: id, e164: e164, organizationID: row.string(16), agentID: row.string(17),
            state: row.string(18).flatMap(AssignmentFacts.State.init(rawValue:)) ?? .available)
    }
}

/// Canonical UUID text ("8-4-4-4-12" hex digits) parsed from bytes.
enum UUIDText {
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard text.count == 36 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        var index = 0
        var high: UInt8?
        for character in text {
            if character == UInt8(ascii: "-") { continue }
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let pending = high {
                guard index < 16 else { return nil }
                bytes[index] = pending << 4 | value
                index += 1
                high = nil
            } else {
                high = value
            }
        }
        guard index == 16 else { return nil }
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}

import Auth
import Credentials
import Foundation
import PhoneNumbers
import Outbox
import Protos
import RPC
import ServiceRuntime
import Store

/// Imports a batch of numbers in one transaction: every item gets its own
/// result (created, already present with the same data, or rejected with the
/// field and reason); one bad item never spoils the others.
struct Importer: Sendable {
    static let maximumItems = 5_000
    /// Rows per INSERT: each array parameter then stays under glibc's 128 KiB
    /// mmap threshold in the Postgres backend, which otherwise maps and unmaps
    /// (and the kernel zeroes) fresh memory for every statement's parameters.
    static let rowsPerStatement = 1_000

    var outbox: Outbox
    var keyRing: CredentialKeyRing

    /// An item ready to insert, with its id and sealed credentials.
    private struct Candidate {
        var index: Int
        var record: NumberRecord
        var item: ValidatedItem
        var sealed: SealedCredentials?
    }

    func run(_ request: InventoryV1.ImportNumbersRequest, caller: Principal,
             in transaction: Transaction) async throws -> InventoryV1.ImportNumbersResponse {
        guard !request.items.isEmpty else { throw RPCError.invalidArgument(field: "items", "must hold at least one number") }
        guard request.items.count <= Self.maximumItems else {
            throw RPCError.invalidArgument(field: "items", "holds \(request.items.count) numbers; at most \(Self.maximumItems) per call")
        }
        var results = request.items.indices.map { index in
            var result = InventoryV1.ImportResult()
            result.index = UInt32(index)
            return result
        }
        let now = Self.databaseNow()
        let actor = caller.description
        let ids = UUID.timeOrdered(count: request.items.count, now: now)

        // Validate every item; the first occurrence of a number in the batch wins.
        // Sized up front: a candidate is large, and growing the array by
        // doubling copied each one into freshly faulted memory several times.
        var candidates: [Candidate] = []
        candidates.reserveCapacity(request.items.count)
        var firstIndexByE164: [String: Int] = [:]
        firstIndexByE164.reserveCapacity(request.items.count)
        var repeats: [(index: Int, first: Int)] = []
        for (index, item) in request.items.enumerated() {
            do {
                let valid = try ItemValidator.validate(item, caller: caller)
                results[index].e164 = valid.number.e164
                if let first = firstIndexByE164[valid.number.e164] {
                    let earlier = candidates.first { $0.index == first }!
                    guard earlier.item == valid else {
                        throw RPCError.invalidArgument(field: "number", "appears again in this request (item \(first)) with different data")
                    }
                    // Same data again: it shares the first occurrence's fate, settled below.
                    repeats.append((index, first))
                    continue
                }
                firstIndexByE164[valid.number.e164] = index
                let id = ids[index]
                let sealed = try valid.credentials.map {
                    try keyRing.encrypt($0, associatedData: CredentialKeyRing.associatedData(numberID: id.lowercasedString))
                }
                let record = NumberRecord(id: id, item: valid, sealed: sealed, actor: actor, now: now)
                candidates.append(Candidate(index: index, record: record, item: valid, sealed: sealed))
            } catch let error as RPCError {
                results[index].outcome = .rejected
                results[index].field = error.fieldViolations.first?.field ?? "number"
                results[index].reason = error.fieldViolations.first?.description ?? error.message
            }
        }

        // nil: every candidate was inserted (the usual case, which needs no set of numbers).
        var inserted: Set<String>? = nil
        for start in stride(from: 0, to: candidates.count, by: Self.rowsPerStatement) {
            let chunk = candidates[start..<min(start + Self.rowsPerStatement, candidates.count)]
            if let some = try await insert(chunk, in: transaction) {
                // Part of this chunk already existed: from now on the set says which rows are new.
                if inserted == nil { inserted = Set(candidates[..<start].map(\.record.e164)) }
                inserted!.formUnion(some)
            } else if inserted != nil {
                inserted!.formUnion(chunk.map(\.record.e164))
            }
        }
        var events: [NewOutboxEvent] = []
        events.reserveCapacity(candidates.count + candidates.count / 4)
        var conflicting: [Candidate] = []
        for candidate in candidates {
            // The candidate's record is the row as stored (see `insert`), so events carry exactly that.
            if inserted?.contains(candidate.record.e164) ?? true {
                let event = InventoryEvents.numberChanged(.imported, candidate.record)
                results[candidate.index].outcome = .created
                results[candidate.index].numberId = event.aggregateID
                events.append(event)
                if let sealed = candidate.sealed { events.append(InventoryEvents.credentialsChanged(candidate.record, sealed)) }
            } else {
                conflicting.append(candidate)
            }
        }
        try await resolveConflicts(conflicting, caller: caller, results: &results, in: transaction)
        for (index, first) in repeats {
            results[index].numberId = results[first].numberId
            if results[first].outcome == .rejected {
                results[index].outcome = .rejected
                results[index].field = results[first].field
                results[index].reason = results[first].reason
            } else {
                results[index].outcome = .alreadyPresent
            }
        }

        var response = InventoryV1.ImportNumbersResponse()
        if !events.isEmpty {
            response.consistencyToken = UInt64(try await outbox.append(in: transaction, events).upperBound)
        } else {
            response.consistencyToken = UInt64(try await outbox.headPosition(in: transaction))
        }
        response.results = results
        response.created = UInt32(results.count { $0.outcome == .created })
        response.alreadyPresent = UInt32(results.count { $0.outcome == .alreadyPresent })
        response.rejected = UInt32(results.count { $0.outcome == .rejected })
        return response
    }

    /// Now, at timestamptz's microsecond precision: stored and read back, it
    /// gives this same `Date`, so a record holding it equals its row.
    static func databaseNow() -> Date {
        let micros = (Date().timeIntervalSince1970 * 1_000_000).rounded()
        return Date(timeIntervalSince1970: micros / 1_000_000)
    }

    /// Inserts all candidates in one statement; returns nil when every row was
    /// inserted, else the E.164 numbers of the rows actually inserted (the rest
    /// already existed: the unique constraint decides). An inserted row holds exactly its candidate's
    /// record: every column is given or defaults to what the record says, and
    /// the timestamps are at the database's precision already. The arrays are
    /// unnested in the select list, where they advance in lockstep without
    /// being stored first (`unnest(a, b, …)` in FROM fills a tuplestore per array).
    /// The statement answers only how many rows it inserted; when that is not
    /// all of them, the inserted ones are the rows holding the new ids (fresh
    /// random ids nobody else can hold), read in a second statement. Imports
    /// rarely repeat numbers, so most calls skip thousands of answer rows.
    private func insert(_ candidates: ArraySlice<Candidate>, in transaction: Transaction) async throws -> Set<String>? {
        guard !candidates.isEmpty else { return nil }
        let records = candidates.map(\.record)
        let ids = records.map(\.id)
        let count = try await transaction.rawRows("""
            WITH inserted AS (
            INSERT INTO numbers (id, e164, country, region, number_type, provider, provider_number_id, trunk_id,
                                 vapi_phone_number_id, voice, sms, mms, fax, monthly_cost_micros, currency, label,
                                 owner_organization_id, credentials_key_id, credentials_ciphertext,
                                 created_at, created_by, updated_at, updated_by)
            SELECT u.id, u.e164, u.country, u.region, u.number_type, u.provider, u.pnid, u.trunk, u.vapi,
                   u.voice, u.sms, u.mms, u.fax, u.cost, u.currency, u.label, NULLIF(u.owner, ''),
                   NULLIF(u.key_id, ''), decode(NULLIF(u.ciphertext, ''), 'hex'), $20, $21, $20, $21
              FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::text[]) AS e164, unnest($3::text[]) AS country,
                           unnest($4::text[]) AS region, unnest($5::text[]) AS number_type, unnest($6::text[]) AS provider,
                           unnest($7::text[]) AS pnid, unnest($8::text[]) AS trunk, unnest($9::text[]) AS vapi,
                           unnest($10::bool[]) AS voice, unnest($11::bool[]) AS sms, unnest($12::bool[]) AS mms,
                           unnest($13::bool[]) AS fax, unnest($14::int8[]) AS cost, unnest($15::text[]) AS currency,
                           unnest($16::text[]) AS label, unnest($17::text[]) AS owner, unnest($18::text[]) AS key_id,
                           unnest($19::text[]) AS ciphertext) AS u
            ON CONFLICT (e164) DO NOTHING
            RETURNING 1
            )
            SELECT count(*) FROM inserted
            """, [
                ids, records.map(\.e164), records.map(\.country), records.map(\.region),
                records.map(\.numberType), records.map(\.provider), records.map(\.providerNumberID),
                records.map(\.trunkID), records.map(\.vapiPhoneNumberID), records.map(\.voice), records.map(\.sms),
                records.map(\.mms), records.map(\.fax), records.map(\.monthlyCostMicros), records.map(\.currency),
                records.map(\.label), records.map { $0.ownerOrganizationID ?? "" },
                records.map { $0.credentialsKeyID ?? "" }, records.map { $0.credentialsCiphertext.map(hex) ?? "" },
                records[0].createdAt, records[0].createdBy,
            ]) { $0.int64(0) ?? 0 }.first ?? 0
        if Int(count) == records.count { return nil }
        let inserted = try await transaction.rawRows(
            "SELECT e164 FROM numbers WHERE id = ANY($1::uuid[])", [ids]) { $0.string(0) ?? "" }
        return Set(inserted)
    }

    /// Numbers already in the catalogue: the same data is not an error;
    /// different data is a rejection that says which fields differ (but
    /// nothing about a number another organisation owns).
    private func resolveConflicts(_ candidates: [Candidate], caller: Principal,
                                  results: inout [InventoryV1.ImportResult], in transaction: Transaction) async throws {
        guard !candidates.isEmpty else { return }
        let rows = try await transaction.query(
            "SELECT \(NumberRecord.columns) FROM numbers WHERE e164 = ANY($1::text[])", [candidates.map(\.record.e164)])
        let existing = Dictionary(try rows.map { let record = try NumberRecord(row: $0); return (record.e164, record) },
                                  uniquingKeysWith: { first, _ in first })
        for candidate in candidates {
            let index = candidate.index
            guard let current = existing[candidate.record.e164] else {
                // Inserted concurrently and then removed: cannot happen without deletes; be explicit anyway.
                results[index].outcome = .rejected
                results[index].field = "number"
                results[index].reason = "changed concurrently; retry the import"
                continue
            }
            guard NumberAccess(caller).canRead(current) else {
                results[index].outcome = .rejected
                results[index].field = "number"
                results[index].reason = "is already in the inventory"
                continue
            }
            let differences = try differences(candidate, current)
            if differences.isEmpty {
                results[index].outcome = .alreadyPresent
                results[index].numberId = current.id.lowercasedString
            } else {
                results[index].outcome = .rejected
                results[index].numberId = current.id.lowercasedString
                results[index].field = "number"
                results[index].reason = "is already in the inventory with different \(differences.joined(separator: ", "))"
            }
        }
    }

    private func differences(_ candidate: Candidate, _ current: NumberRecord) throws -> [String] {
        let new = candidate.record
        var fields: [String] = []
        if new.region != current.region { fields.append("region") }
        if new.provider != current.provider { fields.append("provider") }
        if (new.providerNumberID, new.trunkID, new.vapiPhoneNumberID) != (current.providerNumberID, current.trunkID, current.vapiPhoneNumberID) {
            fields.append("provider_ids")
        }
        if (new.voice, new.sms, new.mms, new.fax) != (current.voice, current.sms, current.mms, current.fax) { fields.append("capabilities") }
        if (new.monthlyCostMicros, new.currency) != (current.monthlyCostMicros, current.currency) { fields.append("monthly_cost") }
        if new.label != current.label { fields.append("label") }
        if new.ownerOrganizationID != current.ownerOrganizationID { fields.append("owner_organization_id") }
        if current.isRetired { fields.append("lifecycle (it is retired)") }
        let currentCredentials = try current.credentialsCiphertext.map { ciphertext in
            try keyRing.decrypt(SealedCredentials(keyID: current.credentialsKeyID ?? "", ciphertext: ciphertext),
                                associatedData: CredentialKeyRing.associatedData(numberID: current.id.lowercasedString))
        }
        if candidate.item.credentials != currentCredentials { fields.append("credentials") }
        return fields
    }
}

func hex(_ bytes: [UInt8]) -> String {
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(lowercaseHexDigit(byte >> 4))
        out.append(lowercaseHexDigit(byte & 0x0f))
    }
    return String(decoding: out, as: UTF8.self)
}

import Foundation
import PhoneNumbers
import Protos
import RPC
import ServiceRuntime
import Store

/// Reads and writes of single numbers, shared by the handlers.
enum NumberStore {
    /// The number with `id`, locked for update when `forUpdate`.
    static func find(id: UUID, forUpdate: Bool = false, in transaction: Transaction) async throws -> NumberRecord? {
        let rows = try await transaction.query(
            "SELECT \(NumberRecord.columns) FROM numbers WHERE id = $1\(forUpdate ? " FOR UPDATE" : "")", [id])
        return try rows.first.map(NumberRecord.init(row:))
    }

    static func find(e164: String, database: Database) async throws -> NumberRecord? {
        let rows = try await database.query("SELECT \(NumberRecord.columns) FROM numbers WHERE e164 = $1", [e164])
        return try rows.first.map(NumberRecord.init(row:))
    }

    static func find(id: UUID, database: Database) async throws -> NumberRecord? {
        let rows = try await database.query("SELECT \(NumberRecord.columns) FROM numbers WHERE id = $1", [id])
        return try rows.first.map(NumberRecord.init(row:))
    }

    /// Writes every mutable column of `record` and bumps its version.
    static func save(_ record: NumberRecord, in transaction: Transaction) async throws -> NumberRecord {
        let rows = try await transaction.query("""
            UPDATE numbers SET region = $2, provider = $3, provider_number_id = $4, trunk_id = $5,
                   vapi_phone_number_id = $6, voice = $7, sms = $8, mms = $9, fax = $10,
                   monthly_cost_micros = $11, currency = $12, label = $13, owner_organization_id = $14,
                   lifecycle = $15, credentials_key_id = $16, credentials_ciphertext = $17,
                   version = version + 1, updated_at = now(), updated_by = $18, retired_reason = $19
             WHERE id = $1
            RETURNING \(NumberRecord.columns)
            """, [
                record.id, record.region, record.provider, record.providerNumberID, record.trunkID,
                record.vapiPhoneNumberID, record.voice, record.sms, record.mms, record.fax,
                record.monthlyCostMicros, record.currency, record.label, record.ownerOrganizationID,
                record.lifecycle, record.credentialsKeyID, record.credentialsCiphertext, record.updatedBy,
                record.retiredReason,
            ])
        guard let row = rows.first else { throw RPCError(.notFound, "number \(record.id.lowercasedString) not found") }
        return try NumberRecord(row: row)
    }
}

/// Parsing of request identifiers.
enum RequestIDs {
    static func uuid(_ text: String, field: String) throws(RPCError) -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw RPCError.invalidArgument(field: field, text.isEmpty ? "is required" : "is not a UUID")
        }
        return id
    }

    static func e164(_ text: String, regionHint: String) throws(RPCError) -> String {
        let hint = try ItemValidator.regionHint(regionHint)
        if PhoneNumber.isPlausibleE164(text) { return text }
        do {
            return try PhoneNumber(parsing: text, defaultRegion: hint).e164
        } catch {
            throw RPCError.invalidArgument(field: "number", error.description)
        }
    }
}

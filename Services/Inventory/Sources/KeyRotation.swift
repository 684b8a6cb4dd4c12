import Credentials
import Foundation
import Outbox
import Protos
import ServiceRuntime
import Store

/// Re-encrypts every stored credential under the active key, a batch per
/// transaction, so rows stay locked only briefly and the service keeps
/// serving. Safe to run again: rows already under the active key are skipped.
struct KeyRotation: Sendable {
    var database: Database
    var outbox: Outbox
    var keyRing: CredentialKeyRing

    func run(batchSize: Int, actor: String) async throws -> InventoryV1.RotateCredentialKeysResponse {
        var response = InventoryV1.RotateCredentialKeysResponse()
        response.activeKeyId = keyRing.activeKeyID
        var failed: [UUID] = []
        while true {
            let (rotated, seen, position, newlyFailed) = try await database.withTransaction { transaction in
                try await rotateBatch(batchSize: batchSize, skipping: failed, actor: actor, in: transaction)
            }
            response.rotated += UInt32(rotated)
            failed += newlyFailed
            if let position { response.consistencyToken = UInt64(position) }
            if seen < batchSize { break }
        }
        response.failedNumberIds = failed.map { $0.lowercasedString }
        return response
    }

    private func rotateBatch(batchSize: Int, skipping failed: [UUID], actor: String,
                             in transaction: Transaction) async throws -> (rotated: Int, seen: Int, position: Int64?, failed: [UUID]) {
        // SKIP LOCKED: rows being changed right now are picked up by the next batch or run.
        let rows = try await transaction.query("""
            SELECT \(NumberRecord.columns) FROM numbers
             WHERE credentials_key_id IS NOT NULL AND credentials_key_id <> $1 AND id <> ALL($3::uuid[])
             LIMIT $2 FOR UPDATE SKIP LOCKED
            """, [keyRing.activeKeyID, batchSize, failed])
        var events: [NewOutboxEvent] = []
        var newlyFailed: [UUID] = []
        for row in rows {
            var record = try NumberRecord(row: row)
            let sealed: SealedCredentials
            do {
                sealed = try keyRing.rotate(
                    SealedCredentials(keyID: record.credentialsKeyID!, ciphertext: record.credentialsCiphertext!),
                    associatedData: CredentialKeyRing.associatedData(numberID: record.id.lowercasedString))
            } catch {
                newlyFailed.append(record.id)
                continue
            }
            record.credentialsKeyID = sealed.keyID
            record.credentialsCiphertext = sealed.ciphertext
            record.updatedBy = actor
            let saved = try await NumberStore.save(record, in: transaction)
            events.append(InventoryEvents.credentialsChanged(saved, sealed))
        }
        guard !events.isEmpty else { return (0, rows.count, nil, newlyFailed) }
        return (events.count, rows.count, try await outbox.append(in: transaction, events).upperBound, newlyFailed)
    }
}

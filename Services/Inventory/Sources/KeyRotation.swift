import Credentials
import Foundation
import Outbox
import Protos
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
        while true {
            let (rotated, position) = try await database.withTransaction { transaction in
                try await rotateBatch(batchSize: batchSize, actor: actor, in: transaction)
            }
            response.rotated += UInt32(rotated)
            if let position { response.consistencyToken = UInt64(position) }
            if rotated < batchSize { break }
        }
        return response
    }

    private func rotateBatch(batchSize: Int, actor: String, in transaction: Transaction) async throws -> (Int, Int64?) {
        // SKIP LOCKED: rows being changed right now are picked up by the next batch or run.
        let rows = try await transaction.query("""
            SELECT \(NumberRecord.columns) FROM numbers
             WHERE credentials_key_id IS NOT NULL AND credentials_key_id <> $1
             LIMIT $2 FOR UPDATE SKIP LOCKED
            """, [keyRing.activeKeyID, batchSize])
        var events: [NewOutboxEvent] = []
        for row in rows {
            var record = try NumberRecord(row: row)
            let sealed = try keyRing.rotate(
                SealedCredentials(keyID: record.credentialsKeyID!, ciphertext: record.credentialsCiphertext!),
                associatedData: CredentialKeyRing.associatedData(numberID: record.id.uuidString.lowercased()))
            record.credentialsKeyID = sealed.keyID
            record.credentialsCiphertext = sealed.ciphertext
            record.updatedBy = actor
            let saved = try await NumberStore.save(record, in: transaction)
            events.append(InventoryEvents.credentialsChanged(saved, sealed))
        }
        guard !events.isEmpty else { return (0, nil) }
        return (events.count, try await outbox.append(in: transaction, events).upperBound)
    }
}

import Foundation
import Logging
import ServiceLifecycle
import Store

/// Frees the numbers of expired holds. Expired holds are already ignored when
/// numbers are taken, so this only makes the pool, history and events say so
/// promptly. Safe with several replicas: each expired row is deleted once.
struct HoldSweeper: Service {
    var database: Database
    var changes: Changes
    var interval: Duration
    var logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let freed = try await sweep()
                    if freed > 0 { logger.info("expired holds released numbers", metadata: ["numbers": "\(freed)"]) }
                } catch {
                    logger.warning("hold sweep failed; will retry", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    func sweep() async throws -> Int {
        try await database.withTransaction { transaction in
            let rows = try await transaction.query("""
                DELETE FROM assignments a USING holds h
                 WHERE a.hold_id = h.id AND h.expires_at <= now()
                RETURNING a.number_id, a.organization_id
                """)
            try await transaction.execute("DELETE FROM holds WHERE expires_at <= now()")
            var ids: [UUID] = []
            for row in rows {
                let id = try row.decode(UUID.self, column: "number_id")
                ids.append(id)
                try await changes.history("hold_expired", actor: "assignment", numberID: id,
                                          organizationID: try row.decode(String.self, column: "organization_id"), in: transaction)
            }
            try await changes.publishNumbers(ids, in: transaction)
            return ids.count
        }
    }
}

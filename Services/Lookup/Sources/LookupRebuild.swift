import Foundation
import Logging
import ServiceRuntime
import Store

/// `lookup rebuild`: empties the lookup schema and its stream positions in one
/// transaction, so the next start replays inventory's and assignment's events
/// from position zero. Run it with every lookup replica stopped (a running
/// replica keeps its memory and would go on from where it was).
public enum LookupRebuild {
    public static func run(environment: [String: String]) async throws {
        let settings = try ServiceSettings(service: LookupService.name, defaultPort: LookupService.defaultPort,
                                           environment: environment)
        let database = Database(configuration: settings.postgres, logger: Logger(label: "lookup.rebuild"))
        do {
            _ = try await database.migrate(schema: LookupService.name, LookupService.migrations)
            try await database.withTransaction { transaction in
                try await transaction.execute("TRUNCATE numbers, organizations, agents, schedules, consumer_positions")
            }
            await database.close()
        } catch {
            await database.close()
            throw error
        }
        print("lookup: projection emptied; the next start rebuilds it from position zero")
    }
}

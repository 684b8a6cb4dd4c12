import Credentials
import Logging
import Outbox
public import RPC
public import ServiceLifecycle
public import ServiceRuntime
public import Store

/// The catalogue: what each number is. Owns schema `inventory` and publishes
/// its changes as events.
public enum InventoryService: ServiceDefinition {
    public static let name = "inventory"
    public static let defaultPort = 7101

    public static var migrations: [Migration] { InventorySchema.migrations }

    public static func configure(router: inout RPCRouter, context: ServiceContext) throws -> [any Service] {
        let keyRing = try context.settings.credentialKeyRing()
        let outbox = Outbox(database: context.database, schema: name)
        let watcher = OutboxWatcher(outbox: outbox, logger: context.logger)
        EventFeed.register(in: &router, outbox: outbox, watcher: watcher)
        InventoryHandlers(database: context.database, outbox: outbox, keyRing: keyRing,
                          idempotency: IdempotencyKeys(schema: name)).register(in: &router)
        return [watcher]
    }
}

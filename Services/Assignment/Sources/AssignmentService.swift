import Logging
import Outbox
public import RPC
public import ServiceLifecycle
public import ServiceRuntime
public import Store

/// Who holds each number. Owns schema `assignment`, follows inventory's
/// events and publishes its own.
public enum AssignmentService: ServiceDefinition {
    public static let name = "assignment"
    public static let defaultPort = 7102

    public static var migrations: [Migration] {
        [Outbox.migration(version: 1), ConsumerPositions.migration(version: 2)]
    }

    public static func configure(router: inout RPCRouter, context: ServiceContext) throws -> [any Service] {
        let outbox = Outbox(database: context.database, schema: name)
        let watcher = OutboxWatcher(outbox: outbox, logger: context.logger)
        EventFeed.register(in: &router, outbox: outbox, watcher: watcher)
        var services: [any Service] = [watcher]
        if let inventory = context.upstreamClient("inventory", scopes: [EventFeed.scope]) {
            services.append(EventConsumer(
                stream: "inventory", client: inventory, database: context.database,
                positions: ConsumerPositions(schema: name), logger: context.logger,
                apply: { _, _ in /* the catalogue projection arrives with the assignment issue */ }))
        } else {
            context.logger.warning("PHONE_INVENTORY_ADDR is not set; not following inventory events")
        }
        return services
    }
}

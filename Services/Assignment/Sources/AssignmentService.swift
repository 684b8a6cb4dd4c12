import Auth
import Logging
import Outbox
public import RPC
public import ServiceLifecycle
public import ServiceRuntime
public import Store

/// Who holds each number. Owns schema `assignment`, follows inventory's
/// events into its own copy of the catalogue, and publishes its own.
public enum AssignmentService: ServiceDefinition {
    public static let name = "assignment"
    public static let defaultPort = 7102

    public static var migrations: [Migration] { AssignmentSchema.migrations }

    public static func configure(router: inout RPCRouter, context: ServiceContext) throws -> [any Service] {
        let env = context.settings.environment
        let cooldown = try env.int("PHONE_RELEASE_COOLDOWN_SECONDS", default: 86_400, range: 0...(90 * 86_400))
        let sweepMillis = try env.int("PHONE_HOLD_SWEEP_MILLISECONDS", default: 1_000, range: 50...60_000)

        let database = context.database
        let outbox = Outbox(database: database, schema: name)
        let watcher = OutboxWatcher(outbox: outbox, logger: context.logger)
        let changes = Changes(outbox: outbox)
        let idempotency = IdempotencyKeys(schema: name)
        let schedules = ScheduleStore(changes: changes)
        EventFeed.register(in: &router, outbox: outbox, watcher: watcher)
        DirectoryHandlers(database: database, changes: changes, idempotency: idempotency, schedules: schedules).register(in: &router)
        PoolHandlers(database: database, changes: changes, idempotency: idempotency, releaseCooldownSeconds: cooldown).register(in: &router)
        ConnectionHandlers(database: database, changes: changes, idempotency: idempotency).register(in: &router)
        ScheduleHandlers(database: database, changes: changes, idempotency: idempotency, store: schedules).register(in: &router)
        QueryHandlers(database: database).register(in: &router)

        var services: [any Service] = [
            watcher,
            HoldSweeper(database: database, changes: changes, interval: .milliseconds(sweepMillis), logger: context.logger),
        ]
        if let inventory = context.upstreamClient("inventory", scopes: [EventFeed.scope]) {
            let projection = CatalogProjection(changes: changes)
            services.append(EventConsumer(
                stream: "inventory", client: inventory, database: database,
                positions: ConsumerPositions(schema: name), logger: context.logger,
                applyEach: { event, transaction in try await projection.apply(event, in: transaction) }))
        } else {
            context.logger.warning("PHONE_INVENTORY_ADDR is not set; the catalogue will not follow inventory")
        }
        return services
    }
}

/// Method names and the common access policies.
enum AssignmentHandlers {
    static let prefix = "phonenumbers.assignment.v1.Assignment/"
    static let writers = AccessPolicy.authenticated(roles: [.orgOwner, .orgAdmin])
    static let readers = AccessPolicy.authenticated(roles: [.orgOwner, .orgAdmin, .orgMember], scopes: [OrganizationAccess.readScope])
}

import Logging
import Outbox
public import RPC
public import ServiceLifecycle
public import ServiceRuntime
public import Store

/// The inbound-call hot path. Owns schema `lookup`, follows inventory's and
/// assignment's events into a projection.
public enum LookupService: ServiceDefinition {
    public static let name = "lookup"
    public static let defaultPort = 7103

    public static var migrations: [Migration] {
        [ConsumerPositions.migration(version: 1)]
    }

    public static func configure(router: inout RPCRouter, context: ServiceContext) throws -> [any Service] {
        var services: [any Service] = []
        for producer in ["inventory", "assignment"] {
            guard let client = context.upstreamClient(producer, scopes: [EventFeed.scope]) else {
                context.logger.warning("no address for \(producer); not following its events")
                continue
            }
            services.append(EventConsumer(
                stream: producer, client: client, database: context.database,
                positions: ConsumerPositions(schema: name), logger: context.logger,
                apply: { _, _ in /* the route projection arrives with the lookup issue */ }))
        }
        return services
    }
}

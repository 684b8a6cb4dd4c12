import Auth
import Foundation
import NIOCore
public import Logging
import Observability
public import RPC
public import ServiceLifecycle
import UnixSignals
public import Store

/// What a service is: its name, port, schema migrations, and the methods and
/// background work it adds. Each executable's `main` hands one to `ServiceLauncher`.
public protocol ServiceDefinition {
    /// Also the Postgres schema and role it owns.
    static var name: String { get }
    static var defaultPort: Int { get }
    static var migrations: [Migration] { get }
    /// Registers the service's methods and returns background services
    /// (event consumers, sweepers) to run beside the RPC server.
    static func configure(router: inout RPCRouter, context: ServiceContext) throws -> [any Service]
    /// Whether the service keeps serving while its database is unreachable
    /// (lookup answers from memory); false by default.
    static var servesWithoutDatabase: Bool { get }
}

extension ServiceDefinition {
    public static var servesWithoutDatabase: Bool { false }
}

/// What `configure` gets to build handlers from.
public struct ServiceContext: Sendable {
    public var settings: ServiceSettings
    public var database: Database
    public var logger: Logger
    /// Start-up work that must finish before health reports SERVING.
    public var readiness: Readiness
}

/// Starts a service: settings from the environment, database, migrations, RPC
/// server and background services in one `ServiceGroup` that drains on
/// SIGTERM/SIGINT.
public enum ServiceLauncher {
    /// Runs until a signal; prints a one-line reason and exits 1 on failure.
    public static func main<Definition: ServiceDefinition>(_ definition: Definition.Type, environment: [String: String]) async {
        do {
            try await run(definition, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("\(Definition.name): \(error)\n".utf8))
            exit(1)
        }
    }

    public static func run<Definition: ServiceDefinition>(_: Definition.Type, environment: [String: String]) async throws {
        let settings = try ServiceSettings(service: Definition.name, defaultPort: Definition.defaultPort, environment: environment)
        // Before anything starts the shared event loops, which read it once.
        if let threads = settings.eventLoopThreads { NIOSingletons.groupLoopCountSuggestion = threads }
        settings.logFormat.bootstrap(level: settings.logLevel)
        // Before any metric object exists: ones made earlier would stay no-ops.
        let registry = MetricsBootstrap.bootstrap()
        var logger = Logger(label: Definition.name)
        logger.logLevel = settings.logLevel

        let database = Database(configuration: settings.postgres, logger: logger)
        let readiness = Readiness()
        let context = ServiceContext(settings: settings, database: database, logger: logger, readiness: readiness)
        var router = RPCRouter()
        let background = try Definition.configure(router: &router, context: context)
        // One answer for the RPC health method and the HTTP /health endpoint.
        let healthCheck: @Sendable () async -> HealthReport = {
            let reachable = (try? await database.query("SELECT 1")) != nil
            let serving = readiness.isReady && (reachable || Definition.servesWithoutDatabase)
            return HealthReport(serving: serving, databaseReachable: reachable)
        }
        let server = RPCServer(
            configuration: settings.rpc, router: router, serviceName: Definition.name, version: settings.version,
            verifier: try TokenVerifier(hs256Secret: settings.jwtSecret), logger: logger, healthCheck: healthCheck)
        let application = Application(
            name: Definition.name, migrations: Definition.migrations, database: database,
            server: server, background: background, logger: logger)

        // Shut down in reverse order: the application drains while metrics and health still answer.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: database)]
        if let endpoint = settings.observability {
            let observability = ObservabilityServer(
                configuration: endpoint, registry: registry, serviceName: Definition.name, version: settings.version,
                healthCheck: healthCheck, logger: logger)
            services.append(.init(service: observability, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(.init(service: application, successTerminationBehavior: .gracefullyShutdownGroup,
                              failureTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Migrates the schema (waiting for Postgres if it is not up yet), then runs
/// the RPC server and the background services until shutdown.
struct Application: Service, CustomStringConvertible {
    var name: String
    var migrations: [Migration]
    var database: Database
    var server: RPCServer
    var background: [any Service]
    var logger: Logger

    var description: String { "\(name) application" }

    func run() async throws {
        // A SIGTERM while Postgres is still away ends the wait instead of sitting it out.
        let migrated: Bool = try await cancelWhenGracefulShutdown {
            do {
                try await migrateWhenReachable()
                return true
            } catch is CancellationError {
                return false
            }
        }
        guard migrated else { return }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.run() }
            for service in background {
                group.addTask { try await service.run() }
            }
        }
    }

    private func migrateWhenReachable() async throws {
        var delay = Duration.milliseconds(200)
        let giveUp = ContinuousClock.now + .seconds(60)
        while true {
            do {
                _ = try await database.migrate(schema: name, migrations)
                logger.info("schema is up to date", metadata: ["db.schema": "\(name)", "db.migrations": "\(migrations.count)"])
                return
            } catch let error as DatabaseError where error.code == .unavailable && ContinuousClock.now < giveUp {
                logger.warning("database not reachable yet; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}

public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import Prometheus
public import RPC
public import ServiceLifecycle

/// The HTTP/1.1 side door of a service for operators and orchestrators:
/// `GET /metrics` (Prometheus text format) and `GET /health` (200 when
/// serving, 503 when not). Runs in the service's `ServiceGroup` and stops on
/// graceful shutdown; bounded in connections, request size and idle time.
public final class ObservabilityServer: Service, Sendable {
    /// Server settings; every field has a default.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port; see `boundAddress()`.
        public var port = 0
        /// Connections accepted at once (scrapers and probes need few).
        public var maximumConnections = 64
        /// Request bodies larger than this are refused (no route takes a body).
        public var maximumBodyBytes = 4096
        /// A connection with no request for this long is closed.
        public var idleTimeout = TimeAmount.seconds(30)

        public init() {}
    }

    private let configuration: Configuration
    private let routes: ObservabilityRoutes
    private let logger: Logger
    private let group: any EventLoopGroup
    private let bound: EventLoopPromise<SocketAddress>
    private let connections = ConnectionTracker()

    /// - Parameters:
    ///   - registry: the metrics to serve at `/metrics`.
    ///   - healthCheck: what `/health` reports; the same check as the RPC health method.
    public init(
        configuration: Configuration, registry: PrometheusCollectorRegistry, serviceName: String, version: String,
        healthCheck: @escaping @Sendable () async -> HealthReport, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.routes = ObservabilityRoutes(registry: registry, serviceName: serviceName, version: version,
                                          healthCheck: healthCheck)
        self.logger = logger
        self.group = eventLoopGroup
        self.bound = eventLoopGroup.next().makePromise()
    }

    /// The address the server listens on, once bound.
    public func boundAddress() async throws -> SocketAddress {
        try await bound.futureResult.get()
    }

    public func run() async throws {
        let configuration = self.configuration
        let routes = self.routes
        let connections = self.connections
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    guard connections.add(channel, limit: configuration.maximumConnections) else {
                        return channel.close()
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(
                            ObservabilityHTTPHandler(routes: routes, maximumBodyBytes: configuration.maximumBodyBytes))
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            bound.fail(error)
            throw error
        }
        let address = channel.localAddress!
        bound.succeed(address)
        logger.info("metrics and health endpoint listening", metadata: ["http.address": "\(address)"])

        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        // Scrapers keep connections alive; nothing is in flight worth waiting for.
        for child in connections.all() { try? await child.close() }
    }
}

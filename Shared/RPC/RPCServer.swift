public import Auth
public import Logging
public import NIOCore
package import Metrics
import NIOConcurrencyHelpers
public import NIOPosix
public import ServiceLifecycle

/// The framed-RPC TCP server. Run it in a `ServiceGroup`: on graceful shutdown
/// it stops accepting, lets in-flight calls finish (bounded by
/// `drainTimeout`), then closes every connection.
public final class RPCServer: Service, Sendable {
    /// Server settings; every field has a production default.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port; see `boundAddress()`.
        public var port = 0
        public var maximumFrameSize = FrameDecoder.defaultMaximumFrameSize
        public var maximumConcurrentCallsPerConnection = 1024
        public var maximumConnections = 4096
        /// Applied to unary calls that carry no timeout.
        public var defaultTimeout = TimeAmount.seconds(30)
        /// Caps the timeout a caller may ask for.
        public var maximumTimeout = TimeAmount.minutes(5)
        /// How long in-flight calls may run after shutdown begins.
        public var drainTimeout = TimeAmount.seconds(10)
        /// A connection that sends nothing for this long, with no call in flight, is closed.
        public var idleTimeout = TimeAmount.minutes(5)
        /// Poll threads serving connections when the router has fast paths
        /// (see `LaneServer`). One, like Redis: a busy thread answers a
        /// batch of connections per wake-up, where two half-busy ones sleep
        /// and wake more than they work (docs/PERFORMANCE.md has the figures).
        public var fastLaneThreads = 1

        public init() {}
    }

    private let configuration: Configuration
    private let shared: ServerConnectionHandler.Shared
    private let group: any EventLoopGroup
    private let logger: Logger
    private let bound: EventLoopPromise<SocketAddress>
    private let connections = ConnectionTracker(gauge: Gauge(label: "rpc_open_connections"))
    /// The general path's channels of connections served by fast lanes.
    private let relays = ConnectionTracker()

    /// - Parameters:
    ///   - router: the methods to serve; health and method listing are added.
    ///   - serviceName: reported by health, e.g. "inventory".
    ///   - healthCheck: extra readiness (e.g. a database ping) for health calls.
    public init(
        configuration: Configuration, router: RPCRouter, serviceName: String, version: String = "dev",
        verifier: TokenVerifier, logger: Logger,
        healthCheck: (@Sendable () async -> HealthReport)? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        var router = router
        router.registerStandardMethods(serviceName: serviceName, version: version, healthCheck: healthCheck)
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        self.shared = .init(router: router, verifier: verifier, configuration: configuration, logger: logger,
                            metrics: RPCServerMetrics())
        self.bound = eventLoopGroup.next().makePromise()
    }

    /// The address the server listens on, once bound.
    public func boundAddress() async throws -> SocketAddress {
        try await bound.futureResult.get()
    }

    public func run() async throws {
        if shared.router.fastRoutes.isEmpty {
            try await runChannels()
        } else {
            try await runLanes()
        }
    }

    /// Every connection a NIO channel.
    private func runChannels() async throws {
        let shared = self.shared
        let configuration = self.configuration
        let connections = self.connections
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    guard connections.add(channel, limit: configuration.maximumConnections) else {
                        return channel.close()
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: configuration.idleTimeout),
                            ByteToMessageHandler(FrameDecoder(maximumFrameSize: configuration.maximumFrameSize)),
                            ServerConnectionHandler(shared: shared),
                        ])
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
        logger.info("rpc server listening", metadata: ["rpc.address": "\(address)"])

        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        await drain(lanes: nil)
    }

    /// Connections served by fast lanes, relaying what their fast paths do not
    /// take to general-path channels.
    private func runLanes() async throws {
        let shared = self.shared
        let configuration = self.configuration
        let relays = self.relays
        let group = self.group
        let logger = self.logger
        let lanes: LaneServer
        do {
            let settings = LaneServer.Settings(
                host: configuration.host, port: configuration.port,
                threads: configuration.fastLaneThreads,
                maximumConnections: configuration.maximumConnections, idleTimeout: configuration.idleTimeout)
            let laneShared = LaneShared(router: shared.router, verifier: shared.verifier, configuration: configuration,
                                        logger: logger, metrics: shared.metrics)
            lanes = try LaneServer(settings: settings, shared: laneShared, openRelay: { descriptor, peer in
                // No idle timer: the lane closes the relay with the connection.
                ClientBootstrap(group: group)
                    .channelInitializer { channel in
                        _ = relays.add(channel, limit: .max)
                        return channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandlers([
                                ByteToMessageHandler(FrameDecoder(maximumFrameSize: configuration.maximumFrameSize)),
                                ServerConnectionHandler(shared: shared, peer: peer),
                            ])
                        }
                    }
                    .withConnectedSocket(descriptor)
                    .whenFailure { error in
                        logger.warning("cannot serve a relayed connection", metadata: ["rpc.peer": "\(peer)", "error": "\(error)"])
                    }
            }, logger: logger)
        } catch {
            bound.fail(error)
            throw error
        }
        lanes.start()
        bound.succeed(lanes.address)
        logger.info("rpc server listening", metadata: ["rpc.address": "\(lanes.address)", "rpc.fast_lanes": "on"])

        let shutdown = group.next().makePromise(of: Void.self)
        try await withGracefulShutdownHandler {
            try await shutdown.futureResult.get()
        } onGracefulShutdown: {
            shutdown.succeed()
        }
        await drain(lanes: lanes)
    }

    /// Tells every connection to finish its calls and close; force-closes
    /// whatever is left after `drainTimeout`.
    private func drain(lanes: LaneServer?) async {
        lanes?.beginDrain()
        let open = connections.all() + relays.all()
        logger.info("draining connections", metadata: ["rpc.connections": "\(lanes?.openConnections ?? open.count)"])
        for child in open {
            child.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = NIODeadline.now() + configuration.drainTimeout
        while !connections.isEmpty || (lanes?.openConnections ?? 0) > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let stragglers = connections.all() + relays.all()
        if !stragglers.isEmpty || (lanes?.openConnections ?? 0) > 0 {
            logger.warning("drain timeout; closing connections",
                           metadata: ["rpc.connections": "\(lanes?.openConnections ?? stragglers.count)"])
            for child in stragglers { try? await child.close() }
        }
        lanes?.stop()
        logger.info("rpc server stopped")
    }
}

/// The open connections of a server, to bound them, to drain them and, given
/// a gauge, to report how many there are.
package final class ConnectionTracker: Sendable {
    private let channels = NIOLockedValueBox([ObjectIdentifier: any Channel]())
    private let gauge: Gauge?

    package init(gauge: Gauge? = nil) {
        self.gauge = gauge
    }

    package func add(_ channel: any Channel, limit: Int) -> Bool {
        let added = channels.withLockedValue { open -> Bool in
            guard open.count < limit else { return false }
            open[ObjectIdentifier(channel)] = channel
            gauge?.record(open.count)
            return true
        }
        if added {
            channel.closeFuture.whenComplete { [weak self] _ in
                self?.remove(channel)
            }
        }
        return added
    }

    private func remove(_ channel: any Channel) {
        channels.withLockedValue { open in
            open.removeValue(forKey: ObjectIdentifier(channel))
            gauge?.record(open.count)
        }
    }

    package func all() -> [any Channel] { channels.withLockedValue { Array($0.values) } }
    package var isEmpty: Bool { channels.withLockedValue { $0.isEmpty } }
}

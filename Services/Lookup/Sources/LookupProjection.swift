import Atomics
import Foundation
import Logging
import NIOCore
import Outbox
import Protos
import RPC
import ServiceLifecycle
import ServiceRuntime
import Store

/// Keeps the route projection: loads it from the lookup schema at start-up
/// (lookup reports SERVING only then), and then follows inventory's and
/// assignment's events, writing each batch to the schema with its position
/// and, once committed, to memory.
///
/// Each replica runs its own consumers against the shared schema: a batch
/// another replica already stored is only applied to this replica's memory.
final class LookupProjection: Service, Sendable {
    static let readinessGate = "route projection loaded"

    let store: RouteStore
    private let database: Database
    private let positions: ConsumerPositions
    private let readiness: Readiness
    private let logger: Logger
    private let consumers: [RouteStore.Stream: EventConsumer]
    private let loadMicros = ManagedAtomic<Int64>(0)

    init(context: ServiceContext, schema: String) {
        let store = RouteStore()
        let positions = ConsumerPositions(schema: schema)
        var consumers: [RouteStore.Stream: EventConsumer] = [:]
        for stream in RouteStore.Stream.allCases {
            guard let client = context.upstreamClient(stream.name, scopes: [EventFeed.scope]) else {
                context.logger.warning("no address for \(stream.name); lookup will not follow its events")
                continue
            }
            let logger = context.logger
            consumers[stream] = EventConsumer(
                stream: stream.name, client: client, database: context.database, positions: positions,
                logger: context.logger, resume: .after { store.applied(stream) },
                apply: { events, transaction in
                    let changes = events.compactMap { Self.decode($0, logger: logger) }
                    if stream == .assignment { await Self.awaitCatalogue(for: changes, store: store, logger: logger) }
                    for change in changes { try await ProjectionWriter.write(change, in: transaction) }
                },
                applied: { events in
                    let changes = events.compactMap { Self.decode($0, logger: nil) }
                    store.apply(changes, from: stream, through: Int64(clamping: events.last?.position ?? 0))
                })
        }
        self.store = store
        self.database = context.database
        self.positions = positions
        self.readiness = context.readiness
        self.logger = context.logger
        self.consumers = consumers
        context.readiness.gate(Self.readinessGate)
    }

    func run() async throws {
        try await loadWhenReachable()
        readiness.open(Self.readinessGate)
        try await withThrowingDiscardingTaskGroup { group in
            for consumer in consumers.values {
                group.addTask { try await consumer.run() }
            }
        }
    }

    /// Per stream: applied position, producer head, lag, freshness.
    func status() -> [LookupV1.StreamStatus] {
        RouteStore.Stream.allCases.map { stream in
            var status = LookupV1.StreamStatus()
            status.stream = stream.name
            let applied = store.applied(stream)
            status.appliedPosition = UInt64(max(0, applied))
            if let consumer = consumers[stream] {
                let head = max(consumer.headPosition, applied)
                status.headPosition = UInt64(head)
                status.lagEvents = UInt64(head - applied)
                let last = consumer.lastAppliedAtMicros
                status.lastAppliedAgeMicros = last == 0 ? 0 : Int64(Date().timeIntervalSince1970 * 1_000_000) - last
                status.connected = consumer.isConnected
            }
            return status
        }
    }

    var loadDurationMicros: Int64 { loadMicros.load(ordering: .relaxed) }
    var isLoaded: Bool { readiness.isReady }

    private func loadWhenReachable() async throws {
        var delay = Duration.milliseconds(200)
        while true {
            do {
                let started = ContinuousClock.now
                let loaded = try await MallocTuning.keepingFreedMemory {
                    try await ProjectionLoader.load(from: database, positions: positions)
                }
                store.replace(with: loaded.state, inventory: loaded.inventoryPosition, assignment: loaded.assignmentPosition)
                let elapsed = ContinuousClock.now - started
                loadMicros.store(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000,
                                 ordering: .relaxed)
                logger.info("route projection loaded", metadata: [
                    "lookup.numbers": "\(loaded.state.numberCount)",
                    "lookup.load_ms": "\(loadDurationMicros / 1000)",
                    "events.inventory": "\(loaded.inventoryPosition)",
                    "events.assignment": "\(loaded.assignmentPosition)",
                ])
                return
            } catch {
                try Task.checkCancellation()
                logger.warning("could not load the route projection; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Assignment's events say how far assignment had followed inventory; the
    /// numbers they change must have reached lookup from inventory first, or a
    /// route could show its holder without its provider. Waits (bounded, so a
    /// stalled inventory feed cannot stop assignment's) until they have.
    private static func awaitCatalogue(for changes: [ProjectionChange], store: RouteStore, logger: Logger) async {
        let needed = changes.reduce(Int64(0)) { needed, change in
            if case .assignment(let facts) = change { return max(needed, facts.inventoryPosition) }
            return needed
        }
        guard needed > store.applied(.inventory) else { return }
        do {
            var token = LookupV1.ConsistencyToken()
            token.inventory = UInt64(needed)
            try await store.wait(for: token, until: NIODeadline.now() + .seconds(5))
        } catch {
            logger.warning("applying assignment events before inventory's caught up", metadata: [
                "events.inventory.needed": "\(needed)", "events.inventory.applied": "\(store.applied(.inventory))",
            ])
        }
    }

    /// nil for events lookup does not use; unreadable payloads are logged and
    /// skipped rather than stopping the stream for good.
    private static func decode(_ event: EventsV1.Event, logger: Logger?) -> ProjectionChange? {
        do {
            return try ProjectionChange(event)
        } catch {
            logger?.error("skipping an event lookup cannot read", metadata: [
                "events.type": "\(event.type)", "events.position": "\(event.position)", "error": "\(error)",
            ])
            return nil
        }
    }
}

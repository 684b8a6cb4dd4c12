import Atomics
import Foundation
public import Logging
import Metrics
public import Protos
public import RPC
public import ServiceLifecycle
public import Store

/// Follows a producer's event feed and applies events in transactions that
/// also store the stream position, so every event takes effect exactly once
/// across crashes and restarts. Events are applied in batches of whatever has
/// arrived (one transaction each), so a backlog is worked off quickly.
/// Reconnects with backoff when the producer or the database is away.
///
/// Several replicas may apply the same stream to one database: each batch
/// locks the stream's position row, skips what another replica already
/// stored, and applies only the rest.
public final class EventConsumer: Service, Sendable {
    /// Applies events (consecutive positions) inside the transaction that will
    /// record the last one's position.
    public typealias Apply = @Sendable (_ events: ArraySlice<EventsV1.Event>, _ transaction: Transaction) async throws -> Void
    /// Called after a batch took effect in the database, whether this consumer
    /// stored it or another replica had; in position order, never twice.
    public typealias Applied = @Sendable (_ events: [EventsV1.Event]) -> Void

    /// Where a subscription resumes.
    public enum Resume: Sendable {
        /// After the position stored in the database (a service whose state
        /// lives only in the database).
        case afterStoredPosition
        /// After the position this closure reports (a service that also holds
        /// the state in memory and must see every event itself).
        case after(@Sendable () -> Int64)
    }

    private let stream: String
    private let client: RPCClient
    private let database: Database
    private let positions: ConsumerPositions
    private let apply: Apply
    private let applied: Applied?
    private let resume: Resume
    private let logger: Logger
    private let appliedPositionValue = ManagedAtomic<Int64>(-1)
    private let producerHead = ManagedAtomic<Int64>(0)
    private let lastAppliedMicros = ManagedAtomic<Int64>(0)
    private let connectedFlag = ManagedAtomic<Bool>(false)
    private let lagGauge: Gauge
    private let appliedGauge: Gauge
    private static let batchLimit = 1_000

    /// - Parameters:
    ///   - stream: the producer's name, the key of the stored position (e.g. "inventory").
    ///   - client: a client for the producer, with a token holding `events:read`.
    public init(stream: String, client: RPCClient, database: Database, positions: ConsumerPositions,
                logger: Logger, resume: Resume = .afterStoredPosition, apply: @escaping Apply, applied: Applied? = nil) {
        self.stream = stream
        self.client = client
        self.database = database
        self.positions = positions
        self.apply = apply
        self.applied = applied
        self.resume = resume
        var logger = logger
        logger[metadataKey: "events.stream"] = "\(stream)"
        self.logger = logger
        self.lagGauge = Gauge(label: "events_consumer_lag_events", dimensions: [("stream", stream)])
        self.appliedGauge = Gauge(label: "events_consumer_applied_position", dimensions: [("stream", stream)])
    }

    /// Applies one event at a time (for appliers that need no batch logic).
    public convenience init(stream: String, client: RPCClient, database: Database, positions: ConsumerPositions,
                            logger: Logger, applyEach: @escaping @Sendable (_ event: EventsV1.Event, _ transaction: Transaction) async throws -> Void) {
        self.init(stream: stream, client: client, database: database, positions: positions, logger: logger,
                  apply: { events, transaction in
                      for event in events { try await applyEach(event, transaction) }
                  })
    }

    /// The last position applied (-1 before the first subscription started).
    public var appliedPosition: Int64 { appliedPositionValue.load(ordering: .acquiring) }
    /// The newest position the producer reported.
    public var headPosition: Int64 { producerHead.load(ordering: .relaxed) }
    /// When the last batch was applied, in microseconds since the Unix epoch (0 before any).
    public var lastAppliedAtMicros: Int64 { lastAppliedMicros.load(ordering: .relaxed) }
    /// Whether a subscription is open right now.
    public var isConnected: Bool { connectedFlag.load(ordering: .relaxed) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await self.follow()
                    failures = 0
                } catch {
                    self.connectedFlag.store(false, ordering: .relaxed)
                    if Task.isCancelled { break }
                    failures += 1
                    let delay = Duration.milliseconds(min(100 << min(failures, 6), 5_000))
                    self.logger.warning("event stream interrupted; retrying", metadata: [
                        "error": "\(error)", "retry.in": "\(delay)",
                    ])
                    try? await Task.sleep(for: delay)
                }
            }
        }
    }

    /// One subscription: from the resume position until the stream ends or fails.
    private func follow() async throws {
        let start: Int64
        switch resume {
        case .afterStoredPosition: start = try await positions.load(stream: stream, from: database)
        case .after(let position): start = position()
        }
        appliedPositionValue.store(start, ordering: .releasing)
        var request = EventsV1.SubscribeRequest()
        request.afterPosition = UInt64(start)
        let feed = client.serverStream(EventFeed.subscribeMethod, request, as: EventsV1.SubscribeResponse.self)
        let batcher = EventBatcher(capacity: 4 * Self.batchLimit)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await response in feed {
                        self.connectedFlag.store(true, ordering: .relaxed)
                        switch response.kind {
                        case .event(let event): await batcher.push(event)
                        case .heartbeat(let beat): self.observeHead(Int64(clamping: beat.headPosition))
                        case .none: break
                        }
                    }
                    batcher.finish(.success(()))
                } catch {
                    batcher.finish(.failure(error))
                }
            }
            group.addTask {
                while let batch = try await batcher.next(limit: Self.batchLimit) {
                    try await self.applyBatch(batch)
                }
            }
            // Not waitForAll: it rethrows a child's error only once every child
            // is done, and the reader never is while the producer is up, so a
            // failed apply would stall the consumer for good. next() rethrows at
            // once, and leaving the group by throwing cancels the reader.
            while try await group.next() != nil {}
        }
    }

    private func applyBatch(_ batch: [EventsV1.Event]) async throws {
        let known = appliedPosition
        let events = batch.filter { Int64(clamping: $0.position) > known }
        guard let last = events.last.map({ Int64(clamping: $0.position) }) else { return }
        for (offset, event) in events.enumerated() where Int64(clamping: event.position) != known + 1 + Int64(offset) {
            throw ConsumerPositionError(stream: stream, stored: nil, expected: known + Int64(offset), attempted: Int64(clamping: event.position))
        }
        try await database.withTransaction { transaction in
            let stored = try await self.positions.lock(stream: self.stream, in: transaction)
            // Another replica may have stored some (or all) of these already.
            let pending = events.drop { Int64(clamping: $0.position) <= stored }
            guard let first = pending.first.map({ Int64(clamping: $0.position) }) else { return }
            guard first == stored + 1 else {
                throw ConsumerPositionError(stream: self.stream, stored: stored, expected: first - 1, attempted: first)
            }
            try await self.apply(pending, transaction)
            try await self.positions.set(stream: self.stream, position: last, in: transaction)
        }
        applied?(events)
        appliedPositionValue.store(last, ordering: .releasing)
        appliedGauge.record(last)
        lastAppliedMicros.store(Int64(Date().timeIntervalSince1970 * 1_000_000), ordering: .relaxed)
        observeHead(last)
    }

    private func observeHead(_ position: Int64) {
        let head = max(producerHead.load(ordering: .relaxed), position)
        producerHead.store(head, ordering: .relaxed)
        lagGauge.record(max(0, head - appliedPosition))
    }
}

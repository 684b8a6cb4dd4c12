import Atomics
public import Logging
public import Protos
public import RPC
public import ServiceLifecycle
public import Store

/// Follows a producer's event feed and applies each event in a transaction
/// that also stores the stream position, so every event takes effect exactly
/// once across crashes and restarts. Reconnects with backoff when the producer
/// or the database is away, resuming from the stored position.
public final class EventConsumer: Service, Sendable {
    /// Applies one event inside the transaction that will record its position.
    public typealias Apply = @Sendable (_ event: EventsV1.Event, _ transaction: Transaction) async throws -> Void

    private let stream: String
    private let client: RPCClient
    private let database: Database
    private let positions: ConsumerPositions
    private let apply: Apply
    private let logger: Logger
    private let applied = ManagedAtomic<Int64>(-1)
    private let producerHead = ManagedAtomic<Int64>(0)

    /// - Parameters:
    ///   - stream: the producer's name, the key of the stored position (e.g. "inventory").
    ///   - client: a client for the producer, with a token holding `events:read`.
    public init(stream: String, client: RPCClient, database: Database, positions: ConsumerPositions,
                logger: Logger, apply: @escaping Apply) {
        self.stream = stream
        self.client = client
        self.database = database
        self.positions = positions
        self.apply = apply
        var logger = logger
        logger[metadataKey: "events.stream"] = "\(stream)"
        self.logger = logger
    }

    /// The last position applied (-1 before the stored position was read).
    public var appliedPosition: Int64 { applied.load(ordering: .acquiring) }
    /// The newest position the producer reported.
    public var headPosition: Int64 { producerHead.load(ordering: .relaxed) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await self.follow()
                    failures = 0
                } catch {
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

    /// One subscription: from the stored position until the stream ends or fails.
    private func follow() async throws {
        let start = try await positions.load(stream: stream, from: database)
        applied.store(start, ordering: .releasing)
        var request = EventsV1.SubscribeRequest()
        request.afterPosition = UInt64(start)
        for try await response in client.serverStream(EventFeed.subscribeMethod, request, as: EventsV1.SubscribeResponse.self) {
            switch response.kind {
            case .event(let event):
                try await applyOnce(event)
            case .heartbeat(let beat):
                producerHead.store(Int64(clamping: beat.headPosition), ordering: .relaxed)
            case .none:
                break
            }
        }
    }

    private func applyOnce(_ event: EventsV1.Event) async throws {
        let position = Int64(clamping: event.position)
        do {
            try await database.withTransaction { transaction in
                try await self.apply(event, transaction)
                try await self.positions.store(stream: self.stream, position: position, in: transaction)
            }
        } catch let error as ConsumerPositionError where error.isDuplicate {
            // Already applied (a redelivery after reconnect): the rollback undid the repeat.
            return
        }
        applied.store(position, ordering: .releasing)
        producerHead.store(max(producerHead.load(ordering: .relaxed), position), ordering: .relaxed)
    }
}

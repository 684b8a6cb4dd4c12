import Auth
import Foundation
import Metrics
import Protos
public import RPC

/// The server side of `phonenumbers.events.v1.Events/Subscribe`: streams a
/// producer's outbox from a position, then follows it live.
public enum EventFeed {
    public static let subscribeMethod = "phonenumbers.events.v1.Events/Subscribe"
    /// The scope a `service` caller needs to subscribe.
    public static let scope = "events:read"
    /// Events per read from the outbox.
    static let pageSize = 500

    /// Registers Subscribe on `router`. Run `watcher` beside the server.
    public static func register(in router: inout RPCRouter, outbox: Outbox, watcher: OutboxWatcher,
                                heartbeat: Duration = .seconds(5)) {
        let method = MethodDescriptor(subscribeMethod, access: .authenticated(roles: [], scopes: [scope]),
                                      idempotent: true, serverStreaming: true)
        router.registerServerStream(method) {
            (request: EventsV1.SubscribeRequest, context: RPCContext, writer: RPCStreamWriter<EventsV1.SubscribeResponse>) in
            guard request.types.count <= 64, request.types.allSatisfy({ (1...128).contains($0.utf8.count) }) else {
                throw RPCError.invalidArgument(field: "types", "at most 64 event types of 1 to 128 bytes each")
            }
            guard request.afterPosition <= UInt64(Int64.max) else {
                throw RPCError.invalidArgument(field: "after_position", "must be at most \(Int64.max)")
            }
            try await stream(after: Int64(request.afterPosition), types: request.types.isEmpty ? nil : request.types,
                             outbox: outbox, watcher: watcher, heartbeat: heartbeat, writer: writer)
        }
    }

    private static func stream(
        after start: Int64, types: [String]?, outbox: Outbox, watcher: OutboxWatcher, heartbeat: Duration,
        writer: RPCStreamWriter<EventsV1.SubscribeResponse>
    ) async throws {
        // Kept current by the reads subscribers make anyway (at least one per
        // heartbeat each), so it costs no query of its own; made here so it
        // appears only once there is a subscriber to give it a true value.
        let head = Gauge(label: "outbox_head_position", dimensions: [("schema", outbox.schema)])
        var after = start
        while !Task.isCancelled {
            let generation = watcher.generation
            let page: OutboxPage
            do {
                page = try await outbox.read(after: after, limit: pageSize, types: types)
            } catch {
                throw RPCError(.unavailable, "event store is unavailable; resubscribe from position \(after)", cause: error)
            }
            head.record(page.head)
            for event in page.events {
                var response = EventsV1.SubscribeResponse()
                response.kind = .event(EventsV1.Event(event))
                try await writer.send(response)
            }
            after = page.through
            if page.events.count == pageSize { continue }

            await watcher.wait(since: generation, timeout: heartbeat)
            if watcher.generation == generation {
                var beat = EventsV1.Heartbeat()
                beat.headPosition = UInt64(max(page.head, 0))
                var response = EventsV1.SubscribeResponse()
                response.kind = .heartbeat(beat)
                try await writer.send(response)
            }
        }
    }
}

extension EventsV1.Event {
    init(_ event: OutboxEvent) {
        self.init()
        position = UInt64(event.position)
        type = event.type
        aggregateId = event.aggregateID
        payload = event.payload
        occurredAtMicros = Int64(event.occurredAt.timeIntervalSince1970 * 1_000_000)
        traceId = event.traceID ?? ""
    }
}

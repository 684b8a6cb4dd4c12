import NIOConcurrencyHelpers
import Protos

/// Hands events from the task reading a feed to the task applying them, in
/// batches of whatever has arrived since the applier last took (up to a
/// limit): one transaction per batch instead of per event, so catching up
/// on a long backlog is fast while a quiet stream still applies each event
/// as soon as it arrives. The reader waits while `capacity` events are queued.
final class EventBatcher: Sendable {
    private struct State {
        var events: [EventsV1.Event] = []
        var end: Result<Void, any Error>?
    }

    private let state = NIOLockedValueBox(State())
    private let capacity: Int
    private let arrived: AsyncStream<Void>.Continuation
    private let arrivals: AsyncStream<Void>
    private let drained: AsyncStream<Void>.Continuation
    private let drains: AsyncStream<Void>

    init(capacity: Int) {
        self.capacity = capacity
        (arrivals, arrived) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (drains, drained) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Reader side: queues one event, waiting while the queue is full.
    func push(_ event: EventsV1.Event) async {
        var iterator = drains.makeAsyncIterator()
        while state.withLockedValue({ $0.events.count >= capacity }) {
            guard await iterator.next() != nil, !Task.isCancelled else { return }
        }
        state.withLockedValue { $0.events.append(event) }
        arrived.yield()
    }

    /// Reader side: the feed ended (with an error, or normally).
    func finish(_ end: Result<Void, any Error>) {
        state.withLockedValue { if $0.end == nil { $0.end = end } }
        arrived.yield()
    }

    /// Applier side: the next batch (at most `limit` events), waiting for one
    /// to arrive; nil once the feed ended normally and everything was taken.
    /// Rethrows the feed's error once everything before it was taken.
    func next(limit: Int) async throws -> [EventsV1.Event]? {
        var iterator = arrivals.makeAsyncIterator()
        while true {
            let (batch, end) = state.withLockedValue { state -> ([EventsV1.Event], Result<Void, any Error>?) in
                let count = min(limit, state.events.count)
                let batch = Array(state.events.prefix(count))
                state.events.removeFirst(count)
                return (batch, state.end)
            }
            if !batch.isEmpty {
                drained.yield()
                return batch
            }
            if let end {
                try end.get()
                return nil
            }
            guard await iterator.next() != nil, !Task.isCancelled else { throw CancellationError() }
        }
    }
}

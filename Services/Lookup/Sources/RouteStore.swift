import Atomics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Protos
import RPC

/// The projection in memory, shared by the RPC handlers (readers, on the event
/// loops) and the two event consumers (writers). Readers hold the lock only
/// while they copy out one answer.
///
/// Also the projection's clock: the stream positions applied to memory, and
/// callers waiting for a position (`min_token`).
final class RouteStore: Sendable {
    enum Stream: Int, Sendable, CaseIterable {
        case inventory, assignment

        var name: String { self == .inventory ? "inventory" : "assignment" }
    }

    private let state = ReadWriteLocked(RouteState())
    /// One field per stream, not an array: Resolve reads both on every call,
    /// and reading through an array (or a function returning the atomic)
    /// retained and released it.
    private let inventoryPosition = ManagedAtomic<Int64>(0)
    private let assignmentPosition = ManagedAtomic<Int64>(0)
    private let waiters = NIOLockedValueBox(Waiters())

    /// Reads the state under the lock.
    func read<Result>(_ body: (RouteState) throws -> Result) rethrows -> Result {
        try state.read { try body($0) }
    }

    /// Reads the state in place under the lock (see `ReadWriteLocked.readInPlace`).
    func readInPlace<Result>(_ body: (UnsafePointer<RouteState>) throws -> Result) rethrows -> Result {
        try state.readInPlace(body)
    }

    /// The `limit` smallest E.164 keys above `after` of the members of
    /// `membership`, ascending. The numbers are scanned a chunk at a time,
    /// each chunk under a read of its own: one read of a million numbers
    /// takes milliseconds, and a writer waiting for it would hold up every
    /// Resolve as long. Numbers changed meanwhile are seen before or after
    /// their change, as by a read at either moment; callers check again
    /// what they answer.
    func memberKeys(of membership: RouteState.Membership, above after: UInt64, limit: Int, chunk: Int = 1 << 16) -> [UInt64] {
        var keys: [UInt64] = []
        var start = 0
        while let end = read({ state -> Int? in
            guard start < state.numberCount else { return nil }
            let end = min(start + chunk, state.numberCount)
            state.memberKeys(of: membership, in: start..<end, above: after, into: &keys)
            return end
        }) {
            start = end
            // Only the smallest `limit` can be answered: keep the list short.
            if keys.count > 4 * limit + 1024 {
                keys.sort()
                keys.removeLast(keys.count - limit)
            }
        }
        keys.sort()
        return Array(keys.prefix(limit))
    }

    /// Replaces everything (start-up load) and sets both positions.
    func replace(with loaded: RouteState, inventory: Int64, assignment: Int64) {
        state.write { $0 = loaded }
        advance(.inventory, to: inventory)
        advance(.assignment, to: assignment)
    }

    /// Applies changes from one stream, then moves that stream's position to
    /// `position` and wakes callers waiting for it.
    func apply(_ changes: [ProjectionChange], from stream: Stream, through position: Int64) {
        state.write { state in
            for change in changes { state.apply(change) }
        }
        advance(stream, to: position)
    }

    func applied(_ stream: Stream) -> Int64 {
        switch stream {
        case .inventory: inventoryPosition.load(ordering: .acquiring)
        case .assignment: assignmentPosition.load(ordering: .acquiring)
        }
    }

    var appliedToken: LookupV1.ConsistencyToken {
        .with {
            $0.inventory = UInt64(applied(.inventory))
            $0.assignment = UInt64(applied(.assignment))
        }
    }

    /// Whether both positions of `token` are applied (nil: no requirement).
    func satisfies(_ token: LookupV1.ConsistencyToken?) -> Bool {
        guard let token else { return true }
        return UInt64(applied(.inventory)) >= token.inventory && UInt64(applied(.assignment)) >= token.assignment
    }

    // MARK: Waiting for positions

    private struct Waiter {
        var token: LookupV1.ConsistencyToken
        var continuation: CheckedContinuation<Void, any Error>
        var timer: Scheduled<Void>?
    }

    private struct Waiters {
        var next = 0
        var pending: [Int: Waiter] = [:]
    }

    /// Returns once `token` is applied; throws DEADLINE_EXCEEDED (naming what
    /// was awaited) just before `deadline`.
    func wait(for token: LookupV1.ConsistencyToken, until deadline: NIODeadline) async throws {
        let id = waiters.withLockedValue { waiters in
            waiters.next += 1
            return waiters.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Registered under the waiters lock, after which `advance` will
                // see it; checked again here so no advance slips between.
                let ready = waiters.withLockedValue { waiters -> Bool in
                    if satisfies(token) { return true }
                    waiters.pending[id] = Waiter(token: token, continuation: continuation, timer: nil)
                    return false
                }
                if ready { return continuation.resume() }
                // Fire early enough that this message, not the server's generic
                // one or the caller's own timer, reaches the caller: the answer
                // still has a few thread hops and the network to go.
                let margin: TimeAmount = min(max(.nanoseconds((deadline - .now()).nanoseconds / 10), .milliseconds(2)), .milliseconds(25))
                let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(deadline: deadline - margin) {
                    self.finish(id, .failure(RPCError(.deadlineExceeded, self.notReached(token))))
                }
                let stillWaiting = waiters.withLockedValue { waiters -> Bool in
                    guard waiters.pending[id] != nil else { return false }
                    waiters.pending[id]?.timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            finish(id, .failure(CancellationError()))
        }
    }

    private func advance(_ stream: Stream, to position: Int64) {
        switch stream {
        case .inventory: inventoryPosition.store(position, ordering: .releasing)
        case .assignment: assignmentPosition.store(position, ordering: .releasing)
        }
        let ready = waiters.withLockedValue { waiters -> [Waiter] in
            let ids = waiters.pending.filter { satisfies($0.value.token) }.map(\.key)
            return ids.compactMap { waiters.pending.removeValue(forKey: $0) }
        }
        for waiter in ready {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
    }

    private func finish(_ id: Int, _ outcome: Result<Void, any Error>) {
        guard let waiter = waiters.withLockedValue({ $0.pending.removeValue(forKey: id) }) else { return }
        waiter.timer?.cancel()
        waiter.continuation.resume(with: outcome)
    }

    private func notReached(_ token: LookupV1.ConsistencyToken) -> String {
        "min_token not reached before the deadline: needs inventory \(token.inventory) and assignment \(token.assignment), "
            + "applied inventory \(applied(.inventory)) and assignment \(applied(.assignment))"
    }
}

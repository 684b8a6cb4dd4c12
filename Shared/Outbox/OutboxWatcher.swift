public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle
import Store

/// One LISTEN connection per process that wakes every event-feed stream when
/// the outbox changes, instead of one database connection per subscriber.
/// Streams also poll at their heartbeat interval, so a missed notification
/// delays delivery but never loses it: the table is the truth.
public final class OutboxWatcher: Service, Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let outbox: Outbox
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    public init(outbox: Outbox, logger: Logger) {
        self.outbox = outbox
        self.logger = logger
    }

    /// Counts changes seen so far; take it before reading, then `wait(since:)`.
    var generation: UInt64 { state.withLockedValue { $0.generation } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await event in self.outbox.notifications() {
                if case .listening = event {
                    self.logger.debug("listening for outbox changes", metadata: ["outbox.channel": "\(self.outbox.channel)"])
                }
                // A (re)connect may have missed notifications: wake everyone to re-read.
                self.wakeAll()
            }
        }
        wakeAll()
    }

    /// Returns when the outbox changed after `generation` was taken, or after `timeout`.
    func wait(since generation: UInt64, timeout: Duration) async {
        let id = state.withLockedValue { state -> UInt64? in
            guard state.generation == generation else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLockedValue { state -> Bool in
                        guard state.generation == generation else { return true }
                        state.waiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.resume(id)
            }
            await group.next()
            group.cancelAll()
            self.resume(id)
        }
    }

    private func resume(_ id: UInt64) {
        state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    private func wakeAll() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

import NIOConcurrencyHelpers

/// Start-up work a service must finish before it reports SERVING (e.g. lookup
/// loading its projection into memory). Each piece opens its own gate.
public final class Readiness: Sendable {
    private let pending = NIOLockedValueBox(Set<String>())

    public init() {}

    /// Registers a piece of start-up work; the service is not ready until
    /// `open(_:)` is called with the same name.
    public func gate(_ name: String) {
        pending.withLockedValue { _ = $0.insert(name) }
    }

    public func open(_ name: String) {
        pending.withLockedValue { _ = $0.remove(name) }
    }

    public var isReady: Bool { pending.withLockedValue { $0.isEmpty } }
}

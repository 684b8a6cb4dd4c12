import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// Calls by method and status, and their latency, through swift-metrics.
/// Metric objects are created once per (method, code) and cached, so recording
/// a call costs a dictionary lookup, not a factory call.
final class RPCServerMetrics: Sendable {
    private struct Key: Hashable {
        var method: String
        var code: Int32
    }

    private let recorders = NIOLockedValueBox([Key: (Counter, Metrics.Timer)]())
    private let oversizedFrames = Counter(label: "rpc_oversized_frames_total")

    func record(method: String, code: RPCError.Code, started: NIODeadline?) {
        let key = Key(method: method, code: code.rawValue)
        let (counter, timer) = recorders.withLockedValue { cache in
            if let existing = cache[key] { return existing }
            let dimensions = [("method", method), ("code", code.description)]
            let made = (Counter(label: "rpc_calls_total", dimensions: dimensions),
                        Metrics.Timer(label: "rpc_call_duration_seconds", dimensions: dimensions,
                                      preferredDisplayUnit: .seconds))
            cache[key] = made
            return made
        }
        counter.increment()
        if let started {
            timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        }
    }

    func recordOversizedFrame() {
        oversizedFrames.increment()
    }
}

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

    /// The metrics of one (method, code); a fast path keeps its own.
    struct Recorder: Sendable {
        var counter: Counter
        var timer: Metrics.Timer

        /// One call, timed from `started` (nil: refused before it started).
        func record(started: NIODeadline?) {
            counter.increment()
            if let started {
                timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
            }
        }
    }

    private let recorders = NIOLockedValueBox([Key: Recorder]())
    private let oversizedFrames = Counter(label: "rpc_oversized_frames_total")

    func record(method: String, code: RPCError.Code, started: NIODeadline?) {
        recorder(method: method, code: code).record(started: started)
    }

    func recorder(method: String, code: RPCError.Code) -> Recorder {
        let key = Key(method: method, code: code.rawValue)
        return recorders.withLockedValue { cache in
            if let existing = cache[key] { return existing }
            let dimensions = [("method", method), ("code", code.description)]
            let made = Recorder(counter: Counter(label: "rpc_calls_total", dimensions: dimensions),
                                timer: Metrics.Timer(label: "rpc_call_duration_seconds", dimensions: dimensions,
                                                     preferredDisplayUnit: .seconds))
            cache[key] = made
            return made
        }
    }

    func recordOversizedFrame() {
        oversizedFrames.increment()
    }
}

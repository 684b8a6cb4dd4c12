import Atomics

/// The trace id that ties together the log lines (and downstream calls) of
/// one request. The server takes it from the `trace-id` request metadata or
/// makes one, puts it in the call's logger as `trace.id`, and binds it here
/// while an async handler runs, so `RPCClient` calls made by that handler
/// carry it on.
public enum TraceID {
    /// The trace id of the call being served by the current task, if any.
    @TaskLocal public static var current: String?

    /// The logger metadata key.
    public static let metadataKey = "trace.id"

    /// `candidate` if it is a usable trace id (1–128 characters of letters,
    /// digits and `-_.:`), else nil: an id ends up in every log line of the
    /// call, so it must not smuggle in line breaks or huge payloads.
    public static func accepted(_ candidate: String?) -> String? {
        guard let candidate, (1...128).contains(candidate.utf8.count) else { return nil }
        let allowed = candidate.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: ":"):
                true
            default:
                false
            }
        }
        return allowed ? candidate : nil
    }

    /// A new id, not yet rendered: most calls never log or call onwards, so
    /// they never pay for the string.
    static func next() -> CallTrace {
        CallTrace(source: .generated(counter.loadThenWrappingIncrement(ordering: .relaxed)))
    }

    /// A generated id: 32 hex digits, a random per-process prefix and a
    /// counter, unique without a random draw per call on the hot path.
    fileprivate static func text(_ sequence: UInt64) -> String { prefix + hex(sequence) }

    private static let prefix = hex(UInt64.random(in: .min ... .max))
    private static let counter = ManagedAtomic<UInt64>(1)

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The trace id of one call: the caller's, or a generated one rendered (the
/// same every time) only when read.
struct CallTrace: Sendable {
    enum Source: Sendable {
        case given(String)
        case generated(UInt64)
    }

    var source: Source

    /// The caller's `trace-id` if usable, else a new one.
    init(accepting candidate: String?) {
        self = TraceID.accepted(candidate).map { CallTrace(source: .given($0)) } ?? TraceID.next()
    }

    init(source: Source) { self.source = source }

    var text: String {
        switch source {
        case .given(let text): text
        case .generated(let sequence): TraceID.text(sequence)
        }
    }
}

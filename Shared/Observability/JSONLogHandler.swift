#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging
import NIOConcurrencyHelpers

/// Writes each log event to standard error as one JSON object per line:
/// `timestamp` (RFC 3339, UTC), `level`, `label`, `message`, then every
/// metadata key as a field of its own (`trace.id`, `rpc.method`, ...).
/// Values of keys that name secrets are replaced, so a token or password put
/// into metadata by mistake never reaches a log collector.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.init(label: label, metadataProvider: metadataProvider, write: StandardError.writeLine)
    }

    /// A handler handing each line (without its newline) to `write`.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let explicit = event.metadata { fields.merge(explicit) { _, new in new } }

        var line = "{"
        line.appendJSONField("timestamp", .string(RFC3339.now()), first: true)
        line.appendJSONField("level", .string(event.level.rawValue))
        line.appendJSONField("label", .string(label))
        line.appendJSONField("message", .string(event.message.description))
        if let error = event.error { line.appendJSONField("error", .string("\(error)")) }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            let name = Self.reservedKeys.contains(key) ? "metadata." + key : key
            line.appendJSONField(name, Self.isSecret(key) ? .string("[redacted]") : value)
        }
        line.append("}")
        write(line)
    }

    private static let reservedKeys: Set<String> = ["timestamp", "level", "label", "message", "error"]
    private static let secretNames: Set<String> = ["authorization", "password", "secret", "token", "jwt"]

    /// Whether the key's last dotted part names a secret (`authorization`, `pg.password`).
    static func isSecret(_ key: String) -> Bool {
        let last = key.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return secretNames.contains(last)
    }
}

extension String {
    fileprivate mutating func appendJSONField(_ name: String, _ value: Logger.MetadataValue, first: Bool = false) {
        if !first { append(",") }
        appendJSONString(name)
        append(":")
        appendJSONValue(value)
    }

    fileprivate mutating func appendJSONValue(_ value: Logger.MetadataValue) {
        switch value {
        case .string(let text):
            appendJSONString(text)
        case .stringConvertible(let convertible):
            appendJSONString(convertible.description)
        case .array(let values):
            append("[")
            for (index, element) in values.enumerated() {
                if index > 0 { append(",") }
                appendJSONValue(element)
            }
            append("]")
        case .dictionary(let dictionary):
            append("{")
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                appendJSONField(key, element, first: index == 0)
            }
            append("}")
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    mutating func appendJSONString(_ text: String) {
        append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": append("\\\"")
            case "\\": append("\\\\")
            case "\n": append("\\n")
            case "\r": append("\\r")
            case "\t": append("\\t")
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default:
                unicodeScalars.append(scalar)
            }
        }
        append("\"")
    }
}

/// Timestamps like `2026-11-21T13:20:00.123456Z`.
enum RFC3339 {
    static func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var utc = tm()
        gmtime_r(&seconds, &utc)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(utc.tm_year) + 1900, 4) + "-" + pad(Int(utc.tm_mon) + 1, 2) + "-" + pad(Int(utc.tm_mday), 2)
            + "T" + pad(Int(utc.tm_hour), 2) + ":" + pad(Int(utc.tm_min), 2) + ":" + pad(Int(utc.tm_sec), 2)
            + "." + pad(Int(now.tv_nsec) / 1000, 6) + "Z"
    }
}

/// Whole lines to standard error, one writer at a time so lines never interleave.
enum StandardError {
    private static let lock = NIOLock()

    @Sendable static func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock {
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}

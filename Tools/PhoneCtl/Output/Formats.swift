import Foundation
import RPC

/// How values are written for people.
enum Format {
    /// Microseconds since the epoch as ISO 8601 UTC; "-" for 0.
    static func time(micros: Int64) -> String {
        guard micros != 0 else { return "-" }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }

    /// Millionths of a currency unit: `1.50 USD`; "-" when there is no cost.
    static func money(micros: Int64, currency: String) -> String {
        guard micros != 0 || !currency.isEmpty else { return "-" }
        let units = Double(micros) / 1_000_000
        return String(format: "%.2f", units) + (currency.isEmpty ? "" : " " + currency)
    }

    /// `voice,sms`; "-" for none.
    static func capabilities(voice: Bool, sms: Bool, mms: Bool, fax: Bool) -> String {
        let names = [(voice, "voice"), (sms, "sms"), (mms, "mms"), (fax, "fax")].filter(\.0).map(\.1)
        return names.isEmpty ? "-" : names.joined(separator: ",")
    }

    static func text(_ value: String) -> String { value.isEmpty ? "-" : value }

    static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }

    /// The "consistency token" line mutations end with.
    static func token(_ value: UInt64) -> String { "consistency token: \(value)" }

    /// An enum value as the JSON shows it (`fixed_line`).
    static func name(_ value: some Any) -> String { JSONRendering.snakeCase("\(value)") }
}

/// Parsing of the value forms people type.
enum Parse {
    /// "1.50" → 1_500_000 micros.
    static func micros(_ text: String, field: String) throws -> Int64 {
        guard let value = Decimal(string: text), value >= 0 else {
            throw RPCError.local("'\(text)' is not an amount such as 1.50", field: field)
        }
        return NSDecimalNumber(decimal: value * 1_000_000).int64Value
    }

    /// ISO 8601 with or without fractional seconds.
    static func instant(_ text: String, field: String) throws -> Date {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions.insert(.withFractionalSeconds)
        if let date = formatter.date(from: text) { return date }
        throw RPCError.local("'\(text)' is not an ISO 8601 time such as 2025-06-02T09:30:00Z", field: field)
    }
}

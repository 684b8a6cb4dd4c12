#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// timestamptz text conversion without a date formatter: connections run with
/// DateStyle=ISO and TimeZone=UTC, so the format is fixed.
enum PostgresTimestamp {
    /// `2024-05-01 12:34:56.123456+00` (microseconds, timestamptz's precision).
    static func format(_ date: Date) -> String {
        if date == .distantFuture { return "infinity" }
        if date == .distantPast { return "-infinity" }
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var days = micros / 86_400_000_000
        var inDay = micros % 86_400_000_000
        if inDay < 0 {
            inDay += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        let seconds = inDay / 1_000_000
        let fraction = inDay % 1_000_000
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + " "
            + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
            + "." + pad(fraction, 6) + "+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff](+|-)HH[:MM[:SS]]`, and ±infinity.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4...), scanner.skip("-"),
              let month = scanner.number(digits: 2...2), scanner.skip("-"),
              let day = scanner.number(digits: 2...2), scanner.skip(" ") || scanner.skip("T"),
              let hour = scanner.number(digits: 2...2), scanner.skip(":"),
              let minute = scanner.number(digits: 2...2), scanner.skip(":"),
              let second = scanner.number(digits: 2...2)
        else { return nil }
        var micros: Int64 = 0
        if scanner.skip(".") {
            let start = scanner.index
            guard let fraction = scanner.number(digits: 1...9) else { return nil }
            let count = scanner.index - start
            var scaled = fraction
            if count < 6 {
                for _ in count..<6 { scaled *= 10 }
            } else {
                for _ in 6..<count { scaled /= 10 }
            }
            micros = scaled
        }
        var offsetSeconds: Int64 = 0
        if let sign = scanner.next(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            guard let hours = scanner.number(digits: 2...2) else { return nil }
            var offset = hours * 3600
            if scanner.skip(":") {
                guard let minutes = scanner.number(digits: 2...2) else { return nil }
                offset += minutes * 60
                if scanner.skip(":") {
                    guard let secs = scanner.number(digits: 2...2) else { return nil }
                    offset += secs
                }
            }
            offsetSeconds = sign == UInt8(ascii: "-") ? -offset : offset
        } else {
            return nil
        }
        guard scanner.atEnd, (1...12).contains(month), (1...31).contains(day),
              hour < 24, minute < 60, second < 61 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let totalSeconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        let totalMicros = totalSeconds * 1_000_000 + micros
        return Date(timeIntervalSince1970: Double(totalMicros) / 1_000_000)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // Howard Hinnant's algorithms: proleptic Gregorian calendar <-> days since 1970-01-01.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysFromCivil(year y0: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func next() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func skip(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }

        /// Reads a run of decimal digits whose length is within `digits`.
        mutating func number(digits: some RangeExpression<Int>) -> Int64? {
            let start = index
            var value: Int64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"),
                  index - start < 18 {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard digits.contains(index - start) else {
                index = start
                return nil
            }
            return value
        }
    }
}

/// A small RFC 4180 reader: comma-separated fields, fields in double quotes
/// may hold commas, line breaks and doubled quotes (""), lines end in LF or
/// CRLF. A malformed record is reported with its line and skipped; the
/// records after it are still read.
enum CSV {
    struct Record: Sendable, Equatable {
        /// The line the record starts on (1-based, as editors count).
        var line: Int
        var fields: [String]
    }

    struct Problem: Error, Sendable, Equatable {
        var line: Int
        var reason: String
    }

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    /// Every record in order; blank lines are skipped.
    static func parse(_ text: String) -> [Result<Record, Problem>] {
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) } // a byte-order mark from spreadsheet exports
        var results: [Result<Record, Problem>] = []
        var position = 0
        var line = 1
        while position < bytes.count {
            let start = line
            var reader = RecordReader(bytes: bytes, position: position, line: line)
            let outcome = reader.read()
            (position, line) = (reader.position, reader.line)
            switch outcome {
            case .failure(let reason): results.append(.failure(Problem(line: start, reason: reason)))
            case .success(let fields) where fields == [""]: continue
            case .success(let fields): results.append(.success(Record(line: start, fields: fields)))
            }
        }
        return results
    }

    /// Reads one record from `position`, leaving `position` at the next one.
    private struct RecordReader {
        let bytes: [UInt8]
        var position: Int
        var line: Int

        enum Outcome { case success([String]), failure(String) }

        mutating func read() -> Outcome {
            var fields: [String] = []
            var field: [UInt8] = []
            var atFieldStart = true
            var afterClosingQuote = false
            while position < bytes.count {
                let byte = bytes[position]
                if atFieldStart && byte == CSV.quote {
                    guard readQuoted(into: &field) else { return .failure("a quoted field is not closed (a \" is missing)") }
                    atFieldStart = false
                    afterClosingQuote = true
                    continue
                }
                switch byte {
                case CSV.comma:
                    fields.append(String(decoding: field, as: UTF8.self))
                    field = []
                    atFieldStart = true
                    afterClosingQuote = false
                    position += 1
                case CSV.lf, CSV.cr:
                    endLine()
                    fields.append(String(decoding: field, as: UTF8.self))
                    return .success(fields)
                case CSV.quote:
                    skipRestOfLine()
                    return .failure("a \" inside an unquoted field (quote the whole field and double the \")")
                default:
                    if afterClosingQuote {
                        skipRestOfLine()
                        return .failure("text after the closing \" of a quoted field")
                    }
                    field.append(byte)
                    atFieldStart = false
                    position += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            return .success(fields)
        }

        /// Reads a quoted field from its opening quote; false when it never closes.
        private mutating func readQuoted(into field: inout [UInt8]) -> Bool {
            position += 1
            while position < bytes.count {
                let byte = bytes[position]
                if byte == CSV.quote {
                    if position + 1 < bytes.count && bytes[position + 1] == CSV.quote {
                        field.append(CSV.quote)
                        position += 2
                        continue
                    }
                    position += 1
                    return true
                }
                if byte == CSV.lf { line += 1 }
                field.append(byte)
                position += 1
            }
            return false
        }

        /// Past LF, CRLF or a lone CR.
        private mutating func endLine() {
            if bytes[position] == CSV.cr && position + 1 < bytes.count && bytes[position + 1] == CSV.lf { position += 1 }
            position += 1
            line += 1
        }

        private mutating func skipRestOfLine() {
            while position < bytes.count && bytes[position] != CSV.lf && bytes[position] != CSV.cr { position += 1 }
            if position < bytes.count { endLine() }
        }
    }
}

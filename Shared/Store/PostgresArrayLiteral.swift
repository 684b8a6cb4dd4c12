/// Text form of one-dimensional Postgres arrays: `{"a","b c",NULL}`.
enum PostgresArrayLiteral {
    /// Quotes every element, escaping `"` and `\`, so no element can change the structure.
    /// Built as UTF-8 bytes: imports send arrays of thousands of elements, and
    /// both escaped characters are ASCII, so they never occur inside a multi-byte character.
    static func format(_ elements: [String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(elements.reduce(2) { $0 + $1.utf8.count + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses array output; unquoted `NULL` is nil. Multi-dimensional arrays are not supported.
    static func parse(_ text: String) -> [String?]? {
        var scalars = Substring(text).unicodeScalars[...]
        // Arrays with non-default bounds print as "[0:1]={...}".
        if scalars.first == "[" {
            guard let equals = scalars.firstIndex(of: "=") else { return nil }
            scalars = scalars[scalars.index(after: equals)...]
        }
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        scalars = scalars.dropFirst().dropLast()
        if scalars.isEmpty { return [] }

        var items: [String?] = []
        var iterator = scalars.makeIterator()
        var current = String.UnicodeScalarView()
        var quoted = false
        var inQuotes = false
        while let scalar = iterator.next() {
            if inQuotes {
                switch scalar {
                case "\\":
                    guard let escaped = iterator.next() else { return nil }
                    current.append(escaped)
                case "\"":
                    inQuotes = false
                default:
                    current.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                inQuotes = true
                quoted = true
            case ",":
                items.append(element(current, quoted: quoted))
                current = String.UnicodeScalarView()
                quoted = false
            case "{", "}":
                return nil
            case "\\":
                guard let escaped = iterator.next() else { return nil }
                current.append(escaped)
            default:
                current.append(scalar)
            }
        }
        guard !inQuotes else { return nil }
        items.append(element(current, quoted: quoted))
        return items
    }

    private static func element(_ scalars: String.UnicodeScalarView, quoted: Bool) -> String? {
        let value = String(scalars)
        return !quoted && value == "NULL" ? nil : value
    }
}

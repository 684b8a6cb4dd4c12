import CLibPQ

/// One row of a result as libpq holds it: each column's text, not copied into
/// strings. Valid only inside the closure it is handed to (the bytes belong to
/// the result, which is freed afterwards).
public struct RawRow {
    let result: OpaquePointer
    let row: Int32

    /// The column's text bytes; nil for NULL.
    public func bytes(_ column: Int) -> UnsafeBufferPointer<UInt8>? {
        guard PQgetisnull(result, row, Int32(column)) == 0, let value = PQgetvalue(result, row, Int32(column)) else { return nil }
        return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self),
                                   count: Int(PQgetlength(result, row, Int32(column))))
    }

    public func string(_ column: Int) -> String? {
        bytes(column).map { String(decoding: $0, as: UTF8.self) }
    }

    public func bool(_ column: Int) -> Bool? {
        bytes(column).map { $0.first == UInt8(ascii: "t") }
    }

    public func int64(_ column: Int) -> Int64? {
        guard let bytes = bytes(column), !bytes.isEmpty else { return nil }
        var value: Int64 = 0
        var negative = false
        for (index, byte) in bytes.enumerated() {
            if index == 0 && byte == UInt8(ascii: "-") { negative = true; continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value &* 10 &+ Int64(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// A bytea column in hex output format (`\x…`).
    public func bytea(_ column: Int) -> [UInt8]? {
        guard let bytes = bytes(column), bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = Self.nibble(bytes[index]), let low = Self.nibble(bytes[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

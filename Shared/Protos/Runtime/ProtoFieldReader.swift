import Glibc

/// Reads the fields of one encoded message in order, without decoding it: for
/// hot paths that need a few fields of a known message and hand anything
/// unusual to the full decoder. It never trusts a length past the input; at
/// the first malformed byte it stops and sets `isMalformed`.
public struct ProtoFieldReader {
    public enum Value {
        case varint(UInt64)
        /// A length-delimited field: a string, bytes or a nested message.
        case bytes(UnsafeRawBufferPointer)
        /// A fixed32 or fixed64 field.
        case fixed(UInt64)
    }

    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    public private(set) var isMalformed = false

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next field, or nil at the end of the input (or at malformed input).
    public mutating func next() -> (number: UInt32, value: Value)? {
        guard offset < bytes.count, !isMalformed else { return nil }
        guard let tag = varint(maxBytes: 5), tag >> 3 > 0, tag >> 3 <= 0x1FFF_FFFF else { return malformed() }
        let number = UInt32(truncatingIfNeeded: tag >> 3)
        switch tag & 7 {
        case 0:
            guard let value = varint(maxBytes: 10) else { return malformed() }
            return (number, .varint(value))
        case 2:
            guard let length = varint(maxBytes: 10), length <= UInt64(bytes.count - offset) else { return malformed() }
            let value = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)])
            offset += Int(length)
            return (number, .bytes(value))
        case 1, 5:
            let size = tag & 7 == 1 ? 8 : 4
            guard bytes.count - offset >= size else { return malformed() }
            var value: UInt64 = 0
            for index in 0..<size { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            offset += size
            return (number, .fixed(value))
        default:
            return malformed()  // groups, which protobuf-c rejects too
        }
    }

    /// Whether `bytes` is what a string field may hold: UTF-8 without NUL.
    public static func isValidText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        UTF8Check.check(bytes) == .valid
    }

    private mutating func varint(maxBytes: Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while offset < bytes.count, offset - start < maxBytes {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    private mutating func malformed() -> (number: UInt32, value: Value)? {
        isMalformed = true
        return nil
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these are the bytes of `other`.
    public func matches(_ other: [UInt8]) -> Bool {
        guard count == other.count else { return false }
        return count == 0 || other.withUnsafeBytes { memcmp($0.baseAddress!, baseAddress!, count) == 0 }
    }
}

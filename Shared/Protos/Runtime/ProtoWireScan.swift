/// What the wire scan must check inside one message type: the fields that
/// hold strings, and the message fields worth descending into. Generated as
/// `_wireSchema` of each message.
struct ProtoWireSchema: Sendable {
    /// The check for a field number, nil for fields to skip.
    let field: @Sendable (UInt32) -> ProtoWireField?
    /// Whether there is nothing to check at all.
    let isOpaque: Bool

    init(_ field: @escaping @Sendable (UInt32) -> ProtoWireField?) {
        self.field = field
        self.isOpaque = false
    }

    private init(opaque: Void) {
        self.field = { _ in nil }
        self.isOpaque = true
    }

    /// For messages without strings or nested messages.
    static let opaque = ProtoWireSchema(opaque: ())
}

/// A field the wire scan checks.
enum ProtoWireField: Sendable {
    /// A string: must be UTF-8 without NUL. The payload names the field.
    case string(StaticString)
    /// A message: scanned in turn, one level deeper.
    case message(ProtoWireSchema)
}

/// Why the wire scan refused the input.
struct ProtoWireScanFailure: Error {
    let reason: ProtoDecodingError.Reason
}

/// Checks bytes before protobuf-c decodes them, for what protobuf-c does not
/// check itself:
/// - nesting depth: protobuf-c recurses once per nested message with no
///   limit, so deep input would overflow the stack;
/// - strings: protobuf-c neither validates UTF-8 nor keeps a string's length
///   (a NUL inside would silently cut it short).
/// It also rejects malformed wire format early, with a precise message.
/// It descends only into fields the schema names; everything else is
/// skipped after checking that it fits in the input.
enum ProtoWireScanner {
    static func scan(_ bytes: UnsafeRawBufferPointer, schema: ProtoWireSchema) throws(ProtoWireScanFailure) {
        var scanner = Scanner(bytes: bytes)
        try scanner.scanMessage(schema: schema, end: bytes.count, depth: 1)
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func scanMessage(schema: ProtoWireSchema, end: Int, depth: Int) throws(ProtoWireScanFailure) {
            while offset < end {
                let tagOffset = offset
                let tag = try readVarint(end: end, maxBytes: 5)
                let number = UInt32(truncatingIfNeeded: tag >> 3)
                guard tag >> 3 > 0, tag >> 3 <= 0x1FFF_FFFF else {
                    throw malformed("invalid field number \(tag >> 3) at offset \(tagOffset)")
                }
                switch tag & 7 {
                case 0:
                    _ = try readVarint(end: end, maxBytes: 10)
                case 1:
                    try skip(8, end: end, field: number)
                case 5:
                    try skip(4, end: end, field: number)
                case 2:
                    let lengthOffset = offset
                    let length = try readVarint(end: end, maxBytes: 10)
                    guard length <= UInt64(end - offset) else {
                        throw malformed("field \(number) claims \(length) bytes but \(end - offset) remain "
                            + "(offset \(lengthOffset))")
                    }
                    let valueEnd = offset + Int(length)
                    switch schema.field(number) {
                    case .string(let name)?:
                        try checkString(offset..<valueEnd, field: name)
                        offset = valueEnd
                    case .message(let nested)? where !nested.isOpaque:
                        guard depth < ProtoDecoding.maximumNestingDepth else {
                            throw ProtoWireScanFailure(
                                reason: .nestingTooDeep(limit: ProtoDecoding.maximumNestingDepth))
                        }
                        try scanMessage(schema: nested, end: valueEnd, depth: depth + 1)
                    default:
                        offset = valueEnd
                    }
                default:
                    // 3 and 4 are proto2 groups, which protobuf-c rejects too.
                    throw malformed("unsupported wire type \(tag & 7) for field \(number) at offset \(tagOffset)")
                }
            }
        }

        private mutating func readVarint(end: Int, maxBytes: Int) throws(ProtoWireScanFailure) -> UInt64 {
            let start = offset
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < end, offset - start < maxBytes {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            throw malformed(offset >= end && offset - start < maxBytes
                ? "truncated varint at offset \(start)" : "varint too long at offset \(start)")
        }

        private mutating func skip(_ count: Int, end: Int, field: UInt32) throws(ProtoWireScanFailure) {
            guard end - offset >= count else {
                throw malformed("field \(field) needs \(count) bytes but \(end - offset) remain (offset \(offset))")
            }
            offset += count
        }

        private func checkString(_ range: Range<Int>, field: StaticString) throws(ProtoWireScanFailure) {
            switch UTF8Check.check(UnsafeRawBufferPointer(rebasing: bytes[range])) {
            case .valid: return
            case .invalid: throw ProtoWireScanFailure(reason: .invalidUTF8(field: "\(field)"))
            case .containsNUL: throw ProtoWireScanFailure(reason: .embeddedNUL(field: "\(field)"))
            }
        }

        private func malformed(_ detail: String) -> ProtoWireScanFailure {
            ProtoWireScanFailure(reason: .malformed(detail))
        }
    }
}

/// UTF-8 validation (the Unicode definition: no overlong forms, no
/// surrogates, nothing above U+10FFFF), without building a String.
enum UTF8Check {
    enum Result: Equatable {
        case valid, invalid, containsNUL
    }

    static func check(_ bytes: UnsafeRawBufferPointer) -> Result {
        var index = 0
        let count = bytes.count
        var sawNUL = false
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                if lead == 0 { sawNUL = true }
                index += 1
                continue
            }
            // The length of the sequence and the allowed range of its second
            // byte (which rules out overlong forms, surrogates and > U+10FFFF).
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return .invalid
            }
            guard count - index >= length else { return .invalid }
            let second = bytes[index + 1]
            guard second >= low, second <= high else { return .invalid }
            for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
                return .invalid
            }
            index += length
        }
        return sawNUL ? .containsNUL : .valid
    }
}

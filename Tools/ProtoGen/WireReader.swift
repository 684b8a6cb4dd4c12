/// A minimal reader of the protobuf wire format, just enough to read a
/// `FileDescriptorSet` without depending on generated code (the generator must
/// be able to run before any code has been generated).
struct WireReader {
    /// Why reading failed; the descriptor set comes from protoc-c, so any of
    /// these means a broken or foreign input file.
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The protobuf wire types this reader understands.
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    private let bytes: [UInt8]
    private var offset: Int
    private let end: Int

    init(_ bytes: [UInt8]) {
        self.init(bytes, from: 0, to: bytes.count)
    }

    private init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.offset = start
        self.end = end
    }

    /// Whether every byte has been read.
    var isAtEnd: Bool { offset >= end }

    /// Reads the next field's number and wire type.
    mutating func readTag() throws(Malformed) -> (field: Int, wireType: WireType) {
        let tag = try readVarint()
        let field = Int(tag >> 3)
        guard field > 0, let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw Malformed(description: "unsupported tag \(tag) at offset \(offset)")
        }
        return (field, wireType)
    }

    /// Reads a base-128 varint.
    mutating func readVarint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end, shift < 64 else {
                throw Malformed(description: "bad varint at offset \(offset)")
            }
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a length-delimited field's payload as a reader of its own.
    mutating func readSubReader() throws(Malformed) -> WireReader {
        let length = try readVarint()
        guard length <= UInt64(end - offset) else {
            throw Malformed(description: "length \(length) past the end at offset \(offset)")
        }
        let sub = WireReader(bytes, from: offset, to: offset + Int(length))
        offset += Int(length)
        return sub
    }

    /// Reads a length-delimited field's payload as UTF-8 text.
    mutating func readString() throws(Malformed) -> String {
        let sub = try readSubReader()
        return String(decoding: bytes[sub.offset..<sub.end], as: UTF8.self)
    }

    /// Reads an `int32` (sign-extended varint).
    mutating func readInt32() throws(Malformed) -> Int32 {
        Int32(truncatingIfNeeded: try readVarint())
    }

    /// Reads a repeated `int32` that may be packed or not.
    mutating func readInt32s(_ wireType: WireType, into values: inout [Int32]) throws(Malformed) {
        if wireType == .lengthDelimited {
            var packed = try readSubReader()
            while !packed.isAtEnd { values.append(try packed.readInt32()) }
        } else {
            values.append(try readInt32())
        }
    }

    /// Skips a field the descriptor model does not need.
    mutating func skip(_ wireType: WireType) throws(Malformed) {
        switch wireType {
        case .varint: _ = try readVarint()
        case .fixed64: try advance(8)
        case .fixed32: try advance(4)
        case .lengthDelimited: _ = try readSubReader()
        }
    }

    private mutating func advance(_ count: Int) throws(Malformed) {
        guard end - offset >= count else {
            throw Malformed(description: "truncated field at offset \(offset)")
        }
        offset += count
    }
}

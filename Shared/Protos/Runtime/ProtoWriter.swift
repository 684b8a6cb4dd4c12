/// Appends protobuf fields in wire format, proto3 style: scalars at their
/// default value are left out; message fields are always written (an empty one
/// means present). For hot paths that encode straight from their own data;
/// fields must be written in field-number order to match protobuf-c's bytes.
public struct ProtoWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Empties the writer, keeping its storage for the next message.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    public mutating func string(_ field: UInt64, _ value: String) {
        guard !value.isEmpty else { return }
        var value = value
        value.withUTF8 { utf8 in
            key(field, wireType: 2)
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// One byte as it is, inside a field being written (see `nested`).
    public mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// A bytes field (left out when empty).
    public mutating func data(_ field: UInt64, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        message(field, value)
    }

    /// A bytes or string field from bytes in place (left out when empty).
    public mutating func data(_ field: UInt64, _ value: UnsafeRawBufferPointer) {
        guard !value.isEmpty else { return }
        message(field, value)
    }

    /// A length-delimited field of exactly `count` bytes, which `fill` writes
    /// in place (a hot path's text without a String, or per-byte appends).
    public mutating func field(_ field: UInt64, count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        key(field, wireType: 2)
        varint(UInt64(count))
        // Written on the stack, then copied: growing the array by `count` zeros
        // went through the generic sequence path, which showed in lookup's
        // profile of every answer.
        withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { room in
            room.initializeMemory(as: UInt8.self, repeating: 0)
            fill(room)
            bytes.append(contentsOf: UnsafeRawBufferPointer(room))
        }
    }

    /// Fields already encoded, appended as they are.
    public mutating func appendEncoded(_ fields: [UInt8]) {
        bytes.append(contentsOf: fields)
    }

    /// A message already encoded.
    public mutating func message(_ field: UInt64, _ encoded: [UInt8]) {
        encoded.withUnsafeBytes { message(field, $0) }
    }

    /// A message already encoded, from bytes in place.
    public mutating func message(_ field: UInt64, _ encoded: UnsafeRawBufferPointer) {
        key(field, wireType: 2)
        varint(UInt64(encoded.count))
        bytes.append(contentsOf: encoded)
    }

    /// A message written by `body`, its length put in front afterwards.
    public mutating func nested(_ field: UInt64, _ body: (inout ProtoWriter) -> Void) {
        let start = beginNested(field)
        body(&self)
        endNested(start)
    }

    /// Starts a message field whose contents follow; `endNested` with the
    /// returned mark puts its length in front. For hot paths, where `nested`'s
    /// closure would capture (and so copy) what the contents are read from.
    public mutating func beginNested(_ field: UInt64) -> Int {
        key(field, wireType: 2)
        bytes.append(0)
        return bytes.count - 1
    }

    public mutating func endNested(_ lengthAt: Int) {
        let length = bytes.count - lengthAt - 1
        guard length >= 0x80 else {
            bytes[lengthAt] = UInt8(length)
            return
        }
        // Room for the longer length, made in place (no second buffer): the
        // contents move up by the length's extra bytes.
        let size = Self.varintSize(UInt64(length))
        for _ in 1..<size { bytes.append(0) }
        bytes.withUnsafeMutableBytes { all in
            (all.baseAddress! + lengthAt + size).copyMemory(from: all.baseAddress! + lengthAt + 1, byteCount: length)
        }
        var value = length
        for index in lengthAt..<lengthAt + size {
            bytes[index] = UInt8(truncatingIfNeeded: value) | (index < lengthAt + size - 1 ? 0x80 : 0)
            value >>= 7
        }
    }

    public mutating func bool(_ field: UInt64, _ value: Bool) {
        guard value else { return }
        key(field, wireType: 0)
        bytes.append(1)
    }

    public mutating func uint64(_ field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        key(field, wireType: 0)
        varint(value)
    }

    public mutating func enumeration(_ field: UInt64, _ value: Int32) {
        guard value != 0 else { return }
        key(field, wireType: 0)
        varint(UInt64(bitPattern: Int64(value)))  // negative values take ten bytes, as protobuf says
    }

    /// The bytes a varint of `value` takes.
    public static func varintSize(_ value: UInt64) -> Int {
        var size = 1, value = value
        while value >= 0x80 {
            size += 1
            value >>= 7
        }
        return size
    }

    private mutating func key(_ field: UInt64, wireType: UInt64) {
        varint(field << 3 | wireType)
    }

    private mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }
}

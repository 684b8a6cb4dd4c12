import CPrefetch
import Foundation
import ServiceRuntime

/// Append-only storage for numbers' variable-length fields (provider ids,
/// sealed credentials), so a number holds a 32-bit offset instead of Swift
/// strings with their own heap blocks. Chunks of 1 MiB grow without the
/// doubling slack of one big array. Offset 0 means "nothing stored".
///
/// Strings are stored compactly when they have the shapes provider ids have:
/// a lowercase UUID in 16 bytes, two capital letters and 32 lowercase hex
/// digits (Twilio's "PN…", "TK…") in 18; anything else as length and bytes.
struct ByteArena: Sendable {
    private static let chunkSize = 1 << 20
    private var chunks: [[UInt8]] = [[0]]
    /// Where a value is encoded before it is copied in (kept to reuse its buffer).
    private var scratch: [UInt8] = []

    /// Stores two strings one after the other; their offset, or 0 when both are empty.
    mutating func append(_ first: CompactText, _ second: CompactText) -> UInt32 {
        guard first != .empty || second != .empty else { return 0 }
        var encoded = take()
        Self.encode(first, into: &encoded)
        Self.encode(second, into: &encoded)
        return append(returning: encoded)
    }

    /// One stored text, as it is stored: no String made. `utf8` points into
    /// the arena, valid only inside the closure that was handed it.
    enum StoredText {
        case utf8(UnsafeRawBufferPointer)
        case uuid(UUID)
        case sid(prefix: UInt16, high: UInt64, low: UInt64)
    }

    /// The `count` texts stored at `offset`, in order, with their index (empty
    /// texts for offset 0): for writing them out without making Strings.
    func forEachText(at offset: UInt32, count: Int, _ body: (Int, StoredText) -> Void) {
        guard offset != 0 else {
            for index in 0..<count { body(index, .utf8(UnsafeRawBufferPointer(start: nil, count: 0))) }
            return
        }
        withBytes(at: offset) { bytes in
            var position = 0
            for index in 0..<count { body(index, Self.read(bytes, &position)) }
        }
    }

    /// The `count` strings stored at `offset` (empty strings for offset 0).
    func strings(at offset: UInt32, count: Int) -> [String] {
        guard offset != 0 else { return Array(repeating: "", count: count) }
        return withBytes(at: offset) { bytes in
            var position = 0
            return (0..<count).map { _ in Self.decode(bytes, &position) }
        }
    }

    /// Stores sealed credentials: key id, then length-prefixed ciphertext.
    mutating func append(keyID: String, ciphertext: [UInt8]) -> UInt32 {
        var encoded = take()
        Self.encode(CompactText(keyID), into: &encoded)
        let length = UInt32(ciphertext.count)
        for shift in [24, 16, 8, 0] as [UInt32] { encoded.append(UInt8(truncatingIfNeeded: length >> shift)) }
        encoded += ciphertext
        return append(returning: encoded)
    }

    /// The scratch buffer, emptied, for encoding one value.
    private mutating func take() -> [UInt8] {
        var buffer: [UInt8] = []
        swap(&buffer, &scratch)
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    /// Stores `encoded` and keeps its buffer as the next scratch.
    private mutating func append(returning encoded: [UInt8]) -> UInt32 {
        defer { scratch = encoded }
        return append(encoded)
    }

    func credentials(at offset: UInt32) -> (keyID: String, ciphertext: [UInt8]) {
        withBytes(at: offset) { bytes in
            var position = 0
            let keyID = Self.decode(bytes, &position)
            let length = (0..<4).reduce(0) { $0 << 8 | Int(bytes[position + $1]) }
            return (keyID, Array(bytes[(position + 4)..<(position + 4 + length)]))
        }
    }

    /// Stores bytes made by `encode(_:into:)`; their offset.
    private mutating func append(_ encoded: [UInt8]) -> UInt32 {
        precondition(encoded.count <= Self.chunkSize, "a field of \(encoded.count) bytes does not fit the arena")
        if chunks[chunks.count - 1].count + encoded.count > Self.chunkSize {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        } else if chunks.count == 1 && chunks[0].capacity < Self.chunkSize {
            chunks[0].reserveCapacity(Self.chunkSize)
        }
        let index = chunks.count - 1
        let offset = UInt32(index * Self.chunkSize + chunks[index].count)
        chunks[index] += encoded
        return offset
    }

    /// Asks the CPU to fetch the bytes at `offset`.
    func prefetch(_ offset: UInt32) {
        withBytes(at: offset) { if let start = $0.baseAddress { cprefetch(start) } }
    }

    /// The bytes from `offset` to the end of its chunk. Read through a pointer:
    /// slicing the chunk would retain its buffer, whose reference count every
    /// event loop would then contend for.
    private func withBytes<Result>(at offset: UInt32, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        chunks[Int(offset) / Self.chunkSize].withUnsafeBytes { chunk in
            body(UnsafeRawBufferPointer(rebasing: chunk[(Int(offset) % Self.chunkSize)...]))
        }
    }

    // MARK: String codec

    private enum Tag: UInt8 {
        case empty = 0, short = 1, long = 2, uuid = 3, prefixedHex = 4
    }

    private static func encode(_ text: CompactText, into out: inout [UInt8]) {
        switch text {
        case .uuid(let uuid):
            out.append(Tag.uuid.rawValue)
            withUnsafeBytes(of: uuid.uuid) { out += $0 }
        case .sid(let prefix, let high, let low):
            out.append(Tag.prefixedHex.rawValue)
            out.append(UInt8(prefix >> 8))
            out.append(UInt8(truncatingIfNeeded: prefix))
            withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { out += $0 }
        case .short(let short):
            short.withBytes { encodeText($0, into: &out) }
        case .text(var string):
            string.withUTF8 { encodeText(UnsafeRawBufferPointer($0), into: &out) }
        }
    }

    private static func encodeText(_ utf8: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        if utf8.isEmpty {
            out.append(Tag.empty.rawValue)
        } else if utf8.count < 256 {
            out.append(Tag.short.rawValue)
            out.append(UInt8(utf8.count))
            out += utf8
        } else {
            out.append(Tag.long.rawValue)
            out += [UInt8(utf8.count >> 8 & 0xff), UInt8(utf8.count & 0xff)]
            out += utf8
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> String {
        switch read(bytes, &position) {
        case .utf8(let utf8): String(decoding: utf8, as: UTF8.self)
        case .uuid(let uuid): uuid.lowercasedString
        case .sid(let prefix, let high, let low): HexText.string(prefix: prefix, high, low)
        }
    }

    /// The text at `position` (moved past it).
    private static func read(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> StoredText {
        let tag = Tag(rawValue: bytes[position]) ?? .empty
        position += 1
        switch tag {
        case .empty:
            return .utf8(UnsafeRawBufferPointer(start: nil, count: 0))
        case .short, .long:
            var length = Int(bytes[position])
            position += 1
            if tag == .long {
                length = length << 8 | Int(bytes[position])
                position += 1
            }
            defer { position += length }
            return .utf8(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))
        case .uuid:
            defer { position += 16 }
            return .uuid(UUID(uuid: uuidBytes(bytes, from: position)))
        case .prefixedHex:
            defer { position += 18 }
            let start = position
            let prefix = UInt16(bytes[start]) << 8 | UInt16(bytes[start + 1])
            let bits = unsafeBitCast(uuidBytes(bytes, from: start + 2), to: (UInt64, UInt64).self)
            return .sid(prefix: prefix, high: UInt64(bigEndian: bits.0), low: UInt64(bigEndian: bits.1))
        }
    }

    /// The 16 bytes at `start`.
    private static func uuidBytes(_ bytes: UnsafeRawBufferPointer, from start: Int) -> uuid_t {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + 16)])) }
        return value
    }
}

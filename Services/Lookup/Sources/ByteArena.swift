import Foundation

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

    /// Stores `strings` one after another; their offset, or 0 when all are empty.
    mutating func append(strings: [String]) -> UInt32 {
        Self.encode(strings).map { append($0) } ?? 0
    }

    /// `strings` encoded as the arena stores them; nil when all are empty.
    /// Pure, so it can run away from the state (e.g. while loading).
    static func encode(_ strings: [String]) -> [UInt8]? {
        guard strings.contains(where: { !$0.isEmpty }) else { return nil }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(64)
        for string in strings { encode(string, into: &encoded) }
        return encoded
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
        var encoded: [UInt8] = []
        encoded.reserveCapacity(ciphertext.count + 24)
        Self.encode(keyID, into: &encoded)
        let length = UInt32(ciphertext.count)
        encoded += [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
                    UInt8(truncatingIfNeeded: length)]
        encoded += ciphertext
        return append(encoded)
    }

    func credentials(at offset: UInt32) -> (keyID: String, ciphertext: [UInt8]) {
        withBytes(at: offset) { bytes in
            var position = 0
            let keyID = Self.decode(bytes, &position)
            let start = bytes.startIndex + position
            let length = (0..<4).reduce(0) { $0 << 8 | Int(bytes[start + $1]) }
            return (keyID, Array(bytes[(start + 4)..<(start + 4 + length)]))
        }
    }

    /// Stores bytes made by `encode(_:)`; their offset.
    mutating func append(_ encoded: [UInt8]) -> UInt32 {
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

    private func withBytes<Result>(at offset: UInt32, _ body: (ArraySlice<UInt8>) -> Result) -> Result {
        body(chunks[Int(offset) / Self.chunkSize][(Int(offset) % Self.chunkSize)...])
    }

    // MARK: String codec

    private enum Tag: UInt8 {
        case empty = 0, short = 1, long = 2, uuid = 3, prefixedHex = 4
    }

    static func encode(_ string: String, into out: inout [UInt8]) {
        let utf8 = Array(string.utf8)
        if utf8.isEmpty {
            out.append(Tag.empty.rawValue)
        } else if utf8.count == 36, let bytes = uuidBytes(utf8) {
            out.append(Tag.uuid.rawValue)
            out += bytes
        } else if utf8.count == 34, utf8[0].isCapital, utf8[1].isCapital, let bytes = hexBytes(utf8[2...]) {
            out.append(Tag.prefixedHex.rawValue)
            out += utf8[0...1]
            out += bytes
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

    static func decode(_ bytes: ArraySlice<UInt8>, _ position: inout Int) -> String {
        let base = bytes.startIndex
        let tag = Tag(rawValue: bytes[base + position]) ?? .empty
        position += 1
        switch tag {
        case .empty:
            return ""
        case .short, .long:
            var length = Int(bytes[base + position])
            position += 1
            if tag == .long {
                length = length << 8 | Int(bytes[base + position])
                position += 1
            }
            defer { position += length }
            return String(decoding: bytes[(base + position)..<(base + position + length)], as: UTF8.self)
        case .uuid:
            defer { position += 16 }
            let hex = hexString(bytes[(base + position)..<(base + position + 16)])
            var text = ""
            text.reserveCapacity(36)
            for (index, character) in hex.enumerated() {
                if index == 8 || index == 12 || index == 16 || index == 20 { text.append("-") }
                text.append(character)
            }
            return text
        case .prefixedHex:
            defer { position += 18 }
            let prefix = String(decoding: bytes[(base + position)..<(base + position + 2)], as: UTF8.self)
            return prefix + hexString(bytes[(base + position + 2)..<(base + position + 18)])
        }
    }

    /// 16 bytes of a lowercase canonical UUID ("8-4-4-4-12"), else nil.
    private static func uuidBytes(_ utf8: [UInt8]) -> [UInt8]? {
        guard utf8[8] == UInt8(ascii: "-"), utf8[13] == UInt8(ascii: "-"), utf8[18] == UInt8(ascii: "-"),
              utf8[23] == UInt8(ascii: "-") else { return nil }
        var digits: [UInt8] = []
        digits.reserveCapacity(32)
        for range in [0..<8, 9..<13, 14..<18, 19..<23, 24..<36] { digits += utf8[range] }
        return hexBytes(digits[...])
    }

    /// Bytes of exactly 32 lowercase hex digits, else nil (uppercase would not round-trip).
    private static func hexBytes(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        guard digits.count == 32 else { return nil }
        var out = [UInt8](repeating: 0, count: 16)
        var index = digits.startIndex
        for position in 0..<16 {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out[position] = high << 4 | low
            index += 2
        }
        return out
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func hexString(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

private extension UInt8 {
    var isCapital: Bool { self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") }
}

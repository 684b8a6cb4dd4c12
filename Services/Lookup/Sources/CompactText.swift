import Foundation
import ServiceRuntime

/// A string without a heap block of its own when it has one of the shapes
/// ids take: a canonical UUID, two capital letters and 32 lowercase hex
/// digits (Twilio's "PN…" and "TK…" SIDs), or any other text of 1 to 32
/// bytes. Longer text stays a `String`. The loader reads row bytes into it
/// without making a string; symbols and the arena key and store it by its
/// bits; it renders back exactly.
enum CompactText: Hashable, Sendable {
    case uuid(UUID)
    case sid(prefix: UInt16, high: UInt64, low: UInt64)
    case short(ShortText)
    case text(String)

    static let empty = CompactText.text("")

    init(_ string: String) {
        var string = string
        self = string.withUTF8 { Self.compact($0) } ?? .text(string)
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self = Self.compact(bytes) ?? .text(String(decoding: bytes, as: UTF8.self))
    }

    private static func compact(_ bytes: UnsafeBufferPointer<UInt8>) -> CompactText? {
        if bytes.count == 36, let uuid = HexText.uuid(bytes) { return .uuid(uuid) }
        if bytes.count == 34, bytes[0].isCapital, bytes[1].isCapital, let bits = HexText.bits128(bytes[2...]) {
            return .sid(prefix: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), high: bits.high, low: bits.low)
        }
        return ShortText(bytes).map(Self.short)
    }

    var string: String {
        switch self {
        case .uuid(let uuid): uuid.lowercasedString
        case .sid(let prefix, let high, let low): HexText.string(prefix: prefix, high, low)
        case .short(let short): short.string
        case .text(let text): text
        }
    }
}

/// 1 to 32 bytes of text held in four words.
struct ShortText: Hashable, Sendable {
    static let capacity = 32

    private(set) var length: UInt8
    private(set) var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard (1...Self.capacity).contains(bytes.count) else { return nil }
        length = UInt8(bytes.count)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
    }

    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withUnsafeBytes(of: words) { body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
    }

    var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    static func == (lhs: ShortText, rhs: ShortText) -> Bool {
        lhs.length == rhs.length && lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
            && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(length)
        withUnsafeBytes(of: words) { hasher.combine(bytes: $0) }
    }
}

extension UInt8 {
    var isCapital: Bool { self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z") }
}

/// Lowercase hexadecimal text, the form Postgres writes UUIDs in, so
/// parsing and printing round-trip exactly (uppercase is refused).
enum HexText {
    /// Canonical UUID text: "8-4-4-4-12" lowercase hex digits.
    static func uuid(_ text: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard text.count == 36, text[8] == UInt8(ascii: "-"), text[13] == UInt8(ascii: "-"),
              text[18] == UInt8(ascii: "-"), text[23] == UInt8(ascii: "-") else { return nil }
        let bytes = UnsafeRawPointer(text.baseAddress!)
        func word(_ first: Int, _ second: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: first, as: UInt32.self)))
                | UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: second, as: UInt32.self))) << 32
        }
        guard let a = eightDigits(word(0, 4)), let b = eightDigits(word(9, 14)), let c = eightDigits(word(19, 24)),
              let d = eightDigits(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 28, as: UInt64.self))) else { return nil }
        let high = UInt64(a) << 32 | UInt64(b), low = UInt64(c) << 32 | UInt64(d)
        return UUID(uuid: unsafeBitCast((high.bigEndian, low.bigEndian), to: uuid_t.self))
    }

    /// Exactly 32 lowercase hex digits as 128 bits, high half first.
    static func bits128(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> (high: UInt64, low: UInt64)? {
        guard digits.count == 32 else { return nil }
        let bytes = UnsafeRawPointer(digits.base.baseAddress! + digits.startIndex)
        var words: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        for index in 0..<4 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
            guard let value = eightDigits(word) else { return nil }
            withUnsafeMutableBytes(of: &words) { $0.storeBytes(of: value, toByteOffset: index * 4, as: UInt32.self) }
        }
        return (UInt64(words.0) << 32 | UInt64(words.1), UInt64(words.2) << 32 | UInt64(words.3))
    }

    /// Eight lowercase hex digits, read as a little-endian word (the first
    /// digit in the lowest byte), as their 32-bit value; nil if any byte is not one. All
    /// eight at once in one word's lanes: the start-up load parses two ids
    /// per row, and a loop per digit was a tenth of its CPU.
    @inline(__always)
    static func eightDigits(_ word: UInt64) -> UInt32? {
        let ones: UInt64 = 0x0101_0101_0101_0101, tops: UInt64 = 0x8080_8080_8080_8080
        // For bytes below 0x80, each lane's top bit of `x + (0x80 - low)` says x >= low,
        // and of `x + (0x7f - high)` says x > high; no carry crosses a lane.
        func atLeast(_ low: UInt64) -> UInt64 { (word &+ ones &* (0x80 - low)) & tops }
        func above(_ high: UInt64) -> UInt64 { (word &+ ones &* (0x7f - high)) & tops }
        let digit = atLeast(0x30) & ~above(0x39), letter = atLeast(0x61) & ~above(0x66)
        guard word & tops == 0, digit | letter == tops else { return nil }
        // '0'–'9' keep their low nibble; 'a'–'f' (low nibble 1–6) gain 9.
        let nibbles = word & (ones &* 0x0f) &+ (letter >> 7) &* 9
        // Pairs, then quads, then all eight, the first digit most significant.
        let pairs = (nibbles << 4 | nibbles >> 8) & 0x00ff_00ff_00ff_00ff
        let quads = (pairs << 8 | pairs >> 16) & 0x0000_ffff_0000_ffff
        return UInt32(truncatingIfNeeded: quads << 16 | quads >> 32)
    }

    /// A SID's text: its two letters, then 32 lowercase hex digits.
    static func string(prefix: UInt16, _ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 34) { out in
            var count = 0
            forEachByte(prefix: prefix, high, low) {
                out[count] = $0
                count += 1
            }
            return count
        }
    }

    /// The bytes of that text, in order.
    static func forEachByte(prefix: UInt16, _ high: UInt64, _ low: UInt64, _ body: (UInt8) -> Void) {
        body(UInt8(prefix >> 8))
        body(UInt8(truncatingIfNeeded: prefix))
        for index in 0..<32 {
            let word = index < 16 ? high : low
            body(lowercaseHexDigit(UInt8(truncatingIfNeeded: word >> (60 - 4 * UInt64(index % 16))) & 0xf))
        }
    }
}

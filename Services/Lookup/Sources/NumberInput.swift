import PhoneNumbers
import RPC
import ServiceRuntime

/// An E.164 number as an integer: its digits after "+" (at most 15, the first
/// not zero, so the value determines them). The projection's key.
struct E164Key: Hashable, Sendable, Comparable {
    var value: UInt64

    init(value: UInt64) { self.value = value }

    /// From canonical E.164 ("+" and 7 to 15 digits); nil otherwise.
    init?(e164: String) {
        var utf8 = e164.utf8[...]
        guard utf8.popFirst() == UInt8(ascii: "+"), let key = Self.digits(utf8) else { return nil }
        self = key
    }

    /// 7 to 15 ASCII digits, the first not zero.
    static func digits<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> E164Key? {
        guard (7...15).contains(bytes.count), let first = bytes.first, first != UInt8(ascii: "0") else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return E164Key(value: value)
    }

    /// "+" and the digits, built in place (16 bytes at most: no heap block).
    var e164: String {
        String(unsafeUninitializedCapacity: 16) { out in
            writeE164(to: UnsafeMutableRawBufferPointer(out))
            return e164Count
        }
    }

    /// The length of `e164`.
    var e164Count: Int {
        var digits = value, count = 0
        repeat {
            count += 1
            digits /= 10
        } while digits > 0
        return count + 1
    }

    /// Writes `e164` to the start of `out` (at least `e164Count` bytes).
    func writeE164(to out: UnsafeMutableRawBufferPointer) {
        out[0] = UInt8(ascii: "+")
        var digits = value
        for index in stride(from: e164Count - 1, to: 0, by: -1) {
            out[index] = UInt8(ascii: "0") + UInt8(digits % 10)
            digits /= 10
        }
    }

    static func < (lhs: E164Key, rhs: E164Key) -> Bool { lhs.value < rhs.value }
}

/// Turns a number as call platforms send it into its key. Input already in
/// E.164 — with or without "+", with separators, inside a `tel:` or `sip:`
/// URI — is read by a byte scan; only national forms (with a region hint) go
/// through libphonenumber.
enum NumberInput {
    static let maximumLength = 256
    private static let uriSchemes = ["tel:", "sip:", "sips:"]

    static func key(_ text: String, regionHint: String, field: String = "number") throws(RPCError) -> E164Key {
        guard !text.isEmpty else { throw RPCError.invalidArgument(field: field, "is empty") }
        guard text.utf8.count <= maximumLength else {
            throw RPCError.invalidArgument(field: field, "is longer than \(maximumLength) bytes")
        }
        try FieldRules.regionCode(regionHint, field: "region_hint")
        let address = addressPart(text.utf8[...])
        if let key = scanE164(address, plusRequired: !regionHint.isEmpty) { return key }
        guard !regionHint.isEmpty else {
            throw RPCError.invalidArgument(
                field: field, "'\(text.prefix(64))' is not an E.164 number; give region_hint for a national form")
        }
        do {
            let parsed = try PhoneNumber(parsing: String(decoding: address, as: UTF8.self), defaultRegion: regionHint)
            guard let key = E164Key(e164: parsed.e164) else {
                throw RPCError.invalidArgument(field: field, "'\(text.prefix(64))' is not a routable number")
            }
            return key
        } catch let error as PhoneNumberError {
            throw RPCError.invalidArgument(field: field, "'\(text.prefix(64))': \(error.description)")
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError.invalidArgument(field: field, "'\(text.prefix(64))' is not a phone number")
        }
    }

    /// `key(_:regionHint:)` of a request's bytes as they arrived, for Resolve's
    /// fast path: the key when `key` would read it with a byte scan, nil when it
    /// needs libphonenumber, would throw, or the text is not plain ASCII (the
    /// general path then decodes the request and answers, or says what is
    /// wrong).
    static func key(bytes text: UnsafeRawBufferPointer, regionHint: UnsafeRawBufferPointer) -> E164Key? {
        guard (1...maximumLength).contains(text.count), isPlainASCII(text), isPlainASCII(regionHint),
              (try? FieldRules.regionCode(String(decoding: regionHint, as: UTF8.self), field: "region_hint")) != nil
        else { return nil }
        return scanE164(addressPart(text[...]), plusRequired: !regionHint.isEmpty)
    }

    /// ASCII without NUL: text every decoder reads alike.
    private static func isPlainASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 != 0 && $0 < 0x80 }
    }

    /// The number part of `tel:` / `sip:` / `sips:` URIs (user part, without
    /// parameters); the text itself otherwise. Surrounding blanks are dropped.
    static func addressPart<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> Bytes where Bytes.SubSequence == Bytes {
        var text = bytes
        while let first = text.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { text.removeFirst() }
        while let last = text.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { text.removeLast() }
        // Schemes start with a letter; "+" and digits, as most calls send them, skip the search.
        guard let first = text.first, first | 0x20 >= UInt8(ascii: "a"), first | 0x20 <= UInt8(ascii: "z") else { return text }
        for scheme in uriSchemes where hasPrefix(text, scheme) {
            text = text.dropFirst(scheme.utf8.count)
            if let end = text.firstIndex(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: ";") }) {
                text = text[..<end]
            }
            break
        }
        return text
    }

    /// Digits of an E.164 number written with "+" and optional separators
    /// (space, -, ., /, parentheses), or as bare digits without "+" (as SIP
    /// headers carry it) unless `plusRequired`; nil when anything else
    /// appears or the digit count is out of range.
    static func scanE164<Bytes: Collection<UInt8>>(_ bytes: Bytes, plusRequired: Bool) -> E164Key? where Bytes.SubSequence == Bytes {
        var rest = bytes
        let hasPlus = rest.first == UInt8(ascii: "+")
        if hasPlus { rest.removeFirst() } else if plusRequired { return nil }
        var value: UInt64 = 0
        var count = 0
        for byte in rest {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if count == 0 && byte == UInt8(ascii: "0") { return nil }
                count += 1
                guard count <= 15 else { return nil }
                value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"),
                 UInt8(ascii: "("), UInt8(ascii: ")"):
                // Separators mark a written form; without "+" that is a national one.
                guard hasPlus else { return nil }
                continue
            default:
                return nil
            }
        }
        return count >= 7 ? E164Key(value: value) : nil
    }

    private static func hasPrefix<Bytes: Collection<UInt8>>(_ text: Bytes, _ prefix: String) -> Bool {
        guard text.count >= prefix.utf8.count else { return false }
        return zip(text, prefix.utf8).allSatisfy { a, b in a | 0x20 == b | 0x20 }
    }
}

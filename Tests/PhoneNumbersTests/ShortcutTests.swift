import CPhoneNumberGeocoding
import CPhoneNumberShim
import Testing

/// The shim parses plain "+<digits>" text without libphonenumber's general
/// parser. Every answer it gives must be the library's: status, E.164,
/// region, type, length verdict and place, for every region's example
/// numbers of every type, numbers next to them (so most are invalid), and
/// random digits after every calling code.
@Suite struct ShortcutTests {
    private struct Answer: Equatable, CustomStringConvertible {
        var status: UInt32
        var e164, region, place: String
        var countryCode: Int32
        var nationalNumber: UInt64
        var type, possibility: UInt32

        var description: String {
            "status \(status) \(e164) region \(region) type \(type) possibility \(possibility) place \(place)"
        }
    }

    private static func parse(_ text: String, flags: UInt32) -> Answer {
        var number = pn_number()
        var place = [CChar](repeating: 0, count: Int(PN_DESCRIPTION_CAPACITY))
        let status = text.utf8CString.withUnsafeBufferPointer { chars in
            pn_parse_geocode(chars.baseAddress, chars.count - 1, nil, flags, &number, pn_geocoder_place, &place, place.count)
        }
        func string<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return Answer(status: status.rawValue, e164: string(number.e164), region: string(number.region),
                      place: String(decoding: place.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                      countryCode: number.country_code, nationalNumber: number.national_number,
                      type: number.type.rawValue, possibility: number.possibility.rawValue)
    }

    /// Example numbers of every type for every region ("AA" to "ZZ"; unknown
    /// ones have none) and for the non-geographic calling codes.
    private static func examples() -> [String] {
        let letters = (UInt8(ascii: "A")...UInt8(ascii: "Z")).map { Character(UnicodeScalar($0)) }
        var regions = letters.flatMap { first in letters.map { String([first, $0]) } }.map { ($0, Int32(0)) }
        regions += (1...999).map { ("001", Int32($0)) }
        var found: [String] = []
        for (region, code) in regions {
            for type in PN_TYPE_FIXED_LINE.rawValue...PN_TYPE_VOICEMAIL.rawValue {
                var buffer = [CChar](repeating: 0, count: 32)
                guard pn_example_number(region, code, pn_number_type(rawValue: type), &buffer, buffer.count) == PN_OK else { continue }
                found.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                if region == "001" { break }  // one example per non-geographic code
            }
        }
        return found
    }

    /// Texts around one E.164 number: itself in the written forms the
    /// shortcut takes, and variants with changed, added, dropped and inserted
    /// digits (a national prefix or leading zeros after the country code).
    private static func variants(of e164: String, using random: inout Scrambled) -> [String] {
        let digits = Array(e164.dropFirst())
        var texts = ["+" + String(digits), "tel:+" + String(digits),
                     "+\(String(digits.prefix(2))) (\(String(digits.dropFirst(2).prefix(3)))) \(String(digits.dropFirst(5)))",
                     "+" + digits.map(String.init).joined(separator: "-")]
        for round in 0..<24 {
            var changed = digits
            let position = changed.count - 1 - Int(random.next() % 4)
            changed[max(1, position)] = Character(String(random.next() % 10))
            switch round % 6 {
            case 1: changed.append(Character(String(random.next() % 10)))
            case 2: changed.removeLast()
            case 3: changed.insert("0", at: 1 + Int(random.next() % 3))
            case 4: changed.insert("1", at: 1 + Int(random.next() % 3))
            case 5: changed.insert(contentsOf: ["0", "0"], at: 1 + Int(random.next() % 3))
            default: break
            }
            texts.append("+" + String(changed))
        }
        return texts
    }

    @Test func shortcutAnswersAsTheLibraryDoes() {
        var random = Scrambled(state: 0x5EED)
        var texts: [String] = []
        let examples = Self.examples()
        #expect(examples.count > 1_000, "libphonenumber should have an example for most regions and types")
        for example in examples { texts += Self.variants(of: example, using: &random) }
        for code in 1...999 {
            for length in 0...17 {
                var digits = String(code)
                for _ in 0..<length { digits.append(Character(String(random.next() % 10))) }
                texts.append("+" + digits)
            }
        }
        var valid = 0, mismatches: [String] = []
        for text in texts {
            let shortcut = Self.parse(text, flags: 0)
            let library = Self.parse(text, flags: UInt32(PN_PARSE_LIBRARY_ONLY))
            if shortcut != library, mismatches.count < 10 { mismatches.append("\(text): \(shortcut) vs \(library)") }
            if shortcut.status == PN_OK.rawValue { valid += 1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        // Both kinds of answer were compared, not only failures.
        #expect(valid > texts.count / 5, "\(valid) of \(texts.count) valid")
    }
}

/// Deterministic pseudo-random digits (a multiplicative hash of a counter),
/// so a failure can be reproduced.
struct Scrambled {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 1
        let mixed = state &* 0xD6E8_FEB8_6659_FD93
        let scrambled = (mixed ^ (mixed >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return scrambled >> 16
    }
}

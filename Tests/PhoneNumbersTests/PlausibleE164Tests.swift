import PhoneNumbers
import Testing

/// The pure-Swift E.164 shape check the lookup hot path relies on.
@Suite struct PlausibleE164Tests {
    @Test(arguments: [
        "+14155551234",
        "+12345678",  // 8 digits: the shortest accepted
        "+123456789012345",  // 15 digits: the longest E.164 allows
        "+442079460958",
        "+390669812345",
        "+19999999999",  // plausible shape, though no such number exists
    ])
    func plausible(_ text: String) {
        #expect(PhoneNumber.isPlausibleE164(text))
        #expect(PhoneNumber.isPlausibleE164(Substring(text)))
        #expect(PhoneNumber.isPlausibleE164(utf8: Array(text.utf8)))
    }

    @Test(arguments: [
        "",
        "+",
        "+1234567",  // 7 digits
        "+1234567890123456",  // 16 digits
        "14155551234",  // no plus
        "+04155551234",  // country codes never start with 0
        "++14155551234",
        "+1 4155551234",
        "+1-415-555-1234",
        "+1415555123a",
        "+14155551234 ",
        " +14155551234",
        "+١٤١٥٥٥٥١٢٣٤",  // non-ASCII digits
        "+１４１５５５５１２３４",
        "tel:+14155551234",
    ])
    func implausible(_ text: String) {
        #expect(!PhoneNumber.isPlausibleE164(text))
        #expect(!PhoneNumber.isPlausibleE164(Substring(text)))
        #expect(!PhoneNumber.isPlausibleE164(utf8: Array(text.utf8)))
    }

    @Test func substringOfALargerString() {
        let line = "from=+14155551234&to=+442079460958"
        let parts = line.split(separator: "&").map { $0.split(separator: "=")[1] }
        #expect(parts.allSatisfy { PhoneNumber.isPlausibleE164($0) })
        #expect(!PhoneNumber.isPlausibleE164(line.dropFirst(5)))
    }

    @Test func agreesWithParsingOnCanonicalNumbers() throws {
        // Whatever the check accepts from the parser's own output must
        // round-trip unchanged, or skipping the parser would change keys.
        for text in ["+1 (650) 253-0000", "020 7946 0958", "+33 6 12 34 56 78", "+800 1234 5678"] {
            let number = try PhoneNumber(parsing: text, defaultRegion: "GB")
            #expect(PhoneNumber.isPlausibleE164(number.e164))
            #expect(try PhoneNumber(parsing: number.e164).e164 == number.e164)
        }
    }
}

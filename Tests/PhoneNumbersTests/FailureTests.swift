import PhoneNumberGeocoding
import PhoneNumbers
import Testing

/// Each rejection reason with a representative input, and the message
/// people will see.
@Suite struct FailureTests {
    private func reject(_ text: String, region: String? = nil) -> PhoneNumberError? {
        #expect(throws: PhoneNumberError.self) { try PhoneNumber(parsing: text, defaultRegion: region) }
    }

    @Test(arguments: [
        ("", nil, PhoneNumberError.Reason.notANumber),
        ("abc", nil, .notANumber),
        ("+1", nil, .notANumber),
        ("call me", "US", .notANumber),
        ("+999 1234567", nil, .invalidCountryCode),
        ("415 555 1234", nil, .invalidCountryCode),  // no country code, no region
        ("415 555 1234", "XX", .invalidCountryCode),  // unknown region
        ("011 1", "US", .tooShortAfterIDD),
        ("0011 1", "AU", .tooShortAfterIDD),
        ("+44 1", nil, .tooShort),  // libphonenumber: TOO_SHORT_NSN
        ("+1 555", nil, .tooShort),  // parses; length check says too short
        ("+1 5551234", nil, .tooShort),  // local-only: area code missing
        ("0044 1234", nil, .tooShort),  // "00" reading parses, but too short
        ("+1 41555512341234567890", nil, .tooLong),  // libphonenumber: TOO_LONG_NSN
        ("+44 20 7946 09581", nil, .tooLong),  // parses; length check says too long
        ("+376 222 2222", nil, .invalidLength),  // Andorra uses 6, 8 or 9 digits
        ("+1 555 555 1234", nil, .invalidNumber),  // no area code 555
        ("+44 7700 900123", nil, .invalidNumber),  // not a range 8.12.57 knows
    ] as [(String, String?, PhoneNumberError.Reason)])
    func reason(text: String, region: String?, expected: PhoneNumberError.Reason) {
        let error = reject(text, region: region)
        #expect(error?.reason == expected)
        #expect(error?.input == text)
        #expect(error?.defaultRegion == region)
    }

    @Test func messages() {
        #expect(reject("+1 555")?.description == "'+1 555' is too short to be a phone number")
        #expect(reject("abc")?.description == "'abc' is not a phone number")
        #expect(reject("+999 1234567")?.description == "'+999 1234567' does not start with a valid country code")
        #expect(reject("415 555 1234")?.description
            == "'415 555 1234' has no country code; write it as +<country code> <number> or give a default region")
        #expect(reject("415 555 1234", region: "XX")?.description
            == "'415 555 1234' has no country code, and the default region 'XX' is not a known region")
        #expect(reject("011 1", region: "US")?.description
            == "'011 1' has too few digits after the international dialling prefix")
        #expect(reject("+1 41555512341234567890")?.description
            == "'+1 41555512341234567890' is too long to be a phone number")
        #expect(reject("+376 222 2222")?.description
            == "'+376 222 2222' has the wrong number of digits for country code +376")
        #expect(reject("+1 555 555 1234")?.description
            == "'+1 555 555 1234' is not a valid phone number for country code +1")
        #expect(reject("+1 555 555 1234")?.countryCode == 1)
        #expect(reject("abc")?.countryCode == nil)
    }

    @Test func longInputIsAbbreviatedInTheMessage() {
        let text = String(repeating: "x", count: 500)
        let error = reject(text)
        #expect(error?.input == text)
        #expect(error?.description == "'\(String(repeating: "x", count: 40))…' is not a phone number")
    }

    @Test func garbageNeverCrashes() {
        let inputs: [String] = [
            "",
            " ",
            "+",
            "++1 415 555 1234",
            "tel:",
            "ext. 1234",
            "abcdefghijklmnopqrstuvwxyz",
            String(repeating: "a", count: 500),
            String(repeating: "9", count: 500),
            "+" + String(repeating: "1", count: 500),
            String(repeating: "+1 415 555 1234 ", count: 100),
            String(repeating: "x", count: 100_000),
            String(decoding: [0xFF, 0xFE, 0xFD, 0x2B, 0x31, 0xC0, 0x80], as: UTF8.self),
            String(decoding: [0x2B, 0x31, 0x34, 0xED, 0xA0, 0x80, 0x31, 0x35], as: UTF8.self),
            "+1 415\u{0} 555 1234",  // embedded NUL
            "\u{0}\u{0}\u{0}",
            "📞 +1 415 555 1234 📞",
            "+1 ４１５ ٥٥٥ 1234",
            "%s%s%s%n",
            "0000000000",
            "00",
            "000",
            "00 ",
        ]
        for text in inputs {
            for region in [nil, "US", "GB", "ZZ", "001", "", "x", String(repeating: "U", count: 300)] as [String?] {
                for require in [false, true] {
                    // Either outcome is fine; it must return and say something.
                    do {
                        let number = try PhoneNumber(parsing: text, defaultRegion: region, requireDefaultRegion: require)
                        #expect(PhoneNumber.isPlausibleE164(number.e164))
                        _ = number.geocodedDescription()
                    } catch {
                        #expect(!error.description.isEmpty)
                    }
                }
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        // A fixed-seed generator so a failure is reproducible.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        // Biased towards the characters phone numbers are made of, so inputs
        // get deep into the parser rather than failing at once.
        let alphabet = Array("+0123456789 ()-./extTEL:#*".utf8)
        for _ in 0..<2_000 {
            let length = Int(next() % 40)
            let bytes = (0..<length).map { _ -> UInt8 in
                next() % 4 == 0 ? UInt8(truncatingIfNeeded: next()) : alphabet[Int(next() % UInt64(alphabet.count))]
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let number = try? PhoneNumber(parsing: text, defaultRegion: next() % 2 == 0 ? "US" : nil) {
                #expect(PhoneNumber.isPlausibleE164(number.e164) || number.e164.utf8.count < 9)
                _ = number.formatted(.national)
            }
        }
    }
}

import PhoneNumberGeocoding
import PhoneNumbers
import Testing

/// Parsing, classification, formatting and geocoding of numbers that
/// libphonenumber 8.12.57 (the Debian package the build links) accepts.
/// Expected regions and types are what that version's metadata says, which
/// is not always what one would guess (see the Guernsey case).
@Suite struct ParsingTests {
    @Test(arguments: [
        ("+1 (415) 555-1234", nil),
        ("+1-415-555-1234", nil),
        ("tel:+1-415-555-1234", nil),
        ("  +1 415 555 1234  ", nil),
        ("+1 415 555 1234 ext. 56", nil),  // extension dropped
        ("+١ ٤١٥ ٥٥٥ ١٢٣٤", nil),  // Arabic-Indic digits
        ("＋１ ４１５ ５５５ １２３４", nil),  // full-width digits
        ("14155551234", "US"),
        ("(415) 555-1234", "US"),
        ("415.555.1234", "us"),  // region code in any case
        ("011 1 415 555 1234", "US"),  // the region's own international prefix
        ("+1 415 555 1234", "GB"),  // a country code beats the hint
    ] as [(String, String?)])
    func writtenFormsOfOneUSNumber(text: String, region: String?) throws {
        let number = try PhoneNumber(parsing: text, defaultRegion: region)
        #expect(number.e164 == "+14155551234")
        #expect(number.regionCode == "US")
        #expect(number.countryCode == 1)
        #expect(number.nationalNumber == 4_155_551_234)
    }

    @Test(arguments: [
        ("0044 20 7946 0958", nil),  // "00" prefix, no region
        ("0044 20 7946 0958", "US"),  // US uses 011, so "00" is the fallback
        ("0044 20 7946 0958", "GB"),
        ("0044 20 7946 0958", "DE"),
        ("011 44 20 7946 0958", "US"),
        ("+44 20 7946 0958", nil),
        ("+44 (0)20 7946 0958", nil),
        ("020 7946 0958", "GB"),
    ] as [(String, String?)])
    func writtenFormsOfOneUKNumber(text: String, region: String?) throws {
        let number = try PhoneNumber(parsing: text, defaultRegion: region)
        #expect(number.e164 == "+442079460958")
        #expect(number.regionCode == "GB")
        #expect(number.type == .fixedLine)
    }

    @Test(arguments: [
        ("+14155551234", "US", 1, PhoneNumber.Kind.fixedLineOrMobile),
        ("+16502530000", "US", 1, .fixedLineOrMobile),
        ("+14169791234", "CA", 1, .fixedLineOrMobile),
        ("+18005551234", "US", 1, .tollFree),
        ("+18885551234", "US", 1, .tollFree),
        ("+19005550123", "US", 1, .premiumRate),
        ("+447400123456", "GB", 44, .mobile),
        // 8.12.57 assigns +44 7911 12 to Guernsey, not Great Britain.
        ("+447911123456", "GG", 44, .mobile),
        ("+442079460958", "GB", 44, .fixedLine),
        ("+447012345678", "GB", 44, .personalNumber),
        ("+445612345678", "GB", 44, .voip),
        ("+33612345678", "FR", 33, .mobile),
        ("+80012345678", "001", 800, .tollFree),  // non-geographic
        ("+390669812345", "VA", 39, .fixedLine),  // leading zero kept in E.164
    ])
    func regionAndType(e164: String, region: String, countryCode: Int, type: PhoneNumber.Kind) throws {
        let number = try PhoneNumber(parsing: e164)
        #expect(number.e164 == e164)
        #expect(number.regionCode == region)
        #expect(number.countryCode == countryCode)
        #expect(number.type == type)
        #expect(PhoneNumber.isPlausibleE164(number.e164))
    }

    @Test func nationalNumberLosesItalianLeadingZeroButE164KeepsIt() throws {
        let number = try PhoneNumber(parsing: "+39 06 698 12345")
        #expect(number.e164 == "+390669812345")
        #expect(number.nationalNumber == 669_812_345)
    }

    @Test func formatting() throws {
        let us = try PhoneNumber(parsing: "(415) 555-1234", defaultRegion: "US")
        #expect(us.formatted(.e164) == "+14155551234")
        #expect(us.formatted(.international) == "+1 415-555-1234")
        #expect(us.formatted() == "+1 415-555-1234")
        #expect(us.formatted(.national) == "(415) 555-1234")
        #expect(us.formatted(.rfc3966) == "tel:+1-415-555-1234")
        #expect(us.description == "+14155551234")
        #expect("\(us)" == "+14155551234")

        let gb = try PhoneNumber(parsing: "+442079460958")
        #expect(gb.formatted(.international) == "+44 20 7946 0958")
        #expect(gb.formatted(.national) == "020 7946 0958")
    }

    @Test func geocoding() throws {
        #expect(try PhoneNumber(parsing: "+16502530000").geocodedDescription(locale: "en") == "Mountain View, CA")
        #expect(try PhoneNumber(parsing: "+16502530000").geocodedDescription() == "Mountain View, CA")
        #expect(try PhoneNumber(parsing: "+14155551234").geocodedDescription() == "San Francisco, CA")
        #expect(try PhoneNumber(parsing: "+442079460958").geocodedDescription() == "London")
        // No area data: the country name instead.
        #expect(try PhoneNumber(parsing: "+18005551234").geocodedDescription() == "United States")
        #expect(try PhoneNumber(parsing: "+447400123456").geocodedDescription() == "United Kingdom")
        // Non-geographic: nothing to say.
        #expect(try PhoneNumber(parsing: "+80012345678").geocodedDescription() == nil)
        // Japanese has no area data for +1 and no English fallback: the
        // country name in Japanese.
        #expect(try PhoneNumber(parsing: "+16502530000").geocodedDescription(locale: "ja") == "アメリカ合衆国")
        // Unknown locales must not crash; libphonenumber falls back to English.
        #expect(try PhoneNumber(parsing: "+16502530000").geocodedDescription(locale: "not a locale") == "Mountain View, CA")
        #expect(try PhoneNumber(parsing: "+16502530000").geocodedDescription(locale: "") == "Mountain View, CA")
    }

    @Test func spellingsOfOneNumberAreEqualAndHashAlike() throws {
        let a = try PhoneNumber(parsing: "+1 (415) 555-1234")
        let b = try PhoneNumber(parsing: "415 555 1234", defaultRegion: "US")
        let c = try PhoneNumber(parsing: "+1 650 253 0000")
        #expect(a == b)
        #expect(a != c)
        #expect(Set([a, b, c]).count == 2)
    }

    @Test func defaultRegionIsOnlyAHintUnlessRequired() throws {
        let canadian = try PhoneNumber(parsing: "+1 416 979 1234", defaultRegion: "US")
        #expect(canadian.regionCode == "CA")

        let error = #expect(throws: PhoneNumberError.self) {
            try PhoneNumber(parsing: "+1 416 979 1234", defaultRegion: "US", requireDefaultRegion: true)
        }
        #expect(error?.reason == .invalidForRegion)
        #expect(error?.actualRegion == "CA")
        #expect(error?.description == "'+1 416 979 1234' is a valid number, but in CA, not US")

        let british = #expect(throws: PhoneNumberError.self) {
            try PhoneNumber(parsing: "0044 7400 123456", defaultRegion: "US", requireDefaultRegion: true)
        }
        #expect(british?.reason == .invalidForRegion)
        #expect(british?.actualRegion == "GB")

        // Satisfied requirement, and requirement without a region: no error.
        #expect(try PhoneNumber(parsing: "(415) 555-1234", defaultRegion: "US", requireDefaultRegion: true).regionCode == "US")
        #expect(try PhoneNumber(parsing: "+1 416 979 1234", requireDefaultRegion: true).regionCode == "CA")
    }

    @Test func countryCodeForRegion() {
        #expect(PhoneNumber.countryCode(forRegion: "US") == 1)
        #expect(PhoneNumber.countryCode(forRegion: "gb") == 44)
        #expect(PhoneNumber.countryCode(forRegion: "XX") == nil)
        #expect(PhoneNumber.countryCode(forRegion: "") == nil)
        #expect(PhoneNumber.countryCode(forRegion: String(repeating: "U", count: 100)) == nil)
    }

    @Test func warmUpIsHarmless() throws {
        PhoneNumber.warmUp()
        PhoneNumber.warmUpGeocoder()
        #expect(try PhoneNumber(parsing: "+16502530000").geocodedDescription() == "Mountain View, CA")
    }

    @Test func kindRawValuesAreStable() {
        #expect(PhoneNumber.Kind.fixedLineOrMobile.rawValue == "fixed_line_or_mobile")
        #expect(PhoneNumber.Kind(rawValue: "toll_free") == .tollFree)
        #expect(PhoneNumber.Kind.allCases.count == 12)
    }
}

import PhoneNumberGeocoding
import PhoneNumbers
import Testing

/// `init(parsing:defaultRegion:requireDefaultRegion:geocode:)` does in one
/// call what `init(parsing:...)` followed by `geocodedDescription()` does in
/// two; everything it reports must match the two-call path exactly.
@Suite struct SingleCallTests {
    static let numbers: [(String, String?)] = [
        ("+16502530000", nil),
        ("+14155551234", nil),
        ("+14169791234", nil),  // Canada, inside the shared +1 code
        ("+18005551234", nil),  // toll-free: no area data, the country name
        ("+19005550123", nil),
        ("+17875550123", nil),  // Puerto Rico
        ("+442079460958", nil),
        ("+447400123456", nil),  // mobile: not geographic, the country name
        ("+447911123456", nil),  // Guernsey
        ("+447012345678", nil),
        ("+445612345678", nil),
        ("+33612345678", nil),
        ("+33142685300", nil),
        ("+4930123456", nil),
        ("+61293744000", nil),
        ("+81312345678", nil),
        ("+80012345678", nil),  // non-geographic: no description
        ("+390669812345", nil),  // Vatican, leading zero
        ("+393123456789", nil),
        ("+5511987654321", nil),
        ("+919876543210", nil),
        ("+8613812345678", nil),
        ("(415) 555-1234", "US"),
        ("020 7946 0958", "GB"),
        ("0044 20 7946 0958", "US"),
        ("+1 415 555 1234 ext. 56", nil),
    ]

    @Test(arguments: numbers)
    func matchesTheTwoCallPath(text: String, region: String?) throws {
        let old = try PhoneNumber(parsing: text, defaultRegion: region)
        let new = try PhoneNumber(parsing: text, defaultRegion: region, geocode: true)
        #expect(new.e164 == old.e164)
        #expect(new.regionCode == old.regionCode)
        #expect(new.countryCode == old.countryCode)
        #expect(new.nationalNumber == old.nationalNumber)
        #expect(new.type == old.type)
        #expect(new.geocodedRegion == old.geocodedDescription())
        #expect(new.geocodedRegion == new.geocodedDescription())
        #expect(old.geocodedRegion == nil)  // not asked for
        #expect(new == old)
    }

    @Test func knownDescriptions() throws {
        #expect(try PhoneNumber(parsing: "+16502530000", geocode: true).geocodedRegion == "Mountain View, CA")
        #expect(try PhoneNumber(parsing: "+14155551234", geocode: true).geocodedRegion == "San Francisco, CA")
        #expect(try PhoneNumber(parsing: "+442079460958", geocode: true).geocodedRegion == "London")
        #expect(try PhoneNumber(parsing: "+18005551234", geocode: true).geocodedRegion == "United States")
        #expect(try PhoneNumber(parsing: "+447400123456", geocode: true).geocodedRegion == "United Kingdom")
        #expect(try PhoneNumber(parsing: "+80012345678", geocode: true).geocodedRegion == nil)
        #expect(try PhoneNumber(parsing: "+16502530000", geocode: false).geocodedRegion == nil)
        // Italian fixed lines keep their leading zero ("06" Rome, "02" Milan):
        // without it the prefix tables would only know the country.
        for (text, place) in [("+390669812345", "Vatican City"), ("+390212345678", "Milan"), ("+39055123456", "Florence")] {
            let number = try PhoneNumber(parsing: text, geocode: true)
            #expect(number.geocodedRegion == place, "\(text)")
            #expect(number.geocodedDescription() == place, "\(text)")
        }
        let number = try PhoneNumber(parsing: "+16502530000", geocode: true)
        #expect(number.type == .fixedLineOrMobile)
        #expect(number.regionCode == "US")
    }

    /// Same rejections, reasons and details with and without geocoding.
    @Test(arguments: [
        ("", nil, false),
        ("abc", nil, false),
        ("+1", nil, false),
        ("+999 1234567", nil, false),
        ("415 555 1234", nil, false),
        ("415 555 1234", "XX", false),
        ("011 1", "US", false),
        ("0011 1", "AU", false),
        ("+44 1", nil, false),
        ("+1 555", nil, false),
        ("+1 5551234", nil, false),
        ("0044 1234", nil, false),
        ("+1 41555512341234567890", nil, false),
        ("+44 20 7946 09581", nil, false),
        ("+376 222 2222", nil, false),
        ("+1 555 555 1234", nil, false),
        ("+44 7700 900123", nil, false),
        ("+1 416 979 1234", "US", true),
        ("0044 7400 123456", "US", true),
        (String(repeating: "x", count: 2_000), nil, false),
    ] as [(String, String?, Bool)])
    func rejectsAlike(text: String, region: String?, require: Bool) {
        let old = #expect(throws: PhoneNumberError.self) {
            try PhoneNumber(parsing: text, defaultRegion: region, requireDefaultRegion: require)
        }
        let new = #expect(throws: PhoneNumberError.self) {
            try PhoneNumber(parsing: text, defaultRegion: region, requireDefaultRegion: require, geocode: true)
        }
        #expect(old != nil)
        #expect(new == old)
        #expect(new?.description == old?.description)
    }

    @Test func requiredRegionStillAppliesWhenGeocoding() throws {
        let number = try PhoneNumber(parsing: "(650) 253-0000", defaultRegion: "US", requireDefaultRegion: true, geocode: true)
        #expect(number.geocodedRegion == "Mountain View, CA")
        let error = #expect(throws: PhoneNumberError.self) {
            try PhoneNumber(parsing: "+1 416 979 1234", defaultRegion: "US", requireDefaultRegion: true, geocode: true)
        }
        #expect(error?.reason == .invalidForRegion)
        #expect(error?.actualRegion == "CA")
    }
}

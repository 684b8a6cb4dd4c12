import PhoneNumberGeocoding
import PhoneNumbers
import Testing

/// libphonenumber and the shared geocoder are used from many threads at once
/// in the services; this hammers both from concurrent tasks (and should be
/// run under the thread sanitizer now and then).
@Suite struct ConcurrencyTests {
    private static let cases: [(text: String, region: String?, e164: String, place: String?)] = [
        ("+1 (650) 253-0000", nil, "+16502530000", "Mountain View, CA"),
        ("(415) 555-1234", "US", "+14155551234", "San Francisco, CA"),
        ("0044 20 7946 0958", nil, "+442079460958", "London"),
        ("+49 30 901820", nil, "+4930901820", "Berlin"),
        ("+44 7400 123456", "US", "+447400123456", "United Kingdom"),
        ("+800 1234 5678", nil, "+80012345678", nil),
        ("+33 6 12 34 56 78", nil, "+33612345678", "France"),
    ]

    @Test func parsingAndGeocodingFromManyTasks() async {
        let failures = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var failures = 0
                    for i in 0..<1_000 {
                        let entry = Self.cases[(i + task) % Self.cases.count]
                        do {
                            let number = try PhoneNumber(parsing: entry.text, defaultRegion: entry.region)
                            if number.e164 != entry.e164 { failures += 1 }
                            if number.geocodedDescription() != entry.place { failures += 1 }
                            if i % 10 == 0, number.formatted(.national).isEmpty { failures += 1 }
                        } catch {
                            failures += 1
                        }
                        // Failures are concurrent work too.
                        if (try? PhoneNumber(parsing: "+1 555")) != nil { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test func geocoderInDifferentLanguagesFromManyTasks() async throws {
        // Each (country code, language) table is built lazily on first use;
        // racing first uses of several tables is the risky moment.
        let numbers = try ["+16502530000", "+442079460958", "+4930901820", "+33140000000", "+81312345678"]
            .map { try PhoneNumber(parsing: $0) }
        let locales = ["en", "de", "fr", "ja", "zh", "es", "it", "ko"]
        let results = await withTaskGroup(of: [String?].self) { group in
            for task in 0..<8 {
                group.addTask {
                    (0..<200).map { i in
                        numbers[(i + task) % numbers.count].geocodedDescription(locale: locales[(i * 7 + task) % locales.count])
                    }
                }
            }
            return await group.reduce(into: [String?]()) { $0 += $1 }
        }
        #expect(results.count == 1_600)
        #expect(results.allSatisfy { $0 != nil })
    }
}

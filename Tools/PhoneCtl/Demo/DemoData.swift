import Foundation
import PhoneNumbers
import Protos

/// The demo data set. Everything is derived from fixed seeds, so every run
/// (and every machine with the same libphonenumber) produces the same
/// numbers with the same details, and loading it again changes nothing.
enum DemoData {
    struct Organization {
        var id: String
        var name: String
        var timeZone: String
        var country: String
        var agents: [(id: String, name: String)]
    }

    static let organizations = [
        Organization(id: "demo-harbour", name: "Harbour Dental", timeZone: "America/New_York", country: "US",
                     agents: [("demo-harbour-reception", "Reception"), ("demo-harbour-after-hours", "After hours")]),
        Organization(id: "demo-lumen", name: "Lumen Legal", timeZone: "Europe/London", country: "GB",
                     agents: [("demo-lumen-intake", "Client intake"), ("demo-lumen-billing", "Billing")]),
        Organization(id: "demo-spree", name: "Spree Logistics", timeZone: "Europe/Berlin", country: "DE",
                     agents: [("demo-spree-dispatch", "Dispatch"), ("demo-spree-support", "Support")]),
        Organization(id: "demo-southern", name: "Southern Cross Realty", timeZone: "Australia/Sydney", country: "AU",
                     agents: [("demo-southern-sales", "Sales"), ("demo-southern-rentals", "Rentals")]),
    ]

    /// Numbers each organisation is allocated from the pool (of its country).
    static let allocatedPerOrganization = 10

    /// Country, how many numbers, and the E.164 starts they are drawn from
    /// (geographic and mobile ranges); the rest of the digits are random.
    private static let plan: [(country: String, count: Int, starts: [String], length: Int, currency: String, cost: Int64)] = [
        ("US", 300, ["+1415", "+1212", "+1312", "+1617", "+1206", "+1512"], 11, "USD", 1_150_000),
        ("CA", 100, ["+1416", "+1604", "+1514", "+1403"], 11, "CAD", 1_400_000),
        ("GB", 200, ["+4420", "+44161", "+447700"], 12, "GBP", 1_000_000),
        ("DE", 150, ["+4930", "+4989", "+49221"], 12, "EUR", 1_200_000),
        ("FR", 150, ["+331", "+336"], 11, "EUR", 1_300_000),
        ("AU", 100, ["+612", "+613", "+614"], 11, "AUD", 2_500_000),
    ]

    private static let providers = ["twilio", "vonage", "telnyx", "sip"]

    /// Every demo number as an import item, in a fixed order.
    static func items() -> [InventoryV1.ImportItem] {
        var items: [InventoryV1.ImportItem] = []
        for (countryIndex, entry) in plan.enumerated() {
            var random = SplitMix64(seed: 0x5EED_0000 + UInt64(countryIndex))
            var seen = Set<String>()
            // Bounded, so a range without valid numbers cannot hang the demo.
            for _ in 0..<200_000 where seen.count < entry.count {
                let start = entry.starts[Int(random.next() % UInt64(entry.starts.count))]
                var digits = start
                while digits.count - 1 < entry.length { digits += String(random.next() % 10) }
                guard let number = try? PhoneNumber(parsing: digits), number.e164 == digits, number.regionCode == entry.country,
                      seen.insert(digits).inserted else { continue }
                items.append(item(number.e164, index: items.count, currency: entry.currency, cost: entry.cost))
            }
        }
        return items
    }

    /// The numbers of `country` in import order (allocation takes the first ones).
    static func numbers(of country: String, in items: [InventoryV1.ImportItem]) -> [String] {
        items.filter { $0.country == country }.map(\.number)
    }

    private static func item(_ e164: String, index: Int, currency: String, cost: Int64) -> InventoryV1.ImportItem {
        var item = InventoryV1.ImportItem()
        item.number = e164
        item.country = try! PhoneNumber(parsing: e164).regionCode
        item.provider = providers[index % providers.count]
        var capabilities = InventoryV1.Capabilities()
        capabilities.voice = true
        capabilities.sms = index % 3 != 0
        capabilities.mms = index % 5 == 0
        item.capabilities = capabilities
        item.monthlyCostMicros = cost + Int64(index % 4) * 250_000
        item.currency = currency
        item.label = "demo"
        // Every fifth number carries credentials that pass the provider's rules.
        if index % 5 == 0 {
            var credentials = InventoryV1.Credentials()
            credentials.fields = Self.credentials(provider: item.provider, index: index)
            item.credentials = credentials
        }
        return item
    }

    private static func credentials(provider: String, index: Int) -> [String: String] {
        let hex = String(format: "%032x", index * 7_919 + 1)
        switch provider {
        case "twilio": return ["account_sid": "AC" + hex, "auth_token": "demo-token-\(index)"]
        case "vonage": return ["api_key": "demo\(index)", "api_secret": "demo-secret-\(index)"]
        case "telnyx": return ["api_key": "KEYDEMO\(hex)"]
        default: return ["username": "demo\(index)", "password": "demo-password-\(index)", "host": "sip.demo.example.com"]
        }
    }
}

/// A small seeded generator (SplitMix64), for repeatable demo data.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

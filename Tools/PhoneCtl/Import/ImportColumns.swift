import Foundation
import Protos
import RPC

/// The CSV columns of `phonectl import`, named as the fields of the
/// ImportItem message; maps one row to one ImportItem.
struct ImportColumns {
    /// Every known column with what it holds, for --help and errors.
    static let known: [(name: String, meaning: String)] = [
        ("number", "the number in any written form (required)"),
        ("region_hint", "ISO region for national forms, e.g. US"),
        ("country", "ISO country; must agree with the number"),
        ("region", "region text; geocoded when empty"),
        ("provider", "twilio, vonage, telnyx, plivo, sip, ... (required)"),
        ("provider_number_id", "the provider's id of the number (Twilio PN…)"),
        ("trunk_id", "SIP trunk id"),
        ("vapi_phone_number_id", "VAPI phone-number id"),
        ("voice", "true/false, yes/no, 1/0; all four empty means voice only"),
        ("sms", "as voice"), ("mms", "as voice"), ("fax", "as voice"),
        ("monthly_cost", "in currency units, e.g. 1.15"),
        ("monthly_cost_micros", "or in millionths"),
        ("currency", "ISO 4217, e.g. USD"),
        ("label", "free text"),
        ("owner_organization_id", "an organisation that brings the number itself; empty: the platform pool"),
        ("credentials.<field>", "one column per credential field, e.g. credentials.account_sid"),
    ]

    private let positions: [String: Int]
    private let credentials: [(field: String, position: Int)]
    let count: Int

    /// Reads the header row; an unknown or repeated column stops the import
    /// before anything is sent.
    init(header: [String]) throws(RPCError) {
        var positions: [String: Int] = [:]
        var credentials: [(String, Int)] = []
        let plain = Set(Self.known.map(\.name).filter { !$0.contains(".") })
        for (position, raw) in header.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if name.hasPrefix("credentials."), name.count > "credentials.".count {
                credentials.append((String(name.dropFirst("credentials.".count)), position))
            } else if plain.contains(name) {
                guard positions[name] == nil else { throw RPCError.local("column \(name) appears twice", field: "header") }
                positions[name] = position
            } else {
                throw RPCError.local("unknown column '\(name)'; known: \(Self.known.map(\.name).joined(separator: ", "))", field: "header")
            }
        }
        guard positions["number"] != nil else { throw RPCError.local("the header has no 'number' column", field: "header") }
        self.positions = positions
        self.credentials = credentials
        self.count = header.count
    }

    /// What was wrong with a row, before it was sent.
    struct RowProblem: Error {
        var field: String
        var reason: String
    }

    func item(_ fields: [String], defaultRegionHint: String) throws(RowProblem) -> InventoryV1.ImportItem {
        guard fields.count == count else {
            throw RowProblem(field: "row", reason: "has \(fields.count) fields; the header has \(count)")
        }
        func value(_ name: String) -> String {
            positions[name].map { fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
        }
        var item = InventoryV1.ImportItem()
        item.number = value("number")
        item.regionHint = value("region_hint").isEmpty ? defaultRegionHint : value("region_hint")
        item.country = value("country")
        item.region = value("region")
        item.provider = value("provider")
        if !(value("provider_number_id") + value("trunk_id") + value("vapi_phone_number_id")).isEmpty {
            var ids = InventoryV1.ProviderIds()
            ids.providerNumberId = value("provider_number_id")
            ids.trunkId = value("trunk_id")
            ids.vapiPhoneNumberId = value("vapi_phone_number_id")
            item.providerIds = ids
        }
        let flags = try ["voice", "sms", "mms", "fax"].map { name throws(RowProblem) in try Self.boolean(value(name), field: name) }
        if flags.contains(where: { $0 != nil }) {
            var capabilities = InventoryV1.Capabilities()
            (capabilities.voice, capabilities.sms, capabilities.mms, capabilities.fax) =
                (flags[0] ?? false, flags[1] ?? false, flags[2] ?? false, flags[3] ?? false)
            item.capabilities = capabilities
        }
        item.monthlyCostMicros = try Self.cost(units: value("monthly_cost"), micros: value("monthly_cost_micros"))
        item.currency = value("currency").uppercased()
        item.label = value("label")
        item.ownerOrganizationId = value("owner_organization_id")
        let secrets = credentials.filter { !fields[$0.position].isEmpty }
        if !secrets.isEmpty {
            var values = InventoryV1.Credentials()
            for (field, position) in secrets { values.fields[field] = fields[position] }
            item.credentials = values
        }
        return item
    }

    /// true/false, yes/no, y/n, 1/0 (any case); nil when empty.
    static func boolean(_ text: String, field: String) throws(RowProblem) -> Bool? {
        switch text.lowercased() {
        case "": return nil
        case "true", "yes", "y", "1": return true
        case "false", "no", "n", "0": return false
        default: throw RowProblem(field: field, reason: "'\(text.prefix(20))' is not a boolean (true/false, yes/no, 1/0)")
        }
    }

    private static func cost(units: String, micros: String) throws(RowProblem) -> Int64 {
        if !units.isEmpty && !micros.isEmpty {
            throw RowProblem(field: "monthly_cost", reason: "give monthly_cost or monthly_cost_micros, not both")
        }
        if !micros.isEmpty {
            guard let value = Int64(micros) else { throw RowProblem(field: "monthly_cost_micros", reason: "'\(micros.prefix(20))' is not a whole number") }
            return value
        }
        guard !units.isEmpty else { return 0 }
        do {
            return try Parse.micros(units, field: "monthly_cost")
        } catch {
            throw RowProblem(field: "monthly_cost", reason: "'\(units.prefix(20))' is not an amount such as 1.15")
        }
    }
}

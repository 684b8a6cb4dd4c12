import Auth
import Credentials
import PhoneNumberGeocoding
import PhoneNumbers
import Protos
import RPC
import ServiceRuntime

/// An import item that passed every check, normalised.
struct ValidatedItem: Sendable, Hashable {
    var number: PhoneNumber
    var region: String
    var provider: String
    var providerIDs: InventoryV1.ProviderIds
    var capabilities: InventoryV1.Capabilities
    var monthlyCostMicros: Int64
    var currency: String
    var label: String
    var credentials: ProviderCredentials?
    var ownerOrganizationID: String?
}

/// Checks and normalises one import item. A rejection names the item field.
enum ItemValidator {
    static let maximumCostMicros: Int64 = 1_000_000 * 1_000_000
    /// The owner filter value that means "the platform pool" in ListNumbers.
    static let ownerPoolFilter = "pool"

    static func validate(_ item: InventoryV1.ImportItem, caller: Principal) throws(RPCError) -> ValidatedItem {
        let hint = try regionHint(item.regionHint)
        let number: PhoneNumber
        do {
            // One libphonenumber pass gives validity, type, region and (when
            // the item names no region) the geocoded description.
            number = try PhoneNumber(parsing: item.number, defaultRegion: hint, geocode: item.region.isEmpty)
        } catch {
            throw RPCError.invalidArgument(field: "number", error.description)
        }
        if !item.country.isEmpty, item.country.uppercased() != number.regionCode {
            throw RPCError.invalidArgument(field: "country",
                "'\(item.country.prefix(8))' does not agree with the number, which is in \(number.regionCode)")
        }
        try FieldRules.text(item.region, field: "region", maximumLength: 100)
        let region = item.region.isEmpty ? (number.geocodedRegion ?? "") : item.region

        let provider = try Self.provider(item.provider)
        let ids = try Self.providerIDs(item.providerIds ?? InventoryV1.ProviderIds(), provider: provider)
        let capabilities = try Self.capabilities(item.capabilities)
        let (cost, currency) = try Self.cost(item.monthlyCostMicros, item.currency)
        try FieldRules.text(item.label, field: "label")
        let credentials = try Self.credentials(item.credentials, provider: provider)
        let owner = try Self.owner(item.ownerOrganizationId, caller: caller)

        return ValidatedItem(number: number, region: region, provider: provider, providerIDs: ids,
                             capabilities: capabilities, monthlyCostMicros: cost, currency: currency,
                             label: item.label, credentials: credentials, ownerOrganizationID: owner)
    }

    /// A region hint for national forms ("US"); nil when empty.
    static func regionHint(_ text: String) throws(RPCError) -> String? {
        guard !text.isEmpty else { return nil }
        let hint = text.uppercased()
        guard PhoneNumber.countryCode(forRegion: hint) != nil else {
            throw RPCError.invalidArgument(field: "region_hint", "'\(hint.prefix(8))' is not an ISO 3166 region code")
        }
        return hint
    }

    static func provider(_ value: String) throws(RPCError) -> String {
        guard !value.isEmpty else {
            throw RPCError.invalidArgument(field: "provider", "is required (twilio, vonage, telnyx, plivo, sip, ...)")
        }
        guard value.utf8.count <= 32, value.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f || $0 == 0x2d }) else {
            throw RPCError.invalidArgument(field: "provider", "must be 1 to 32 lower-case letters, digits, _ or -")
        }
        return value
    }

    static func providerIDs(_ ids: InventoryV1.ProviderIds, provider: String) throws(RPCError) -> InventoryV1.ProviderIds {
        for (field, value) in [("provider_ids.provider_number_id", ids.providerNumberId),
                               ("provider_ids.trunk_id", ids.trunkId),
                               ("provider_ids.vapi_phone_number_id", ids.vapiPhoneNumberId)] where !value.isEmpty {
            try FieldRules.identifier(value, field: field)
        }
        if provider == "twilio", !ids.providerNumberId.isEmpty, !SIDSyntax.isSID(ids.providerNumberId, prefix: "PN") {
            throw RPCError.invalidArgument(field: "provider_ids.provider_number_id",
                                           "a Twilio phone number SID is 'PN' followed by 32 hexadecimal characters")
        }
        return ids
    }

    static func capabilities(_ capabilities: InventoryV1.Capabilities?) throws(RPCError) -> InventoryV1.Capabilities {
        guard let capabilities else {
            var voiceOnly = InventoryV1.Capabilities()
            voiceOnly.voice = true
            return voiceOnly
        }
        guard capabilities.voice || capabilities.sms || capabilities.mms || capabilities.fax else {
            throw RPCError.invalidArgument(field: "capabilities", "at least one of voice, sms, mms, fax must be set")
        }
        return capabilities
    }

    static func cost(_ micros: Int64, _ currency: String) throws(RPCError) -> (Int64, String) {
        guard (0...maximumCostMicros).contains(micros) else {
            throw RPCError.invalidArgument(field: "monthly_cost_micros", "must be between 0 and \(maximumCostMicros)")
        }
        if micros == 0 && currency.isEmpty { return (0, "") }
        guard currency.utf8.count == 3, currency.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }) else {
            throw RPCError.invalidArgument(field: "currency", "must be an ISO 4217 code such as USD when a cost is given")
        }
        return (micros, currency)
    }

    static func credentials(_ credentials: InventoryV1.Credentials?, provider: String) throws(RPCError) -> ProviderCredentials? {
        guard let fields = credentials?.fields, !fields.isEmpty else { return nil }
        let parsed = ProviderCredentials(provider: provider, fields: fields)
        do {
            try parsed.validate()
        } catch {
            throw RPCError.invalidArgument(field: error.field, error.problem)
        }
        return parsed
    }

    /// Organisations may only import numbers they own; empty means their own.
    static func owner(_ requested: String, caller: Principal) throws(RPCError) -> String? {
        if caller.role.isOrganizationRole {
            guard requested.isEmpty || requested == caller.organizationID else {
                throw RPCError(.permissionDenied, "owner_organization_id: an organisation may import only numbers it owns itself",
                               fieldViolations: [.init(field: "owner_organization_id", description: "must be your organisation or empty")])
            }
            return caller.organizationID
        }
        if requested.isEmpty { return nil }
        try FieldRules.identifier(requested, field: "owner_organization_id")
        guard requested != ownerPoolFilter else {
            throw RPCError.invalidArgument(field: "owner_organization_id", "'\(ownerPoolFilter)' is reserved: ListNumbers uses it for the platform pool")
        }
        return requested
    }
}

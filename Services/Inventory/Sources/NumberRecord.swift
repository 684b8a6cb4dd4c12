import Credentials
import Foundation
import PhoneNumbers
import Protos
import ServiceRuntime
import Store

/// One row of `inventory.numbers`, as the service works with it.
struct NumberRecord: Sendable, Hashable {
    var id: UUID
    var e164: String
    var country: String
    var region: String
    var numberType: String
    var provider: String
    var providerNumberID: String
    var trunkID: String
    var vapiPhoneNumberID: String
    var voice: Bool
    var sms: Bool
    var mms: Bool
    var fax: Bool
    var monthlyCostMicros: Int64
    var currency: String
    var label: String
    var lifecycle: String
    var ownerOrganizationID: String?
    var credentialsKeyID: String?
    var credentialsCiphertext: [UInt8]?
    var version: Int64
    var createdAt: Date
    var createdBy: String
    var updatedAt: Date
    var updatedBy: String
    /// Why the number was retired; nil while active.
    var retiredReason: String?

    /// The columns in the order `init(row:)` reads them.
    static let columns = """
        id, e164, country, region, number_type, provider, provider_number_id, trunk_id,
        vapi_phone_number_id, voice, sms, mms, fax, monthly_cost_micros, currency, label,
        lifecycle, owner_organization_id, credentials_key_id, credentials_ciphertext, version,
        created_at, created_by, updated_at, updated_by, retired_reason
        """

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, column: "id")
        e164 = try row.decode(String.self, column: "e164")
        country = try row.decode(String.self, column: "country")
        region = try row.decode(String.self, column: "region")
        numberType = try row.decode(String.self, column: "number_type")
        provider = try row.decode(String.self, column: "provider")
        providerNumberID = try row.decode(String.self, column: "provider_number_id")
        trunkID = try row.decode(String.self, column: "trunk_id")
        vapiPhoneNumberID = try row.decode(String.self, column: "vapi_phone_number_id")
        voice = try row.decode(Bool.self, column: "voice")
        sms = try row.decode(Bool.self, column: "sms")
        mms = try row.decode(Bool.self, column: "mms")
        fax = try row.decode(Bool.self, column: "fax")
        monthlyCostMicros = try row.decode(Int64.self, column: "monthly_cost_micros")
        currency = try row.decode(String.self, column: "currency")
        label = try row.decode(String.self, column: "label")
        lifecycle = try row.decode(String.self, column: "lifecycle")
        ownerOrganizationID = try row.decode(String?.self, column: "owner_organization_id")
        credentialsKeyID = try row.decode(String?.self, column: "credentials_key_id")
        credentialsCiphertext = try row.decode([UInt8]?.self, column: "credentials_ciphertext")
        version = try row.decode(Int64.self, column: "version")
        createdAt = try row.decode(Date.self, column: "created_at")
        createdBy = try row.decode(String.self, column: "created_by")
        updatedAt = try row.decode(Date.self, column: "updated_at")
        updatedBy = try row.decode(String.self, column: "updated_by")
        retiredReason = try row.decode(String?.self, column: "retired_reason")
    }

    /// A new, active number as the importer stores it.
    init(id: UUID, item: ValidatedItem, sealed: SealedCredentials?, actor: String, now: Date) {
        self.id = id
        e164 = item.number.e164
        country = item.number.regionCode
        region = item.region
        numberType = item.number.type.rawValue
        provider = item.provider
        providerNumberID = item.providerIDs.providerNumberId
        trunkID = item.providerIDs.trunkId
        vapiPhoneNumberID = item.providerIDs.vapiPhoneNumberId
        voice = item.capabilities.voice
        sms = item.capabilities.sms
        mms = item.capabilities.mms
        fax = item.capabilities.fax
        monthlyCostMicros = item.monthlyCostMicros
        currency = item.currency
        label = item.label
        lifecycle = "active"
        ownerOrganizationID = item.ownerOrganizationID
        credentialsKeyID = sealed?.keyID
        credentialsCiphertext = sealed?.ciphertext
        version = 1
        createdAt = now
        createdBy = actor
        updatedAt = now
        updatedBy = actor
    }

    var isRetired: Bool { lifecycle == "retired" }
    var hasCredentials: Bool { credentialsCiphertext != nil }

    /// The wire form. Never carries credentials, only whether there are some.
    var message: InventoryV1.PhoneNumber {
        var number = InventoryV1.PhoneNumber()
        number.id = id.lowercasedString
        number.e164 = e164
        number.country = country
        number.region = region
        number.numberType = NumberTypes.wire(numberType)
        number.provider = provider
        var ids = InventoryV1.ProviderIds()
        ids.providerNumberId = providerNumberID
        ids.trunkId = trunkID
        ids.vapiPhoneNumberId = vapiPhoneNumberID
        number.providerIds = ids
        var capabilities = InventoryV1.Capabilities()
        capabilities.voice = voice
        capabilities.sms = sms
        capabilities.mms = mms
        capabilities.fax = fax
        number.capabilities = capabilities
        number.monthlyCostMicros = monthlyCostMicros
        number.currency = currency
        number.label = label
        number.lifecycle = isRetired ? .retired : .active
        number.ownerOrganizationId = ownerOrganizationID ?? ""
        number.hasCredentials = hasCredentials
        number.version = version
        number.createdAtMicros = Int64(createdAt.timeIntervalSince1970 * 1_000_000)
        number.createdBy = createdBy
        number.updatedAtMicros = Int64(updatedAt.timeIntervalSince1970 * 1_000_000)
        number.updatedBy = updatedBy
        return number
    }
}

import Protos

/// How inventory's numbers are shown to people.
enum NumberViews {
    static func table(_ numbers: [InventoryV1.PhoneNumber]) -> String {
        var table = Table("e164", "country", "region", "type", "provider", "capabilities", "monthly", "owner", "lifecycle", "id")
        for number in numbers {
            table.add(number.e164, number.country, Format.text(number.region), Format.name(number.numberType),
                      number.provider, capabilities(number.capabilities),
                      Format.money(micros: number.monthlyCostMicros, currency: number.currency),
                      owner(number.ownerOrganizationId), Format.name(number.lifecycle), number.id)
        }
        return table.render(empty: "(no numbers)")
    }

    static func fields(_ number: InventoryV1.PhoneNumber?) -> String {
        guard let number else { return "(no number)" }
        let ids = number.providerIds ?? InventoryV1.ProviderIds()
        return Fields([
            ("id", number.id), ("e164", number.e164), ("country", number.country), ("region", Format.text(number.region)),
            ("type", Format.name(number.numberType)), ("provider", number.provider),
            ("provider number id", Format.text(ids.providerNumberId)), ("trunk id", Format.text(ids.trunkId)),
            ("vapi phone number id", Format.text(ids.vapiPhoneNumberId)),
            ("capabilities", capabilities(number.capabilities)),
            ("monthly cost", Format.money(micros: number.monthlyCostMicros, currency: number.currency)),
            ("label", Format.text(number.label)), ("owner", owner(number.ownerOrganizationId)),
            ("lifecycle", Format.name(number.lifecycle)), ("credentials", Format.yesNo(number.hasCredentials)),
            ("version", String(number.version)),
            ("created", "\(Format.time(micros: number.createdAtMicros)) by \(number.createdBy)"),
            ("updated", "\(Format.time(micros: number.updatedAtMicros)) by \(number.updatedBy)"),
        ]).render()
    }

    /// A mutation's answer: the number after the change and the token.
    static func changed(_ response: InventoryV1.NumberResponse) -> String {
        fields(response.number) + "\n" + Format.token(response.consistencyToken)
    }

    static func capabilities(_ value: InventoryV1.Capabilities?) -> String {
        guard let value else { return "-" }
        return Format.capabilities(voice: value.voice, sms: value.sms, mms: value.mms, fax: value.fax)
    }

    static func owner(_ organization: String) -> String { organization.isEmpty ? "(pool)" : organization }
}

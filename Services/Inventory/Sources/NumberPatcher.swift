import Auth
import Protos
import RPC
import ServiceRuntime

/// Applies UpdateNumber's field mask to a number, with the same checks as import.
enum NumberPatcher {
    static let fields = ["region", "provider", "provider_ids", "capabilities", "monthly_cost", "label", "owner_organization_id"]

    static func apply(_ patch: InventoryV1.NumberPatch, mask: [String], to record: inout NumberRecord, caller: Principal) throws(RPCError) {
        for field in Set(mask) {
            switch field {
            case "region":
                try FieldRules.text(patch.region, field: "patch.region", maximumLength: 100)
                record.region = patch.region
            case "provider":
                let provider = try ItemValidator.provider(patch.provider)
                if provider != record.provider && record.hasCredentials {
                    throw RPCError(.failedPrecondition, "number \(record.e164) has \(record.provider) credentials; clear or replace them before changing the provider")
                }
                record.provider = provider
            case "provider_ids":
                let ids = try ItemValidator.providerIDs(patch.providerIds ?? InventoryV1.ProviderIds(), provider: record.provider)
                record.providerNumberID = ids.providerNumberId
                record.trunkID = ids.trunkId
                record.vapiPhoneNumberID = ids.vapiPhoneNumberId
            case "capabilities":
                guard let requested = patch.capabilities else {
                    throw RPCError.invalidArgument(field: "patch.capabilities", "is required when named in update_mask")
                }
                let capabilities = try ItemValidator.capabilities(requested)
                (record.voice, record.sms, record.mms, record.fax) = (capabilities.voice, capabilities.sms, capabilities.mms, capabilities.fax)
            case "monthly_cost":
                (record.monthlyCostMicros, record.currency) = try ItemValidator.cost(patch.monthlyCostMicros, patch.currency)
            case "label":
                try FieldRules.text(patch.label, field: "patch.label")
                record.label = patch.label
            case "owner_organization_id":
                guard caller.role == .platformAdmin else {
                    throw RPCError(.permissionDenied, "only a platform admin may change a number's owner")
                }
                record.ownerOrganizationID = try ItemValidator.owner(patch.ownerOrganizationId, caller: caller)
            default:
                throw RPCError.invalidArgument(field: "update_mask", "'\(field.prefix(64))' is not one of \(fields.joined(separator: ", "))")
            }
        }
    }
}

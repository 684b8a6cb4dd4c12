import Auth
import Foundation
import Protos
import RPC
import ServiceRuntime

/// Applies UpdateNumber's field mask to a number, with the same checks as import.
enum NumberPatcher {
    static let fields = ["region", "provider", "provider_ids", "capabilities", "monthly_cost", "label", "owner_organization_id"]

    /// Field violations name the request's fields (`patch.label`), not the import item's.
    static func apply(_ patch: InventoryV1.NumberPatch, mask: [String], to record: inout NumberRecord, caller: Principal) throws(RPCError) {
        do {
            try applyUnprefixed(patch, mask: mask, to: &record, caller: caller)
        } catch {
            var error = error
            for index in error.fieldViolations.indices where !error.fieldViolations[index].field.hasPrefix("patch.")
                && error.fieldViolations[index].field != "update_mask" {
                let field = "patch." + error.fieldViolations[index].field
                error.message = error.message.replacingOccurrences(of: error.fieldViolations[index].field + ":", with: field + ":")
                error.fieldViolations[index].field = field
            }
            throw error
        }
    }

    private static func applyUnprefixed(_ patch: InventoryV1.NumberPatch, mask: [String], to record: inout NumberRecord,
                                        caller: Principal) throws(RPCError) {
        if let unknown = mask.first(where: { !fields.contains($0) }) {
            throw RPCError.invalidArgument(field: "update_mask", "'\(unknown.prefix(64))' is not one of \(fields.joined(separator: ", "))")
        }
        // A fixed order (provider before its ids), whatever order the caller named them in.
        for field in fields where mask.contains(field) {
            switch field {
            case "region":
                try FieldRules.text(patch.region, field: "region", maximumLength: 100)
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
                    throw RPCError.invalidArgument(field: "capabilities", "is required when named in update_mask")
                }
                let capabilities = try ItemValidator.capabilities(requested)
                (record.voice, record.sms, record.mms, record.fax) = (capabilities.voice, capabilities.sms, capabilities.mms, capabilities.fax)
            case "monthly_cost":
                (record.monthlyCostMicros, record.currency) = try ItemValidator.cost(patch.monthlyCostMicros, patch.currency)
            case "label":
                try FieldRules.text(patch.label, field: "label")
                record.label = patch.label
            case "owner_organization_id":
                guard caller.role == .platformAdmin else {
                    throw RPCError(.permissionDenied, "only a platform admin may change a number's owner")
                }
                record.ownerOrganizationID = try ItemValidator.owner(patch.ownerOrganizationId, caller: caller)
            default:
                break
            }
        }
        // The result must be what an import would accept: ids kept from the
        // old provider are checked against the new one.
        var ids = InventoryV1.ProviderIds()
        (ids.providerNumberId, ids.trunkId, ids.vapiPhoneNumberId) = (record.providerNumberID, record.trunkID, record.vapiPhoneNumberID)
        _ = try ItemValidator.providerIDs(ids, provider: record.provider)
    }
}

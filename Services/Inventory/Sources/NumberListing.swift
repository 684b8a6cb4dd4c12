import Foundation
import Protos
import RPC
import ServiceRuntime
import Store

/// ListNumbers: filters, stable cursor pagination ordered by E.164.
struct NumberListing: Sendable {
    var database: Database

    func list(_ request: InventoryV1.ListNumbersRequest, access: NumberAccess) async throws -> InventoryV1.ListNumbersResponse {
        let pageSize = try PageToken.pageSize(request.pageSize)
        let after = try PageToken.decode(request.pageToken)
        try FieldRules.text(request.query, field: "query", maximumLength: 100)
        try FieldRules.text(request.region, field: "region", maximumLength: 100)
        try FieldRules.regionCode(request.country, field: "country")
        if !request.provider.isEmpty { _ = try ItemValidator.provider(request.provider) }
        if !request.ownerOrganizationId.isEmpty && request.ownerOrganizationId != ItemValidator.ownerPoolFilter {
            try FieldRules.identifier(request.ownerOrganizationId, field: "owner_organization_id")
        }

        // An organisation sees only what it owns, whatever it asks for.
        var owner: String? = request.ownerOrganizationId.isEmpty ? nil : request.ownerOrganizationId
        var poolOnly = false
        if owner == ItemValidator.ownerPoolFilter { owner = nil; poolOnly = true }
        if let forced = access.forcedOwner {
            if poolOnly || (owner != nil && owner != forced) { return InventoryV1.ListNumbersResponse() }
            owner = forced
        }
        let lifecycle: String? = switch request.lifecycle {
        case .retired: "retired"
        case .unspecified, .active: "active"
        default: throw RPCError.invalidArgument(field: "lifecycle", "is not a known lifecycle")
        }
        let capability: String? = switch request.capability {
        case .unspecified: nil
        case .voice: "voice"
        case .sms: "sms"
        case .mms: "mms"
        case .fax: "fax"
        default: throw RPCError.invalidArgument(field: "capability", "is not a known capability")
        }
        let numberType: String? = request.numberType == .unspecified ? nil : NumberTypes.stored(request.numberType)
        if request.numberType != .unspecified && numberType == nil {
            throw RPCError.invalidArgument(field: "number_type", "is not a known number type")
        }
        let rows = try await database.query("""
            SELECT \(NumberRecord.columns) FROM numbers
             WHERE e164 > $1
               AND ($2::text IS NULL OR country = upper($2))
               AND ($3::text IS NULL OR lower(region) = lower($3))
               AND ($4::text IS NULL OR provider = $4)
               AND ($5::text IS NULL OR number_type = $5)
               AND lifecycle = $6
               AND ($7::text IS NULL OR owner_organization_id = $7)
               AND (NOT $8::bool OR owner_organization_id IS NULL)
               AND ($9::text IS NULL OR e164 LIKE '%' || $9 || '%' ESCAPE '\\' OR label ILIKE '%' || $9 || '%' ESCAPE '\\')
               AND ($10::text IS NULL OR CASE $10 WHEN 'voice' THEN voice WHEN 'sms' THEN sms WHEN 'mms' THEN mms ELSE fax END)
             ORDER BY e164
             LIMIT $11
            """, [
                after, nonEmpty(request.country), nonEmpty(request.region), nonEmpty(request.provider), numberType,
                lifecycle, owner, poolOnly, nonEmpty(request.query).map(escapeLike), capability, pageSize + 1,
            ])
        var response = InventoryV1.ListNumbersResponse()
        let records = try rows.map(NumberRecord.init(row:))
        response.numbers = records.prefix(pageSize).map(\.message)
        if records.count > pageSize, let last = records.prefix(pageSize).last {
            response.nextPageToken = PageToken.encode(last.e164)
        }
        return response
    }

    private func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    private func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }
}

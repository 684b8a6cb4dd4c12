import Foundation
import Protos
import RPC
import ServiceRuntime
import Store

/// SQL and mapping for numbers as the pool sees them.
enum PoolNumbers {
    static let columns = """
        c.number_id, c.e164, c.country, c.region, c.number_type, c.provider, c.voice, c.sms, c.mms, c.fax,
        c.monthly_cost_micros, c.currency
        """

    /// True for a catalogue row `c` that may be offered: active, not brought by
    /// an organisation, not held by a live hold or assigned, not cooling down.
    static let isAvailable = """
        c.active AND c.owner_organization_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM assignments a LEFT JOIN holds h ON h.id = a.hold_id
                         WHERE a.number_id = c.number_id AND (a.state = 'assigned' OR h.expires_at > now()))
        AND NOT EXISTS (SELECT 1 FROM cooldowns d WHERE d.number_id = c.number_id AND d.available_at > now())
        """

    /// The filter as SQL conditions on `c`, with parameters numbered from `first`.
    /// A prefix is a range of E.164 strings (':' sorts right after '9'), so the
    /// e164 index serves it even though the pattern is a parameter.
    static func conditions(_ filter: AssignmentV1.NumberFilter, first: Int) throws(RPCError) -> (sql: String, parameters: [(any PostgresEncodable)?]) {
        try FieldRules.regionCode(filter.country, field: "filter.country")
        try FieldRules.text(filter.region, field: "filter.region", maximumLength: 100)
        if !filter.numberType.isEmpty { try FieldRules.identifier(filter.numberType, field: "filter.number_type", maximumLength: 32) }
        for (field, digits) in [("filter.prefix", filter.prefix), ("filter.contains", filter.contains)] {
            guard digits.utf8.count <= 15, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw RPCError.invalidArgument(field: field, "must be at most 15 digits")
            }
        }
        guard ["", "voice", "sms", "mms", "fax"].contains(filter.capability) else {
            throw RPCError.invalidArgument(field: "filter.capability", "must be voice, sms, mms or fax")
        }
        guard filter.maxMonthlyCostMicros >= 0 else {
            throw RPCError.invalidArgument(field: "filter.max_monthly_cost_micros", "must not be negative")
        }
        let p = first
        let sql = """
            ($\(p)::text IS NULL OR c.country = upper($\(p)))
            AND ($\(p + 1)::text IS NULL OR c.region ILIKE $\(p + 1))
            AND ($\(p + 2)::text IS NULL OR CASE $\(p + 2) WHEN 'voice' THEN c.voice WHEN 'sms' THEN c.sms WHEN 'mms' THEN c.mms ELSE c.fax END)
            AND ($\(p + 3)::text IS NULL OR c.number_type = $\(p + 3))
            AND ($\(p + 4)::text IS NULL OR (c.e164 >= '+' || $\(p + 4) AND c.e164 < '+' || $\(p + 4) || ':'))
            AND ($\(p + 5)::text IS NULL OR c.e164 LIKE '%' || $\(p + 5) || '%')
            AND ($\(p + 6)::int8 IS NULL OR c.monthly_cost_micros <= $\(p + 6))
            """
        func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
        return (sql, [nonEmpty(filter.country), nonEmpty(filter.region), nonEmpty(filter.capability), nonEmpty(filter.numberType),
                      nonEmpty(filter.prefix), nonEmpty(filter.contains),
                      filter.maxMonthlyCostMicros > 0 ? filter.maxMonthlyCostMicros : nil])
    }

    static func message(_ row: PostgresRow) throws -> AssignmentV1.PoolNumber {
        var number = AssignmentV1.PoolNumber()
        number.numberId = try row.decode(UUID.self, column: "number_id").uuidString.lowercased()
        number.e164 = try row.decode(String.self, column: "e164")
        number.country = try row.decode(String.self, column: "country")
        number.region = try row.decode(String.self, column: "region")
        number.numberType = try row.decode(String.self, column: "number_type")
        number.provider = try row.decode(String.self, column: "provider")
        number.voice = try row.decode(Bool.self, column: "voice")
        number.sms = try row.decode(Bool.self, column: "sms")
        number.mms = try row.decode(Bool.self, column: "mms")
        number.fax = try row.decode(Bool.self, column: "fax")
        number.monthlyCostMicros = try row.decode(Int64.self, column: "monthly_cost_micros")
        number.currency = try row.decode(String.self, column: "currency")
        return number
    }
}

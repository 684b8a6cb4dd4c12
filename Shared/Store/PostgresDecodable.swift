#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A Swift type a column can be decoded into. Results arrive in Postgres text
/// format; each type parses its own text form.
public protocol PostgresDecodable: Sendable {
    /// Parses the column's text output; nil when it is not a valid value of this type.
    static func decode(postgresText: String) -> Self?
    /// The value for SQL NULL, or nil when this type cannot represent NULL.
    static var postgresNull: Self? { get }
}

extension PostgresDecodable {
    /// Non-optional types cannot hold NULL.
    public static var postgresNull: Self? { nil }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// Decodes the wrapped type.
    public static func decode(postgresText: String) -> Self? {
        Wrapped.decode(postgresText: postgresText).map { .some($0) }
    }

    /// NULL becomes `nil`.
    public static var postgresNull: Self? { .some(.none) }
}

extension String: PostgresDecodable {
    /// Any column's text output.
    public static func decode(postgresText: String) -> String? { postgresText }
}

extension Int: PostgresDecodable {
    /// smallint, integer or bigint output.
    public static func decode(postgresText: String) -> Int? { Int(postgresText) }
}

extension Int64: PostgresDecodable {
    /// smallint, integer or bigint output.
    public static func decode(postgresText: String) -> Int64? { Int64(postgresText) }
}

extension Int32: PostgresDecodable {
    /// smallint or integer output (bigint values that fit too).
    public static func decode(postgresText: String) -> Int32? { Int32(postgresText) }
}

extension Bool: PostgresDecodable {
    /// boolean output, `t` or `f`.
    public static func decode(postgresText: String) -> Bool? {
        switch postgresText {
        case "t", "true": return true
        case "f", "false": return false
        default: return nil
        }
    }
}

extension Double: PostgresDecodable {
    /// real, double precision or numeric output.
    public static func decode(postgresText: String) -> Double? { Double(postgresText) }
}

extension UUID: PostgresDecodable {
    /// uuid output.
    public static func decode(postgresText: String) -> UUID? { UUID(uuidString: postgresText) }
}

extension Date: PostgresDecodable {
    /// timestamptz output in ISO style (the store sets DateStyle=ISO, TimeZone=UTC).
    public static func decode(postgresText: String) -> Date? { PostgresTimestamp.parse(postgresText) }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    /// The array type's text output (bytea for `[UInt8]`).
    public static func decode(postgresText: String) -> [Element]? {
        Element.decodePostgresArray(postgresText)
    }
}

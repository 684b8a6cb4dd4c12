#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Swift value that can be sent as a statement parameter. Parameters travel
/// separately from the SQL text (`PQexecParams`), so they are never parsed as SQL.
public protocol PostgresEncodable: Sendable {
    /// The value in Postgres text input format.
    var postgresText: String { get }
    /// The parameter's type OID, or 0 to let the server infer it from the statement.
    static var postgresTypeOID: UInt32 { get }
    /// Appends the value in Postgres binary format (what the type's `recv`
    /// function reads) and returns true; returns false, appending nothing,
    /// when the value travels as text. Arrays and bytea go binary: an
    /// import's thousands of elements then need no quoting here and no
    /// parsing in the server.
    func appendPostgresBinary(to buffer: inout [UInt8]) throws(EmbeddedNULError) -> Bool
}

extension PostgresEncodable {
    /// Text format.
    public func appendPostgresBinary(to buffer: inout [UInt8]) throws(EmbeddedNULError) -> Bool { false }
}

/// A text value holds a NUL character, which Postgres text cannot store.
public struct EmbeddedNULError: Error {}

/// Well-known type OIDs (`pg_type.oid`); stable across Postgres versions.
enum TypeOID {
    static let unknown: UInt32 = 0
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let int8: UInt32 = 20
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let float8: UInt32 = 701
    static let boolArray: UInt32 = 1000
    static let int4Array: UInt32 = 1007
    static let textArray: UInt32 = 1009
    static let int8Array: UInt32 = 1016
    static let timestamptz: UInt32 = 1184
    static let uuid: UInt32 = 2950
    static let uuidArray: UInt32 = 2951
}

extension String: PostgresEncodable {
    /// The string itself.
    public var postgresText: String { self }
    /// Unknown, so a string can fill a text, varchar, enum, json or citext parameter alike.
    public static var postgresTypeOID: UInt32 { TypeOID.unknown }
}

extension Int: PostgresEncodable {
    /// Decimal digits.
    public var postgresText: String { String(self) }
    /// bigint.
    public static var postgresTypeOID: UInt32 { TypeOID.int8 }
}

extension Int64: PostgresEncodable {
    /// Decimal digits.
    public var postgresText: String { String(self) }
    /// bigint.
    public static var postgresTypeOID: UInt32 { TypeOID.int8 }
}

extension Int32: PostgresEncodable {
    /// Decimal digits.
    public var postgresText: String { String(self) }
    /// integer.
    public static var postgresTypeOID: UInt32 { TypeOID.int4 }
}

extension Bool: PostgresEncodable {
    /// `true` or `false`.
    public var postgresText: String { self ? "true" : "false" }
    /// boolean.
    public static var postgresTypeOID: UInt32 { TypeOID.bool }
}

extension Double: PostgresEncodable {
    /// Shortest round-tripping decimal; infinities and NaN spelled as Postgres does.
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return String(self)
    }
    /// double precision.
    public static var postgresTypeOID: UInt32 { TypeOID.float8 }
}

extension UUID: PostgresEncodable {
    /// The canonical hyphenated form.
    public var postgresText: String { uuidString.lowercased() }
    /// uuid.
    public static var postgresTypeOID: UInt32 { TypeOID.uuid }
}

extension Date: PostgresEncodable {
    /// ISO 8601 in UTC with microseconds, the precision of timestamptz.
    public var postgresText: String { PostgresTimestamp.format(self) }
    /// timestamp with time zone.
    public static var postgresTypeOID: UInt32 { TypeOID.timestamptz }
}

/// A type whose Swift arrays map to one Postgres type: `[String]` to text[],
/// `[Int64]` to bigint[], and `[UInt8]` to bytea.
public protocol PostgresArrayElement: Sendable {
    /// OID of the Postgres type an array of this element maps to.
    static var postgresArrayTypeOID: UInt32 { get }
    /// The array in Postgres binary format.
    static func appendPostgresBinaryArray(_ elements: [Self], to buffer: inout [UInt8]) throws(EmbeddedNULError)
    /// The array in Postgres text input format.
    static func postgresArrayText(_ elements: [Self]) -> String
    /// Parses Postgres text output of the array type; nil when malformed.
    static func decodePostgresArray(_ text: String) -> [Self]?
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    /// The array in Postgres text input format.
    public var postgresText: String { Element.postgresArrayText(self) }
    /// The array type of the element.
    public static var postgresTypeOID: UInt32 { Element.postgresArrayTypeOID }
    /// Binary format.
    public func appendPostgresBinary(to buffer: inout [UInt8]) throws(EmbeddedNULError) -> Bool {
        try Element.appendPostgresBinaryArray(self, to: &buffer)
        return true
    }
}

extension UInt8: PostgresArrayElement {
    /// bytea: `[UInt8]` is binary data, not an array of small numbers.
    public static var postgresArrayTypeOID: UInt32 { TypeOID.bytea }

    /// bytea's binary format is the bytes themselves.
    public static func appendPostgresBinaryArray(_ elements: [UInt8], to buffer: inout [UInt8]) {
        buffer.append(contentsOf: elements)
    }

    /// bytea hex format (`\x0aff…`).
    public static func postgresArrayText(_ elements: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(2 + elements.count * 2)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        for byte in elements {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses bytea hex output (the server default since 9.0).
    public static func decodePostgresArray(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"),
              utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension String: PostgresArrayElement {
    /// text[].
    public static var postgresArrayTypeOID: UInt32 { TypeOID.textArray }
    public static var postgresElementTypeOID: UInt32 { TypeOID.text }
    /// The UTF-8 bytes.
    public func appendPostgresBinaryElement(to buffer: inout [UInt8]) throws(EmbeddedNULError) {
        try appendUTF8WithoutNUL(to: &buffer)
    }

    /// Appends the UTF-8 bytes, or throws if one of them is NUL.
    func appendUTF8WithoutNUL(to buffer: inout [UInt8]) throws(EmbeddedNULError) {
        var text = self
        // memchr: an import's strings add up to hundreds of kilobytes.
        let appended = text.withUTF8 { bytes in
            if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil { return false }
            buffer.append(contentsOf: bytes)
            return true
        }
        if !appended { throw EmbeddedNULError() }
    }
}

extension Int64: PostgresArrayElement {
    /// bigint[].
    public static var postgresArrayTypeOID: UInt32 { TypeOID.int8Array }
    public static var postgresElementTypeOID: UInt32 { TypeOID.int8 }
    /// Eight bytes, big-endian.
    public func appendPostgresBinaryElement(to buffer: inout [UInt8]) { buffer.appendBigEndian(UInt64(bitPattern: self)) }
}

extension Int: PostgresArrayElement {
    /// bigint[].
    public static var postgresArrayTypeOID: UInt32 { TypeOID.int8Array }
    public static var postgresElementTypeOID: UInt32 { TypeOID.int8 }
    /// Eight bytes, big-endian.
    public func appendPostgresBinaryElement(to buffer: inout [UInt8]) { buffer.appendBigEndian(UInt64(bitPattern: Int64(self))) }
}

extension Int32: PostgresArrayElement {
    /// integer[].
    public static var postgresArrayTypeOID: UInt32 { TypeOID.int4Array }
    public static var postgresElementTypeOID: UInt32 { TypeOID.int4 }
    /// Four bytes, big-endian.
    public func appendPostgresBinaryElement(to buffer: inout [UInt8]) { buffer.appendBigEndian(UInt32(bitPattern: self)) }
}

extension Bool: PostgresArrayElement {
    /// boolean[].
    public static var postgresArrayTypeOID: UInt32 { TypeOID.boolArray }
    public static var postgresElementTypeOID: UInt32 { TypeOID.bool }
    /// One byte, 1 or 0.
    public func appendPostgresBinaryElement(to buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
}

extension UUID: PostgresArrayElement {
    /// uuid[].
    public static var postgresArrayTypeOID: UInt32 { TypeOID.uuidArray }
    public static var postgresElementTypeOID: UInt32 { TypeOID.uuid }
    /// The sixteen bytes in order.
    public func appendPostgresBinaryElement(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }
}

/// What the binary array format needs of an element (every element type but UInt8).
public protocol PostgresBinaryArrayElement: PostgresArrayElement {
    /// OID of the element type, which the array's header names.
    static var postgresElementTypeOID: UInt32 { get }
    /// The element's own binary format, without its length.
    func appendPostgresBinaryElement(to buffer: inout [UInt8]) throws(EmbeddedNULError)
}

extension String: PostgresBinaryArrayElement {}
extension Int64: PostgresBinaryArrayElement {}
extension Int: PostgresBinaryArrayElement {}
extension Int32: PostgresBinaryArrayElement {}
extension Bool: PostgresBinaryArrayElement {}
extension UUID: PostgresBinaryArrayElement {}

extension PostgresBinaryArrayElement {
    /// array_recv's format: dimensions (1, or 0 when empty), a has-nulls flag
    /// (never: nil elements are not representable), the element type, the
    /// length and lower bound (1), then each element after its byte count.
    public static func appendPostgresBinaryArray(_ elements: [Self], to buffer: inout [UInt8]) throws(EmbeddedNULError) {
        buffer.appendBigEndian(UInt32(elements.isEmpty ? 0 : 1))
        buffer.appendBigEndian(UInt32(0))
        buffer.appendBigEndian(postgresElementTypeOID)
        guard !elements.isEmpty else { return }
        buffer.appendBigEndian(UInt32(elements.count))
        buffer.appendBigEndian(UInt32(1))
        for element in elements {
            let lengthAt = buffer.count
            buffer.appendBigEndian(UInt32(0))
            try element.appendPostgresBinaryElement(to: &buffer)
            let length = UInt32(buffer.count - lengthAt - 4)
            buffer.withUnsafeMutableBytes { $0.storeBytes(of: length.bigEndian, toByteOffset: lengthAt, as: UInt32.self) }
        }
    }
}

extension [UInt8] {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

extension PostgresArrayElement where Self: PostgresEncodable & PostgresDecodable {
    /// A one-dimensional array literal with every element quoted, so commas,
    /// braces, quotes and backslashes inside elements stay data.
    public static func postgresArrayText(_ elements: [Self]) -> String {
        PostgresArrayLiteral.format(elements.map(\.postgresText))
    }

    /// Parses a one-dimensional array; NULL elements make it fail (use a nullable type).
    public static func decodePostgresArray(_ text: String) -> [Self]? {
        guard let items = PostgresArrayLiteral.parse(text) else { return nil }
        var out = [Self]()
        out.reserveCapacity(items.count)
        for item in items {
            guard let item, let value = Self.decode(postgresText: item) else { return nil }
            out.append(value)
        }
        return out
    }
}

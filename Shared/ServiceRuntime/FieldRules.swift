public import RPC

/// Checks shared by every service for text that arrives in requests: a clear
/// INVALID_ARGUMENT naming the field, never the offending value.
public enum FieldRules {
    /// Text for humans (labels, names): at most `maximumLength` characters, no
    /// control characters.
    public static func text(_ value: String, field: String, maximumLength: Int = 200, required: Bool = false) throws(RPCError) {
        if required && value.isEmpty { throw RPCError.invalidArgument(field: field, "is required") }
        // A character is at least one byte, so only longer UTF-8 needs counting
        // characters (grapheme breaking is slow, and imports check several fields per number).
        if value.utf8.count > maximumLength, value.count > maximumLength {
            throw RPCError.invalidArgument(field: field, "is longer than \(maximumLength) characters")
        }
        if value.unicodeScalars.contains(where: isControl) {
            throw RPCError.invalidArgument(field: field, "must not contain control characters")
        }
    }

    /// An identifier: 1–`maximumLength` characters of `A-Z a-z 0-9 _ - . :`.
    public static func identifier(_ value: String, field: String, maximumLength: Int = 128) throws(RPCError) {
        guard !value.isEmpty else { throw RPCError.invalidArgument(field: field, "is required") }
        guard value.utf8.count <= maximumLength else {
            throw RPCError.invalidArgument(field: field, "is longer than \(maximumLength) characters")
        }
        guard value.utf8.allSatisfy(isIdentifierByte) else {
            throw RPCError.invalidArgument(field: field, "may contain only letters, digits and _ - . :")
        }
    }

    /// Empty, or an ISO 3166-1 alpha-2 region code such as "US" (either case).
    public static func regionCode(_ value: String, field: String) throws(RPCError) {
        guard value.isEmpty || (value.utf8.count == 2 && value.utf8.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7a })) else {
            throw RPCError.invalidArgument(field: field, "must be a two-letter ISO 3166 region code such as US")
        }
    }

    /// C0 and C1 controls and DEL (general category Cc), by value.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"):
            true
        default:
            false
        }
    }
}

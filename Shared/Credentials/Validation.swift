extension ProviderCredentials {
    /// Providers with dedicated rules (required fields, formats, no unknown fields). Any other
    /// provider name matching `[a-z0-9_-]{1,32}` is accepted with generic rules.
    public static var providersWithRules: [String] { ProviderRule.rules.keys.sorted() }

    /// Checks the credentials before they are sealed and stored.
    ///
    /// - `twilio`: `account_sid` (`AC` + 32 hex), `auth_token` (non-empty, at most 256 bytes; the
    ///   32-hex format is not enforced so API-key secrets and format changes still fit),
    ///   optional `phone_number_sid` (`PN` + 32 hex).
    /// - `vonage`: `api_key`, `api_secret`. `telnyx`: `api_key`. `plivo`: `auth_id`, `auth_token`.
    ///   `sip`: `username`, `password`, `host` (hostname, IPv4 or `[IPv6]`, optional `:port`).
    ///   These providers accept no other fields, so a typo in a field name is caught here.
    /// - Any other provider: 1–32 fields named `[a-z0-9_]{1,64}`.
    /// - Every value: non-empty, at most 4096 bytes, no control or invisible formatting
    ///   characters, no leading or trailing whitespace.
    ///
    /// Fields are checked in name order and the first problem is thrown, so the error is stable.
    /// - Throws: `CredentialValidationError` naming the field; it never contains a value.
    public func validate() throws(CredentialValidationError) {
        try ProviderRule.checkProviderName(provider)
        if let rule = ProviderRule.rules[provider] {
            try rule.check(fields, provider: provider)
        } else {
            try ProviderRule.checkGeneric(fields)
        }
    }
}

/// The syntax a field's value must have, beyond the checks every value gets.
enum FieldFormat: Sendable {
    case text(maxBytes: Int)
    /// A Twilio-style SID: fixed two-letter prefix and 32 hexadecimal characters.
    case sid(prefix: String)
    case host
}

/// Required and optional fields of a provider with dedicated rules.
struct ProviderRule: Sendable {
    var required: [String: FieldFormat]
    var optional: [String: FieldFormat] = [:]

    static let maxValueBytes = 4096
    static let maxGenericFields = 32

    static let rules: [String: ProviderRule] = [
        "twilio": ProviderRule(
            required: ["account_sid": .sid(prefix: "AC"), "auth_token": .text(maxBytes: 256)],
            optional: ["phone_number_sid": .sid(prefix: "PN")]
        ),
        "vonage": ProviderRule(required: ["api_key": .text(maxBytes: maxValueBytes), "api_secret": .text(maxBytes: maxValueBytes)]),
        "telnyx": ProviderRule(required: ["api_key": .text(maxBytes: maxValueBytes)]),
        "plivo": ProviderRule(required: ["auth_id": .text(maxBytes: maxValueBytes), "auth_token": .text(maxBytes: maxValueBytes)]),
        "sip": ProviderRule(required: [
            "username": .text(maxBytes: maxValueBytes), "password": .text(maxBytes: maxValueBytes), "host": .host,
        ]),
    ]

    func check(_ fields: [String: String], provider: String) throws(CredentialValidationError) {
        let allowed = Set(required.keys).union(optional.keys)
        for key in fields.keys.sorted() where !allowed.contains(key) {
            // An unknown key is echoed only if it looks like a field name; it could be anything.
            let field = Self.isFieldName(key) ? "credentials.\(key)" : "credentials"
            throw CredentialValidationError(
                field: field,
                problem: "unknown field for \(provider) (allowed: \(allowed.sorted().joined(separator: ", ")))"
            )
        }
        for key in required.keys.sorted() where fields[key] == nil {
            throw CredentialValidationError(field: "credentials.\(key)", problem: "is required for \(provider)")
        }
        for key in fields.keys.sorted() {
            guard let value = fields[key], let format = required[key] ?? optional[key] else { continue }
            try Self.checkValue(value, field: "credentials.\(key)", format: format)
        }
    }

    static func checkGeneric(_ fields: [String: String]) throws(CredentialValidationError) {
        guard (1...maxGenericFields).contains(fields.count) else {
            throw CredentialValidationError(field: "credentials", problem: "must have between 1 and \(maxGenericFields) fields")
        }
        for key in fields.keys.sorted() {
            guard isFieldName(key) else {
                throw CredentialValidationError(field: "credentials", problem: "field names must match [a-z0-9_]{1,64}")
            }
            try checkValue(fields[key] ?? "", field: "credentials.\(key)", format: .text(maxBytes: maxValueBytes))
        }
    }

    static func checkProviderName(_ name: String) throws(CredentialValidationError) {
        let ok = (1...32).contains(name.utf8.count) && name.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        guard ok else {
            throw CredentialValidationError(field: "credentials.provider", problem: "must match [a-z0-9_-]{1,32} (lowercase)")
        }
    }

    /// Rules every value obeys, then its format. Messages describe the rule, never the value.
    static func checkValue(_ value: String, field: String, format: FieldFormat) throws(CredentialValidationError) {
        func fail(_ problem: String) -> CredentialValidationError { CredentialValidationError(field: field, problem: problem) }
        guard !value.isEmpty else { throw fail("must not be empty") }
        guard value.utf8.count <= maxValueBytes else { throw fail("must be at most \(maxValueBytes) bytes") }
        let scalars = value.unicodeScalars
        if let first = scalars.first, let last = scalars.last, first.properties.isWhitespace || last.properties.isWhitespace {
            // Almost always a stray space or newline from copy and paste.
            throw fail("must not start or end with whitespace")
        }
        guard !scalars.contains(where: isControlOrInvisible) else {
            throw fail("must not contain control or invisible formatting characters")
        }
        switch format {
        case .text(let maxBytes):
            guard value.utf8.count <= maxBytes else { throw fail("must be at most \(maxBytes) bytes") }
        case .sid(let prefix):
            guard SIDSyntax.isSID(value, prefix: prefix) else {
                throw fail("must be '\(prefix)' followed by 32 hexadecimal characters")
            }
        case .host:
            guard HostSyntax.isPlausibleHost(value) else {
                throw fail("must be a hostname, an IPv4 address or a bracketed IPv6 address, optionally followed by :port (1-65535)")
            }
        }
    }

    static func isFieldName(_ key: String) -> Bool {
        (1...64).contains(key.utf8.count) && key.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Control characters break log lines and protocols; invisible format characters (zero-width,
    /// bidi overrides) make a value differ from what an operator sees.
    private static func isControlOrInvisible(_ scalar: Unicode.Scalar) -> Bool {
        // Printable ASCII (nearly every credential) is none of these; the
        // category table lookup was 2% of inventory's CPU in a bulk import.
        if (0x20...0x7e).contains(scalar.value) { return false }
        return switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}

/// Twilio-style resource ids (SIDs): a prefix such as "PN" or "AC", then 32
/// hexadecimal characters.
public enum SIDSyntax {
    /// Compared byte by byte: a String's `hasPrefix` compares characters, and in
    /// a bulk import that was 1.5% of inventory's CPU.
    public static func isSID(_ value: String, prefix: String) -> Bool {
        let bytes = value.utf8
        return bytes.count == prefix.utf8.count + 32 && bytes.starts(with: prefix.utf8)
            && bytes.dropFirst(prefix.utf8.count).allSatisfy(HostSyntax.isHexDigit)
    }
}

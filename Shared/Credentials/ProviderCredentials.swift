/// The credentials a number's provider needs (Twilio account SID and auth token, a SIP
/// username and password, ...), as a provider name and a flat map of string fields.
///
/// Values are secrets or close to it, so every textual form of this type is redacted:
/// `description`, `debugDescription` and the reflection `dump` uses show field names and at most
/// the first four characters of identifiers known not to be secret (e.g. a Twilio account SID),
/// never a secret. It is deliberately not `Codable`: the only serialised form is the plaintext
/// sealed by `CredentialKeyRing`, so credentials cannot end up in a JSON log line by accident.
public struct ProviderCredentials: Sendable, Hashable {
    /// Lowercase provider name, e.g. `twilio`, `vonage`, `telnyx`, `plivo`, `sip`, or any other
    /// name matching `[a-z0-9_-]{1,32}` for providers without dedicated rules.
    public var provider: String
    /// Field name to value, e.g. `["account_sid": "AC…", "auth_token": "…"]`.
    public var fields: [String: String]

    /// Wraps `fields` for `provider` without checking them; call `validate()` on untrusted input.
    public init(provider: String, fields: [String: String]) {
        self.provider = provider
        self.fields = fields
    }

    /// The value of `field`, or `nil` when it is absent.
    public subscript(field: String) -> String? { fields[field] }
}

extension ProviderCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Redacted, e.g. `twilio credentials {account_sid: AC12…, auth_token: •••}`.
    public var description: String {
        let body = fields.keys.sorted().map { key in
            "\(Redaction.label(key)): \(Redaction.mask(fields[key] ?? "", provider: provider, field: key))"
        }
        return "\(Redaction.label(provider)) credentials {\(body.joined(separator: ", "))}"
    }

    /// Same as `description`: debugging output must not reveal secrets either.
    public var debugDescription: String { description }

    /// Keeps `dump(_:)` and other mirror-based printers from walking into `fields`.
    public var customMirror: Mirror {
        Mirror(self, children: ["redacted": description], displayStyle: .struct)
    }
}

/// How credential values are shown in logs.
enum Redaction {
    static let hidden = "•••"

    /// Fields that identify an account rather than authenticate it; their first characters help
    /// an operator tell accounts apart. Everything else, including every field of a provider
    /// without dedicated rules, is treated as secret.
    static let identifiers: [String: Set<String>] = [
        "twilio": ["account_sid", "phone_number_sid"],
        "vonage": ["api_key"],
        "plivo": ["auth_id"],
        "sip": ["username", "host"],
    ]

    static func mask(_ value: String, provider: String, field: String) -> String {
        // Short identifiers would be mostly revealed by a 4-character prefix, so hide them too.
        guard identifiers[provider]?.contains(field) == true, value.count > 8 else { return hidden }
        let prefix = value.prefix(4)
        guard prefix.unicodeScalars.allSatisfy(isPlainASCII) else { return hidden }
        return String(prefix) + "…"
    }

    /// Provider and field names are printed only when they look like names, so a malformed map
    /// cannot smuggle control characters (or a secret pasted as a key) into a log line.
    static func label(_ name: String) -> String {
        let ok = (1...64).contains(name.utf8.count) && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
        }
        return ok ? name : "?"
    }

    private static func isPlainASCII(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x21 && scalar.value < 0x7F
    }
}

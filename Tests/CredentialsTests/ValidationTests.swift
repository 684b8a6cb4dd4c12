import Credentials
import Testing

let accountSID = "AC0123456789abcdef0123456789abcdef"
let phoneSID = "PN0123456789ABCDEF0123456789abcdef"
/// A recognisable secret: no textual output may contain it.
let secretToken = "s3cretT0kenNeverPrintMe-0123456789"

func twilio(_ overrides: [String: String?] = [:]) -> ProviderCredentials {
    var fields = ["account_sid": accountSID, "auth_token": secretToken]
    for (key, value) in overrides { fields[key] = value }
    return ProviderCredentials(provider: "twilio", fields: fields)
}

/// The error `validate()` throws, or nil when the credentials are accepted.
func validationError(_ credentials: ProviderCredentials) -> CredentialValidationError? {
    do {
        try credentials.validate()
        return nil
    } catch {
        return error
    }
}

@Suite struct TwilioValidationTests {
    @Test func acceptsValidCredentials() {
        #expect(validationError(twilio()) == nil)
        #expect(validationError(twilio(["phone_number_sid": phoneSID])) == nil)
    }

    @Test(arguments: [
        ("account_sid", nil, "is required"),
        ("auth_token", nil, "is required"),
        ("account_sid", "AC0123", "32 hexadecimal"),
        ("account_sid", "XX0123456789abcdef0123456789abcdef", "'AC'"),
        ("account_sid", "AC0123456789abcdef0123456789abcdeg", "32 hexadecimal"),
        ("phone_number_sid", "PN123", "'PN' followed by 32"),
        ("auth_token", "", "must not be empty"),
        ("auth_token", String(repeating: "a", count: 257), "at most 256 bytes"),
    ] as [(String, String?, String)])
    func rejectsBadField(field: String, value: String?, problem: String) throws {
        let error = try #require(validationError(twilio([field: value])))
        #expect(error.field == "credentials.\(field)")
        #expect(error.problem.contains(problem))
    }

    @Test func rejectsUnknownField() throws {
        let error = try #require(validationError(twilio(["auth_tokn": "x"])))
        #expect(error.field == "credentials.auth_tokn")
        #expect(error.problem.contains("unknown field"))
    }

    @Test func errorsNeverEchoTheValue() throws {
        for bad in [" " + secretToken, secretToken + "\n", "a\u{0}" + secretToken, secretToken + "\u{202E}x"] {
            let error = try #require(validationError(twilio(["auth_token": bad])))
            #expect(error.field == "credentials.auth_token")
            #expect(!error.description.contains(secretToken))
        }
    }

    @Test func rejectsSurroundingWhitespaceAndControlCharacters() throws {
        #expect(try #require(validationError(twilio(["auth_token": secretToken + " "]))).problem.contains("whitespace"))
        #expect(try #require(validationError(twilio(["auth_token": "ab\tcd"]))).problem.contains("control"))
        #expect(try #require(validationError(twilio(["auth_token": "ab\u{200B}cd"]))).problem.contains("invisible"))
    }
}

@Suite struct OtherProviderValidationTests {
    @Test(arguments: [
        ProviderCredentials(provider: "vonage", fields: ["api_key": "a1b2c3d4", "api_secret": "Secret123"]),
        ProviderCredentials(provider: "telnyx", fields: ["api_key": "KEY0123456789"]),
        ProviderCredentials(provider: "plivo", fields: ["auth_id": "MAXXXXXXXXXXXXXXXXXX", "auth_token": "tok"]),
        ProviderCredentials(provider: "sip", fields: ["username": "u", "password": "p", "host": "sip.example.com"]),
        ProviderCredentials(provider: "sip", fields: ["username": "u", "password": "p", "host": "sbc:5061"]),
        ProviderCredentials(provider: "sip", fields: ["username": "u", "password": "p", "host": "10.0.0.1:5060"]),
        ProviderCredentials(provider: "sip", fields: ["username": "u", "password": "p", "host": "[2001:db8::1]:5060"]),
        ProviderCredentials(provider: "sip", fields: ["username": "u", "password": "p", "host": "::ffff:192.0.2.1"]),
        ProviderCredentials(provider: "vapi", fields: ["api_key": "k", "phone_number_id": "abc"]),
        ProviderCredentials(provider: "my-carrier_2", fields: ["token": "t"]),
    ])
    func accepts(_ credentials: ProviderCredentials) {
        #expect(validationError(credentials) == nil)
    }

    @Test(arguments: [
        (ProviderCredentials(provider: "vonage", fields: ["api_key": "a1b2c3d4"]), "credentials.api_secret", "is required"),
        (ProviderCredentials(provider: "vonage", fields: ["api_secret": "s"]), "credentials.api_key", "is required"),
        (ProviderCredentials(provider: "telnyx", fields: [:]), "credentials.api_key", "is required"),
        (ProviderCredentials(provider: "telnyx", fields: ["api_key": "k", "extra": "x"]), "credentials.extra", "unknown field"),
        (ProviderCredentials(provider: "plivo", fields: ["auth_id": "id"]), "credentials.auth_token", "is required"),
        (ProviderCredentials(provider: "plivo", fields: ["auth_token": "t"]), "credentials.auth_id", "is required"),
        (ProviderCredentials(provider: "sip", fields: ["username": "u", "password": "p"]), "credentials.host", "is required"),
        (ProviderCredentials(provider: "sip", fields: ["username": "u", "host": "h"]), "credentials.password", "is required"),
        (ProviderCredentials(provider: "sip", fields: ["password": "p", "host": "h"]), "credentials.username", "is required"),
        (ProviderCredentials(provider: "Twilio", fields: ["a": "b"]), "credentials.provider", "lowercase"),
        (ProviderCredentials(provider: "", fields: ["a": "b"]), "credentials.provider", "[a-z0-9_-]{1,32}"),
        (ProviderCredentials(provider: "acme", fields: [:]), "credentials", "between 1 and 32 fields"),
        (ProviderCredentials(provider: "acme", fields: ["Bad Key": "v"]), "credentials", "[a-z0-9_]{1,64}"),
        (ProviderCredentials(provider: "acme", fields: ["token": ""]), "credentials.token", "must not be empty"),
        (ProviderCredentials(provider: "acme", fields: ["token": String(repeating: "x", count: 4097)]), "credentials.token", "4096 bytes"),
    ])
    func rejects(_ credentials: ProviderCredentials, field: String, problem: String) throws {
        let error = try #require(validationError(credentials))
        #expect(error.field == field)
        #expect(error.problem.contains(problem))
    }

    @Test func rejectsTooManyGenericFields() throws {
        let fields = Dictionary(uniqueKeysWithValues: (0..<33).map { ("f\($0)", "v") })
        let error = try #require(validationError(ProviderCredentials(provider: "acme", fields: fields)))
        #expect(error.field == "credentials")
    }

    @Test(arguments: [
        "sip://example.com", "example.com:0", "example.com:65536", "exa mple.com", "-bad.example.com",
        "256.1.1.1", "1.2.3", "01.2.3.4", "[2001:db8::1", "[2001:db8::1]5060", "1::2::3", "fe80::1%eth0",
        "example..com", "host:port", "1:2:3:4:5:6:7:8:9",
    ])
    func rejectsImplausibleSIPHost(_ host: String) throws {
        let credentials = ProviderCredentials(provider: "sip", fields: ["username": "u", "password": "p", "host": host])
        let error = try #require(validationError(credentials))
        #expect(error.field == "credentials.host")
    }
}

@Suite struct RedactionTests {
    @Test func descriptionHidesSecrets() {
        let credentials = twilio(["phone_number_sid": phoneSID])
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials)] {
            #expect(!text.contains(secretToken))
            #expect(!text.contains(accountSID))
        }
        #expect(credentials.description == "twilio credentials {account_sid: AC01…, auth_token: •••, phone_number_sid: PN01…}")
    }

    @Test func dumpHidesSecrets() {
        var output = ""
        dump(twilio(), to: &output)
        #expect(!output.contains(secretToken))
        #expect(!output.contains(accountSID))
    }

    @Test func genericProvidersAreFullyMasked() {
        let credentials = ProviderCredentials(provider: "acme", fields: ["client_id": "client-identifier-123", "secret": secretToken])
        #expect(credentials.description == "acme credentials {client_id: •••, secret: •••}")
    }
}

@Suite struct SIDSyntaxTests {
    @Test(arguments: [
        ("PN0123456789abcdef0123456789ABCDEF", true),
        ("PN0123456789abcdef0123456789abcde", false),    // 31 hex digits
        ("PN0123456789abcdef0123456789abcdef0", false),  // 33
        ("pn0123456789abcdef0123456789abcdef", false),   // the prefix is case-sensitive
        ("AC0123456789abcdef0123456789abcdef", false),   // another kind of SID
        ("PN0123456789abcdef0123456789abcdeg", false),
        ("PN\u{301}123456789abcdef0123456789abcdef", false),  // a combining mark after the prefix
        ("PN０123456789abcdef0123456789abcde", false),    // a full-width digit
    ])
    func phoneNumberSIDs(value: String, valid: Bool) {
        #expect(SIDSyntax.isSID(value, prefix: "PN") == valid, "\(value)")
    }
}

import Foundation

/// The plaintext inside the ciphertext: JSON with sorted keys and a format version, e.g.
/// `{"fields":{"account_sid":"AC…","auth_token":"…"},"provider":"twilio","v":1}`.
/// Self-describing so a reader needs nothing but the key; versioned so the format can change.
enum PlaintextCodec {
    static let version = 1

    private struct Document: Codable {
        var v: Int
        var provider: String
        var fields: [String: String]
    }

    static func encode(_ credentials: ProviderCredentials) throws(CredentialKeyRingError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(Document(v: version, provider: credentials.provider, fields: credentials.fields))
        } catch {
            throw CredentialKeyRingError(.sealingFailed)
        }
    }

    static func decode(_ plaintext: Data) throws(CredentialKeyRingError) -> ProviderCredentials {
        // The decoder's error could quote the plaintext; it is dropped, not wrapped.
        guard let document = try? JSONDecoder().decode(Document.self, from: plaintext), document.v == version else {
            throw CredentialKeyRingError(.malformedPlaintext)
        }
        return ProviderCredentials(provider: document.provider, fields: document.fields)
    }
}

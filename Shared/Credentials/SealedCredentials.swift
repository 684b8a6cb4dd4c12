/// Provider credentials encrypted by a `CredentialKeyRing`, as stored in the database.
///
/// `ciphertext` is AES-GCM's combined form: 12-byte nonce ‖ encrypted plaintext ‖ 16-byte tag.
/// `keyID` names the ring key that sealed it, so old rows stay readable after the active key
/// changes and a rotation job can find the rows still under an old key.
public struct SealedCredentials: Sendable, Hashable {
    /// Id of the key in the ring that sealed `ciphertext`; stored next to it.
    public var keyID: String
    /// Nonce, ciphertext and authentication tag, concatenated.
    public var ciphertext: [UInt8]

    /// Wraps a stored key id and combined ciphertext, e.g. read back from a row.
    public init(keyID: String, ciphertext: [UInt8]) {
        self.keyID = keyID
        self.ciphertext = ciphertext
    }
}

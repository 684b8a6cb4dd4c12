/// Why a key ring could not be built, or credentials could not be sealed or opened.
///
/// Descriptions name key ids and positions, never key material or plaintext, so they are safe
/// to log. Configuration reasons are start-up failures; the others happen per row.
public struct CredentialKeyRingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable, Hashable {
        /// The configuration lists no keys.
        case emptyConfiguration
        /// Entry `position` (1-based) is not `id:base64key`.
        case malformedEntry(position: Int)
        /// Entry `position` (1-based) has an id outside `[A-Za-z0-9_-]{1,32}`.
        case invalidKeyID(position: Int)
        /// The key for `keyID` is not valid base64.
        case invalidBase64(keyID: String)
        /// The key for `keyID` decodes to `byteCount` bytes instead of 32.
        case wrongKeyLength(keyID: String, byteCount: Int)
        /// Two entries share `keyID`.
        case duplicateKeyID(String)
        /// The configured active key id is not in the ring.
        case activeKeyMissing(String)
        /// Sealed credentials name a key the ring does not hold (removed too early, or a
        /// replica with an older configuration).
        case unknownKeyID(String)
        /// The ciphertext is too short to hold a nonce and a tag.
        case malformedCiphertext
        /// The tag does not verify: the ciphertext was altered, or the associated data (the row
        /// it is bound to) is not the one it was sealed with.
        case authenticationFailed(keyID: String)
        /// Decryption succeeded but the plaintext is not a credentials document this version reads.
        case malformedPlaintext
        /// The crypto library refused to seal (should not happen with a valid key).
        case sealingFailed
    }

    /// What went wrong.
    public var reason: Reason

    /// Creates an error for `reason`.
    public init(_ reason: Reason) { self.reason = reason }

    /// A message safe to log: ids and positions only.
    public var description: String {
        switch reason {
        case .emptyConfiguration: "credential key ring configuration lists no keys"
        case .malformedEntry(let position): "credential key ring entry \(position) is not 'id:base64key'"
        case .invalidKeyID(let position): "credential key ring entry \(position) has an id outside [A-Za-z0-9_-]{1,32}"
        case .invalidBase64(let id): "credential key '\(id)' is not valid base64"
        case .wrongKeyLength(let id, let count): "credential key '\(id)' is \(count) bytes; AES-256 needs 32"
        case .duplicateKeyID(let id): "credential key id '\(id)' is listed twice"
        case .activeKeyMissing(let id): "active credential key '\(CredentialKeyRing.printableKeyID(id))' is not in the key ring"
        case .unknownKeyID(let id): "credentials were sealed with key '\(CredentialKeyRing.printableKeyID(id))', which is not in the key ring"
        case .malformedCiphertext: "sealed credentials are too short to be AES-GCM output"
        case .authenticationFailed(let id): "sealed credentials (key '\(CredentialKeyRing.printableKeyID(id))') failed authentication: altered, or bound to another record"
        case .malformedPlaintext: "decrypted credentials are not in a recognised format"
        case .sealingFailed: "credentials could not be encrypted"
        }
    }
}

import Crypto
import Foundation

extension CredentialKeyRing {
    /// Associated data that binds sealed credentials to one phone number record.
    ///
    /// Inventory seals and lookup opens, so both must derive the same bytes: use this rather than
    /// an ad-hoc string. A ciphertext copied onto another number's row then fails to open.
    public static func associatedData(numberID: String) -> [UInt8] {
        Array("phone-number-credentials/v1/\(numberID)".utf8)
    }

    /// Encrypts `credentials` with the active key (AES-256-GCM, fresh random 96-bit nonce).
    ///
    /// `associatedData` is authenticated but not encrypted: pass the identity of the row the
    /// ciphertext belongs to (see `associatedData(numberID:)`), and pass the same bytes to
    /// `decrypt`. The credentials are not validated here; call `validate()` on input first.
    /// Random nonces stay safe for far more encryptions per key than a number inventory needs.
    /// - Throws: `CredentialKeyRingError` (only if the crypto library refuses).
    public func encrypt(_ credentials: ProviderCredentials, associatedData: [UInt8]) throws(CredentialKeyRingError) -> SealedCredentials {
        guard let key = symmetricKey(for: activeKeyID) else { throw CredentialKeyRingError(.activeKeyMissing(activeKeyID)) }
        let plaintext = try PlaintextCodec.encode(credentials)
        do {
            let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: associatedData)
            guard let combined = box.combined else { throw CredentialKeyRingError(.sealingFailed) }
            return SealedCredentials(keyID: activeKeyID, ciphertext: [UInt8](combined))
        } catch {
            throw CredentialKeyRingError(.sealingFailed)
        }
    }

    /// Decrypts with the key `sealed.keyID` names, checking `associatedData`.
    /// - Throws: `CredentialKeyRingError`: `.unknownKeyID` when the ring lacks that key,
    ///   `.malformedCiphertext` when it is too short, `.authenticationFailed` when it was altered
    ///   or the associated data differs, `.malformedPlaintext` for an unreadable document.
    public func decrypt(_ sealed: SealedCredentials, associatedData: [UInt8]) throws(CredentialKeyRingError) -> ProviderCredentials {
        guard let key = symmetricKey(for: sealed.keyID) else { throw CredentialKeyRingError(.unknownKeyID(sealed.keyID)) }
        // Nonce (12) and tag (16) are fixed size; shorter input cannot be a sealed box.
        guard sealed.ciphertext.count >= 12 + 16 else { throw CredentialKeyRingError(.malformedCiphertext) }
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.ciphertext)
            plaintext = try AES.GCM.open(box, using: key, authenticating: associatedData)
        } catch {
            throw CredentialKeyRingError(.authenticationFailed(keyID: sealed.keyID))
        }
        return try PlaintextCodec.decode(plaintext)
    }

    /// Whether `sealed` uses a key other than the active one and should be re-sealed.
    public func needsRotation(_ sealed: SealedCredentials) -> Bool {
        sealed.keyID != activeKeyID
    }

    /// Re-seals `sealed` under the active key (decrypt with its key, encrypt with the active one),
    /// keeping the same associated data. Returns `sealed` unchanged when it already uses the active
    /// key, so a rotation job can be re-run safely.
    /// - Throws: the errors of `decrypt(_:associatedData:)`.
    public func rotate(_ sealed: SealedCredentials, associatedData: [UInt8]) throws(CredentialKeyRingError) -> SealedCredentials {
        guard needsRotation(sealed) else { return sealed }
        return try encrypt(decrypt(sealed, associatedData: associatedData), associatedData: associatedData)
    }
}

import Crypto
import Foundation

/// The AES-256 keys that seal provider credentials, with one key active for new encryptions.
///
/// Configuration format (e.g. an environment variable's value): comma-separated `id:base64key`
/// entries, each key 32 random bytes in standard, padded base64, e.g.
/// `k2:q0x...=,k1:Zm9...=`. Ids match `[A-Za-z0-9_-]{1,32}`; whitespace around entries is
/// ignored. The active key is the one named explicitly, or else **the first listed**.
///
/// Rotation without downtime: add the new key first in the list (making it active) and keep the
/// old ones; every replica can then read both. Re-seal stored rows with `rotate(_:associatedData:)`
/// wherever `needsRotation(_:)` is true, and remove an old key only once no row uses it.
///
/// Key bytes are stored as plain arrays because swift-crypto's `SymmetricKey` is not `Sendable`;
/// a `SymmetricKey` is built per operation. No textual form of the ring shows key material.
public struct CredentialKeyRing: Sendable {
    /// Id of the key new encryptions use.
    public let activeKeyID: String
    /// Ids of every key in the ring, in configuration order.
    public let keyIDs: [String]
    private let keys: [String: [UInt8]]

    /// AES-256: keys are exactly 32 bytes.
    public static let keyByteCount = 32

    /// Builds a ring from `(id, 32-byte key)` pairs; `activeKeyID` must be one of the ids.
    /// - Throws: `CredentialKeyRingError` for an empty list, a bad id, a key of the wrong length,
    ///   a duplicate id, or a missing active id.
    public init(keys entries: [(id: String, key: [UInt8])], activeKeyID: String) throws(CredentialKeyRingError) {
        guard !entries.isEmpty else { throw CredentialKeyRingError(.emptyConfiguration) }
        var keys: [String: [UInt8]] = [:]
        for (index, entry) in entries.enumerated() {
            guard Self.isValidKeyID(entry.id) else { throw CredentialKeyRingError(.invalidKeyID(position: index + 1)) }
            guard entry.key.count == Self.keyByteCount else {
                throw CredentialKeyRingError(.wrongKeyLength(keyID: entry.id, byteCount: entry.key.count))
            }
            guard keys.updateValue(entry.key, forKey: entry.id) == nil else {
                throw CredentialKeyRingError(.duplicateKeyID(entry.id))
            }
        }
        guard keys[activeKeyID] != nil else { throw CredentialKeyRingError(.activeKeyMissing(activeKeyID)) }
        self.keys = keys
        self.keyIDs = entries.map(\.id)
        self.activeKeyID = activeKeyID
    }

    /// Parses the configuration format described on the type. `activeKeyID` nil (or empty, as an
    /// unset environment variable often is) makes the first listed key active.
    /// - Throws: `CredentialKeyRingError` naming the entry position or key id at fault.
    public init(configuration: String, activeKeyID: String? = nil) throws(CredentialKeyRingError) {
        var entries: [(id: String, key: [UInt8])] = []
        let parts = configuration.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if parts.count == 1, parts[0].isEmpty { throw CredentialKeyRingError(.emptyConfiguration) }
        for (index, part) in parts.enumerated() {
            let position = index + 1
            // Split at the first colon only; base64 never contains one.
            guard let colon = part.firstIndex(of: ":") else { throw CredentialKeyRingError(.malformedEntry(position: position)) }
            let id = String(part[..<colon])
            let encoded = String(part[part.index(after: colon)...])
            guard !id.isEmpty, !encoded.isEmpty else { throw CredentialKeyRingError(.malformedEntry(position: position)) }
            guard Self.isValidKeyID(id) else { throw CredentialKeyRingError(.invalidKeyID(position: position)) }
            guard let key = Data(base64Encoded: encoded) else { throw CredentialKeyRingError(.invalidBase64(keyID: id)) }
            entries.append((id: id, key: [UInt8](key)))
        }
        let active = activeKeyID.flatMap { $0.isEmpty ? nil : $0 } ?? entries[0].id
        try self.init(keys: entries, activeKeyID: active)
    }

    /// Whether `id` can name a key: `[A-Za-z0-9_-]{1,32}` (it is stored next to every ciphertext).
    public static func isValidKeyID(_ id: String) -> Bool {
        (1...32).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    /// A new random 256-bit key as one configuration entry, `id:base64key`, for operators to
    /// prepend to the configured list. `id` must satisfy `isValidKeyID(_:)` (check user input first).
    public static func generateKeySpec(id: String) -> String {
        precondition(isValidKeyID(id), "credential key id must match [A-Za-z0-9_-]{1,32}")
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return "\(id):\(key.base64EncodedString())"
    }

    /// The stored key bytes for `id` as a swift-crypto key, or nil when the ring lacks it.
    func symmetricKey(for id: String) -> SymmetricKey? {
        keys[id].map { SymmetricKey(data: $0) }
    }

    /// Ids come from stored rows and configuration; print them only when well-formed.
    static func printableKeyID(_ id: String) -> String { isValidKeyID(id) ? id : "?" }
}

extension CredentialKeyRing: CustomStringConvertible, CustomReflectable {
    /// Ids only, e.g. `CredentialKeyRing(active: k2, keys: [k2, k1])`.
    public var description: String {
        "CredentialKeyRing(active: \(activeKeyID), keys: [\(keyIDs.joined(separator: ", "))])"
    }

    /// Keeps `dump(_:)` away from the key bytes.
    public var customMirror: Mirror {
        Mirror(self, children: ["activeKeyID": activeKeyID, "keyIDs": keyIDs], displayStyle: .struct)
    }
}

import Foundation

/// The plaintext inside the ciphertext. Self-describing so a reader needs nothing but the key;
/// versioned so the format can change. Two versions exist, told apart by the first byte:
///
/// - Version 2 (written now): a compact length-prefixed binary document, deterministic for given
///   credentials (fields in ascending key order):
///
///       0x02                                  version
///       varint n, n bytes                     provider, UTF-8
///       varint count                          number of fields
///       count × (varint n, n bytes key,       field name, UTF-8
///                varint m, m bytes value)     field value, UTF-8
///
///   Varints are unsigned LEB128 (7 bits per byte, low group first) in their shortest form.
///   Nothing may follow the last field.
/// - Version 1 (still read): JSON with sorted keys,
///   `{"fields":{"account_sid":"AC…","auth_token":"…"},"provider":"twilio","v":1}`.
///   A JSON document starts with `{` (or white space), never with 0x02.
///
/// Encoding is a single pass into one pre-sized buffer, with no `JSONEncoder`, `Codable` or
/// intermediate dictionaries; that matters because every sealed number goes through it.
enum PlaintextCodec {
    static let version = 2
    /// The JSON version, accepted when decoding ciphertexts sealed before version 2.
    static let jsonVersion = 1

    /// A provider name or field count this large cannot come from valid credentials; the bound
    /// only keeps a corrupt (but authentic) document from asking for absurd allocations.
    private static let maxFieldCount = 1 << 16

    static func encode(_ credentials: ProviderCredentials) throws(CredentialKeyRingError) -> Data {
        // Sorted by key for determinism; Swift's String order is stable and total.
        let fields = credentials.fields.sorted { $0.key < $1.key }
        var size = 1 + varintSize(credentials.provider.utf8.count) + credentials.provider.utf8.count
        size += varintSize(fields.count)
        for (key, value) in fields {
            size += varintSize(key.utf8.count) + key.utf8.count
            size += varintSize(value.utf8.count) + value.utf8.count
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(size)
        bytes.append(UInt8(version))
        appendString(credentials.provider, to: &bytes)
        appendVarint(fields.count, to: &bytes)
        for (key, value) in fields {
            appendString(key, to: &bytes)
            appendString(value, to: &bytes)
        }
        return Data(bytes)
    }

    static func decode(_ plaintext: Data) throws(CredentialKeyRingError) -> ProviderCredentials {
        guard let first = plaintext.first else { throw CredentialKeyRingError(.malformedPlaintext) }
        let decoded: ProviderCredentials?
        if first == UInt8(version) {
            decoded = plaintext.withUnsafeBytes { decodeBinary($0) }
        } else {
            decoded = decodeJSON(plaintext)
        }
        // Any reason the document is unreadable is dropped, not reported: it could quote plaintext.
        guard let decoded else { throw CredentialKeyRingError(.malformedPlaintext) }
        return decoded
    }

    // MARK: Version 2

    private static func varintSize(_ value: Int) -> Int {
        var value = UInt(value)
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }

    private static func appendVarint(_ value: Int, to bytes: inout [UInt8]) {
        var value = UInt(value)
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func appendString(_ string: String, to bytes: inout [UInt8]) {
        appendVarint(string.utf8.count, to: &bytes)
        bytes.append(contentsOf: string.utf8)
    }

    /// Reads a version 2 document; nil if it is malformed in any way (truncated, trailing bytes,
    /// over-long varints, invalid UTF-8, a repeated field name).
    private static func decodeBinary(_ bytes: UnsafeRawBufferPointer) -> ProviderCredentials? {
        var reader = Reader(bytes: bytes, offset: 1)
        guard let provider = reader.string(), let count = reader.varint(), count <= maxFieldCount else {
            return nil
        }
        var fields = [String: String](minimumCapacity: count)
        for _ in 0..<count {
            guard let key = reader.string(), let value = reader.string() else { return nil }
            guard fields.updateValue(value, forKey: key) == nil else { return nil }
        }
        guard reader.isAtEnd else { return nil }
        return ProviderCredentials(provider: provider, fields: fields)
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset: Int

        var isAtEnd: Bool { offset == bytes.count }

        /// An unsigned LEB128 varint of at most 4 bytes (values below 2^28), in shortest form.
        mutating func varint() -> Int? {
            var value = 0
            var shift = 0
            while offset < bytes.count, shift < 28 {
                let byte = bytes[offset]
                offset += 1
                value |= Int(byte & 0x7F) << shift
                if byte & 0x80 == 0 {
                    // A zero final group after the first byte means a longer form than needed.
                    return shift > 0 && byte == 0 ? nil : value
                }
                shift += 7
            }
            return nil
        }

        mutating func string() -> String? {
            guard let length = varint(), length <= bytes.count - offset else { return nil }
            let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
            offset += length
            return String(validating: slice, as: UTF8.self)
        }
    }

    // MARK: Version 1

    private struct JSONDocument: Decodable {
        var v: Int
        var provider: String
        var fields: [String: String]
    }

    private static func decodeJSON(_ plaintext: Data) -> ProviderCredentials? {
        guard let document = try? JSONDecoder().decode(JSONDocument.self, from: plaintext),
              document.v == jsonVersion
        else { return nil }
        return ProviderCredentials(provider: document.provider, fields: document.fields)
    }
}

@testable import Credentials
import Foundation
import Testing

private func bytes(hex: String) -> [UInt8] {
    var result = [UInt8]()
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return result
}

/// The reason `body` fails with, or nil when it succeeds.
private func failure<T>(_ body: () throws -> T) -> CredentialKeyRingError.Reason? {
    do {
        _ = try body()
        return nil
    } catch let error as CredentialKeyRingError {
        return error.reason
    } catch {
        Issue.record("unexpected error type: \(type(of: error))")
        return nil
    }
}

@Suite struct PlaintextCodecTests {
    /// Sealed with the version 1 (JSON) format before version 2 existed: key 32 × 0x01, nonce
    /// 00 01 … 0b, associated data for "number-a", plaintext
    /// `{"fields":{"account_sid":"AC0123…","auth_token":"s3cret…"},"provider":"twilio","v":1}`.
    static let version1Ciphertext = bytes(hex: """
        000102030405060708090a0bc084f34f4592620adc509ce6410aabccdba81f5586f821224be879c391b60f81\
        66e6ec9349fa73ca693361f3c131b2b062c266107e9a16e7a79bbf66e37a2fc32e7b9796d9f7055718a6450c\
        4236038b6f0d25d49fc193ec22eeb1993676823827fea9b86c68e187d2e29d994f91976cc6941e01c89491e1\
        a00264025d38ff22f317a67a333f15bb17ea645f64528282685fbb39e26ab4f7337a39
        """)

    @Test func version1CiphertextStillDecrypts() throws {
        let ring = try CredentialKeyRing(keys: [(id: "k1", key: [UInt8](repeating: 1, count: 32))], activeKeyID: "k1")
        let sealed = SealedCredentials(keyID: "k1", ciphertext: Self.version1Ciphertext)
        let numberA = CredentialKeyRing.associatedData(numberID: "number-a")
        #expect(try ring.decrypt(sealed, associatedData: numberA) == twilio())
        // Rotation re-seals it in the current format, still readable.
        let newRing = try CredentialKeyRing(
            keys: [(id: "k2", key: [UInt8](repeating: 2, count: 32)), (id: "k1", key: [UInt8](repeating: 1, count: 32))],
            activeKeyID: "k2")
        let rotated = try newRing.rotate(sealed, associatedData: numberA)
        #expect(rotated.keyID == "k2")
        #expect(try newRing.decrypt(rotated, associatedData: numberA) == twilio())
    }

    @Test func version1JSONPlaintextDecodes() throws {
        let json = #"{"fields":{"pass":"pä\"ss\\wörd/🔑","user":"ünï"},"provider":"acme","v":1}"#
        let decoded = try PlaintextCodec.decode(Data(json.utf8))
        #expect(decoded == ProviderCredentials(provider: "acme", fields: ["pass": "pä\"ss\\wörd/🔑", "user": "ünï"]))
        // Key order and white space are JSON's business, not ours.
        let spaced = #" { "v": 1, "provider": "sip", "fields": { } } "#
        #expect(try PlaintextCodec.decode(Data(spaced.utf8)) == ProviderCredentials(provider: "sip", fields: [:]))
    }

    @Test func unknownJSONVersionsAreRefused() {
        for json in [
            #"{"fields":{},"provider":"acme","v":2}"#,
            #"{"fields":{},"provider":"acme","v":0}"#,
            #"{"fields":{},"provider":"acme"}"#,
            #"{"fields":{"a":1},"provider":"acme","v":1}"#,
            "{",
        ] {
            #expect(failure { try PlaintextCodec.decode(Data(json.utf8)) } == .malformedPlaintext)
        }
    }

    @Test func version2IsCompactAndDeterministic() throws {
        let credentials = ProviderCredentials(provider: "sip", fields: ["username": "u", "host": "h.example", "password": "p"])
        let encoded = try PlaintextCodec.encode(credentials)
        let expected: [UInt8] = [0x02, 3] + Array("sip".utf8) + [3]
            + [4] + Array("host".utf8) + [9] + Array("h.example".utf8)
            + [8] + Array("password".utf8) + [1] + Array("p".utf8)
            + [8] + Array("username".utf8) + [1] + Array("u".utf8)
        #expect([UInt8](encoded) == expected)
        // The same credentials built in another order encode to the same bytes.
        var reordered = ProviderCredentials(provider: "sip", fields: [:])
        for key in ["password", "username", "host"] { reordered.fields[key] = credentials.fields[key] }
        #expect(try PlaintextCodec.encode(reordered) == encoded)
        #expect(try PlaintextCodec.decode(encoded) == credentials)
    }

    @Test func version2RoundTripsUnusualAndLongValues() throws {
        let long = String(repeating: "x", count: 300)  // needs a two-byte length
        for credentials in [
            ProviderCredentials(provider: "acme", fields: ["pass": "pä\"ss\\wörd/🔑", "user": "ünï", "nul": "a\u{0}b"]),
            ProviderCredentials(provider: "acme", fields: [:]),
            ProviderCredentials(provider: "", fields: ["": ""]),
            ProviderCredentials(provider: "acme", fields: ["long": long, long: "key"]),
        ] {
            #expect(try PlaintextCodec.decode(PlaintextCodec.encode(credentials)) == credentials)
        }
    }

    @Test func malformedVersion2IsRefused() throws {
        let good = [UInt8](try PlaintextCodec.encode(ProviderCredentials(provider: "sip", fields: ["a": "b"])))
        #expect(good == [2, 3, 0x73, 0x69, 0x70, 1, 1, 0x61, 1, 0x62])
        let cases: [[UInt8]] = [
            [],
            [2],
            Array(good.dropLast()),  // truncated
            good + [0],  // trailing byte
            [2, 3, 0x73, 0x69, 0x70, 2, 1, 0x61, 1, 0x62],  // promises two fields
            [2, 3, 0x73, 0x69, 0x70, 2, 1, 0x61, 1, 0x62, 1, 0x61, 1, 0x63],  // repeated field name
            [2, 0x83, 0x00, 0x73, 0x69, 0x70, 0],  // over-long length
            [2, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // absurd length
            [2, 2, 0xC3, 0x28, 0],  // invalid UTF-8
            [3] + good.dropFirst(),  // unknown version
        ]
        for plaintext in cases {
            #expect(failure { try PlaintextCodec.decode(Data(plaintext)) } == .malformedPlaintext)
        }
    }
}

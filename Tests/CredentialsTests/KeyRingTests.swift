import Credentials
import Foundation
import Testing

private func key(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }
private func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
private let numberA = CredentialKeyRing.associatedData(numberID: "number-a")
private let numberB = CredentialKeyRing.associatedData(numberID: "number-b")

/// The reason `body` fails with, or nil when it succeeds. (Closures infer untyped `throws`,
/// so the error is cast; any other error type would make the comparison fail.)
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

@Suite struct SealingTests {
    let ring = try! CredentialKeyRing(keys: [(id: "k1", key: key(1))], activeKeyID: "k1")

    @Test func roundTrip() throws {
        let credentials = twilio(["phone_number_sid": phoneSID])
        let sealed = try ring.encrypt(credentials, associatedData: numberA)
        #expect(sealed.keyID == "k1")
        #expect(try ring.decrypt(sealed, associatedData: numberA) == credentials)
    }

    @Test func roundTripPreservesUnusualCharacters() throws {
        let credentials = ProviderCredentials(provider: "acme", fields: ["pass": "pä\"ss\\wörd/🔑", "user": "ünï"])
        let sealed = try ring.encrypt(credentials, associatedData: [])
        #expect(try ring.decrypt(sealed, associatedData: []) == credentials)
    }

    @Test func ciphertextDoesNotContainThePlaintext() throws {
        let sealed = try ring.encrypt(twilio(), associatedData: numberA)
        let haystack = Data(sealed.ciphertext)
        #expect(haystack.range(of: Data(secretToken.utf8)) == nil)
        #expect(haystack.range(of: Data(accountSID.utf8)) == nil)
        #expect(haystack.range(of: Data("twilio".utf8)) == nil)
    }

    @Test func eachEncryptionUsesAFreshNonce() throws {
        let first = try ring.encrypt(twilio(), associatedData: numberA)
        let second = try ring.encrypt(twilio(), associatedData: numberA)
        #expect(first.ciphertext != second.ciphertext)
        #expect(first.ciphertext.prefix(12) != second.ciphertext.prefix(12))
    }

    @Test func tamperedCiphertextFailsAuthentication() throws {
        let sealed = try ring.encrypt(twilio(), associatedData: numberA)
        // Flip one bit in the nonce, the body and the tag in turn.
        for index in [0, 20, sealed.ciphertext.count - 1] {
            var tampered = sealed
            tampered.ciphertext[index] ^= 0x01
            #expect(failure { try ring.decrypt(tampered, associatedData: numberA) } == .authenticationFailed(keyID: "k1"))
        }
    }

    @Test func truncatedCiphertextIsRefused() {
        let sealed = SealedCredentials(keyID: "k1", ciphertext: [1, 2, 3])
        #expect(failure { try ring.decrypt(sealed, associatedData: numberA) } == .malformedCiphertext)
    }

    @Test func wrongAssociatedDataFailsAuthentication() throws {
        let sealed = try ring.encrypt(twilio(), associatedData: numberA)
        #expect(failure { try ring.decrypt(sealed, associatedData: numberB) } == .authenticationFailed(keyID: "k1"))
    }

    @Test func unknownKeyIDIsRefused() throws {
        var sealed = try ring.encrypt(twilio(), associatedData: numberA)
        sealed.keyID = "k9"
        #expect(failure { try ring.decrypt(sealed, associatedData: numberA) } == .unknownKeyID("k9"))
        #expect(CredentialKeyRingError(.unknownKeyID("k9")).description.contains("'k9'"))
    }

    @Test func aKeyWithTheSameIDButOtherBytesFailsAuthentication() throws {
        let sealed = try ring.encrypt(twilio(), associatedData: numberA)
        let impostor = try CredentialKeyRing(keys: [(id: "k1", key: key(2))], activeKeyID: "k1")
        #expect(failure { try impostor.decrypt(sealed, associatedData: numberA) } == .authenticationFailed(keyID: "k1"))
    }
}

@Suite struct RotationTests {
    @Test func rotatesToTheActiveKey() throws {
        let old = try CredentialKeyRing(configuration: "k1:\(base64(key(1)))")
        let sealed = try old.encrypt(twilio(), associatedData: numberA)
        #expect(!old.needsRotation(sealed))

        let new = try CredentialKeyRing(configuration: "k2:\(base64(key(2))), k1:\(base64(key(1)))")
        #expect(new.activeKeyID == "k2")
        #expect(new.needsRotation(sealed))
        #expect(try new.decrypt(sealed, associatedData: numberA) == twilio())

        let rotated = try new.rotate(sealed, associatedData: numberA)
        #expect(rotated.keyID == "k2")
        #expect(!new.needsRotation(rotated))
        #expect(try new.decrypt(rotated, associatedData: numberA) == twilio())
        // Once every row is rotated, k1 can leave the ring.
        let final = try CredentialKeyRing(configuration: "k2:\(base64(key(2)))")
        #expect(try final.decrypt(rotated, associatedData: numberA) == twilio())
        #expect(try new.rotate(rotated, associatedData: numberA) == rotated)
    }

    @Test func rotationKeepsTheBindingToTheRow() throws {
        let old = try CredentialKeyRing(configuration: "k1:\(base64(key(1)))")
        let new = try CredentialKeyRing(configuration: "k2:\(base64(key(2))),k1:\(base64(key(1)))")
        let sealed = try old.encrypt(twilio(), associatedData: numberA)
        #expect(failure { try new.rotate(sealed, associatedData: numberB) } == .authenticationFailed(keyID: "k1"))
    }
}

@Suite struct KeyRingConfigurationTests {
    @Test func firstListedIsActiveUnlessNamed() throws {
        let spec = "k2:\(base64(key(2))),k1:\(base64(key(1)))"
        #expect(try CredentialKeyRing(configuration: spec).activeKeyID == "k2")
        #expect(try CredentialKeyRing(configuration: spec, activeKeyID: "").activeKeyID == "k2")
        let ring = try CredentialKeyRing(configuration: spec, activeKeyID: "k1")
        #expect(ring.activeKeyID == "k1")
        #expect(ring.keyIDs == ["k2", "k1"])
    }

    @Test func generatedSpecParses() throws {
        let spec = CredentialKeyRing.generateKeySpec(id: "2025-06")
        #expect(spec.hasPrefix("2025-06:"))
        let ring = try CredentialKeyRing(configuration: spec + "\n")
        #expect(ring.activeKeyID == "2025-06")
        #expect(CredentialKeyRing.generateKeySpec(id: "a") != CredentialKeyRing.generateKeySpec(id: "a"))
    }

    @Test(arguments: [
        ("", CredentialKeyRingError.Reason.emptyConfiguration),
        ("   ", .emptyConfiguration),
        ("k1", .malformedEntry(position: 1)),
        ("k1:", .malformedEntry(position: 1)),
        ("k1:\(base64(key(1))),", .malformedEntry(position: 2)),
        ("k 1:\(base64(key(1)))", .invalidKeyID(position: 1)),
        ("k1:not*base64!", .invalidBase64(keyID: "k1")),
        ("k1:\(base64(key(1)).dropLast())", .invalidBase64(keyID: "k1")),
        ("k1:\(base64([UInt8](repeating: 1, count: 16)))", .wrongKeyLength(keyID: "k1", byteCount: 16)),
        ("k1:\(base64([UInt8](repeating: 1, count: 33)))", .wrongKeyLength(keyID: "k1", byteCount: 33)),
        ("k1:\(base64(key(1))),k1:\(base64(key(2)))", .duplicateKeyID("k1")),
    ])
    func rejects(_ configuration: String, reason: CredentialKeyRingError.Reason) {
        #expect(failure { try CredentialKeyRing(configuration: configuration) } == reason)
    }

    @Test func missingActiveKeyIsRefused() {
        let spec = "k1:\(base64(key(1)))"
        #expect(failure { try CredentialKeyRing(configuration: spec, activeKeyID: "k2") } == .activeKeyMissing("k2"))
        #expect(failure { try CredentialKeyRing(keys: [(id: "k1", key: key(1))], activeKeyID: "k3") } == .activeKeyMissing("k3"))
    }

    @Test func errorsAndDescriptionsNeverShowKeyMaterial() {
        let encoded = base64(key(7))
        let ring = try? CredentialKeyRing(configuration: "k1:\(encoded)")
        #expect(ring.map { "\($0)" } == "CredentialKeyRing(active: k1, keys: [k1])")
        var output = ""
        dump(ring, to: &output)
        #expect(!output.contains(encoded))
        #expect(!output.contains("7, 7"))
        let error = CredentialKeyRingError(.wrongKeyLength(keyID: "k1", byteCount: 16))
        #expect(!error.description.contains(encoded))
    }
}

import Auth
import Credentials
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// Rotating the credential key ring without downtime: add a key, make it
/// active, re-encrypt, then drop the old key.
@Suite(.serialized) struct KeyRotationTests {
    @Test func rotationAcrossRestarts() async throws {
        try await RotationLock.withLock {
            let caller = Caller.admin("rotator-" + Random.token(6))
            let numbers = try await Numbers.fresh(2)
            let imported = twilioCredentials()
            let set = ["api_key": "vk-" + Random.token(8), "api_secret": "vs-" + Random.token(20)]

            // 1. Only k1.
            let old = try await InventoryServer.start(environment: ["PHONE_CREDENTIAL_KEYS": TestKeys.k1])
            let (first, second): (InventoryV1.PhoneNumber, InventoryV1.PhoneNumber)
            do {
                let api = old.api(caller)
                first = try await api.create(importItem(numbers[0]) { $0.credentials = credentials(imported) })
                let plain = try await api.create(importItem(numbers[1], provider: "vonage"))
                second = try #require(try await api.setCredentials(plain.id, set).number)
                #expect(try await AdminDB.credentialsKeyID(first.id) == "k1")
                #expect(try await AdminDB.credentialsKeyID(second.id) == "k1")
            } catch {
                await old.stop()
                throw error
            }
            await old.stop()

            // 2. k2 added and active, k1 still there to decrypt.
            let both = try await InventoryServer.start(environment: ["PHONE_CREDENTIAL_KEYS": "\(TestKeys.k2),\(TestKeys.k1)"])
            do {
                let api = both.api(caller)
                #expect(try await api.getCredentials(first.id).credentials?.fields == imported, "old-key credentials still readable")
                #expect(try await api.getCredentials(second.id).credentials?.fields == set)
                let positionBefore = try await AdminDB.events(aggregate: first.id).last?.position ?? 0

                let response = try await api.rotateKeys(batchSize: 1)
                #expect(response.activeKeyId == "k2")
                #expect(response.rotated >= 2, "\(response)")
                #expect(try await AdminDB.credentialsKeyID(first.id) == "k2")
                #expect(try await AdminDB.credentialsKeyID(second.id) == "k2")
                #expect(try await api.getCredentials(first.id).credentials?.fields == imported)
                #expect(try await api.getCredentials(second.id).credentials?.fields == set)

                // Consumers hear about the new ciphertext.
                let events = try await AdminDB.events(aggregate: first.id).filter { $0.position > positionBefore }
                let rotated = try #require(events.last { $0.type == "inventory.number.credentials_changed" })
                let payload = try InventoryV1.CredentialsChanged(serializedBytes: rotated.payload)
                #expect(payload.keyId == "k2")
                #expect(payload.numberId == first.id)
                #expect(response.consistencyToken >= UInt64(rotated.position))
                let ring = try CredentialKeyRing(configuration: ServiceProcess.testCredentialKeys)
                let opened = try ring.decrypt(SealedCredentials(keyID: payload.keyId, ciphertext: payload.ciphertext),
                                              associatedData: CredentialKeyRing.associatedData(numberID: first.id))
                #expect(opened.fields == imported)

                // Running it again finds nothing of ours left to do.
                let versions = try await [first.id, second.id].asyncMap { try await api.get(id: $0).number?.version }
                _ = try await api.rotateKeys()
                #expect(try await [first.id, second.id].asyncMap { try await api.get(id: $0).number?.version } == versions)
            } catch {
                await both.stop()
                throw error
            }
            await both.stop()

            // 3. k1 removed.
            let new = try await InventoryServer.start(environment: ["PHONE_CREDENTIAL_KEYS": TestKeys.k2])
            do {
                let api = new.api(caller)
                #expect(try await api.getCredentials(first.id).credentials?.fields == imported)
                #expect(try await api.getCredentials(second.id).credentials?.fields == set)
            } catch {
                await new.stop()
                throw error
            }
            await new.stop()
        }
    }

    @Test func activeKeyCanBeChosenExplicitly() async throws {
        try await RotationLock.withLock {
            let server = try await InventoryServer.start(environment: [
                "PHONE_CREDENTIAL_KEYS": ServiceProcess.testCredentialKeys, "PHONE_CREDENTIAL_ACTIVE_KEY": "k1",
            ])
            do {
                let api = server.api(.admin())
                let number = try await api.create(importItem(try await Numbers.fresh()) { $0.credentials = credentials(twilioCredentials()) })
                #expect(try await AdminDB.credentialsKeyID(number.id) == "k1")
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
        }
    }

    @Test func onlyPlatformAdminsRotate() async throws {
        try await RotationLock.withLock {
            let server = try await InventoryServer.start()
            for caller in [Caller.owner(Random.organization()), .service(["inventory:read", "credentials:read"])] {
                await expectRPCError(.permissionDenied, "\(caller)") { try await server.api(caller).rotateKeys() }
            }
            await server.stop()
        }
    }
}

import Credentials
import Foundation
import Outbox
import Protos
import ServiceRuntime
import Store

/// The events inventory publishes. Payloads are `InventoryV1.NumberChanged`
/// and `InventoryV1.CredentialsChanged`; credentials travel sealed only.
public enum InventoryEvents {
    public enum NumberChange: String, Sendable {
        case imported = "inventory.number.imported"
        case updated = "inventory.number.updated"
        case retired = "inventory.number.retired"
        case restored = "inventory.number.restored"
    }

    public static let credentialsChangedType = "inventory.number.credentials_changed"

    static func numberChanged(_ change: NumberChange, _ record: NumberRecord) -> NewOutboxEvent {
        let number = record.message
        var payload = InventoryV1.NumberChanged()
        payload.number = number
        return NewOutboxEvent(type: change.rawValue, aggregateID: number.id, payload: payload.serializedBytes())
    }

    /// nil `sealed` announces that the credentials were removed.
    static func credentialsChanged(_ record: NumberRecord, _ sealed: SealedCredentials?) -> NewOutboxEvent {
        var payload = InventoryV1.CredentialsChanged()
        payload.numberId = record.id.lowercasedString
        payload.provider = record.provider
        payload.keyId = sealed?.keyID ?? ""
        payload.ciphertext = sealed?.ciphertext ?? []
        payload.version = record.version
        return NewOutboxEvent(type: credentialsChangedType, aggregateID: payload.numberId, payload: payload.serializedBytes())
    }
}

import Auth
import Logging
import Credentials
import Foundation
import Outbox
import Protos
import RPC
import ServiceRuntime
import Store

/// The inventory methods: names, who may call them, and their handlers.
struct InventoryHandlers: Sendable {
    static let prefix = "phonenumbers.inventory.v1.Inventory/"
    private static let writers = AccessPolicy.authenticated(roles: [.orgOwner, .orgAdmin])
    private static let readers = AccessPolicy.authenticated(roles: [.orgOwner, .orgAdmin, .orgMember], scopes: [NumberAccess.readScope])

    var database: Database
    var outbox: Outbox
    var keyRing: CredentialKeyRing
    var idempotency: IdempotencyKeys

    func register(in router: inout RPCRouter) {
        router.register(MethodDescriptor(Self.prefix + "ImportNumbers", access: Self.writers), importNumbers)
        router.register(MethodDescriptor(Self.prefix + "GetNumber", access: Self.readers, idempotent: true), getNumber)
        router.register(MethodDescriptor(Self.prefix + "ListNumbers", access: Self.readers, idempotent: true), listNumbers)
        router.register(MethodDescriptor(Self.prefix + "UpdateNumber", access: Self.writers), updateNumber)
        router.register(MethodDescriptor(Self.prefix + "SetCredentials", access: Self.writers), setCredentials)
        router.register(MethodDescriptor(Self.prefix + "GetCredentials",
                                         access: .authenticated(roles: [], scopes: [NumberAccess.credentialsScope]), idempotent: true),
                        getCredentials)
        router.register(MethodDescriptor(Self.prefix + "RetireNumber", access: Self.writers), retireNumber)
        router.register(MethodDescriptor(Self.prefix + "RestoreNumber", access: Self.writers), restoreNumber)
        router.register(MethodDescriptor(Self.prefix + "RotateCredentialKeys", access: .authenticated(roles: [])), rotateKeys)
    }

    // MARK: Import, read

    @Sendable func importNumbers(_ request: InventoryV1.ImportNumbersRequest, _ context: RPCContext) async throws -> InventoryV1.ImportNumbersResponse {
        let caller = try context.requirePrincipal()
        let importer = Importer(outbox: outbox, keyRing: keyRing)
        return try await idempotency.run(context, request: request, database: database) { transaction in
            try await importer.run(request, caller: caller, in: transaction)
        }
    }

    @Sendable func getNumber(_ request: InventoryV1.GetNumberRequest, _ context: RPCContext) async throws -> InventoryV1.NumberResponse {
        let access = NumberAccess(try context.requirePrincipal())
        _ = try ItemValidator.regionHint(request.regionHint)
        let record: NumberRecord?
        let name: String
        switch request.key {
        case .id(let text):
            record = try await NumberStore.find(id: try RequestIDs.uuid(text, field: "id"), database: database)
            name = text
        case .number(let text):
            let e164 = try RequestIDs.e164(text, regionHint: request.regionHint)
            record = try await NumberStore.find(e164: e164, database: database)
            name = "with that E.164 form" // the same words whether it exists or is another tenant's
        case nil:
            throw RPCError.invalidArgument(field: "key", "set id or number")
        }
        guard let record, access.canRead(record) else { throw RPCError(.notFound, "no number \(name) was found") }
        var response = InventoryV1.NumberResponse()
        response.number = record.message
        return response
    }

    @Sendable func listNumbers(_ request: InventoryV1.ListNumbersRequest, _ context: RPCContext) async throws -> InventoryV1.ListNumbersResponse {
        let access = NumberAccess(try context.requirePrincipal())
        return try await NumberListing(database: database).list(request, access: access)
    }

    // MARK: Changes

    @Sendable func updateNumber(_ request: InventoryV1.UpdateNumberRequest, _ context: RPCContext) async throws -> InventoryV1.NumberResponse {
        let caller = try context.requirePrincipal()
        let id = try RequestIDs.uuid(request.id, field: "id")
        guard !request.updateMask.isEmpty else {
            throw RPCError.invalidArgument(field: "update_mask", "name at least one field to change")
        }
        return try await mutate(id, expectedVersion: request.expectedVersion, caller: caller, context: context, request: request) { record in
            try NumberPatcher.apply(request.patch ?? InventoryV1.NumberPatch(), mask: request.updateMask, to: &record, caller: caller)
            return [.numberChanged(.updated)]
        }
    }

    @Sendable func retireNumber(_ request: InventoryV1.RetireNumberRequest, _ context: RPCContext) async throws -> InventoryV1.NumberResponse {
        let caller = try context.requirePrincipal()
        let id = try RequestIDs.uuid(request.id, field: "id")
        try FieldRules.text(request.reason, field: "reason")
        return try await mutate(id, expectedVersion: request.expectedVersion, caller: caller, context: context, request: request) { record in
            guard !record.isRetired else { throw RPCError(.failedPrecondition, "number \(record.e164) is already retired") }
            record.lifecycle = "retired"
            record.retiredReason = request.reason.isEmpty ? nil : request.reason
            return [.numberChanged(.retired)]
        }
    }

    @Sendable func restoreNumber(_ request: InventoryV1.RestoreNumberRequest, _ context: RPCContext) async throws -> InventoryV1.NumberResponse {
        let caller = try context.requirePrincipal()
        let id = try RequestIDs.uuid(request.id, field: "id")
        return try await mutate(id, expectedVersion: request.expectedVersion, caller: caller, context: context, request: request) { record in
            guard record.isRetired else { throw RPCError(.failedPrecondition, "number \(record.e164) is not retired") }
            record.lifecycle = "active"
            record.retiredReason = nil
            return [.numberChanged(.restored)]
        }
    }

    @Sendable func setCredentials(_ request: InventoryV1.SetCredentialsRequest, _ context: RPCContext) async throws -> InventoryV1.NumberResponse {
        let caller = try context.requirePrincipal()
        let id = try RequestIDs.uuid(request.numberId, field: "number_id")
        let keyRing = self.keyRing
        return try await mutate(id, expectedVersion: request.expectedVersion, caller: caller, context: context, request: request) { record in
            let credentials = try ItemValidator.credentials(request.credentials, provider: record.provider)
            let sealed = try credentials.map {
                try keyRing.encrypt($0, associatedData: CredentialKeyRing.associatedData(numberID: record.id.lowercasedString))
            }
            record.credentialsKeyID = sealed?.keyID
            record.credentialsCiphertext = sealed?.ciphertext
            return [.numberChanged(.updated), .credentialsChanged(sealed)]
        }
    }

    @Sendable func getCredentials(_ request: InventoryV1.GetCredentialsRequest, _ context: RPCContext) async throws -> InventoryV1.GetCredentialsResponse {
        let access = NumberAccess(try context.requirePrincipal())
        let id = try RequestIDs.uuid(request.numberId, field: "number_id")
        guard access.canReadCredentials, let record = try await NumberStore.find(id: id, database: database) else {
            throw RPCError(.notFound, "number \(request.numberId) not found")
        }
        guard let ciphertext = record.credentialsCiphertext, let keyID = record.credentialsKeyID else {
            throw RPCError(.notFound, "number \(record.e164) has no credentials")
        }
        let credentials = try keyRing.decrypt(SealedCredentials(keyID: keyID, ciphertext: ciphertext),
                                              associatedData: CredentialKeyRing.associatedData(numberID: record.id.lowercasedString))
        context.logger.notice("credentials read", metadata: ["number.id": "\(record.id)", "principal": "\(access.principal)"])
        var response = InventoryV1.GetCredentialsResponse()
        response.numberId = record.id.lowercasedString
        response.provider = credentials.provider
        var fields = InventoryV1.Credentials()
        fields.fields = credentials.fields
        response.credentials = fields
        return response
    }

    @Sendable func rotateKeys(_ request: InventoryV1.RotateCredentialKeysRequest, _ context: RPCContext) async throws -> InventoryV1.RotateCredentialKeysResponse {
        let actor = try context.requirePrincipal().description
        let batchSize = request.batchSize == 0 ? 500 : Int(min(request.batchSize, 5_000))
        let rotation = KeyRotation(database: database, outbox: outbox, keyRing: keyRing)
        return try await rotation.run(batchSize: batchSize, actor: actor)
    }

    // MARK: Shared mutation path

    private enum Change {
        case numberChanged(InventoryEvents.NumberChange)
        case credentialsChanged(SealedCredentials?)
    }

    /// Loads and locks the number, checks access and version, lets `change`
    /// edit it, saves it and writes its events, all in one idempotent transaction.
    private func mutate<Request: ProtoMessage>(
        _ id: UUID, expectedVersion: Int64, caller: Principal, context: RPCContext, request: Request,
        _ change: @escaping @Sendable (inout NumberRecord) throws -> [Change]
    ) async throws -> InventoryV1.NumberResponse {
        let outbox = self.outbox
        return try await idempotency.run(context, request: request, database: database) { transaction in
            let access = NumberAccess(caller)
            guard var record = try await NumberStore.find(id: id, forUpdate: true, in: transaction), access.canRead(record) else {
                throw RPCError(.notFound, "number \(id.lowercasedString) not found")
            }
            guard access.canWrite(record) else {
                throw RPCError(.permissionDenied, "role \(caller.role) may not change number \(record.e164)")
            }
            if expectedVersion != 0 && expectedVersion != record.version {
                throw RPCError(.aborted, "number \(record.e164) is at version \(record.version), not \(expectedVersion): read it again and retry",
                               fieldViolations: [.init(field: "expected_version", description: "is stale (current version \(record.version))")])
            }
            let changes = try change(&record)
            record.updatedBy = caller.description
            let saved = try await NumberStore.save(record, in: transaction)
            let events = changes.map { change -> NewOutboxEvent in
                switch change {
                case .numberChanged(let kind): InventoryEvents.numberChanged(kind, saved)
                case .credentialsChanged(let sealed): InventoryEvents.credentialsChanged(saved, sealed)
                }
            }
            var response = InventoryV1.NumberResponse()
            response.number = saved.message
            response.consistencyToken = UInt64(try await outbox.append(in: transaction, events).upperBound)
            return response
        }
    }
}

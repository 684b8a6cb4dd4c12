import Foundation
import NIOCore
import Protos
import RPC

/// One client per service for the length of a command.
struct Session: Sendable {
    let inventory: RPCClient
    let assignment: RPCClient
    let lookup: RPCClient
    let timeout: TimeAmount

    /// Calls `service`'s `method`. With an idempotency key the call is safe to
    /// retry, so the client may retry it after UNAVAILABLE.
    func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ service: ServiceName, _ method: String, _ request: Request, as type: Response.Type = Response.self,
        idempotencyKey: String? = nil, idempotent: Bool = false, timeout: TimeAmount? = nil
    ) async throws(RPCError) -> Response {
        let client = switch service {
        case .inventory: inventory
        case .assignment: assignment
        case .lookup: lookup
        }
        var metadata: [String: String] = [:]
        if let idempotencyKey { metadata[MetadataKey.idempotencyKey] = idempotencyKey }
        return try await client.unary(service.methodPrefix + method, request, as: type, metadata: metadata,
                                      timeout: timeout ?? self.timeout, idempotent: idempotent || idempotencyKey != nil)
    }

    func close() {
        inventory.close()
        assignment.close()
        lookup.close()
    }

    /// The inventory id of a number given either as its id or in any written
    /// form ("+1 415 555 0100"), so every command accepts both.
    func numberID(_ text: String, regionHint: String = "") async throws(RPCError) -> String {
        if UUIDText.isUUID(text) { return text.lowercased() }
        var request = InventoryV1.GetNumberRequest()
        request.key = .number(text)
        request.regionHint = regionHint
        let response = try await call(.inventory, "GetNumber", request, as: InventoryV1.NumberResponse.self, idempotent: true)
        guard let id = response.number?.id else { throw RPCError(.notFound, "no number \(text) was found") }
        return id
    }
}

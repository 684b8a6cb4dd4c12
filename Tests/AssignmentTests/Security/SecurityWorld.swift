import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Synchronization
import Testing
import TestSupport

/// The three services of the suite's stack plus a lookup process, as one
/// system: what the security tests call.
struct ThreeServices: Sendable {
    enum Service: String, CaseIterable, Sendable {
        case inventory, assignment, lookup
    }

    let stack: AssignmentStack
    let lookup: LookupReplica

    static func start(_ stack: AssignmentStack, lookupEnvironment: [String: String] = [:]) async throws -> ThreeServices {
        ThreeServices(stack: stack, lookup: try await LookupReplica.start(stack, environment: lookupEnvironment))
    }

    func stop() async { await lookup.process.terminate() }

    func process(_ service: Service) -> ServiceProcess {
        switch service {
        case .inventory: stack.inventory
        case .assignment: stack.assignment
        case .lookup: lookup.process
        }
    }

    /// A client of `service` calling as `principal` (no token when nil).
    func client(_ service: Service, _ principal: Principal?) -> RPCClient {
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: process(service).port))
        if let principal { client.setBearerToken(stack.signer.token(for: principal)) }
        return client
    }

    /// Every method `service` lists through Reflection/ListMethods.
    func listedMethods(_ service: Service) async throws -> [RpcV1.MethodDescriptor] {
        let client = client(service, nil)
        defer { client.close() }
        return try await client.unary(StandardMethod.listMethods, RpcV1.ListMethodsRequest(),
                                      as: RpcV1.ListMethodsResponse.self).methods
    }
}

/// One typed call whose request and answer are kept as bytes, so tests can
/// search both for data that must not be there.
struct Exchange: Sendable {
    var request: [UInt8]
    var response: [UInt8]
}

/// A call that failed, with the request it failed on.
struct FailedExchange: Error {
    var request: [UInt8]
    var error: RPCError
}

extension RPCClient {
    /// Calls `method`; its answer, or `FailedExchange` with its status.
    func exchange<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as type: Response.Type, timeout: TimeAmount = .seconds(20)
    ) async throws(FailedExchange) -> Exchange {
        do {
            let response = try await unary(method, request, as: type, timeout: timeout)
            return Exchange(request: request.serializedBytes(), response: response.serializedBytes())
        } catch {
            throw FailedExchange(request: request.serializedBytes(), error: error)
        }
    }
}

/// Numbers of a block that nobody has imported, handed out once each.
final class UnusedNumbers: Sendable {
    private let free: Mutex<[String]>

    /// The numbers of `block` other than `taken`.
    init(_ block: Block, taken: Set<String>) {
        free = Mutex((0..<1000).map(block.number).filter { !taken.contains($0) }.shuffled())
    }

    func next() throws -> String {
        guard let number = free.withLock({ $0.popLast() }) else { throw ServiceProcessError("no unused number left") }
        return number
    }
}

/// An organisation's data in all three services: what another organisation
/// must never see.
struct OrganizationData: Sendable {
    var id: String
    var agent: AssignmentV1.Agent
    /// A pool number allocated to it, connected to `agent`, with a schedule.
    var connected: AssignmentV1.PoolNumber
    /// A number it brought itself, labelled and with credentials.
    var owned: InventoryV1.ImportResult
    var ownedLabel: String
    /// A live hold on one pool number.
    var holdID: String

    /// Every text that identifies this organisation's data in an answer.
    var markers: [String] {
        [id, "ext-" + id, "Test organisation " + id, agent.id, agent.name, agent.externalAssistantId,
         connected.numberId, connected.e164, owned.numberId, owned.e164, ownedLabel, holdID]
    }
}

/// Inventory calls the security tests make beyond `InventoryAPI`'s.
extension InventoryAPI {
    static func method(_ name: String) -> String { prefix + name }

    func label(_ id: String, _ label: String) async throws(RPCError) {
        var request = InventoryV1.UpdateNumberRequest()
        request.id = id
        request.patch = .with { $0.label = label }
        request.updateMask = ["label"]
        _ = try await client.unary(Self.prefix + "UpdateNumber", request, as: InventoryV1.NumberResponse.self)
    }

    func setCredentials(_ id: String, _ fields: [String: String]) async throws(RPCError) -> InventoryV1.NumberResponse {
        var request = InventoryV1.SetCredentialsRequest()
        request.numberId = id
        request.credentials = .with { $0.fields = fields }
        return try await client.unary(Self.prefix + "SetCredentials", request, as: InventoryV1.NumberResponse.self)
    }

    func get(_ id: String) async throws(RPCError) -> InventoryV1.PhoneNumber {
        var request = InventoryV1.GetNumberRequest()
        request.key = .id(id)
        return try await client.unary(Self.prefix + "GetNumber", request, as: InventoryV1.NumberResponse.self).number
            ?? InventoryV1.PhoneNumber()
    }
}

extension Fixtures {
    /// An organisation with an agent, a connected number with a schedule, an
    /// owned number with a label and credentials, and a hold; `pool` offers
    /// the hold's number.
    func organizationData(holdFrom pool: Block) async throws -> OrganizationData {
        let id = try await organization(policy: .many)
        let agent = try await agent(of: id)
        let connected = try await allocated(1, to: id)[0]
        _ = try await admin.connect(connected.numberId, agent: agent.id)
        var schedule = AssignmentV1.Schedule()
        schedule.numberId = connected.numberId
        schedule.rules = [.with {
            $0.days = [.monday]
            $0.start = "09:00"
            $0.end = "17:00"
            $0.target = .with { $0.target = .agentId(agent.id) }
        }]
        _ = try await admin.setSchedule(schedule)
        let owned = try await self.owned(1, by: id).numbers[0]
        let label = "label-of-" + id
        try await inventory.label(owned.numberId, label)
        _ = try await inventory.setCredentials(owned.numberId, ["account_sid": "AC" + String(repeating: "0", count: 32),
                                                                "auth_token": "token-" + Random.token(16)])
        let hold = try #require(try await admin.reserve(matching: pool.filter, count: 1, organization: id, holdSeconds: 3_600).hold)
        return OrganizationData(id: id, agent: agent, connected: connected, owned: owned, ownedLabel: label, holdID: hold.id)
    }
}

import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Testing
import TestSupport

/// Typed calls of every assignment method.
final class AssignmentAPI: Sendable {
    static let prefix = "phonenumbers.assignment.v1.Assignment/"
    let client: RPCClient
    let caller: Caller?

    init(client: RPCClient, caller: Caller?) {
        self.client = client
        self.caller = caller
    }

    deinit { client.close() }

    func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as type: Response.Type, key: String? = nil
    ) async throws(RPCError) -> Response {
        var metadata: [String: String] = [:]
        if let key { metadata[MetadataKey.idempotencyKey] = key }
        return try await client.unary(Self.prefix + method, request, as: type, metadata: metadata, timeout: .seconds(30))
    }

    // MARK: Directory

    func upsertOrganization(_ organization: AssignmentV1.Organization, key: String? = nil) async throws(RPCError) -> AssignmentV1.OrganizationResponse {
        var request = AssignmentV1.UpsertOrganizationRequest()
        request.organization = organization
        return try await call("UpsertOrganization", request, as: AssignmentV1.OrganizationResponse.self, key: key)
    }

    func deleteOrganization(_ id: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.MutationResponse {
        var request = AssignmentV1.DeleteOrganizationRequest()
        request.id = id
        return try await call("DeleteOrganization", request, as: AssignmentV1.MutationResponse.self, key: key)
    }

    func upsertAgent(_ agent: AssignmentV1.Agent, key: String? = nil) async throws(RPCError) -> AssignmentV1.AgentResponse {
        var request = AssignmentV1.UpsertAgentRequest()
        request.agent = agent
        return try await call("UpsertAgent", request, as: AssignmentV1.AgentResponse.self, key: key)
    }

    func deleteAgent(_ id: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.MutationResponse {
        var request = AssignmentV1.DeleteAgentRequest()
        request.id = id
        return try await call("DeleteAgent", request, as: AssignmentV1.MutationResponse.self, key: key)
    }

    func listAgents(_ organization: String) async throws(RPCError) -> AssignmentV1.ListAgentsResponse {
        var request = AssignmentV1.ListAgentsRequest()
        request.organizationId = organization
        return try await call("ListAgents", request, as: AssignmentV1.ListAgentsResponse.self)
    }

    // MARK: Pool

    func search(_ filter: AssignmentV1.NumberFilter, pageSize: UInt32 = 0, pageToken: String = "") async throws(RPCError) -> AssignmentV1.SearchAvailableResponse {
        var request = AssignmentV1.SearchAvailableRequest()
        request.filter = filter
        request.pageSize = pageSize
        request.pageToken = pageToken
        return try await call("SearchAvailable", request, as: AssignmentV1.SearchAvailableResponse.self)
    }

    /// Every page of a search, in order.
    func searchAll(_ filter: AssignmentV1.NumberFilter, pageSize: UInt32 = 0) async throws -> [AssignmentV1.PoolNumber] {
        var all: [AssignmentV1.PoolNumber] = []
        var token = ""
        for _ in 0..<1_000 {
            let page = try await search(filter, pageSize: pageSize, pageToken: token)
            all += page.numbers
            if page.nextPageToken.isEmpty { return all }
            token = page.nextPageToken
        }
        throw ServiceProcessError("search did not end")
    }

    /// Whether SearchAvailable offers exactly this number now.
    func isAvailable(_ e164: String) async throws -> Bool {
        try await search(.prefix(String(e164.dropFirst())), pageSize: 10).numbers.contains { $0.e164 == e164 }
    }

    func reserve(ids: [String], organization: String = "", holdSeconds: UInt32 = 0,
                 key: String? = nil) async throws(RPCError) -> AssignmentV1.HoldResponse {
        try await call("Reserve", Self.reserveRequest(ids: ids, organization: organization, holdSeconds: holdSeconds),
                       as: AssignmentV1.HoldResponse.self, key: key)
    }

    func reserve(matching filter: AssignmentV1.NumberFilter, count: UInt32, organization: String = "",
                 holdSeconds: UInt32 = 0, key: String? = nil) async throws(RPCError) -> AssignmentV1.HoldResponse {
        try await call("Reserve", Self.reserveRequest(matching: filter, count: count, organization: organization, holdSeconds: holdSeconds),
                       as: AssignmentV1.HoldResponse.self, key: key)
    }

    func confirm(_ holdID: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.AssignedNumbersResponse {
        var request = AssignmentV1.ConfirmHoldRequest()
        request.holdId = holdID
        return try await call("ConfirmHold", request, as: AssignmentV1.AssignedNumbersResponse.self, key: key)
    }

    func cancel(_ holdID: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.MutationResponse {
        var request = AssignmentV1.CancelHoldRequest()
        request.holdId = holdID
        return try await call("CancelHold", request, as: AssignmentV1.MutationResponse.self, key: key)
    }

    func allocate(ids: [String], organization: String = "", key: String? = nil) async throws(RPCError) -> AssignmentV1.AssignedNumbersResponse {
        try await call("Allocate", Self.reserveRequest(ids: ids, organization: organization, holdSeconds: 0),
                       as: AssignmentV1.AssignedNumbersResponse.self, key: key)
    }

    func allocate(matching filter: AssignmentV1.NumberFilter, count: UInt32, organization: String = "",
                  key: String? = nil) async throws(RPCError) -> AssignmentV1.AssignedNumbersResponse {
        try await call("Allocate", Self.reserveRequest(matching: filter, count: count, organization: organization, holdSeconds: 0),
                       as: AssignmentV1.AssignedNumbersResponse.self, key: key)
    }

    func release(_ numberID: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.MutationResponse {
        var request = AssignmentV1.ReleaseRequest()
        request.numberId = numberID
        return try await call("Release", request, as: AssignmentV1.MutationResponse.self, key: key)
    }

    static func reserveRequest(ids: [String], organization: String, holdSeconds: UInt32) -> AssignmentV1.ReserveRequest {
        var request = AssignmentV1.ReserveRequest()
        request.organizationId = organization
        var numbers = AssignmentV1.NumberIds()
        numbers.ids = ids
        request.selection = .numbers(numbers)
        request.holdSeconds = holdSeconds
        return request
    }

    static func reserveRequest(matching filter: AssignmentV1.NumberFilter, count: UInt32, organization: String,
                               holdSeconds: UInt32) -> AssignmentV1.ReserveRequest {
        var request = AssignmentV1.ReserveRequest()
        request.organizationId = organization
        var selection = AssignmentV1.FilteredSelection()
        selection.filter = filter
        selection.count = count
        request.selection = .matching(selection)
        request.holdSeconds = holdSeconds
        return request
    }

    // MARK: Connections and schedules

    func connect(_ numberID: String, agent: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.AssignedNumberResponse {
        var request = AssignmentV1.ConnectAgentRequest()
        request.numberId = numberID
        request.agentId = agent
        return try await call("ConnectAgent", request, as: AssignmentV1.AssignedNumberResponse.self, key: key)
    }

    func disconnect(_ numberID: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.AssignedNumberResponse {
        var request = AssignmentV1.DisconnectAgentRequest()
        request.numberId = numberID
        return try await call("DisconnectAgent", request, as: AssignmentV1.AssignedNumberResponse.self, key: key)
    }

    func setSchedule(_ schedule: AssignmentV1.Schedule, key: String? = nil) async throws(RPCError) -> AssignmentV1.ScheduleResponse {
        var request = AssignmentV1.SetScheduleRequest()
        request.schedule = schedule
        return try await call("SetSchedule", request, as: AssignmentV1.ScheduleResponse.self, key: key)
    }

    func getSchedule(_ numberID: String) async throws(RPCError) -> AssignmentV1.ScheduleResponse {
        var request = AssignmentV1.GetScheduleRequest()
        request.numberId = numberID
        return try await call("GetSchedule", request, as: AssignmentV1.ScheduleResponse.self)
    }

    func deleteSchedule(_ numberID: String, key: String? = nil) async throws(RPCError) -> AssignmentV1.MutationResponse {
        var request = AssignmentV1.DeleteScheduleRequest()
        request.numberId = numberID
        return try await call("DeleteSchedule", request, as: AssignmentV1.MutationResponse.self, key: key)
    }

    // MARK: Queries

    func listNumbers(_ organization: String = "", pageSize: UInt32 = 0,
                     pageToken: String = "") async throws(RPCError) -> AssignmentV1.ListOrganizationNumbersResponse {
        var request = AssignmentV1.ListOrganizationNumbersRequest()
        request.organizationId = organization
        request.pageSize = pageSize
        request.pageToken = pageToken
        return try await call("ListOrganizationNumbers", request, as: AssignmentV1.ListOrganizationNumbersResponse.self)
    }

    /// Every page of an organisation's numbers.
    func listAllNumbers(_ organization: String = "", pageSize: UInt32 = 0) async throws -> [AssignmentV1.AssignedNumber] {
        var all: [AssignmentV1.AssignedNumber] = []
        var token = ""
        for _ in 0..<1_000 {
            let page = try await listNumbers(organization, pageSize: pageSize, pageToken: token)
            all += page.numbers
            if page.nextPageToken.isEmpty { return all }
            token = page.nextPageToken
        }
        throw ServiceProcessError("listing did not end")
    }

    func summary(_ organization: String = "") async throws(RPCError) -> AssignmentV1.Summary {
        var request = AssignmentV1.GetSummaryRequest()
        request.organizationId = organization
        return try await call("GetSummary", request, as: AssignmentV1.Summary.self)
    }

    func history(number: String = "", organization: String = "", pageSize: UInt32 = 0,
                 pageToken: String = "") async throws(RPCError) -> AssignmentV1.GetHistoryResponse {
        var request = AssignmentV1.GetHistoryRequest()
        request.numberId = number
        request.organizationId = organization
        request.pageSize = pageSize
        request.pageToken = pageToken
        return try await call("GetHistory", request, as: AssignmentV1.GetHistoryResponse.self)
    }

    /// Every page of a history.
    func historyAll(number: String = "", organization: String = "", pageSize: UInt32 = 0) async throws -> [AssignmentV1.HistoryEntry] {
        var all: [AssignmentV1.HistoryEntry] = []
        var token = ""
        for _ in 0..<1_000 {
            let page = try await history(number: number, organization: organization, pageSize: pageSize, pageToken: token)
            all += page.entries
            if page.nextPageToken.isEmpty { return all }
            token = page.nextPageToken
        }
        throw ServiceProcessError("history did not end")
    }
}

/// The few inventory calls these tests need.
final class InventoryAPI: Sendable {
    static let prefix = "phonenumbers.inventory.v1.Inventory/"
    let client: RPCClient

    init(client: RPCClient) {
        self.client = client
    }

    deinit { client.close() }

    func importNumbers(_ items: [InventoryV1.ImportItem]) async throws(RPCError) -> InventoryV1.ImportNumbersResponse {
        var request = InventoryV1.ImportNumbersRequest()
        request.items = items
        return try await client.unary(Self.prefix + "ImportNumbers", request, as: InventoryV1.ImportNumbersResponse.self,
                                      timeout: .seconds(30))
    }

    func list(query: String, pageSize: UInt32 = 1) async throws(RPCError) -> InventoryV1.ListNumbersResponse {
        var request = InventoryV1.ListNumbersRequest()
        request.query = query
        request.pageSize = pageSize
        return try await client.unary(Self.prefix + "ListNumbers", request, as: InventoryV1.ListNumbersResponse.self)
    }

    /// Sets (or with "" clears) the organisation that owns a number.
    func setOwner(_ id: String, _ owner: String) async throws(RPCError) -> InventoryV1.NumberResponse {
        var patch = InventoryV1.NumberPatch()
        patch.ownerOrganizationId = owner
        var request = InventoryV1.UpdateNumberRequest()
        request.id = id
        request.patch = patch
        request.updateMask = ["owner_organization_id"]
        return try await client.unary(Self.prefix + "UpdateNumber", request, as: InventoryV1.NumberResponse.self)
    }

    func retire(_ id: String) async throws(RPCError) -> InventoryV1.NumberResponse {
        var request = InventoryV1.RetireNumberRequest()
        request.id = id
        request.reason = "test"
        return try await client.unary(Self.prefix + "RetireNumber", request, as: InventoryV1.NumberResponse.self)
    }
}

extension AssignmentV1.NumberFilter {
    /// Numbers whose digits after "+" start with `digits`.
    static func prefix(_ digits: String) -> Self {
        var filter = Self()
        filter.prefix = digits
        return filter
    }
}

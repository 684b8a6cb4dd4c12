import Auth
import Foundation
import NIOCore
import Protos
import RPC
import Testing
import TestSupport

/// The JWT secret every inventory process in these tests is started with.
let inventoryTestSecret = "inventory-tests-secret-0123456789abcdef"

/// Single test keys, so a test can start inventory with only one of them.
enum TestKeys {
    static let k1 = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
    static let k2 = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
}

/// One running `inventory` process, its token signer and clients for it.
final class InventoryServer: Sendable {
    let process: ServiceProcess
    let signer = TokenSigner(hs256Secret: Array(inventoryTestSecret.utf8))

    /// The server of the enclosing suite (see `.inventoryProcess`).
    @TaskLocal static var current: InventoryServer?

    /// The suite's server; fails the test when the suite has none.
    static var shared: InventoryServer {
        get throws {
            guard let current else { throw ServiceProcessError("no inventory process: add .inventoryProcess to the suite") }
            return current
        }
    }

    private init(process: ServiceProcess) {
        self.process = process
    }

    /// Starts inventory (a small pool, so many processes fit under the server's
    /// connection limit) and waits until it answers health checks.
    static func start(environment: [String: String] = [:]) async throws -> InventoryServer {
        var env = ["PG_POOL_SIZE": "4"]
        env.merge(environment) { _, new in new }
        let server = InventoryServer(process: try ServiceProcess("inventory", jwtSecret: inventoryTestSecret, environment: env))
        do {
            try await server.process.waitUntilHealthy(timeout: .seconds(30))
        } catch {
            await server.stop()
            throw error
        }
        return server
    }

    /// SIGTERM, waiting for a clean exit.
    func stop() async {
        await process.terminate()
    }

    var target: RPCTarget { RPCTarget(host: "127.0.0.1", port: process.port) }

    /// A client calling as `caller` (no token when nil).
    func api(_ caller: Caller?) -> InventoryAPI {
        let client = RPCClient(target: target)
        if let caller { client.setBearerToken(signer.token(for: caller.principal)) }
        return InventoryAPI(client: client)
    }

    /// A client with a raw `authorization` token (for malformed or foreign tokens).
    func api(rawToken: String) -> InventoryAPI {
        let client = RPCClient(target: target)
        client.setBearerToken(rawToken)
        return InventoryAPI(client: client)
    }

}

/// Runs a whole suite against one inventory process, started before its first
/// test and stopped after its last.
struct InventoryProcessTrait: SuiteTrait, TestScoping {
    var environment: [String: String] = [:]
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let server = try await InventoryServer.start(environment: environment)
        do {
            try await InventoryServer.$current.withValue(server) { try await function() }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

extension Trait where Self == InventoryProcessTrait {
    /// One inventory process for the suite, with the test key ring (k2 active).
    static var inventoryProcess: Self { InventoryProcessTrait() }
}

/// Who calls: a principal for a token.
struct Caller: Sendable, CustomStringConvertible {
    var principal: Principal

    static func admin(_ subject: String = "admin-" + Random.token(6)) -> Caller {
        Caller(principal: Principal(subject: subject, role: .platformAdmin, expiresAt: .distantFuture))
    }

    static func org(_ role: Role, _ organization: String, subject: String = "user-" + Random.token(6)) -> Caller {
        Caller(principal: Principal(subject: subject, role: role, organizationID: organization, expiresAt: .distantFuture))
    }

    static func owner(_ organization: String) -> Caller { org(.orgOwner, organization) }
    static func orgAdmin(_ organization: String) -> Caller { org(.orgAdmin, organization) }
    static func member(_ organization: String) -> Caller { org(.orgMember, organization) }

    static func service(_ scopes: Set<String>, subject: String = "svc-" + Random.token(6)) -> Caller {
        Caller(principal: Principal(subject: subject, role: .service, scopes: scopes, expiresAt: .distantFuture))
    }

    var description: String {
        var text = principal.role.rawValue
        if let organization = principal.organizationID { text += "@" + organization }
        if !principal.scopes.isEmpty { text += "[" + principal.scopes.sorted().joined(separator: " ") + "]" }
        return text
    }
}

/// Typed calls of every inventory method.
final class InventoryAPI: Sendable {
    static let prefix = "phonenumbers.inventory.v1.Inventory/"
    let client: RPCClient

    init(client: RPCClient) {
        self.client = client
    }

    deinit { client.close() }

    func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as type: Response.Type, key: String? = nil
    ) async throws(RPCError) -> Response {
        var metadata: [String: String] = [:]
        if let key { metadata[MetadataKey.idempotencyKey] = key }
        return try await client.unary(Self.prefix + method, request, as: type, metadata: metadata, timeout: .seconds(30))
    }

    func importNumbers(_ items: [InventoryV1.ImportItem], key: String? = nil) async throws(RPCError) -> InventoryV1.ImportNumbersResponse {
        var request = InventoryV1.ImportNumbersRequest()
        request.items = items
        return try await call("ImportNumbers", request, as: InventoryV1.ImportNumbersResponse.self, key: key)
    }

    /// Imports one item and requires it to be created; returns the number.
    func create(_ item: InventoryV1.ImportItem, sourceLocation: SourceLocation = #_sourceLocation) async throws -> InventoryV1.PhoneNumber {
        let response = try await importNumbers([item])
        let result = try #require(response.results.first, sourceLocation: sourceLocation)
        try #require(result.outcome == .created, "import of \(item.number): \(result)", sourceLocation: sourceLocation)
        return try #require(try await get(id: result.numberId).number, sourceLocation: sourceLocation)
    }

    func get(id: String) async throws(RPCError) -> InventoryV1.NumberResponse {
        var request = InventoryV1.GetNumberRequest()
        request.key = .id(id)
        return try await call("GetNumber", request, as: InventoryV1.NumberResponse.self)
    }

    func get(number: String, regionHint: String = "") async throws(RPCError) -> InventoryV1.NumberResponse {
        var request = InventoryV1.GetNumberRequest()
        request.key = .number(number)
        request.regionHint = regionHint
        return try await call("GetNumber", request, as: InventoryV1.NumberResponse.self)
    }

    func list(_ request: InventoryV1.ListNumbersRequest) async throws(RPCError) -> InventoryV1.ListNumbersResponse {
        try await call("ListNumbers", request, as: InventoryV1.ListNumbersResponse.self)
    }

    /// Every page of a listing, in order.
    func listAll(_ request: InventoryV1.ListNumbersRequest) async throws -> [InventoryV1.PhoneNumber] {
        var request = request
        var all: [InventoryV1.PhoneNumber] = []
        for _ in 0..<10_000 {
            let page = try await list(request)
            all += page.numbers
            if page.nextPageToken.isEmpty { return all }
            request.pageToken = page.nextPageToken
        }
        throw ServiceProcessError("listing did not end")
    }

    func update(_ id: String, expectedVersion: Int64 = 0, mask: [String], key: String? = nil,
                _ edit: (inout InventoryV1.NumberPatch) -> Void) async throws(RPCError) -> InventoryV1.NumberResponse {
        var patch = InventoryV1.NumberPatch()
        edit(&patch)
        var request = InventoryV1.UpdateNumberRequest()
        request.id = id
        request.expectedVersion = expectedVersion
        request.patch = patch
        request.updateMask = mask
        return try await call("UpdateNumber", request, as: InventoryV1.NumberResponse.self, key: key)
    }

    func setCredentials(_ id: String, _ fields: [String: String], expectedVersion: Int64 = 0,
                        key: String? = nil) async throws(RPCError) -> InventoryV1.NumberResponse {
        var request = InventoryV1.SetCredentialsRequest()
        request.numberId = id
        request.expectedVersion = expectedVersion
        var credentials = InventoryV1.Credentials()
        credentials.fields = fields
        request.credentials = credentials
        return try await call("SetCredentials", request, as: InventoryV1.NumberResponse.self, key: key)
    }

    func getCredentials(_ id: String) async throws(RPCError) -> InventoryV1.GetCredentialsResponse {
        var request = InventoryV1.GetCredentialsRequest()
        request.numberId = id
        return try await call("GetCredentials", request, as: InventoryV1.GetCredentialsResponse.self)
    }

    func retire(_ id: String, expectedVersion: Int64 = 0, reason: String = "", key: String? = nil) async throws(RPCError) -> InventoryV1.NumberResponse {
        var request = InventoryV1.RetireNumberRequest()
        request.id = id
        request.expectedVersion = expectedVersion
        request.reason = reason
        return try await call("RetireNumber", request, as: InventoryV1.NumberResponse.self, key: key)
    }

    func restore(_ id: String, expectedVersion: Int64 = 0, key: String? = nil) async throws(RPCError) -> InventoryV1.NumberResponse {
        var request = InventoryV1.RestoreNumberRequest()
        request.id = id
        request.expectedVersion = expectedVersion
        return try await call("RestoreNumber", request, as: InventoryV1.NumberResponse.self, key: key)
    }

    func rotateKeys(batchSize: UInt32 = 0) async throws(RPCError) -> InventoryV1.RotateCredentialKeysResponse {
        var request = InventoryV1.RotateCredentialKeysRequest()
        request.batchSize = batchSize
        return try await call("RotateCredentialKeys", request, as: InventoryV1.RotateCredentialKeysResponse.self)
    }
}

/// An import item with the usual defaults (twilio, pool), edited by `edit`.
func importItem(_ number: String, provider: String = "twilio",
                _ edit: (inout InventoryV1.ImportItem) -> Void = { _ in }) -> InventoryV1.ImportItem {
    var item = InventoryV1.ImportItem()
    item.number = number
    item.provider = provider
    edit(&item)
    return item
}

func credentials(_ fields: [String: String]) -> InventoryV1.Credentials {
    var credentials = InventoryV1.Credentials()
    credentials.fields = fields
    return credentials
}

func capabilities(voice: Bool = false, sms: Bool = false, mms: Bool = false, fax: Bool = false) -> InventoryV1.Capabilities {
    var capabilities = InventoryV1.Capabilities()
    capabilities.voice = voice
    capabilities.sms = sms
    capabilities.mms = mms
    capabilities.fax = fax
    return capabilities
}

/// Valid Twilio credentials; `authToken` is the secret.
func twilioCredentials(authToken: String = "token-" + Random.token(16)) -> [String: String] {
    ["account_sid": "AC" + Random.hex(32), "auth_token": authToken]
}

/// Expects `body` to fail with `code` (and, when given, a violation of
/// `field`); returns the error for further checks.
@discardableResult
func expectRPCError<T>(
    _ code: RPCError.Code, field: String? = nil, _ comment: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> RPCError? {
    do {
        let value = try await body()
        Issue.record("expected \(code)\(field.map { " on \($0)" } ?? ""), but the call succeeded: \(value) \(comment())",
                     sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        #expect(error.code == code, "\(error) \(comment())", sourceLocation: sourceLocation)
        if let field {
            #expect(error.fieldViolations.contains { $0.field == field },
                    "expected a violation of \(field): \(error) \(comment())", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected \(code), got \(error) \(comment())", sourceLocation: sourceLocation)
        return nil
    }
}

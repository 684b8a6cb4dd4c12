import Auth
import Foundation
import NIOCore
import Store
import Protos
import RPC
import Testing
import TestSupport

/// The JWT secret both processes of these tests are started with.
let assignmentTestSecret = "assignment-tests-secret-0123456789abcdef"

/// The release cool-down the assignment process runs with (seconds).
let releaseCooldownSeconds = 2

/// How long a change in inventory may take to reach assignment's projection.
let propagationBound: Duration = .seconds(20)

/// One `inventory` and one `assignment` process; assignment follows
/// inventory's event feed.
final class AssignmentStack: Sendable {
    let inventory: ServiceProcess
    let assignment: ServiceProcess
    let signer = TokenSigner(hs256Secret: Array(assignmentTestSecret.utf8))

    /// The stack of the enclosing suite (see `.assignmentStack`).
    @TaskLocal static var current: AssignmentStack?

    /// The suite's stack; fails the test when the suite has none.
    static var shared: AssignmentStack {
        get throws {
            guard let current else { throw ServiceProcessError("no assignment stack: nest the suite in AssignmentTests") }
            return current
        }
    }

    init(inventory: ServiceProcess, assignment: ServiceProcess) {
        self.inventory = inventory
        self.assignment = assignment
    }

    /// Starts inventory, then assignment pointed at it, and waits until both
    /// answer health checks. `environment` goes to both (e.g. another Postgres).
    static func start(environment: [String: String] = [:]) async throws -> AssignmentStack {
        let inventory = try ServiceProcess("inventory", jwtSecret: assignmentTestSecret,
                                           environment: ["PG_POOL_SIZE": "4"].merging(environment) { _, new in new })
        do {
            try await inventory.waitUntilHealthy()
            let assignment = try ServiceProcess("assignment", jwtSecret: assignmentTestSecret, environment: [
                "PG_POOL_SIZE": "8",
                "PHONE_INVENTORY_ADDR": "127.0.0.1:\(inventory.port)",
                "PHONE_RELEASE_COOLDOWN_SECONDS": String(releaseCooldownSeconds),
            ].merging(environment) { _, new in new })
            let stack = AssignmentStack(inventory: inventory, assignment: assignment)
            do {
                try await assignment.waitUntilHealthy()
            } catch {
                await stack.stop()
                throw error
            }
            return stack
        } catch {
            await inventory.terminate()
            throw error
        }
    }

    /// SIGTERM to both, assignment first.
    func stop() async {
        await assignment.terminate()
        await inventory.terminate()
    }

    /// A client of the assignment service calling as `caller` (no token when nil).
    func api(_ caller: Caller?) -> AssignmentAPI {
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: assignment.port))
        if let caller { client.setBearerToken(signer.token(for: caller.principal)) }
        return AssignmentAPI(client: client, caller: caller)
    }

    /// A platform-admin client of the inventory service.
    func inventoryAdmin() -> InventoryAPI {
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: inventory.port))
        client.setBearerToken(signer.token(for: Caller.admin().principal))
        return InventoryAPI(client: client)
    }

    /// How far assignment has followed inventory's events (read as the
    /// superuser), for failure messages.
    func feedProgress() async -> String {
        do {
            return try await TestPostgres.withAdmin(maxConnections: 1) { database in
                let rows = try await database.query("""
                    SELECT (SELECT position FROM assignment.consumer_positions WHERE stream = 'inventory') AS applied,
                           (SELECT max(position) FROM inventory.outbox) AS head
                    """)
                let applied = try rows.first?.decode(Int64?.self, column: "applied")
                let head = try rows.first?.decode(Int64?.self, column: "head")
                return "assignment applied inventory events up to \(applied.map(String.init) ?? "none") of \(head.map(String.init) ?? "none")"
            }
        } catch {
            return "feed progress unknown: \(error)"
        }
    }

    /// Both processes' logs, for failure messages.
    var logs: String {
        "--- assignment log:\n\(assignment.log.suffix(6000))\n--- inventory log:\n\(inventory.log.suffix(3000))"
    }

}

/// Runs a suite (and every suite nested in it) against one stack, started
/// before its first test and stopped after its last.
struct AssignmentStackTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let stack = try await AssignmentStack.start()
        do {
            try await AssignmentStack.$current.withValue(stack) { try await function() }
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }
}

extension Trait where Self == AssignmentStackTrait {
    /// One inventory and one assignment process for the suite.
    static var assignmentStack: Self { AssignmentStackTrait() }
}

/// Every suite of this target is nested here, so one pair of processes
/// serves them all.
@Suite(.assignmentStack) struct AssignmentTests {}

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

    /// What the audit records as the actor: `role:subject[@org]`.
    var actor: String { principal.description }

    var description: String { principal.description }
}

/// Random names: the database is shared and never reset, so every test uses
/// numbers and organisations nobody else uses.
enum Random {
    static func token(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }

    static func digits(_ length: Int) -> String {
        String((0..<length).map { _ in Character(String(Int.random(in: 0...9))) })
    }

    static func organization() -> String { "org-" + token(12) }
    static func agent() -> String { "agent-" + token(12) }
    static func key() -> String { "key-" + UUID().uuidString }
}

/// Expects `body` to fail with one of `codes` (and, when given, a violation
/// whose field contains `field`); returns the error for further checks.
@discardableResult
func expectRPCError<T>(
    _ codes: Set<RPCError.Code>, field: String? = nil, _ comment: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> RPCError? {
    do {
        let value = try await body()
        let expected = codes.map(\.description).sorted().joined(separator: " or ") + (field.map { " on " + $0 } ?? "")
        Issue.record("expected \(expected), but the call succeeded: \(value) \(comment())", sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        #expect(codes.contains(error.code), "\(error) \(comment())", sourceLocation: sourceLocation)
        if let field {
            #expect(error.fieldViolations.contains { $0.field.contains(field) } || error.message.contains(field),
                    "expected a violation naming \(field): \(error) \(comment())", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected \(codes), got \(error) \(comment())", sourceLocation: sourceLocation)
        return nil
    }
}

@discardableResult
func expectRPCError<T>(
    _ code: RPCError.Code, field: String? = nil, _ comment: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> RPCError? {
    await expectRPCError([code], field: field, comment(), sourceLocation: sourceLocation, body)
}

/// Polls `condition` every 200 ms until it holds or `bound` passes; whether it held.
func eventually(within bound: Duration = propagationBound,
                _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + bound
    while true {
        if try await condition() { return true }
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: .milliseconds(200))
    }
}

/// Runs `body`: its value, or the RPC error it failed with (other errors are rethrown).
func outcome<T>(_ body: () async throws -> T) async throws -> Result<T, RPCError> {
    do {
        return .success(try await body())
    } catch let error as RPCError {
        return .failure(error)
    }
}

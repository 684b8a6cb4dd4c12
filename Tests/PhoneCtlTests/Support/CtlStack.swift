import Foundation
import Testing
import TestSupport

/// The JWT secret the service processes of these tests run with; phonectl
/// gets it too and mints its own platform-admin token from it.
let ctlTestSecret = "phonectl-tests-secret-0123456789abcdef"

/// Real inventory and assignment processes (and lookup when asked for) that
/// phonectl is run against.
final class CtlStack: Sendable {
    let inventory: ServiceProcess
    let assignment: ServiceProcess
    let lookup: ServiceProcess?

    /// The stack of the enclosing suite (see `.ctlStack`).
    @TaskLocal static var current: CtlStack?

    static var shared: CtlStack {
        get throws {
            guard let current else { throw ServiceProcessError("no stack: nest the suite in PhoneCtlTests") }
            return current
        }
    }

    private init(inventory: ServiceProcess, assignment: ServiceProcess, lookup: ServiceProcess?) {
        self.inventory = inventory
        self.assignment = assignment
        self.lookup = lookup
    }

    /// Starts inventory, then assignment following it (and lookup following both).
    static func start(withLookup: Bool) async throws -> CtlStack {
        let inventory = try ServiceProcess("inventory", jwtSecret: ctlTestSecret, environment: ["PG_POOL_SIZE": "4"])
        var started = [inventory]
        do {
            try await inventory.waitUntilHealthy()
            let producers = ["PHONE_INVENTORY_ADDR": "127.0.0.1:\(inventory.port)"]
            let assignment = try ServiceProcess("assignment", jwtSecret: ctlTestSecret, environment: producers.merging([
                "PG_POOL_SIZE": "4", "PHONE_RELEASE_COOLDOWN_SECONDS": "1",
            ]) { $1 })
            started.append(assignment)
            try await assignment.waitUntilHealthy()
            var lookup: ServiceProcess?
            if withLookup {
                let process = try ServiceProcess("lookup", jwtSecret: ctlTestSecret, environment: producers.merging([
                    "PG_POOL_SIZE": "4", "PHONE_ASSIGNMENT_ADDR": "127.0.0.1:\(assignment.port)",
                ]) { $1 })
                started.append(process)
                try await process.waitUntilHealthy()
                lookup = process
            }
            return CtlStack(inventory: inventory, assignment: assignment, lookup: lookup)
        } catch {
            for process in started.reversed() { await process.terminate() }
            throw error
        }
    }

    func stop() async {
        await lookup?.terminate()
        await assignment.terminate()
        await inventory.terminate()
    }

    /// What phonectl needs to find the services: addresses and the secret.
    var environment: [String: String] {
        [
            "PHONE_INVENTORY_ADDR": "127.0.0.1:\(inventory.port)",
            "PHONE_ASSIGNMENT_ADDR": "127.0.0.1:\(assignment.port)",
            // Without lookup, a port where nothing listens.
            "PHONE_LOOKUP_ADDR": "127.0.0.1:\(lookup?.port ?? 9)",
            "PHONE_JWT_SECRET": ctlTestSecret,
        ]
    }

    var logs: String {
        "--- assignment log:\n\(assignment.log.suffix(4000))\n--- inventory log:\n\(inventory.log.suffix(3000))"
    }
}

/// Runs a suite (and the suites nested in it) against one stack.
struct CtlStackTrait: SuiteTrait, TestScoping {
    var withLookup = false
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let stack = try await CtlStack.start(withLookup: withLookup)
        do {
            try await CtlStack.$current.withValue(stack) { try await function() }
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }
}

extension Trait where Self == CtlStackTrait {
    /// Inventory and assignment processes for the suite.
    static var ctlStack: Self { CtlStackTrait() }
    /// Inventory, assignment and lookup processes for the suite.
    static var ctlStackWithLookup: Self { CtlStackTrait(withLookup: true) }
}

/// Every suite of this target except the lookup one is nested here, so one
/// pair of service processes serves them all.
@Suite(.ctlStack, .serialized) struct PhoneCtlTests {}

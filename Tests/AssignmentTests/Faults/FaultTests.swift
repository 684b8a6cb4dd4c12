import Auth
import ConsistencyCheck
import Foundation
import NIOCore
import Protos
import RPC
import Store
import Synchronization
import Testing
import TestSupport

extension AssignmentTests {
    /// Faults, each on a Postgres cluster of its own so stopping it touches no
    /// other test: Postgres going away under load, services killed with
    /// SIGKILL in the middle of work, a producer restarting under its consumer.
    /// Every test ends with the consistency check operators run.
    @Suite(.serialized) struct FaultTests {
        /// Inventory, assignment and one lookup on a private cluster.
        struct World {
            let postgres: PrivatePostgres
            var stack: AssignmentStack
            var lookup: LookupReplica
            var fixtures: Fixtures { Fixtures(stack: stack) }
            var environment: [String: String] { ["PG_PORT": String(postgres.port)] }

            static func with(_ body: (inout World) async throws -> Void) async throws {
                try await PrivatePostgres.with { postgres in
                    let environment = ["PG_PORT": String(postgres.port)]
                    let stack = try await AssignmentStack.start(environment: environment)
                    var world: World
                    do {
                        world = World(postgres: postgres, stack: stack, lookup: try await LookupReplica.start(stack, environment: environment))
                    } catch {
                        await stack.stop()
                        throw error
                    }
                    do {
                        try await body(&world)
                    } catch {
                        await world.stopAll()
                        throw error
                    }
                    await world.stopAll()
                }
            }

            func stopAll() async {
                await lookup.process.terminate()
                await stack.stop()
            }

            /// Lookup's projection against inventory and assignment, schema and memory.
            func expectConsistent(sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let database = Database(configuration: postgres.adminConfiguration(maxConnections: 2), logger: TestPostgres.logger)
                let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: lookup.process.port))
                client.setBearerToken(stack.signer.token(for: Caller.admin().principal))
                defer { client.close() }
                let report: ConsistencyCheck.Report
                do {
                    report = try await ConsistencyCheck(database: database, replicas: [("lookup", client)]).run()
                    await database.close()
                } catch {
                    await database.close()
                    throw error
                }
                #expect(report.isConsistent, "\(report.differences.prefix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
                #expect(report.numbers > 0, sourceLocation: sourceLocation)
            }

            /// Restarts `process` where its peers expect it, after SIGKILL.
            static func killAndRestart(_ process: ServiceProcess, environment: [String: String]) async throws -> ServiceProcess {
                kill(process.process.processIdentifier, SIGKILL)
                _ = await process.waitForExit(timeout: .seconds(10))
                let restarted = try ServiceProcess(process.name, port: process.port, jwtSecret: assignmentTestSecret,
                                                   environment: process.process.environment ?? environment)
                try await restarted.waitUntilHealthy(timeout: .seconds(60))
                return restarted
            }
        }

        @Test func postgresGoingAwayLeavesLookupAnsweringAndEverythingRecovers() async throws {
            try await World.with { world in
                let fixtures = world.fixtures
                let organization = try await fixtures.organization(policy: .many)
                let agent = try await fixtures.agent(of: organization)
                let number = try await fixtures.allocated(1, to: organization)[0]
                let token = try await fixtures.admin.connect(number.numberId, agent: agent.id).consistencyToken
                let lookup = world.lookup.api(.callHandler())
                _ = try await lookup.resolve(number.e164, after: after(assignment: token))

                let load = LookupLoad(lookup, number: number.e164)
                try await world.postgres.stop()
                try await Task.sleep(for: .seconds(1))

                // Writes fail fast, saying why.
                for (service, write) in [
                    ("inventory", { _ = try await fixtures.inventory.setOwner(number.numberId, organization) }),
                    ("assignment", { _ = try await fixtures.admin.disconnect(number.numberId) }),
                ] as [(String, () async throws -> Void)] {
                    let started = ContinuousClock.now
                    let error = await expectRPCError(.unavailable, "\(service) write while Postgres is down") { try await write() }
                    #expect(ContinuousClock.now - started < .seconds(10), "\(service) took \(ContinuousClock.now - started) to fail")
                    #expect(error?.message.lowercased().contains("database") == true, "\(String(describing: error))")
                }
                let health = RPCClient(target: RPCTarget(host: "127.0.0.1", port: world.lookup.process.port))
                defer { health.close() }
                let report = try await health.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(), as: RpcV1.HealthCheckResponse.self)
                #expect(report.status == .serving && !report.databaseReachable, "lookup serves from memory: \(report)")

                try await world.postgres.start()
                // Without restarting anything, writes work again and reach lookup.
                var moved: UInt64 = 0
                let recovered = try await eventually(within: .seconds(30)) {
                    guard case .success(let response) = try await outcome({ try await fixtures.admin.disconnect(number.numberId) }) else {
                        return false
                    }
                    moved = response.consistencyToken
                    return true
                }
                try #require(recovered, "assignment did not recover after Postgres came back\n\(world.stack.logs)")
                let route = try await lookup.resolve(number.e164, after: after(assignment: moved))
                #expect(route.destination == .none)

                let (answered, failures) = await load.stop()
                #expect(failures.isEmpty, "lookup failed \(failures.count) of \(answered + failures.count) calls: \(failures.prefix(3))")
                #expect(answered > 100)
                try await world.expectConsistent()
            }
        }

        @Test func servicesKilledInTheMiddleOfWorkLeaveNoPartialOrDuplicatedEffects() async throws {
            try await World.with { world in
                let fixtures = world.fixtures
                let environment = world.environment

                // Inventory killed during a bulk import: all of the batch or none of it.
                let block = try await Block.fresh(in: fixtures.inventory)
                let items = (0..<1000).map { suffix in
                    var item = InventoryV1.ImportItem()
                    item.number = block.number(suffix)
                    item.provider = "telnyx"
                    return item
                }
                let importing = Task { try await fixtures.inventory.importNumbers(items) }
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...60)))
                world.stack = AssignmentStack(
                    inventory: try await World.killAndRestart(world.stack.inventory, environment: environment),
                    assignment: world.stack.assignment)
                _ = await importing.result
                let imported = try await world.count("SELECT count(*) FROM inventory.numbers WHERE e164 LIKE '\(block)%'")
                let events = try await world.count("""
                    SELECT count(*) FROM inventory.outbox o JOIN inventory.numbers n ON o.aggregate_id = n.id::text
                     WHERE n.e164 LIKE '\(block)%' AND o.type = 'inventory.number.imported'
                    """)
                #expect(events == imported, "\(imported) numbers but \(events) import events")
                // The same import again says how many of the items are valid numbers.
                let again = try await fixtures.inventory.importNumbers(items)
                let valid = Int64(again.created + again.alreadyPresent)
                #expect(valid > 900)
                #expect(imported == 0 || imported == valid, "a killed import left \(imported) of \(valid) numbers")

                // Assignment killed during an allocation storm.
                let organization = try await fixtures.organization(policy: .many)
                let pool = try await fixtures.pool(60).numbers
                let storm = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for number in pool {
                            group.addTask { _ = try? await fixtures.admin.allocate(ids: [number.numberId], organization: organization) }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...150)))
                world.stack = AssignmentStack(
                    inventory: world.stack.inventory,
                    assignment: try await World.killAndRestart(world.stack.assignment, environment: environment))
                await storm.value
                let ids = pool.map { "'\($0.numberId)'" }.joined(separator: ",")
                let held = try await world.count("SELECT count(*) FROM assignment.assignments WHERE number_id IN (\(ids))")
                let assignedHistory = try await world.count("""
                    SELECT count(*) FROM assignment.history WHERE action = 'assigned' AND number_id IN (\(ids))
                    """)
                #expect(held == assignedHistory, "\(held) numbers held but \(assignedHistory) 'assigned' history entries")

                // Lookup killed while it applies a burst of changes.
                let agents = [try await fixtures.agent(of: organization), try await fixtures.agent(of: organization)]
                let mine = try await fixtures.allocated(5, to: organization)
                let burst = Task {
                    for round in 0..<20 {
                        for number in mine {
                            _ = try? await fixtures.admin.connect(number.numberId, agent: agents[round % 2].id)
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...300)))
                let restartedLookup = try await World.killAndRestart(world.lookup.process, environment: environment)
                world.lookup = LookupReplica(process: restartedLookup, stack: world.stack)
                await burst.value
                try await world.expectConsistent()
            }
        }

        @Test func consumerWhoseProducerWasDownCatchesUp() async throws {
            try await World.with { world in
                let fixtures = world.fixtures
                let organization = try await fixtures.organization(policy: .many)
                let agent = try await fixtures.agent(of: organization)
                let number = try await fixtures.allocated(1, to: organization)[0]

                let assignment = world.stack.assignment
                await assignment.terminate()
                try await Task.sleep(for: .seconds(1))
                let restarted = try ServiceProcess("assignment", port: assignment.port, jwtSecret: assignmentTestSecret,
                                                   environment: assignment.process.environment ?? [:])
                try await restarted.waitUntilHealthy()
                world.stack = AssignmentStack(inventory: world.stack.inventory, assignment: restarted)

                let token = try await world.fixtures.admin.connect(number.numberId, agent: agent.id).consistencyToken
                let route = try await world.lookup.api(.callHandler()).resolve(number.e164, after: after(assignment: token))
                #expect(route.agent?.id == agent.id)
                #expect(world.lookup.process.log.contains("event stream interrupted; retrying"))
                try await world.expectConsistent()
            }
        }
    }
}

/// Resolves a number from several loops until stopped; counts answers and failures.
final class LookupLoad: Sendable {
    private final class Counters: Sendable {
        let state = Mutex((answered: 0, failures: [String](), stopped: false))
        var stopped: Bool { state.withLock { $0.stopped } }
    }

    private let counters = Counters()
    private let task: Task<Void, Never>

    init(_ api: LookupAPI, number: String, tasks: Int = 4) {
        let counters = self.counters
        task = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        while !counters.stopped {
                            do {
                                _ = try await api.resolve(number, timeout: .seconds(2))
                                counters.state.withLock { $0.answered += 1 }
                            } catch {
                                counters.state.withLock { $0.failures.append("\(error)") }
                            }
                        }
                    }
                }
            }
        }
    }

    func stop() async -> (answered: Int, failures: [String]) {
        counters.state.withLock { $0.stopped = true }
        await task.value
        return counters.state.withLock { ($0.answered, $0.failures) }
    }
}

extension AssignmentTests.FaultTests.World {
    /// A count from the private cluster, as the superuser.
    func count(_ sql: String) async throws -> Int64 {
        let database = Database(configuration: postgres.adminConfiguration(maxConnections: 1), logger: TestPostgres.logger)
        do {
            let value = try await database.query(sql).first?.decode(Int64.self, at: 0) ?? -1
            await database.close()
            return value
        } catch {
            await database.close()
            throw error
        }
    }
}

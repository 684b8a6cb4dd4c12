import Auth
import Foundation
import Logging
import NIOCore
import Outbox
import Protos
import RPC
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Testing

/// A consumer following a producer's feed over a real RPC connection.
@Suite("Event consumer")
struct EventConsumerTests {
    private struct ApplyFailed: Error {}

    @Test("an apply that fails once is retried: every event is applied exactly once, in order")
    func failedApplyIsRetried() async throws {
        try await withOutbox { outbox, role, database in
            try await database.execute("CREATE TABLE applied (position bigint PRIMARY KEY, seq bigserial)")
            try await database.withTransaction { transaction in
                try await outbox.append(in: transaction, (1...20).map {
                    NewOutboxEvent(type: "test.event", aggregateID: "a\($0)", payload: [UInt8](text: "event \($0)"))
                })
            }
            var logger = Logger(label: "consumer-test")
            logger.logLevel = .critical
            let secret = Array("event-consumer-tests-secret-0123".utf8)
            let watcher = OutboxWatcher(outbox: outbox, logger: logger)
            var router = RPCRouter()
            EventFeed.register(in: &router, outbox: outbox, watcher: watcher, heartbeat: .milliseconds(200))
            let server = RPCServer(configuration: RPCServer.Configuration(), router: router, serviceName: "producer",
                                   verifier: try TokenVerifier(hs256Secret: secret), logger: logger)
            let serverGroup = ServiceGroup(services: [watcher, server], logger: logger)
            let serverTask = Task { try await serverGroup.run() }
            let port = try #require(try await server.boundAddress().port)

            let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: port))
            client.setBearerToken(TokenSigner(hs256Secret: secret).token(
                for: Principal(subject: "consumer", role: .service, scopes: [EventFeed.scope], expiresAt: Date()), lifetime: 600))
            // The first attempt at event 7 fails, as a lost connection or a
            // constraint would; its whole batch rolls back.
            let failures = Mutex(0)
            let consumer = EventConsumer(
                stream: "producer", client: client, database: database,
                positions: ConsumerPositions(schema: role.schema), logger: logger,
                applyEach: { event, transaction in
                    if event.position == 7, failures.withLock({ $0 += 1; return $0 == 1 }) { throw ApplyFailed() }
                    try await transaction.execute("INSERT INTO applied (position) VALUES ($1)", [Int64(event.position)])
                })
            let consumerTask = Task { try await consumer.run() }
            defer { consumerTask.cancel() }

            let deadline = ContinuousClock.now + .seconds(20)
            while consumer.appliedPosition < 20, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            consumerTask.cancel()
            _ = await consumerTask.result
            await serverGroup.triggerGracefulShutdown()
            try await serverTask.value

            #expect(consumer.appliedPosition == 20, "the consumer stopped at \(consumer.appliedPosition) after a failed apply")
            #expect(failures.withLock { $0 } >= 1)
            let rows = try await database.query("SELECT position FROM applied ORDER BY seq")
            #expect(try rows.map { try $0.decode(Int64.self, column: "position") } == Array(1...20))
            let stored = try await ConsumerPositions(schema: role.schema).load(stream: "producer", from: database)
            #expect(stored == 20)
        }
    }
}

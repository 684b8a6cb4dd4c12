import Store
import TestSupport
import Testing

@Suite("LISTEN/NOTIFY")
struct ListenNotifyTests {
    @Test("notifications are delivered on the channels listened to, only after commit")
    func delivery() async throws {
        try await TestPostgres.withAdmin { database in
            let channel = "test_" + TestRole(prefix: "c").name
            let iterator = database.listen(to: [channel, channel + "_other"]).makeAsyncIterator()
            #expect(try await withTimeout(.seconds(10)) { await iterator.next() } == .listening)

            try await database.notify(channel: channel, payload: "hello 'world'")
            let first = try await withTimeout(.seconds(10)) { await iterator.next() }
            guard case .notification(let notification)? = first else {
                Issue.record("expected a notification, got \(String(describing: first))")
                return
            }
            #expect(notification.channel == channel)
            #expect(notification.payload == "hello 'world'")

            // Inside a transaction, NOTIFY waits for COMMIT.
            let clock = ContinuousClock()
            async let received = withTimeout(.seconds(10)) { (await iterator.next(), clock.now) }
            let bodyEnded = try await database.withTransaction { tx in
                try await tx.notify(channel: channel + "_other", payload: "in tx")
                try await Task.sleep(for: .milliseconds(400))
                return clock.now
            }
            let (second, receivedAt) = try await received
            guard case .notification(let inTransaction)? = second else {
                Issue.record("expected a notification, got \(String(describing: second))")
                return
            }
            #expect(inTransaction.channel == channel + "_other")
            #expect(inTransaction.payload == "in tx")
            #expect(receivedAt > bodyEnded, "delivered before the transaction committed")
        }
    }

    @Test("a rolled-back transaction's notifications are never delivered")
    func rollback() async throws {
        try await TestPostgres.withAdmin { database in
            let channel = "test_" + TestRole(prefix: "c").name
            let iterator = database.listen(to: [channel]).makeAsyncIterator()
            #expect(try await withTimeout(.seconds(10)) { await iterator.next() } == .listening)
            struct Abort: Error {}
            _ = try? await database.withTransaction { tx in
                try await tx.notify(channel: channel, payload: "never")
                throw Abort()
            }
            try await database.notify(channel: channel, payload: "after")
            let event = try await withTimeout(.seconds(10)) { await iterator.next() }
            guard case .notification(let notification)? = event else {
                Issue.record("expected a notification, got \(String(describing: event))")
                return
            }
            #expect(notification.payload == "after")
        }
    }

    @Test("the listener reconnects after a restart, says so, and delivers again")
    func reconnect() async throws {
        try await PrivatePostgres.with { server in
            let database = Database(configuration: server.adminConfiguration(), logger: TestPostgres.logger)
            let iterator = database.listen(to: ["changes"]).makeAsyncIterator()
            #expect(try await withTimeout(.seconds(10)) { await iterator.next() } == .listening)
            try await database.notify(channel: "changes", payload: "before")
            let before = try await withTimeout(.seconds(10)) { await iterator.next() }
            if case .notification(let n)? = before { #expect(n.payload == "before") } else { Issue.record("got \(String(describing: before))") }

            try await server.restart()

            // The listener re-LISTENs and announces it, so consumers re-read their tables.
            #expect(try await withTimeout(.seconds(20), "re-listen") { await iterator.next() } == .listening)
            try await database.notify(channel: "changes", payload: "after")
            let after = try await withTimeout(.seconds(10)) { await iterator.next() }
            if case .notification(let n)? = after { #expect(n.payload == "after") } else { Issue.record("got \(String(describing: after))") }
            await database.close()
        }
    }

    @Test("iteration ends when the database closes")
    func endsOnClose() async throws {
        let database = Database(configuration: TestPostgres.adminConfiguration(), logger: TestPostgres.logger)
        let iterator = database.listen(to: ["ends"]).makeAsyncIterator()
        #expect(try await withTimeout(.seconds(10)) { await iterator.next() } == .listening)
        await database.close()
        #expect(try await withTimeout(.seconds(5)) { await iterator.next() } == nil)
    }
}

import Foundation
import Outbox
import Store
import TestSupport
import Testing

@Suite("Outbox")
struct OutboxTests {
    @Test("appended events are read back in order with every field")
    func appendAndRead() async throws {
        try await withOutbox { outbox, _, database in
            #expect(try await outbox.headPosition() == 0)
            let before = Date()
            let positions = try await database.withTransaction { tx in
                [
                    try await outbox.append(in: tx, type: "number.imported", aggregateID: "n-1",
                                            payload: [UInt8](text: "first"), traceID: "trace-1"),
                    try await outbox.append(in: tx, type: "number.retired", aggregateID: "n-2",
                                            payload: [0, 255, 10, 39]),
                ]
            }
            #expect(positions == [1, 2])
            #expect(try await outbox.headPosition() == 2)

            let page = try await outbox.read(after: 0)
            #expect(page.events.map(\.position) == [1, 2])
            #expect(page.through == 2)
            #expect(page.head == 2)
            let first = try #require(page.events.first)
            #expect(first.type == "number.imported")
            #expect(first.aggregateID == "n-1")
            #expect(first.payload == [UInt8](text: "first"))
            #expect(first.traceID == "trace-1")
            #expect(abs(first.occurredAt.timeIntervalSince(before)) < 60)
            #expect(page.events[1].payload == [0, 255, 10, 39])
            #expect(page.events[1].traceID == nil)

            #expect(try await outbox.read(after: 1).events.map(\.position) == [2])
            let empty = try await outbox.read(after: 2)
            #expect(empty.events.isEmpty)
            #expect(empty.through == 2)
        }
    }

    @Test("limits page the stream and a type filter reports how far it looked")
    func pagingAndTypes() async throws {
        try await withOutbox { outbox, _, database in
            try await database.withTransaction { tx in
                for index in 1...10 {
                    try await outbox.append(in: tx, type: index % 3 == 0 ? "wanted" : "other",
                                            aggregateID: "a\(index)", payload: [UInt8(index)])
                }
            }
            let page = try await outbox.read(after: 0, limit: 4)
            #expect(page.events.map(\.position) == [1, 2, 3, 4])
            #expect(page.through == 4)

            let filtered = try await outbox.read(after: 0, limit: 2, types: ["wanted"])
            #expect(filtered.events.map(\.position) == [3, 6])
            #expect(filtered.through == 6)
            let rest = try await outbox.read(after: filtered.through, limit: 2, types: ["wanted"])
            #expect(rest.events.map(\.position) == [9])
            // Fewer than the limit: everything up to the head was looked at.
            #expect(rest.through == 10)
        }
    }

    @Test("a rolled-back append leaves no event and no gap")
    func rollbackLeavesNoGap() async throws {
        try await withOutbox { outbox, _, database in
            try await database.withTransaction { tx in
                try await outbox.append(in: tx, type: "t", aggregateID: "a", payload: [1])
            }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.withTransaction { tx in
                    try await outbox.append(in: tx, type: "t", aggregateID: "b", payload: [2])
                    throw Abort()
                }
            }
            let position = try await database.withTransaction { tx in
                try await outbox.append(in: tx, type: "t", aggregateID: "c", payload: [3])
            }
            #expect(position == 2)
            #expect(try await outbox.read(after: 0).events.map(\.aggregateID) == ["a", "c"])
        }
    }

    @Test("a batch append keeps each event's trace id: absent, empty or set")
    func batchTraceIDs() async throws {
        try await withOutbox { outbox, _, database in
            let traces: [String?] = [nil, "", "trace-3"]
            try await database.withTransaction { tx in
                try await outbox.append(in: tx, traces.map { NewOutboxEvent(type: "t", aggregateID: "a", payload: [1], traceID: $0) })
            }
            #expect(try await outbox.read(after: 0).events.map(\.traceID) == traces)
        }
    }

    @Test("a batch append of thousands of events takes consecutive positions")
    func batchAppend() async throws {
        try await withOutbox { outbox, _, database in
            let events = (1...2_500).map {
                NewOutboxEvent(type: "bulk", aggregateID: "n\($0)", payload: [UInt8(truncatingIfNeeded: $0)])
            }
            let range = try await database.withTransaction { tx in
                try await outbox.append(in: tx, [NewOutboxEvent(type: "single", aggregateID: "s", payload: [])])
                return try await outbox.append(in: tx, events)
            }
            #expect(range == 2...2_501)
            var after: Int64 = 0
            var seen: [String] = [], payloads: [[UInt8]] = []
            while true {
                let page = try await outbox.read(after: after, limit: 1_000)
                if page.events.isEmpty { break }
                seen += page.events.map(\.aggregateID)
                payloads += page.events.map(\.payload)
                after = page.through
            }
            #expect(seen == ["s"] + events.map(\.aggregateID))
            #expect(payloads == [[]] + events.map(\.payload), "each event keeps its own payload across statements")
        }
    }

    @Test("a transaction that commits first gets the lower position even if it began later")
    func commitOrder() async throws {
        try await withOutbox { outbox, role, database in
            try await database.execute("CREATE TABLE numbers (id text PRIMARY KEY)")
            let t1Started = Barrier(parties: 2)
            let t2Committed = Barrier(parties: 2)
            // T1 begins and changes state, T2 begins after it, appends and commits;
            // only then does T1 append and commit.
            async let t1: Int64 = database.withTransaction { tx in
                try await tx.execute("INSERT INTO numbers VALUES ('t1')")
                await t1Started.arriveAndWait()
                await t2Committed.arriveAndWait()
                return try await outbox.append(in: tx, type: "t", aggregateID: "t1", payload: [1])
            }
            await t1Started.arriveAndWait()
            let t2 = try await database.withTransaction { tx in
                try await tx.execute("INSERT INTO numbers VALUES ('t2')")
                return try await outbox.append(in: tx, type: "t", aggregateID: "t2", payload: [2])
            }
            await t2Committed.arriveAndWait()
            let t1Position = try await t1
            #expect(t2 == 1)
            #expect(t1Position == 2)
            #expect(try await outbox.read(after: 0).events.map(\.aggregateID) == ["t2", "t1"])
            _ = role
        }
    }

    @Test("a second writer waits on the head row until the first commits, then follows it")
    func writersSerialiseOnTheHead() async throws {
        try await withOutbox { outbox, _, database in
            let t1Appended = Barrier(parties: 2)
            let release = Barrier(parties: 2)
            let clock = ContinuousClock()
            async let t1: (Int64, ContinuousClock.Instant) = database.withTransaction { tx in
                let position = try await outbox.append(in: tx, type: "t", aggregateID: "t1", payload: [1])
                await t1Appended.arriveAndWait()
                await release.arriveAndWait()
                try await Task.sleep(for: .milliseconds(300))
                return (position, clock.now)
            }
            await t1Appended.arriveAndWait()
            async let t2: (Int64, ContinuousClock.Instant) = database.withTransaction { tx in
                let position = try await outbox.append(in: tx, type: "t", aggregateID: "t2", payload: [2])
                return (position, clock.now)
            }
            await release.arriveAndWait()
            let (p1, t1BodyEnd) = try await t1
            let (p2, t2Appended) = try await t2
            #expect(p1 == 1)
            #expect(p2 == 2)
            // T2's append could only finish after T1's body ended and it committed.
            #expect(t2Appended > t1BodyEnd)
        }
    }

    @Test("a reader polling during concurrent writes never skips a position")
    func concurrentReaderNeverSkips() async throws {
        try await withOutbox(maxConnections: 10) { outbox, _, database in
            let writers = 6
            let transactionsPerWriter = 20
            let committed = try await withThrowingTaskGroup(of: Int.self) { group in
                // Writers: append, linger a little before committing, sometimes roll back.
                for writer in 0..<writers {
                    group.addTask {
                        var count = 0
                        for index in 0..<transactionsPerWriter {
                            let rollBack = index % 5 == 4
                            do {
                                try await database.withTransaction { tx in
                                    let events = 1 + (index % 3)
                                    for event in 0..<events {
                                        try await outbox.append(in: tx, type: "w", aggregateID: "\(writer)-\(index)-\(event)", payload: [])
                                    }
                                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...4)))
                                    if rollBack { throw CancellationError() }
                                }
                                count += 1 + (index % 3)
                            } catch is CancellationError {}
                        }
                        return count
                    }
                }
                // Reader: whatever it sees must continue exactly where it left off.
                group.addTask {
                    var last: Int64 = 0
                    var gaps = 0
                    let deadline = ContinuousClock.now + .seconds(60)
                    let expected = Int64((0..<transactionsPerWriter).filter { $0 % 5 != 4 }.map { 1 + $0 % 3 }.reduce(0, +) * writers)
                    while last < expected && ContinuousClock.now < deadline {
                        let page = try await outbox.read(after: last, limit: 7)
                        for event in page.events {
                            if event.position != last + 1 { gaps += 1 }
                            last = event.position
                        }
                    }
                    #expect(gaps == 0)
                    #expect(last == expected)
                    return 0
                }
                return try await group.reduce(0, +)
            }
            let all = try await outbox.read(after: 0, limit: 10_000).events
            #expect(all.count == committed)
            #expect(all.map(\.position) == Array(1...Int64(committed)))
        }
    }

    @Test("listeners are woken when an append commits, not before")
    func notifiesOnCommit() async throws {
        try await withOutbox { outbox, _, database in
            let iterator = outbox.notifications().makeAsyncIterator()
            #expect(try await withTimeout(.seconds(10)) { await iterator.next() } == .listening)
            let clock = ContinuousClock()
            async let woken = withTimeout(.seconds(10)) { (await iterator.next(), clock.now) }
            let bodyEnded = try await database.withTransaction { tx in
                for index in 0..<3 {
                    try await outbox.append(in: tx, type: "t", aggregateID: "\(index)", payload: [])
                }
                try await Task.sleep(for: .milliseconds(300))
                return clock.now
            }
            let (event, at) = try await woken
            guard case .notification(let notification)? = event else {
                Issue.record("expected a notification, got \(String(describing: event))")
                return
            }
            #expect(notification.channel == outbox.channel)
            #expect(at > bodyEnded)
        }
    }
}

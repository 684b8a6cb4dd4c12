import Foundation
import Protos
import RPC
import Store
import Testing
import TestSupport

extension AssignmentTests {
    /// Lookup's durability and scaling: restarts resume from the stored
    /// positions and replicas agree. (Its database role: DatabaseRoleTests.)
    @Suite(.serialized) struct LookupReplicaTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        /// An organisation with `count` numbers, each connected to its own agent.
        private func connectedNumbers(_ count: Int) async throws -> (organization: String, numbers: [AssignmentV1.PoolNumber], token: UInt64) {
            let organization = try await fixtures.organization(policy: .many)
            let numbers = try await fixtures.allocated(count, to: organization)
            var token: UInt64 = 0
            for number in numbers {
                let agent = try await fixtures.agent(of: organization)
                token = try await fixtures.admin.connect(number.numberId, agent: agent.id).consistencyToken
            }
            return (organization, numbers, token)
        }

        @Test func restartResumesFromStoredPositionsWithoutMissingAnything() async throws {
            let (organization, numbers, token) = try await connectedNumbers(2)
            let first = try await LookupReplica.start(fixtures.stack)
            _ = try await first.api(.callHandler()).resolve(numbers[0].e164, after: after(assignment: token))
            let before = try await first.api(.callHandler()).status()
            await first.process.terminate()

            // Changes while lookup is down.
            let agent = try await fixtures.agent(of: organization, name: "Joined while lookup was down")
            let moved = try await fixtures.admin.connect(numbers[1].numberId, agent: agent.id)
            let disconnect = try await fixtures.admin.disconnect(numbers[0].numberId)

            let second = try await LookupReplica.start(fixtures.stack)
            defer { Task { await second.process.terminate() } }
            let api = second.api(.callHandler())
            let route = try await api.resolve(numbers[1].e164, after: after(assignment: moved.consistencyToken))
            #expect(route.agent?.name == "Joined while lookup was down")
            let disconnected = try await api.resolve(numbers[0].e164, after: after(assignment: disconnect.consistencyToken))
            #expect(disconnected.destination == .none)

            // It loaded its own schema and resumed where the first process
            // stopped, rather than replaying the streams from position zero.
            let assignmentBefore = try #require(before.streams.first { $0.stream == "assignment" }).appliedPosition
            let log = second.process.log
            #expect(log.contains("route projection loaded"), "\(log.suffix(2000))")
            let loadedAt = try #require(Self.loggedPosition(log, stream: "assignment"), "\(log.suffix(2000))")
            #expect(loadedAt >= assignmentBefore, "restarted at \(loadedAt), the first process had applied \(assignmentBefore)")
            let after = try await api.status()
            #expect(after.numbers >= before.numbers)
        }

        @Test func twoReplicasServeTheSameAnswers() async throws {
            let one = try await LookupReplica.start(fixtures.stack)
            let two = try await LookupReplica.start(fixtures.stack)
            defer { Task { await one.process.terminate(); await two.process.terminate() } }
            let (organization, numbers, _) = try await connectedNumbers(3)
            var schedule = AssignmentV1.Schedule()
            schedule.numberId = numbers[2].numberId
            schedule.timeZone = "Europe/Berlin"
            schedule.fallbackDestination = "sip:desk@example.com"
            let last = try await fixtures.admin.setSchedule(schedule).consistencyToken
            let token = after(assignment: last)
            for number in numbers {
                let a = try await one.api(.callHandler()).resolve(number.e164, after: token)
                let b = try await two.api(.callHandler()).resolve(number.e164, after: token)
                #expect(a == b, "replicas disagree on \(number.e164)")
                #expect(a.organization?.id == organization)
            }
            let fallback = try await two.api(.callHandler()).resolve(numbers[2].e164, after: token)
            #expect(fallback.destination == .fallback)
            #expect(fallback.fallbackDestination == "sip:desk@example.com")
        }

        @Test func rebuildReplaysFromPositionZeroToTheSameAnswers() async throws {
            let (_, numbers, token) = try await connectedNumbers(2)
            let first = try await LookupReplica.start(fixtures.stack)
            var before: [LookupV1.Route] = []
            for number in numbers {
                before.append(try await first.api(.callHandler()).resolve(number.e164, after: after(assignment: token)))
            }
            await first.process.terminate()

            let rebuild = try await ServiceProcess.runCommand("lookup", ["rebuild"], jwtSecret: assignmentTestSecret)
            #expect(rebuild.status == 0, "\(rebuild.output)")
            let emptied = try await TestPostgres.withAdmin(maxConnections: 1) { database in
                try await database.query("SELECT count(*) AS n FROM lookup.consumer_positions").first?.decode(Int64.self, column: "n")
            }
            #expect(emptied == 0)

            let rebuilt = try await LookupReplica.start(fixtures.stack)
            defer { Task { await rebuilt.process.terminate() } }
            #expect(Self.loggedPosition(rebuilt.process.log, stream: "assignment") == 0, "loaded from an empty projection")
            for (number, expected) in zip(numbers, before) {
                let route = try await rebuilt.api(.callHandler()).resolve(number.e164, after: after(assignment: token))
                #expect(route == expected, "\(number.e164) after the rebuild")
            }
        }

        /// The assignment position a lookup process logged when it loaded.
        static func loggedPosition(_ log: String, stream: String) -> UInt64? {
            guard let line = log.split(separator: "\n").first(where: { $0.contains("route projection loaded") }),
                  let range = line.range(of: "events.\(stream)=") else { return nil }
            return UInt64(line[range.upperBound...].prefix { $0.isNumber })
        }
    }
}

import Foundation
import Testing
import TestSupport

extension PhoneCtlTests {
    /// `phonectl connect|disconnect` and `phonectl schedule …`.
    @Suite struct ConnectionCommandTests {
        @Test func connectAndDisconnectAnAgent() async throws {
            let (org, agents) = try await Fixtures.organization(agents: 1)
            let numbers = try await Fixtures.allocated(2, to: org)

            let connected = try await Ctl.json("connect", numbers[0], "--agent", agents[0])
            #expect(connected.object("number").string("status") == "connected")
            #expect(connected.object("number").string("agent_id") == agents[0])
            // One number per agent: a second number for the same agent is refused.
            Ctl.expectFailure(try await Ctl.run("connect", numbers[1], "--agent", agents[0]),
                              code: "FAILED_PRECONDITION", mentioning: "one number per agent")

            let disconnected = try await Ctl.json("disconnect", numbers[0])
            #expect(disconnected.object("number").string("status") == "assigned")
            Ctl.expectFailure(try await Ctl.run("disconnect", numbers[0]), code: "FAILED_PRECONDITION", mentioning: "not connected")
        }

        @Test func schedulesFromFlagsAndFromTheirOwnJSON() async throws {
            let (org, agents) = try await Fixtures.organization(agents: 2)
            let numbers = try await Fixtures.allocated(2, to: org)

            let set = try await Ctl.json("schedule", "set", numbers[0], "--time-zone", "Europe/Paris",
                                         "--rule", "mon-fri 09:00-17:00 \(agents[0])", "--rule", "sat,sun 10:00-12:00 fallback",
                                         "--override", "2030-12-25 fallback", "--default-agent", agents[1],
                                         "--fallback-destination", numbers[1])
            let schedule = set.object("schedule")
            #expect(schedule.objects("rules").first?["days"] as? [String] == ["monday", "tuesday", "wednesday", "thursday", "friday"])
            #expect(schedule.objects("rules").first?.object("target").string("agent_id") == agents[0])
            #expect(schedule.objects("rules").last?.object("target")["fallback"] as? Bool == true)

            // What `get --json` prints can be set again, on another number.
            let got = try await Ctl.run(["schedule", "get", numbers[0], "--json"])
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("schedule-\(UUID().uuidString).json").path
            try got.stdout.write(toFile: file, atomically: true, encoding: .utf8)
            let copied = try await Ctl.json("schedule", "set", numbers[1], "--file", file, "--fallback-destination", numbers[0])
            #expect(copied.object("schedule").objects("rules").count == 2)
            #expect(copied.object("schedule").objects("overrides").first?.string("date") == "2030-12-25")
            #expect(copied.object("schedule").string("default_agent_id") == agents[1])

            let human = try await Ctl.run("schedule", "get", numbers[1])
            #expect(human.stdout.contains("mon,tue,wed,thu,fri 09:00-17:00 → \(agents[0])"), "\(human)")

            Ctl.expectFailure(try await Ctl.run("schedule", "set", numbers[0], "--rule", "mon 25:00-26:00 \(agents[0])"),
                              code: "INVALID_ARGUMENT", mentioning: "schedule.rules[0].start")
            _ = try await Ctl.json("schedule", "delete", numbers[0])
            Ctl.expectFailure(try await Ctl.run("schedule", "get", numbers[0]), code: "NOT_FOUND")
        }
    }
}

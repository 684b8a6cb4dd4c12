import Foundation
import Testing
import TestSupport

/// The lookup subcommands against a real lookup process. Lookup answers
/// these methods only once its implementation lands, so until then run the
/// other suites with `--skip PhoneCtlLookupTests`.
@Suite(.ctlStackWithLookup, .serialized) struct PhoneCtlLookupTests {
    /// An organisation with two agents and a number connected to the first,
    /// and the consistency tokens lookup must have applied to see it.
    struct Connected {
        var org: String
        var agents: [String]
        var number: String
        var after: [String]
    }

    func connected() async throws -> Connected {
        let (org, agents) = try await Fixtures.organization(agents: 2)
        let number = try await Fixtures.allocated(1, to: org)[0]
        let inventory = try await Ctl.json("numbers", "update", number, "--label", "lookup").int("consistency_token") ?? 0
        let assignment = try await Ctl.json("connect", number, "--agent", agents[0]).int("consistency_token") ?? 0
        return Connected(org: org, agents: agents, number: number,
                         after: ["--after-inventory", String(inventory), "--after-assignment", String(assignment)])
    }

    @Test func resolveNamesTheOrganisationAndTheConnectedAgent() async throws {
        let fixture = try await connected()
        let route = try await Ctl.json(["resolve", fixture.number] + fixture.after).object("route")
        #expect(route.string("e164") == fixture.number)
        #expect(route.object("organization").string("id") == fixture.org)
        #expect(route.string("destination") == "agent")
        #expect(route.object("agent").string("id") == fixture.agents[0])

        let human = try await Ctl.run(["resolve", fixture.number] + fixture.after)
        #expect(human.status == 0 && human.stdout.contains("agent \(fixture.agents[0])"), "\(human)")
        let unknown = try await Block.fresh().numbers(1)[0]
        Ctl.expectFailure(try await Ctl.run("resolve", unknown), code: "NOT_FOUND")
        Ctl.expectFailure(try await Ctl.run("resolve", fixture.number, "--at", "next tuesday"), code: "INVALID_ARGUMENT", mentioning: "--at")
    }

    @Test func resolveAtATimeFollowsTheSchedule() async throws {
        let fixture = try await connected()
        let set = try await Ctl.json("schedule", "set", fixture.number, "--rule", "mon 09:00-17:00 \(fixture.agents[0])",
                                     "--default-agent", fixture.agents[1])
        let after = ["--after-assignment", String(set.int("consistency_token") ?? 0)]
        // 2030-06-03 is a Monday; the organisation is in Europe/London (UTC+1 in June).
        let monday = try await Ctl.json(["resolve", fixture.number, "--at", "2030-06-03T09:30:00Z"] + after).object("route")
        #expect(monday.object("agent").string("id") == fixture.agents[0])
        #expect(monday.string("reason") == "schedule_rule")
        let sunday = try await Ctl.json(["resolve", fixture.number, "--at", "2030-06-02T12:00:00Z"] + after).object("route")
        #expect(sunday.object("agent").string("id") == fixture.agents[1])
    }

    @Test func batchResolveAnswersEachNumber() async throws {
        let fixture = try await connected()
        let unknown = try await Block.fresh().numbers(1)[0]
        let results = try await Ctl.json(["batch-resolve", fixture.number, unknown] + fixture.after).objects("results")
        #expect(results.count == 2)
        #expect(results.first?.object("route").object("organization").string("id") == fixture.org)
        #expect(results.last?.object("error").int("code") == 5) // NOT_FOUND
    }

    @Test func isAssignedAndResolveTenant() async throws {
        let fixture = try await connected()
        let assigned = try await Ctl.json(["is-assigned", fixture.number] + fixture.after)
        #expect(assigned["assigned"] as? Bool == true)
        #expect(assigned.string("organization_id") == fixture.org)
        Ctl.expectFailure(try await Ctl.run("is-assigned", "not-a-number"), code: "INVALID_ARGUMENT")

        let tenant = try await Ctl.json(["resolve-tenant", "--tenant", fixture.org] + fixture.after)
        #expect(tenant.object("organization").string("id") == fixture.org)
        #expect(tenant.int("number_count") == 1)
        #expect(tenant.int("agent_count") == 2)
        let byNumber = try await Ctl.json(["resolve-tenant", "--number", fixture.number] + fixture.after)
        #expect(byNumber.object("organization").string("id") == fixture.org)
        Ctl.expectFailure(try await Ctl.run("resolve-tenant", "--tenant", "org-missing-" + Random.token(6)), code: "NOT_FOUND")
    }

    @Test func listingsByAgentAndOrganisation() async throws {
        let fixture = try await connected()
        let byAgent = try await Ctl.json(["list-by-agent", fixture.agents[0]] + fixture.after).objects("routes")
        #expect(byAgent.compactMap { $0.string("e164") } == [fixture.number])
        let byOrg = try await Ctl.json(["list-by-org", fixture.org] + fixture.after).objects("routes")
        #expect(byOrg.compactMap { $0.string("e164") } == [fixture.number])
        let member = try await Ctl.token(role: "org_member", org: "org-" + Random.token(8))
        Ctl.expectFailure(try await Ctl.run("list-by-org", fixture.org, "--token", member), code: "NOT_FOUND")
    }

    @Test func statusShowsBothStreams() async throws {
        let status = try await Ctl.json("lookup-status")
        #expect(status["ready"] as? Bool == true)
        #expect(Set(status.objects("streams").compactMap { $0.string("stream") }) == ["inventory", "assignment"])
        let member = try await Ctl.token(role: "org_member", org: "org-" + Random.token(8))
        Ctl.expectFailure(try await Ctl.run("lookup-status", "--token", member), code: "PERMISSION_DENIED")
    }
}

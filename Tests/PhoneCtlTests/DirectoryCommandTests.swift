import Foundation
import Testing
import TestSupport

extension PhoneCtlTests {
    /// `phonectl orgs …` and `phonectl agents …`.
    @Suite struct DirectoryCommandTests {
        @Test func organisationsAreUpsertedAndDeleted() async throws {
            let org = "org-" + Random.token(10)
            let created = try await Ctl.json("orgs", "upsert", org, "--name", "Acme", "--time-zone", "Asia/Tokyo",
                                             "--numbers-per-agent", "many")
            #expect(created.object("organization").string("time_zone") == "Asia/Tokyo")
            #expect(created.object("organization").string("numbers_per_agent") == "many")
            #expect((created.int("consistency_token") ?? 0) > 0)

            let renamed = try await Ctl.run("orgs", "upsert", org, "--name", "Acme Two", "--time-zone", "Asia/Tokyo")
            #expect(renamed.status == 0 && renamed.stdout.contains("Acme Two"), "\(renamed)")

            let deleted = try await Ctl.run("orgs", "delete", org)
            #expect(deleted.status == 0 && deleted.stdout.contains("consistency token: "), "\(deleted)")
            Ctl.expectFailure(try await Ctl.run("orgs", "delete", org), code: "NOT_FOUND")
        }

        @Test func aBadTimeZoneNamesTheField() async throws {
            Ctl.expectFailure(try await Ctl.run("orgs", "upsert", "org-" + Random.token(8), "--name", "X", "--time-zone", "Mars/Olympus"),
                              code: "INVALID_ARGUMENT", mentioning: "organization.time_zone")
        }

        @Test func agentsAreUpsertedListedAndDeleted() async throws {
            let (org, agents) = try await Fixtures.organization(agents: 2)
            let listed = try await Ctl.json("agents", "list", "--org", org)
            #expect(listed.objects("agents").compactMap { $0.string("id") } == agents)

            _ = try await Ctl.json("agents", "delete", agents[0])
            #expect(try await Ctl.json("agents", "list", "--org", org).objects("agents").compactMap { $0.string("id") } == [agents[1]])

            Ctl.expectFailure(try await Ctl.run("agents", "upsert", "agent-" + Random.token(8), "--org", "org-missing-" + Random.token(6),
                                                "--name", "Nobody"),
                              code: "FAILED_PRECONDITION", mentioning: "not registered")
        }

        @Test func directoryChangesAreForThePlatform() async throws {
            let (org, _) = try await Fixtures.organization()
            let owner = try await Ctl.token(role: "org_owner", org: org)
            Ctl.expectFailure(try await Ctl.run("orgs", "upsert", org, "--name", "Mine", "--time-zone", "UTC", "--token", owner),
                              code: "PERMISSION_DENIED")
        }
    }
}

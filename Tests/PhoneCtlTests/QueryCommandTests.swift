import Foundation
import Testing
import TestSupport

extension PhoneCtlTests {
    /// `phonectl org-numbers`, `summary`, `history`.
    @Suite struct QueryCommandTests {
        @Test func summaryAndHistoryOfAnOrganisation() async throws {
            let (org, agents) = try await Fixtures.organization(agents: 1)
            let numbers = try await Fixtures.allocated(2, to: org)
            _ = try await Ctl.json("connect", numbers[0], "--agent", agents[0])

            let summary = try await Ctl.json("summary", "--org", org)
            #expect(summary.int("my_numbers") == 2)
            #expect(summary.int("connected_to_agents") == 1)

            let history = try await Ctl.json("history", "--number", numbers[0], "--all")
            let actions = history.objects("entries").compactMap { $0.string("action") }
            #expect(actions.contains("assigned") && actions.contains("connected"), "\(actions)")
            let table = try await Ctl.run("history", "--org", org)
            #expect(table.status == 0 && table.stdout.contains("connected"), "\(table)")

            let listed = try await Ctl.run("org-numbers", "--org", org)
            #expect(listed.stdout.contains(numbers[0]) && listed.stdout.contains(agents[0]), "\(listed)")
        }

        @Test func organisationsSeeOnlyTheirOwn() async throws {
            let (org, _) = try await Fixtures.organization()
            let stranger = try await Ctl.token(role: "org_member", org: "org-" + Random.token(8))
            Ctl.expectFailure(try await Ctl.run("summary", "--org", org, "--token", stranger), code: "NOT_FOUND")
            Ctl.expectFailure(try await Ctl.run("summary"), code: "INVALID_ARGUMENT", mentioning: "organization_id")
        }
    }
}

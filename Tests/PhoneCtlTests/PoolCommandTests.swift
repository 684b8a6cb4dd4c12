import Foundation
import Testing
import TestSupport

extension PhoneCtlTests {
    /// `phonectl pool …`: search, holds, allocation, release.
    @Suite struct PoolCommandTests {
        @Test func reserveConfirmAndCancelHolds() async throws {
            let (org, _) = try await Fixtures.organization()
            let (block, numbers) = try await Fixtures.pool(3)

            let search = try await Ctl.json("pool", "search", "--prefix", block.digits)
            #expect(search.objects("numbers").compactMap { $0.string("e164") } == numbers)

            let hold = try await Ctl.json("pool", "reserve", "--org", org, "--count", "2", "--prefix", block.digits)
            let holdID = try #require(hold.object("hold").string("id"))
            #expect(hold.object("hold").objects("numbers").count == 2)
            let confirmed = try await Ctl.json("pool", "confirm", holdID)
            #expect(confirmed.objects("numbers").allSatisfy { $0.string("status") == "assigned" && $0.string("organization_id") == org })

            let second = try await Ctl.json("pool", "reserve", "--org", org, "--number", numbers[2])
            let cancelled = try await Ctl.run("pool", "cancel", try #require(second.object("hold").string("id")))
            #expect(cancelled.status == 0 && cancelled.stdout.contains("consistency token: "), "\(cancelled)")
            #expect(try await Ctl.json("pool", "search", "--prefix", block.digits).objects("numbers").compactMap { $0.string("e164") }
                    == [numbers[2]])

            Ctl.expectFailure(try await Ctl.run("pool", "reserve", "--org", org, "--count", "5", "--prefix", block.digits),
                              code: "FAILED_PRECONDITION", mentioning: "nothing was reserved")
        }

        @Test func allocateAndRelease() async throws {
            let (org, _) = try await Fixtures.organization()
            let numbers = try await Fixtures.allocated(2, to: org)
            let held = try await Ctl.json("org-numbers", "--org", org).objects("numbers")
            #expect(held.compactMap { $0.object("number").string("e164") } == numbers)

            let released = try await Ctl.run("pool", "release", numbers[0])
            #expect(released.status == 0 && released.stdout.contains("released \(numbers[0])"), "\(released)")
            #expect(try await Ctl.json("org-numbers", "--org", org).objects("numbers").count == 1)

            Ctl.expectFailure(try await Ctl.run("pool", "allocate", "--org", "org-missing-" + Random.token(6), "--number", numbers[1]),
                              code: "FAILED_PRECONDITION")
        }
    }
}

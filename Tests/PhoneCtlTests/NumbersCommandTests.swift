import Foundation
import Testing
import TestSupport

extension PhoneCtlTests {
    /// `phonectl numbers …` against inventory.
    @Suite struct NumbersCommandTests {
        @Test func getShowsANumberByWrittenFormAndById() async throws {
            let number = try await Block.fresh().numbers(1)[0]
            let id = try await Fixtures.imported([number])[0]

            let byID = try await Ctl.json("numbers", "get", id).object("number")
            #expect(byID.string("e164") == number)
            #expect(byID.string("country") == "US")
            #expect(byID.string("lifecycle") == "active")
            // A national form with a region hint names the same number.
            let national = String(number.dropFirst(2))
            let byNumber = try await Ctl.json("numbers", "get", national, "--region-hint", "US").object("number")
            #expect(byNumber.string("id") == id)

            let table = try await Ctl.run("numbers", "get", number)
            #expect(table.status == 0)
            #expect(table.stdout.contains("e164:") && table.stdout.contains(number), "\(table)")
        }

        @Test func getOfAnUnknownNumberFailsWithNotFound() async throws {
            let number = try await Block.fresh().numbers(1)[0]
            Ctl.expectFailure(try await Ctl.run("numbers", "get", number), code: "NOT_FOUND")
        }

        @Test func listFiltersAndFollowsPages() async throws {
            let block = try await Block.fresh()
            let numbers = block.numbers(5)
            _ = try await Fixtures.imported(numbers)

            let all = try await Ctl.json("numbers", "list", "--query", "+" + block.digits, "--page-size", "2", "--all")
            #expect(all.objects("numbers").compactMap { $0.string("e164") } == numbers)
            #expect(all.string("next_page_token") == "")
            let firstPage = try await Ctl.json("numbers", "list", "--query", "+" + block.digits, "--page-size", "2")
            #expect(firstPage.objects("numbers").count == 2)
            #expect(firstPage.string("next_page_token")?.isEmpty == false)

            Ctl.expectFailure(try await Ctl.run("numbers", "list", "--capability", "telepathy"), code: "INVALID_ARGUMENT",
                              mentioning: "--capability")
        }

        @Test func updateRetireAndRestoreShowTheChangeAndItsConsistencyToken() async throws {
            let number = try await Block.fresh().numbers(1)[0]
            _ = try await Fixtures.imported([number])

            let updated = try await Ctl.json("numbers", "update", number, "--label", "front desk", "--capabilities", "voice,sms",
                                             "--monthly-cost", "1.25", "--currency", "USD")
            let changed = updated.object("number")
            #expect(changed.string("label") == "front desk")
            #expect(changed.object("capabilities")["sms"] as? Bool == true)
            #expect(changed.int("monthly_cost_micros") == 1_250_000)
            #expect(changed.int("version") == 2)
            #expect((updated.int("consistency_token") ?? 0) > 0)

            let human = try await Ctl.run("numbers", "retire", number, "--reason", "customer left")
            #expect(human.status == 0)
            #expect(human.stdout.contains("lifecycle:") && human.stdout.contains("retired"), "\(human)")
            #expect(human.stdout.contains("consistency token: "), "\(human)")
            Ctl.expectFailure(try await Ctl.run("numbers", "retire", number), code: "FAILED_PRECONDITION", mentioning: "already retired")

            let restored = try await Ctl.json("numbers", "restore", number)
            #expect(restored.object("number").string("lifecycle") == "active")

            Ctl.expectFailure(try await Ctl.run("numbers", "update", number, "--label", "x", "--expected-version", "1"),
                              code: "ABORTED", mentioning: "expected_version")
        }

        @Test func anIdempotencyKeyReplaysTheFirstAnswerAndRefusesAnotherRequest() async throws {
            let number = try await Block.fresh().numbers(1)[0]
            _ = try await Fixtures.imported([number])
            let key = "key-" + Random.token(12)

            let first = try await Ctl.json("numbers", "update", number, "--label", "one", "--idempotency-key", key)
            let again = try await Ctl.json("numbers", "update", number, "--label", "one", "--idempotency-key", key)
            #expect(again.int("consistency_token") == first.int("consistency_token"))
            #expect(again.object("number").int("version") == first.object("number").int("version"))
            #expect(try await Ctl.json("numbers", "get", number).object("number").int("version") == 2)

            Ctl.expectFailure(try await Ctl.run("numbers", "update", number, "--label", "two", "--idempotency-key", key),
                              code: "INVALID_ARGUMENT", mentioning: "idempotency-key")
        }

        @Test func credentialsAreValidatedStoredAndReadBack() async throws {
            let number = try await Block.fresh().numbers(1)[0]
            _ = try await Fixtures.imported([number])
            let sid = "AC" + String(repeating: "ab", count: 16)

            let set = try await Ctl.json("numbers", "credentials", "set", number, "--field", "account_sid=\(sid)",
                                         "--field", "auth_token=s3cret")
            #expect(set.object("number")["has_credentials"] as? Bool == true)
            let read = try await Ctl.json("numbers", "credentials", "get", number)
            #expect(read.string("provider") == "twilio")
            #expect(read.object("credentials").object("fields") as? [String: String] == ["account_sid": sid, "auth_token": "s3cret"])

            Ctl.expectFailure(try await Ctl.run("numbers", "credentials", "set", number, "--field", "account_sid=nope",
                                                "--field", "auth_token=x"),
                              code: "INVALID_ARGUMENT", mentioning: "credentials.account_sid")

            let cleared = try await Ctl.json("numbers", "credentials", "clear", number)
            #expect(cleared.object("number")["has_credentials"] as? Bool == false)
        }

        @Test func keyRotationIsForPlatformAdminsOnly() async throws {
            let rotated = try await Ctl.json("numbers", "rotate-keys")
            #expect(rotated.string("active_key_id") == "k2")

            let owner = try await Ctl.token(role: "org_owner", org: "org-" + Random.token(8))
            Ctl.expectFailure(try await Ctl.run("numbers", "rotate-keys", "--token", owner), code: "PERMISSION_DENIED")
        }

        @Test func anUnreachableServiceIsReportedAsUnavailable() async throws {
            let result = try await Ctl.run(["numbers", "list", "--timeout", "2"], environment: ["PHONE_INVENTORY_ADDR": "127.0.0.1:9"])
            Ctl.expectFailure(result, code: "UNAVAILABLE")
        }
    }
}

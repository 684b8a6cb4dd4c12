import Foundation
import Testing
import TestSupport

extension PhoneCtlTests {
    /// `phonectl import file.csv`: batches, rejections by line, safe re-runs.
    @Suite struct ImportCommandTests {
        @Test func importsGoodRowsOnceAndReportsEveryBadRowByLine() async throws {
            let block = try await Block.fresh()
            let good = block.numbers(5)
            let tag = "imp" + Random.token(8)
            let sid = "AC" + String(repeating: "0f", count: 16)
            let file = try Fixtures.csv([
                "number,provider,voice,sms,monthly_cost,currency,label,credentials.account_sid,credentials.auth_token", // line 1
                "\(good[0]),twilio,yes,no,1.15,USD,\"Front desk, \"\"main\"\" \(tag)\",\(sid),token-1",              // 2
                "\(good[1]),twilio,,,,,\(tag),,",                                                                      // 3
                "\(good[1]),twilio,,,,,\(tag),,",                                                                      // 4: same row again
                "12345,twilio,,,,,\(tag),,",                                                                           // 5: not a number
                "\(good[2]),twilio,perhaps,,,,\(tag),,",                                                               // 6: bad boolean
                "\(good[3]),twilio,,,,,\(tag) \"quoted\" badly,,",                                                     // 7: stray quote
                "\(good[3]),twilio,,,,,\(tag),AC12,token",                                                             // 8: bad account SID
                "\(good[2]),twilio,true,true,,,\(tag),,",                                                              // 9
                "\(good[4]),twilio,,,,,\(tag)",                                                                        // 10: too few fields
                "\(good[3]),twilio,,,2.00,EUR,\(tag),,",                                                               // 11
                "\(good[4]),sip,,,,,\(tag),,",                                                                         // 12
            ])

            let first = try await Ctl.run(["import", file, "--batch-size", "3", "--json"])
            #expect(first.status == 2, "rows were rejected: \(first)")
            let report = try first.json()
            #expect(report.int("created") == 5, "\(report)")
            #expect(report.int("already_present") == 1, "\(report)")
            #expect(report.int("rejected") == 5, "\(report)")
            let rejections = Dictionary(uniqueKeysWithValues: report.objects("rejections").map { ($0.int("line") ?? 0, $0.string("field") ?? "") })
            #expect(rejections == [5: "number", 6: "voice", 7: "row", 8: "credentials.account_sid", 10: "row"], "\(report)")
            #expect(report.objects("rejections").allSatisfy { !($0.string("reason") ?? "").isEmpty })
            // Not a terminal: progress is plain lines on stderr, one per batch.
            let progress = first.stderr.split(separator: "\n").filter { $0.hasPrefix("import: ") }
            #expect(progress.count == 3 && progress.last?.hasPrefix("import: 11/11 rows") == true, "\(first.stderr)")

            // Again: nothing new, the good rows are already present, the bad ones still named.
            let again = try await Ctl.run(["import", file, "--batch-size", "3"])
            #expect(again.status == 2)
            #expect(again.stdout.hasPrefix("created 0, already present 6, rejected 5"), "\(again)")
            for line in ["5", "6", "7", "8", "10"] {
                #expect(again.stdout.contains("\n\(line) "), "the report names line \(line): \(again.stdout)")
            }

            // Inventory holds exactly the good numbers, once each.
            let listed = try await Ctl.json("numbers", "list", "--query", tag, "--all").objects("numbers")
            #expect(listed.compactMap { $0.string("e164") }.sorted() == good.sorted())
            let first0 = try await Ctl.json("numbers", "get", good[0]).object("number")
            #expect(first0.string("label") == "Front desk, \"main\" \(tag)")
            #expect(first0.int("monthly_cost_micros") == 1_150_000)
            #expect(first0["has_credentials"] as? Bool == true)
            #expect(first0.object("capabilities")["sms"] as? Bool == false)
        }

        @Test func aFileWithAnUnknownColumnIsRefusedBeforeAnythingIsSent() async throws {
            let number = try await Block.fresh().numbers(1)[0]
            let file = try Fixtures.csv(["number,provider,colour", "\(number),twilio,blue"])
            Ctl.expectFailure(try await Ctl.run("import", file), code: "INVALID_ARGUMENT", mentioning: "colour")
            Ctl.expectFailure(try await Ctl.run("numbers", "get", number), code: "NOT_FOUND")
        }

        @Test func importReadsStandardInput() async throws {
            let number = try await Block.fresh().numbers(1)[0]
            let result = try await Ctl.run(["import", "-"], stdin: "number,provider\n\(number),telnyx\n")
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.hasPrefix("created 1, already present 0, rejected 0"), "\(result)")
            #expect(try await Ctl.json("numbers", "get", number).object("number").string("provider") == "telnyx")
        }
    }
}

import Foundation
import Testing
import TestSupport

extension PhoneCtlTests {
    /// `phonectl demo` loads its data set and can run again.
    @Suite struct DemoCommandTests {
        @Test func loadingTwiceLeavesOneCopyAndSuggestsThreeCommands() async throws {
            let first = try await Ctl.run("demo")
            #expect(first.status == 0, "\(first)")
            let again = try await Ctl.run("demo")
            #expect(again.status == 0, "\(again)")
            #expect(again.stdout.contains("(created 0, already present 1000)"), "\(again)")
            #expect(again.stdout.split(separator: "\n").filter { $0.hasPrefix("try: phonectl ") }.count == 3, "\(again)")

            let summary = try await Ctl.json("summary", "--org", "demo-harbour")
            #expect(summary.int("my_numbers") == 10)
            #expect(summary.int("connected_to_agents") == 2)
            let demo = try await Ctl.json("numbers", "list", "--query", "demo", "--all").objects("numbers")
            #expect(demo.count == 1000)
            #expect(Set(demo.compactMap { $0.string("country") }) == ["US", "CA", "GB", "DE", "FR", "AU"])
            #expect(Set(demo.compactMap { $0.string("provider") }) == ["twilio", "vonage", "telnyx", "sip"])
            #expect(demo.filter { $0["has_credentials"] as? Bool == true }.count == 200)
            let scheduled = try await Ctl.json("org-numbers", "--org", "demo-harbour").objects("numbers").filter { $0["has_schedule"] as? Bool == true }
            #expect(scheduled.count == 1)
        }
    }
}

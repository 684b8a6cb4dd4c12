import Foundation
import PhoneNumbers
import Synchronization
import Testing
import TestSupport

/// Random names: the database is shared and never reset, so every test
/// uses numbers, organisations and labels nobody else uses.
enum Random {
    static func token(_ length: Int) -> String {
        String((0..<length).map { _ in Array("abcdefghijklmnopqrstuvwxyz0123456789").randomElement()! })
    }

    static func digits(_ length: Int) -> String {
        String((0..<length).map { _ in Character(String(Int.random(in: 0...9))) })
    }
}

/// A run of US numbers nobody else uses ("+1415238" + three digits), so a
/// prefix filter sees only the test's own numbers.
struct Block: Sendable {
    let digits: String

    private static let handedOut = Mutex<Set<String>>([])
    private static let areaCodes = ["206", "212", "303", "312", "404", "415", "503", "512", "617", "650", "702", "713"]

    /// Valid numbers of the block, at most `count`, in order.
    func numbers(_ count: Int) -> [String] {
        (0..<1000).lazy.map { "+" + digits + String(format: "%03d", $0) }
            .filter { (try? PhoneNumber(parsing: $0))?.e164 == $0 }.prefix(count).map { $0 }
    }

    /// A block with no number in inventory yet.
    static func fresh() async throws -> Block {
        for _ in 0..<100 {
            let digits = "1" + areaCodes.randomElement()! + String(Int.random(in: 2...9)) + Random.digits(3)
            guard handedOut.withLock({ $0.insert(digits).inserted }) else { continue }
            let listed = try await Ctl.json("numbers", "list", "--query", "+" + digits, "--lifecycle", "active", "--page-size", "1")
            let retired = try await Ctl.json("numbers", "list", "--query", "+" + digits, "--lifecycle", "retired", "--page-size", "1")
            if listed.objects("numbers").isEmpty && retired.objects("numbers").isEmpty { return Block(digits: digits) }
        }
        throw ServiceProcessError("no free block of numbers found")
    }
}

/// Data the tests build through phonectl itself.
enum Fixtures {
    /// Writes `rows` (a header first) to a temporary CSV file.
    static func csv(_ rows: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).csv").path
        try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Imports `numbers` into the pool (twilio, voice) and returns their ids in order.
    static func imported(_ numbers: [String], owner: String = "") async throws -> [String] {
        let file = try csv(["number,provider,owner_organization_id,label"] + numbers.map { "\($0),twilio,\(owner),fixture" })
        let report = try await Ctl.json("import", file)
        #expect(report.int("created") == numbers.count, "\(report)")
        var ids: [String] = []
        for number in numbers { ids.append(try #require(try await Ctl.json("numbers", "get", number).object("number").string("id"))) }
        return ids
    }

    /// Imports `count` numbers of a fresh block and waits until the pool offers them.
    static func pool(_ count: Int) async throws -> (block: Block, numbers: [String]) {
        let block = try await Block.fresh()
        let numbers = block.numbers(count)
        _ = try await imported(numbers)
        try await waitForPool(block, count: count)
        return (block, numbers)
    }

    /// Waits (bounded) until assignment's pool offers `count` numbers of `block`.
    static func waitForPool(_ block: Block, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let found = try await Ctl.json("pool", "search", "--prefix", block.digits, "--all").objects("numbers").count
            if found >= count { return }
            guard ContinuousClock.now < deadline else {
                throw ServiceProcessError("assignment did not offer \(count) numbers of +\(block.digits); saw \(found)\n\(try CtlStack.shared.logs)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// A registered organisation with `agents` agents; returns the ids.
    static func organization(agents: Int = 1, numbersPerAgent: String = "one") async throws -> (org: String, agents: [String]) {
        let org = "org-" + Random.token(10)
        _ = try await Ctl.json("orgs", "upsert", org, "--name", "Test \(org)", "--time-zone", "Europe/London",
                               "--numbers-per-agent", numbersPerAgent)
        var ids: [String] = []
        for index in 0..<agents {
            let agent = "\(org)-agent-\(index)"
            _ = try await Ctl.json("agents", "upsert", agent, "--org", org, "--name", "Agent \(index)")
            ids.append(agent)
        }
        return (org, ids)
    }

    /// `count` pool numbers allocated to `org`.
    static func allocated(_ count: Int, to org: String) async throws -> [String] {
        let (_, numbers) = try await pool(count)
        _ = try await Ctl.json(["pool", "allocate", "--org", org] + numbers.flatMap { ["--number", $0] })
        return numbers
    }
}

extension Ctl {
    static func json(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let result = try await run(arguments + ["--json"])
        try #require(result.status == 0, "phonectl \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        return try result.json(sourceLocation: sourceLocation)
    }
}

import Foundation
import Testing
import TestSupport

/// One run of the built `phonectl` binary.
struct CtlRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }

    /// stdout parsed as a JSON object.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(value as? [String: Any], "not a JSON object: \(self)", sourceLocation: sourceLocation)
    }
}

/// Runs phonectl as an operator would, against the suite's stack.
enum Ctl {
    /// Runs `phonectl arguments…` with the stack's addresses and secret
    /// (plus `environment`), feeding `stdin`; bounded so a hang fails the test.
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) async throws -> CtlRun {
        let stack = try CtlStack.shared
        let executable = ServiceProcess.binaryDirectory.appendingPathComponent("phonectl")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("phonectl-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (outURL, errURL, inURL) = (directory.appendingPathComponent("out"), directory.appendingPathComponent("err"),
                                       directory.appendingPathComponent("in"))
        for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            .merging(stack.environment) { $1 }.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw ServiceProcessError("phonectl \(arguments.joined(separator: " ")) did not finish in 120 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CtlRun(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    static func run(_ arguments: String..., environment: [String: String] = [:]) async throws -> CtlRun {
        try await run(arguments, environment: environment)
    }

    /// Runs with --json, requires exit status 0, and parses the answer.
    static func json(_ arguments: String..., environment: [String: String] = [:],
                     sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let result = try await run(arguments + ["--json"], environment: environment)
        try #require(result.status == 0, "phonectl \(arguments.joined(separator: " ")): \(result)", sourceLocation: sourceLocation)
        return try result.json(sourceLocation: sourceLocation)
    }

    /// Expects the run to fail as the CLI promises: exit status 1 and exactly
    /// one line on stderr, `phonectl: <code>: …`, mentioning `mentioning`.
    static func expectFailure(_ result: CtlRun, code: String, mentioning: String? = nil,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "\(result)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr should be one line: \(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("phonectl: \(code): "), "\(result)", sourceLocation: sourceLocation)
        if let mentioning {
            #expect(result.stderr.contains(mentioning), "stderr should mention \(mentioning): \(result)", sourceLocation: sourceLocation)
        }
        #expect(result.stdout.isEmpty, "nothing on stdout after a failure: \(result)", sourceLocation: sourceLocation)
    }

    /// A token for another caller, from the same secret.
    static func token(role: String, org: String? = nil) async throws -> String {
        var arguments = ["token", "--role", role]
        if let org { arguments += ["--org", org] }
        let result = try await run(arguments)
        try #require(result.status == 0, "\(result)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Convenience accessors for parsed JSON.
extension Dictionary where Key == String, Value == Any {
    func object(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    func objects(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
    func string(_ key: String) -> String? { self[key] as? String }
    func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
}

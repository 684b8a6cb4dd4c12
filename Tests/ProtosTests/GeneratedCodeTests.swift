import Foundation
import Testing

/// The committed generated code (Shared/CProtos, Shared/Protos/Generated)
/// matches what scripts/generate.sh makes from proto/ now.
@Suite struct GeneratedCodeTests {
    /// The repository root: this file is Tests/ProtosTests/GeneratedCodeTests.swift.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(.timeLimit(.minutes(10)))
    func committedOutputIsUpToDate() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let hasProtocC = path.split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/protoc-c")
        }
        guard hasProtocC else {
            Issue.record("""
                protoc-c is not on PATH, so the generated code cannot be checked: \
                install the Debian package protobuf-c-compiler (scripts/install-deps.sh)
                """)
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", Self.repositoryRoot.appendingPathComponent("scripts/generate.sh").path, "--check"]
        process.currentDirectoryURL = Self.repositoryRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "scripts/generate.sh --check failed:\n\(text)")
    }
}

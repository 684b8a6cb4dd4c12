import Foundation

/// Runs helper commands (scripts/postgres.sh) and fails with their output.
enum Shell {
    /// Runs the command to completion without blocking a cooperative thread.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Output goes to a file, not a pipe: the Postgres server started by the
        // script inherits the descriptor and would keep a pipe open forever.
        let outputURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("shell-" + UUID().uuidString + ".log")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let output = try FileHandle(forWritingTo: outputURL)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try? output.close()
        let data = (try? Data(contentsOf: outputURL)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw TestPostgresError(
                "`\(arguments.joined(separator: " "))` failed with status \(process.terminationStatus): "
                    + String(decoding: data, as: UTF8.self)
            )
        }
    }
}

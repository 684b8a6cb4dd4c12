public import Foundation

/// A service executable (inventory, assignment, lookup) run as its own process
/// against the test Postgres, for tests of behaviour users see end to end.
public final class ServiceProcess: @unchecked Sendable {
    public let name: String
    public let port: Int
    /// The HTTP /metrics and /health port.
    public let metricsPort: Int
    public let process: Process
    public let logURL: URL

    /// A fixed key ring for tests (two keys, k2 active); never used outside tests.
    public static let testCredentialKeys =
        "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

    /// The folder holding built executables: PHONE_BIN_DIR (set by
    /// scripts/test.sh), else the debug build folder next to this package.
    public static var binaryDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["PHONE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug")
    }

    /// Starts `name` on `port` (a free one when nil; pass the old port to
    /// restart a service where its peers expect it) with the extra environment.
    public init(_ name: String, port: Int? = nil, jwtSecret: String, environment extra: [String: String] = [:]) throws {
        self.name = name
        self.port = try port ?? Self.freePort()
        var metricsPort = try Self.freePort()
        while metricsPort == self.port { metricsPort = try Self.freePort() }
        self.metricsPort = metricsPort
        let executable = Self.binaryDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ServiceProcessError("\(executable.path) is not built; run `swift build` first (scripts/test.sh does)")
        }
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(self.port)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)

        let environment = Self.environment(name, port: self.port, metricsPort: metricsPort, jwtSecret: jwtSecret, extra: extra)

        process = Process()
        process.executableURL = executable
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// What a service process is started with: the test Postgres as the
    /// service's own role, the test key ring, and `extra` on top.
    static func environment(_ name: String, port: Int, metricsPort: Int, jwtSecret: String,
                            extra: [String: String]) -> [String: String] {
        let env = ProcessInfo.processInfo.environment
        var environment: [String: String] = [
            "PATH": env["PATH"] ?? "/usr/bin:/bin",
            "PHONE_RPC_HOST": "127.0.0.1",
            "PHONE_RPC_PORT": String(port),
            "PHONE_METRICS_PORT": String(metricsPort),
            "PHONE_JWT_SECRET": jwtSecret,
            "PHONE_CREDENTIAL_KEYS": Self.testCredentialKeys,
            "PHONE_LOG_LEVEL": "info",
            "PG_HOST": env["PG_HOST"] ?? "127.0.0.1",
            "PG_PORT": env["PG_PORT"] ?? "55432",
            "PG_DATABASE": env["PG_DATABASE"] ?? "phonenumbers",
            "PG_USER": name,
            "PG_PASSWORD": env["PG_PASSWORD_\(name.uppercased())"] ?? name,
        ]
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Runs a service executable with arguments (e.g. `lookup rebuild`) to
    /// completion, as the service's role; its exit status and output.
    public static func runCommand(_ name: String, _ arguments: [String], jwtSecret: String,
                                  timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = binaryDirectory.appendingPathComponent(name)
        process.arguments = arguments
        process.environment = environment(name, port: try freePort(), metricsPort: 0, jwtSecret: jwtSecret, extra: [:])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw ServiceProcessError("\(name) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, output)
    }

    /// The process's log so far (for assertions and failure messages).
    public var log: String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// Sends SIGTERM and waits up to `timeout` seconds; returns the exit
    /// status, or nil when it had to be killed.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(15)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        if let status = await waitForExit(timeout: timeout) { return status }
        kill(process.processIdentifier, SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
        return nil
    }

    /// Waits (without blocking a thread) for the process to exit; its status, or nil on timeout.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }

    /// A port nothing listens on right now (bind to 0, read it, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ServiceProcessError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct ServiceProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

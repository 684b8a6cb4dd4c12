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

    /// Starts `name` on a free port with the given extra environment.
    public init(_ name: String, jwtSecret: String, environment extra: [String: String] = [:]) throws {
        self.name = name
        self.port = try Self.freePort()
        var metricsPort = try Self.freePort()
        while metricsPort == port { metricsPort = try Self.freePort() }
        self.metricsPort = metricsPort
        let executable = Self.binaryDirectory.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ServiceProcessError("\(executable.path) is not built; run `swift build` first (scripts/test.sh does)")
        }
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(port).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)

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

        process = Process()
        process.executableURL = executable
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
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

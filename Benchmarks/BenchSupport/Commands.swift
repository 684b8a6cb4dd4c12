public import ArgumentParser
import Foundation
import NIOCore
import Protos
import RPC

// Subcommands every benchmark's script uses to start services on loopback.

/// Waits until the service answers Health/Check with SERVING.
public struct WaitHealthy: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "wait-healthy")
    @Option var port: Int
    @Option(help: "Give up after this many seconds.") var timeout = 60.0
    @Option(help: "Milliseconds between checks (small to time a start-up).") var interval = 100

    public init() {}

    public func run() async throws {
        var configuration = RPCClient.Configuration()
        configuration.maximumAttempts = 1
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: port), configuration: configuration)
        defer { client.close() }
        let deadline = ContinuousClock.now + .seconds(timeout)
        var last = "no answer"
        while ContinuousClock.now < deadline {
            do {
                let answer = try await client.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(),
                                                    as: RpcV1.HealthCheckResponse.self, timeout: .seconds(1), idempotent: true)
                if answer.status == .serving { return }
                last = "status \(answer.status), database reachable: \(answer.databaseReachable)"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(interval))
        }
        throw ValidationError("service on port \(port) not healthy after \(timeout) s: \(last)")
    }
}

/// Prints a loopback port nothing listens on right now.
public struct FreePort: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "free-port")

    public init() {}

    public func run() throws {
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
        guard bound else { throw ValidationError("could not find a free port") }
        print(UInt16(bigEndian: address.sin_port))
    }
}

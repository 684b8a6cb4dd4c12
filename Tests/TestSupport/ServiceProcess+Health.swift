import Foundation
import NIOCore
import Protos
import RPC

extension ServiceProcess {
    /// Waits until the process answers health with SERVING; throws with its
    /// log if it exits or `timeout` passes first.
    public func waitUntilHealthy(timeout: Duration = .seconds(60)) async throws {
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: port))
        defer { client.close() }
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                let health = try await client.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(),
                                                    as: RpcV1.HealthCheckResponse.self, timeout: .seconds(1))
                if health.status == .serving { return }
            } catch {
                guard ContinuousClock.now < deadline, process.isRunning else {
                    throw ServiceProcessError("\(name) did not become healthy: \(error)\n\(log)")
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

import Foundation
public import Store

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway Postgres cluster of its own (a temporary data directory and a free
/// port), for tests that stop or restart the server. Restarting the shared server
/// would break every test running in parallel with them; this one belongs to a
/// single test. Started and stopped with scripts/postgres.sh, so it has the same
/// roles and settings as the development server.
public final class PrivatePostgres: Sendable {
    /// The cluster's data directory.
    public let dataDirectory: String
    /// The loopback port it listens on.
    public let port: Int
    /// Database created by the script.
    public let database = "phonenumbers"

    private init(dataDirectory: String, port: Int) {
        self.dataDirectory = dataDirectory
        self.port = port
    }

    /// Creates, starts and bootstraps a new cluster, runs `body`, then stops the
    /// cluster and deletes its files.
    public static func with<Result>(_ body: (PrivatePostgres) async throws -> Result) async throws -> Result {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.destroy()
            return result
        } catch {
            await server.destroy()
            throw error
        }
    }

    private static func start() async throws -> PrivatePostgres {
        var lastError: (any Error)?
        // A port picked as free can be taken before the server binds it; try a few.
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("pg-test-" + UUID().uuidString.prefix(8).lowercased()).path
            let server = PrivatePostgres(dataDirectory: directory, port: try freePort())
            do {
                try await server.script("start")
                return server
            } catch {
                lastError = error
                await server.destroy()
            }
        }
        throw lastError ?? TestPostgresError("could not start a private Postgres")
    }

    /// Superuser settings for this cluster.
    public func adminConfiguration(maxConnections: Int = 4) -> PostgresConfiguration {
        var configuration = PostgresConfiguration(host: "127.0.0.1", port: port, database: database, user: "postgres")
        configuration.pool.maxConnections = maxConnections
        configuration.connectTimeout = .seconds(2)
        configuration.pool.acquireTimeout = .seconds(5)
        return configuration
    }

    /// A throwaway role (and schema) on this cluster.
    public func makeRole(prefix: String = "t") async throws -> TestRole {
        let role = TestRole(prefix: prefix, host: "127.0.0.1", port: port, database: database)
        let admin = Database(configuration: adminConfiguration(), logger: TestPostgres.logger)
        do {
            try await role.create(using: admin)
            await admin.close()
        } catch {
            await admin.close()
            throw error
        }
        return role
    }

    /// `pg_ctl restart -m fast`: every session is terminated, the server comes back.
    public func restart() async throws { try await script("restart") }

    /// Fast shutdown; the server stays down until `start()`.
    public func stop() async throws { try await script("stop") }

    /// Starts the server again after `stop()`.
    public func start() async throws { try await script("start") }

    private func script(_ command: String) async throws {
        try await Shell.run([TestPostgres.repositoryRoot + "/scripts/postgres.sh", command], environment: [
            "PG_DATA_DIR": dataDirectory, "PG_PORT": String(port), "PG_HOST": "127.0.0.1",
            "PG_DATABASE": database, "PG_ADMIN_USER": "postgres", "PG_ADMIN_PASSWORD": "",
        ])
    }

    private func destroy() async {
        try? await script("stop")
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// Asks the kernel for a free loopback port.
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestPostgresError("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else { throw TestPostgresError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

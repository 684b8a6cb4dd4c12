import Foundation
public import Logging
public import Store

/// The Postgres that tests run against, found through the same environment
/// variables as every other tool in the repository (defaults in brackets):
/// PG_HOST [127.0.0.1], PG_PORT [55432], PG_DATABASE [phonenumbers],
/// PG_ADMIN_USER [postgres], PG_ADMIN_PASSWORD [empty], PG_DATA_DIR [<repo>/.pgdata].
/// Start it with `scripts/postgres.sh start`.
public enum TestPostgres {
    /// Environment values with the repository defaults.
    public static var host: String { env("PG_HOST") ?? "127.0.0.1" }
    /// The server's port.
    public static var port: Int { env("PG_PORT").flatMap(Int.init) ?? 55432 }
    /// The application database.
    public static var database: String { env("PG_DATABASE") ?? "phonenumbers" }
    /// The superuser tests use to create and drop scratch roles.
    public static var adminUser: String { env("PG_ADMIN_USER") ?? "postgres" }
    /// The superuser's password; empty means none (trust on loopback).
    public static var adminPassword: String? { env("PG_ADMIN_PASSWORD") }
    /// The server's data directory, used to restart it.
    public static var dataDirectory: String { env("PG_DATA_DIR") ?? repositoryRoot + "/.pgdata" }

    /// The password of a service role from db/bootstrap.sql: PG_PASSWORD_<ROLE>,
    /// else the development default (the role name).
    public static func servicePassword(_ role: String) -> String {
        env("PG_PASSWORD_" + role.uppercased()) ?? role
    }

    /// The repository checkout these tests were built from.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }   // Tests/TestSupport/<file>
        return url.path
    }()

    /// Logs at warning unless LOG_LEVEL says otherwise, so test output stays readable.
    public static let logger: Logger = {
        var logger = Logger(label: "tests")
        logger.logLevel = env("LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }()

    /// Settings for the superuser on the shared test server.
    public static func adminConfiguration(maxConnections: Int = 4) -> PostgresConfiguration {
        var configuration = PostgresConfiguration(
            host: host, port: port, database: database, user: adminUser, password: adminPassword
        )
        configuration.applicationName = "tests-admin"
        configuration.pool.maxConnections = maxConnections
        configuration.connectTimeout = .seconds(3)
        return configuration
    }

    /// Runs `body` with a superuser `Database`, closed afterwards. Fails with
    /// instructions when the server cannot be reached.
    @discardableResult
    public static func withAdmin<Result>(
        maxConnections: Int = 4,
        _ body: (Database) async throws -> Result
    ) async throws -> Result {
        let database = Database(configuration: adminConfiguration(maxConnections: maxConnections), logger: logger)
        do {
            try await waitUntilReachable(database, describedAs: "\(host):\(port)")
            let result = try await body(database)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }

    /// Creates a login role owning a schema of the same name (as db/bootstrap.sql
    /// does for the services), runs `body` with a `Database` connected as that
    /// role, then drops both. Names get a random suffix so tests run in parallel.
    @discardableResult
    public static func withRole<Result>(
        prefix: String = "t",
        maxConnections: Int = 4,
        _ body: (TestRole, Database) async throws -> Result
    ) async throws -> Result {
        let role = try await createRole(prefix: prefix)
        let database = Database(configuration: role.configuration(maxConnections: maxConnections), logger: logger)
        do {
            let result = try await body(role, database)
            await database.close()
            try await dropRole(role)
            return result
        } catch {
            await database.close()
            try? await dropRole(role)
            throw error
        }
    }

    /// Creates a scratch role and its schema on the shared server.
    public static func createRole(prefix: String = "t") async throws -> TestRole {
        let role = TestRole(prefix: prefix)
        try await withAdmin { admin in
            try await role.create(using: admin)
        }
        return role
    }

    /// Drops a scratch role and everything it owns.
    public static func dropRole(_ role: TestRole) async throws {
        try await withAdmin { admin in
            try await role.drop(using: admin)
        }
    }

    /// Waits up to `timeout` for `SELECT 1` to succeed (a concurrent restart may
    /// be in progress), then fails with what to do.
    static func waitUntilReachable(_ database: Database, describedAs address: String, timeout: Duration = .seconds(10)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            do {
                try await database.execute("SELECT 1")
                return
            } catch let error as DatabaseError where error.code == .unavailable || error.code == .connectionLost {
                if clock.now >= deadline {
                    throw TestPostgresError(
                        "Postgres is not reachable at \(address) as \(database.configuration.user) "
                            + "(\(String(reflecting: error))). Run `scripts/postgres.sh start` "
                            + "(or set PG_HOST/PG_PORT/PG_DATABASE/PG_ADMIN_USER for another server)."
                    )
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    static func env(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A failure of the test harness itself, with a message saying what to do.
public struct TestPostgresError: Error, CustomStringConvertible {
    /// What went wrong and how to fix it.
    public let description: String

    init(_ description: String) { self.description = description }
}

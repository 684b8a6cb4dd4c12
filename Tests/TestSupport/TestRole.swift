import Foundation
public import Store

/// A throwaway login role that owns one schema of the same name, like the
/// service roles created by db/bootstrap.sql.
public struct TestRole: Sendable, Hashable {
    /// Role name, also the schema name: `<prefix>_<random>`, a plain identifier.
    public let name: String
    /// Random password for the role.
    public let password: String
    /// Server the role lives on.
    public let host: String
    /// Port of that server.
    public let port: Int
    /// Database the schema is in.
    public let database: String

    /// The role's schema.
    public var schema: String { name }

    /// A fresh name on the shared test server (nothing is created yet).
    public init(prefix: String) {
        self.init(prefix: prefix, host: TestPostgres.host, port: TestPostgres.port, database: TestPostgres.database)
    }

    /// A fresh name on a given server (nothing is created yet).
    public init(prefix: String, host: String, port: Int, database: String) {
        precondition(prefix.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        self.name = prefix + "_" + Self.randomToken(10)
        self.password = Self.randomToken(24)
        self.host = host
        self.port = port
        self.database = database
    }

    /// Settings to connect as this role, with unqualified names resolving in its schema.
    public func configuration(maxConnections: Int = 4) -> PostgresConfiguration {
        var configuration = PostgresConfiguration(host: host, port: port, database: database, user: name, password: password)
        configuration.applicationName = "tests-" + name
        configuration.searchPath = [schema]
        configuration.pool.maxConnections = maxConnections
        configuration.connectTimeout = .seconds(3)
        return configuration
    }

    /// Creates the role and its schema. DDL takes no parameters; the name and
    /// password are generated here from [a-z0-9] only, so they are safe to embed.
    public func create(using admin: Database) async throws {
        try await admin.execute("CREATE ROLE \(name) LOGIN PASSWORD '\(password)'")
        try await admin.execute("CREATE SCHEMA \(name) AUTHORIZATION \(name)")
    }

    /// Drops the role's schema, its objects and the role.
    public func drop(using admin: Database) async throws {
        try await admin.execute("DROP SCHEMA IF EXISTS \(name) CASCADE")
        try await admin.execute("DROP OWNED BY \(name) CASCADE")
        try await admin.execute("DROP ROLE IF EXISTS \(name)")
    }

    private static func randomToken(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

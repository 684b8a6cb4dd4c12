/// How to reach Postgres and how to size the pool. Environment variables are read
/// by each executable's `main`, never here.
public struct PostgresConfiguration: Sendable {
    /// Host name or address of the server.
    public var host: String = "127.0.0.1"
    /// TCP port of the server.
    public var port: Int = 5432
    /// Database to connect to.
    public var database: String = "postgres"
    /// Role to log in as.
    public var user: String = "postgres"
    /// Password of `user`; nil when the server trusts the connection.
    public var password: String? = nil
    /// Shown in `pg_stat_activity`, so operators can tell services apart.
    public var applicationName: String = "phone-numbers"
    /// Schemas for unqualified names, first one first; nil keeps the role's default.
    public var searchPath: [String]? = nil
    /// How long opening one connection may take before the server counts as unavailable.
    public var connectTimeout: Duration = .seconds(5)
    /// Server-side limit for each statement; nil means no limit.
    public var statementTimeout: Duration? = nil
    /// Connection pool sizing.
    public var pool: Pool = Pool()

    /// Connection pool sizing and waiting.
    public struct Pool: Sendable {
        /// Most connections open at once (LISTEN connections are not counted).
        public var maxConnections: Int = 10
        /// How long a caller waits for a free connection before failing with `timeout`.
        public var acquireTimeout: Duration = .seconds(10)
        /// Threads that run blocking libpq calls; nil means `maxConnections + 2` so
        /// every pooled connection and a couple of listeners can block at once.
        public var threadCount: Int? = nil

        /// A pool with default sizes.
        public init() {}
    }

    /// A configuration with every setting at its default.
    public init() {}

    /// A configuration for one role on one database.
    public init(
        host: String,
        port: Int,
        database: String,
        user: String,
        password: String? = nil
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }
}

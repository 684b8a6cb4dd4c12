public import Logging
import NIOCore
public import RPC
public import Store
public import Credentials
public import Observability

/// Everything a service process is configured with. Built from environment
/// variables by `ServiceSettings(service:defaultPort:environment:)`, which
/// `main` calls with the process environment; the README's configuration
/// table lists every variable.
public struct ServiceSettings: Sendable {
    /// "inventory", "assignment" or "lookup".
    public var serviceName: String
    public var version = "0.1.0"
    public var rpc = RPCServer.Configuration()
    /// Event-loop threads for RPC (nil: one per core).
    public var eventLoopThreads: Int?
    public var postgres = PostgresConfiguration()
    /// The HS256 secret bearer tokens are signed with.
    public var jwtSecret: [UInt8] = []
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text
    /// The HTTP /metrics and /health endpoint; nil when disabled.
    public var observability: ObservabilityServer.Configuration?
    /// Where the producers this service consumes events from listen, by name.
    public var upstreams: [String: RPCTarget] = [:]
    /// `PHONE_CREDENTIAL_KEYS`: "id:base64key,..." (first is active unless
    /// `credentialActiveKeyID` names another).
    public var credentialKeys: String?
    public var credentialActiveKeyID: String?
    /// The whole environment, for the variables only one service reads.
    public var environment = EnvironmentReader(values: [:])

    public init(serviceName: String) {
        self.serviceName = serviceName
    }
}

/// A configuration value that could not be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var variable: String
    public var problem: String

    public var description: String { "\(variable): \(problem)" }
}

extension ServiceSettings {
    /// Reads the settings from `environment` (the process environment in production).
    public init(service: String, defaultPort: Int, environment: [String: String]) throws {
        let env = EnvironmentReader(values: environment)
        self.init(serviceName: service)
        self.environment = env
        rpc.host = env.string("PHONE_RPC_HOST", default: "127.0.0.1")
        rpc.port = try env.int("PHONE_RPC_PORT", default: defaultPort, range: 0...65535)
        rpc.maximumFrameSize = try env.int("PHONE_MAX_FRAME_BYTES", default: rpc.maximumFrameSize, range: 1024...(64 << 20))
        rpc.drainTimeout = .seconds(Int64(try env.int("PHONE_DRAIN_SECONDS", default: 10, range: 0...600)))
        rpc.idleTimeout = .seconds(Int64(try env.int("PHONE_IDLE_TIMEOUT_SECONDS", default: 300, range: 1...86_400)))
        rpc.maximumConnections = try env.int("PHONE_MAX_CONNECTIONS", default: rpc.maximumConnections, range: 1...1_000_000)
        rpc.fastLaneThreads = try env.int("PHONE_FAST_LANE_THREADS", default: rpc.fastLaneThreads, range: 1...256)
        if env.values["PHONE_EVENT_LOOP_THREADS"] != nil {
            eventLoopThreads = try env.int("PHONE_EVENT_LOOP_THREADS", default: 1, range: 1...1024)
        }

        postgres.host = env.string("PG_HOST", default: "127.0.0.1")
        postgres.port = try env.int("PG_PORT", default: 5432, range: 1...65535)
        postgres.database = env.string("PG_DATABASE", default: "phonenumbers")
        postgres.user = env.string("PG_USER", default: service)
        postgres.password = env.values["PG_PASSWORD"] ?? service
        postgres.applicationName = service
        postgres.pool.maxConnections = try env.int("PG_POOL_SIZE", default: 10, range: 1...500)

        guard let secret = env.values["PHONE_JWT_SECRET"], secret.utf8.count >= 16 else {
            throw ConfigurationError(variable: "PHONE_JWT_SECRET", problem: "must be set to a secret of at least 16 bytes")
        }
        jwtSecret = Array(secret.utf8)

        let level = env.string("PHONE_LOG_LEVEL", default: "info")
        guard let parsed = Logger.Level(rawValue: level) else {
            throw ConfigurationError(variable: "PHONE_LOG_LEVEL", problem: "'\(level)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = parsed

        let format = env.string("PHONE_LOG_FORMAT", default: "text")
        guard let parsedFormat = LogFormat(rawValue: format) else {
            throw ConfigurationError(variable: "PHONE_LOG_FORMAT", problem: "'\(format)' is not one of text, json")
        }
        logFormat = parsedFormat

        // Beside the RPC port by default (7101 → 8101); 0 turns the endpoint off.
        let metricsDefault = (1...64535).contains(rpc.port) ? rpc.port + 1000 : 0
        let metricsPort = try env.int("PHONE_METRICS_PORT", default: metricsDefault, range: 0...65535)
        if metricsPort != 0 {
            var endpoint = ObservabilityServer.Configuration()
            endpoint.host = env.string("PHONE_METRICS_HOST", default: rpc.host)
            endpoint.port = metricsPort
            observability = endpoint
        }

        credentialKeys = env.values["PHONE_CREDENTIAL_KEYS"].flatMap { $0.isEmpty ? nil : $0 }
        credentialActiveKeyID = env.values["PHONE_CREDENTIAL_ACTIVE_KEY"].flatMap { $0.isEmpty ? nil : $0 }

        for (name, variable) in [("inventory", "PHONE_INVENTORY_ADDR"), ("assignment", "PHONE_ASSIGNMENT_ADDR")] {
            guard let text = env.values[variable] else { continue }
            guard let target = RPCTarget(text) else {
                throw ConfigurationError(variable: variable, problem: "'\(text)' is not host:port")
            }
            upstreams[name] = target
        }
    }
}

/// Typed reads of environment variables with defaults and clear errors.
public struct EnvironmentReader: Sendable {
    public var values: [String: String]

    public init(values: [String: String]) {
        self.values = values
    }

    public func string(_ name: String, default value: String) -> String {
        values[name].flatMap { $0.isEmpty ? nil : $0 } ?? value
    }

    public func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(variable: name, problem: "'\(text)' is not a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }
}

extension ServiceSettings {
    /// The key ring for provider credentials, for services that seal or open them.
    public func credentialKeyRing() throws -> CredentialKeyRing {
        guard let credentialKeys else {
            throw ConfigurationError(variable: "PHONE_CREDENTIAL_KEYS",
                                     problem: "must be set to id:base64-key[,id:base64-key...] (32-byte AES keys)")
        }
        do {
            return try CredentialKeyRing(configuration: credentialKeys, activeKeyID: credentialActiveKeyID)
        } catch {
            throw ConfigurationError(variable: "PHONE_CREDENTIAL_KEYS", problem: error.description)
        }
    }
}

import ArgumentParser
import Auth
import Foundation
import NIOCore
import RPC

/// Where the services are and who is calling; flags override the environment.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Inventory address, host:port (env PHONE_INVENTORY_ADDR).")
    var inventory = ProcessInfo.processInfo.environment["PHONE_INVENTORY_ADDR"] ?? "127.0.0.1:7101"
    @Option(help: "Assignment address, host:port (env PHONE_ASSIGNMENT_ADDR).")
    var assignment = ProcessInfo.processInfo.environment["PHONE_ASSIGNMENT_ADDR"] ?? "127.0.0.1:7102"
    @Option(help: "Lookup address, host:port (env PHONE_LOOKUP_ADDR).")
    var lookup = ProcessInfo.processInfo.environment["PHONE_LOOKUP_ADDR"] ?? "127.0.0.1:7103"
    @Option(help: ArgumentHelp(
        "Bearer token (env PHONE_TOKEN).",
        discussion: "Without one, a platform-admin token valid for five minutes is minted when PHONE_JWT_SECRET is set."))
    var token: String?
    @Option(help: "Seconds to wait for each call.")
    var timeout: Double = 15

    /// Every service by name, in data-flow order.
    func services() throws -> [(name: String, target: RPCTarget)] {
        try ServiceName.allCases.map { ($0.rawValue, try target(of: $0)) }
    }

    func target(of service: ServiceName) throws -> RPCTarget {
        let text = switch service {
        case .inventory: inventory
        case .assignment: assignment
        case .lookup: lookup
        }
        guard let target = RPCTarget(text) else { throw ValidationError("--\(service.rawValue): '\(text)' is not host:port") }
        return target
    }

    /// The token calls carry: --token, PHONE_TOKEN, else a short-lived
    /// platform-admin token from PHONE_JWT_SECRET (a development convenience).
    func bearerToken() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let token = token ?? environment["PHONE_TOKEN"], !token.isEmpty { return token }
        guard environment["PHONE_JWT_SECRET"] != nil else { return nil }
        return try DevelopmentToken.mint(role: .platformAdmin, subject: "phonectl", lifetime: 300)
    }

    func client(for target: RPCTarget) -> RPCClient {
        var configuration = RPCClient.Configuration()
        configuration.maximumAttempts = 3
        let client = RPCClient(target: target, configuration: configuration)
        client.setBearerToken(try? bearerToken())
        return client
    }

    /// Clients of all three services for one command.
    func session() throws -> Session {
        _ = try bearerToken() // a bad PHONE_JWT_SECRET is reported before any call
        return Session(inventory: client(for: try target(of: .inventory)),
                       assignment: client(for: try target(of: .assignment)),
                       lookup: client(for: try target(of: .lookup)),
                       timeout: .milliseconds(Int64(timeout * 1000)))
    }
}

/// The three services and their method-name prefixes.
enum ServiceName: String, CaseIterable, Sendable {
    case inventory, assignment, lookup

    var methodPrefix: String {
        switch self {
        case .inventory: "phonenumbers.inventory.v1.Inventory/"
        case .assignment: "phonenumbers.assignment.v1.Assignment/"
        case .lookup: "phonenumbers.lookup.v1.Lookup/"
        }
    }
}

/// Tokens signed with the services' shared secret, for local use.
enum DevelopmentToken {
    static func mint(role: Role, organization: String? = nil, scopes: Set<String> = [],
                     subject: String, lifetime: TimeInterval) throws -> String {
        guard let secret = ProcessInfo.processInfo.environment["PHONE_JWT_SECRET"], secret.utf8.count >= 16 else {
            throw ValidationError("PHONE_JWT_SECRET must be set to the services' secret (16 bytes or more)")
        }
        if role.isOrganizationRole && organization == nil { throw ValidationError("--org is required for role \(role)") }
        let principal = Principal(subject: subject, role: role, organizationID: organization, scopes: scopes, expiresAt: Date())
        return TokenSigner(hs256Secret: Array(secret.utf8)).token(for: principal, lifetime: lifetime)
    }
}

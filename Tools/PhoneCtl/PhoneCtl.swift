import ArgumentParser
import Auth
import Foundation
import NIOCore
import Protos
import RPC

/// The operator CLI: talks to the services over their RPC ports.
@main
struct PhoneCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phonectl",
        abstract: "Operate the phone-number services (inventory, assignment, lookup).",
        subcommands: [Health.self, Methods.self, Token.self])
}

/// Where the services are and who is calling; flags override the environment.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Inventory address, host:port (env PHONE_INVENTORY_ADDR).")
    var inventory = ProcessInfo.processInfo.environment["PHONE_INVENTORY_ADDR"] ?? "127.0.0.1:7101"
    @Option(help: "Assignment address, host:port (env PHONE_ASSIGNMENT_ADDR).")
    var assignment = ProcessInfo.processInfo.environment["PHONE_ASSIGNMENT_ADDR"] ?? "127.0.0.1:7102"
    @Option(help: "Lookup address, host:port (env PHONE_LOOKUP_ADDR).")
    var lookup = ProcessInfo.processInfo.environment["PHONE_LOOKUP_ADDR"] ?? "127.0.0.1:7103"
    @Option(help: "Bearer token (env PHONE_TOKEN).")
    var token: String?
    @Option(help: "Seconds to wait for each call.")
    var timeout: Double = 5

    /// Every service by name, in data-flow order.
    func services() throws -> [(name: String, target: RPCTarget)] {
        try [("inventory", inventory), ("assignment", assignment), ("lookup", lookup)].map { name, text in
            guard let target = RPCTarget(text) else { throw ValidationError("--\(name): '\(text)' is not host:port") }
            return (name, target)
        }
    }

    func client(for target: RPCTarget) -> RPCClient {
        var configuration = RPCClient.Configuration()
        configuration.maximumAttempts = 2
        let client = RPCClient(target: target, configuration: configuration)
        client.setBearerToken(token ?? ProcessInfo.processInfo.environment["PHONE_TOKEN"])
        return client
    }
}

extension PhoneCtl {
    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every service answers and reaches its database.")

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Check only this service (inventory, assignment or lookup).")
        var only: String?

        func run() async throws {
            var healthy = true
            for (name, target) in try connection.services() where only == nil || only == name {
                let client = connection.client(for: target)
                defer { client.close() }
                do {
                    let answer = try await client.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(),
                                                        as: RpcV1.HealthCheckResponse.self,
                                                        timeout: .milliseconds(Int64(connection.timeout * 1000)), idempotent: true)
                    let status = answer.status == .serving ? "SERVING" : "NOT_SERVING"
                    print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(target)  \(status)  version \(answer.version)  database \(answer.databaseReachable ? "ok" : "unreachable")")
                    healthy = healthy && answer.status == .serving
                } catch {
                    print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(target)  \(error)")
                    healthy = false
                }
            }
            if !healthy { throw ExitCode(1) }
        }
    }

    struct Methods: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the methods a service serves, with who may call them.")

        @Argument(help: "inventory, assignment or lookup.")
        var service: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            guard let target = try connection.services().first(where: { $0.name == service })?.target else {
                throw ValidationError("unknown service '\(service)'; use inventory, assignment or lookup")
            }
            let client = connection.client(for: target)
            defer { client.close() }
            do {
                let listing = try await client.unary(StandardMethod.listMethods, RpcV1.ListMethodsRequest(),
                                                     as: RpcV1.ListMethodsResponse.self, idempotent: true)
                for method in listing.methods {
                    let access = method.requiresAuthentication
                        ? (method.roles + method.scopes.map { "scope:\($0)" }).joined(separator: ",")
                        : "anyone"
                    let flags = [method.serverStreaming ? "stream" : nil, method.idempotent ? "idempotent" : nil].compactMap { $0 }
                    print("\(method.name)  [\(access)] \(flags.joined(separator: " "))")
                }
            } catch {
                FileHandle.standardError.write(Data("phonectl: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a bearer token for local use from the configured secret (env PHONE_JWT_SECRET).")

        @Option(help: "platform_admin, org_owner, org_admin, org_member or service.")
        var role = "platform_admin"
        @Option(help: "Organisation id, for org roles.")
        var org: String?
        @Option(help: "Space-separated scopes, for service callers.")
        var scope: String?
        @Option(help: "Subject (user or service id).")
        var subject = "phonectl"
        @Option(help: "Lifetime in seconds.")
        var lifetime: Int = 3600

        func run() throws {
            guard let secret = ProcessInfo.processInfo.environment["PHONE_JWT_SECRET"], secret.utf8.count >= 16 else {
                throw ValidationError("PHONE_JWT_SECRET must be set to the services' secret (16 bytes or more)")
            }
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role: '\(self.role)' is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if role.isOrganizationRole && org == nil { throw ValidationError("--org is required for role \(role)") }
            let scopes = Set((scope ?? "").split(separator: " ").map(String.init))
            let principal = Principal(subject: subject, role: role, organizationID: org, scopes: scopes, expiresAt: Date())
            print(TokenSigner(hs256Secret: Array(secret.utf8)).token(for: principal, lifetime: TimeInterval(lifetime)))
        }
    }
}

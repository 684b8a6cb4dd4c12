import ArgumentParser
import Auth
import Foundation
import NIOCore
import Protos
import RPC

/// Operations: health, method listing, tokens.
extension PhoneCtl {
    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every service answers and reaches its database.",
            discussion: "Anyone may call it: health needs no token. Exit status 1 when a service is not serving.")

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
            abstract: "List the methods a service serves, with who may call them.",
            discussion: "Anyone may call it: the listing needs no token.")

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
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role: '\(self.role)' is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let scopes = Set((scope ?? "").split(separator: " ").map(String.init))
            print(try DevelopmentToken.mint(role: role, organization: org, scopes: scopes, subject: subject, lifetime: TimeInterval(lifetime)))
        }
    }
}

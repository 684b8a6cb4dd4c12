import Auth
import Protos

/// Names of the methods every service answers.
public enum StandardMethod {
    public static let healthCheck = "phonenumbers.rpc.v1.Health/Check"
    public static let listMethods = "phonenumbers.rpc.v1.Reflection/ListMethods"
}

/// What a health call reports. A service can serve without its database (lookup
/// answers from memory) and can be up but not ready (still loading).
public struct HealthReport: Sendable, Hashable {
    public var serving: Bool
    public var databaseReachable: Bool

    public init(serving: Bool, databaseReachable: Bool) {
        self.serving = serving
        self.databaseReachable = databaseReachable
    }
}

extension RPCRouter {
    /// Adds health and method listing. Both are anonymous so probes and
    /// tooling need no token; neither reveals data.
    mutating func registerStandardMethods(serviceName: String, version: String, healthCheck: (@Sendable () async -> HealthReport)?) {
        let methods = self.methods + [
            MethodDescriptor(StandardMethod.healthCheck, access: .anonymous, idempotent: true),
            MethodDescriptor(StandardMethod.listMethods, access: .anonymous, idempotent: true),
        ]
        register(MethodDescriptor(StandardMethod.healthCheck, access: .anonymous, idempotent: true)) {
            (request: RpcV1.HealthCheckRequest, _) in
            guard request.service.utf8.count <= 128 else {
                throw RPCError.invalidArgument(field: "service", "is longer than 128 bytes")
            }
            var response = RpcV1.HealthCheckResponse()
            response.service = serviceName
            response.version = version
            let report = await healthCheck?() ?? HealthReport(serving: true, databaseReachable: true)
            response.databaseReachable = report.databaseReachable
            response.status = report.serving ? .serving : .notServing
            return response
        }
        register(MethodDescriptor(StandardMethod.listMethods, access: .anonymous, idempotent: true)) {
            (_: RpcV1.ListMethodsRequest, _) in
            var response = RpcV1.ListMethodsResponse()
            response.service = serviceName
            response.methods = methods.sorted { $0.name < $1.name }.map { method in
                var descriptor = RpcV1.MethodDescriptor()
                descriptor.name = method.name
                descriptor.serverStreaming = method.isServerStreaming
                descriptor.idempotent = method.isIdempotent
                switch method.access {
                case .anonymous:
                    descriptor.requiresAuthentication = false
                case .authenticated(let roles, let scopes):
                    descriptor.requiresAuthentication = true
                    // Platform admins are always admitted; say so explicitly.
                    descriptor.roles = roles.union([.platformAdmin]).map(\.rawValue).sorted()
                    descriptor.scopes = scopes.sorted()
                }
                return descriptor
            }
            return response
        }
    }
}

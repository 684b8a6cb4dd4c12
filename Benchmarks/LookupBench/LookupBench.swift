import ArgumentParser
import Auth
import BenchSupport
import Foundation
import RPC

/// Lookup's hot path measured beside Redis and Postgres (scripts/bench-lookup.sh):
/// seeds the projection straight into lookup's tables and the same routes into
/// Redis, drives Resolve, and times a write in assignment until lookup answers
/// with it.
@main
struct LookupBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup-bench",
        abstract: "Benchmark the lookup service.",
        subcommands: [SeedSQL.self, RedisProtocol.self, PgbenchScript.self, Status.self, Load.self, Propagation.self,
                      WaitHealthy.self, FreePort.self, CPUMicros.self, Hiccups.self])
}

enum LookupMethods {
    static let prefix = "phonenumbers.lookup.v1.Lookup/"
    static let resolve = prefix + "Resolve"
    static let status = prefix + "GetStatus"
}

/// Tokens signed with the services' secret (PHONE_JWT_SECRET, as the script
/// exports it to them).
enum BenchTokens {
    static func signer() throws -> TokenSigner {
        guard let secret = ProcessInfo.processInfo.environment["PHONE_JWT_SECRET"] else {
            throw ValidationError("set PHONE_JWT_SECRET to the services' secret")
        }
        return TokenSigner(hs256Secret: Array(secret.utf8))
    }

    /// A call-handling service's token: what calls Resolve in production;
    /// `credentials` adds the scope that opens provider credentials.
    static func lookupReader(credentials: Bool = false) throws -> String {
        try signer().token(for: Principal(subject: "lookup-bench", role: .service,
                                          scopes: credentials ? ["lookup:read", "credentials:read"] : ["lookup:read"],
                                          expiresAt: Date() + 3600), lifetime: 3600)
    }

    static func platformAdmin() throws -> String {
        try signer().token(for: Principal(subject: "lookup-bench", role: .platformAdmin, expiresAt: Date() + 3600), lifetime: 3600)
    }
}

extension RPCClient {
    static func loopback(port: Int, token: String, configure: (inout Configuration) -> Void = { _ in }) -> RPCClient {
        var configuration = Configuration()
        configure(&configuration)
        let client = RPCClient(target: RPCTarget(host: "127.0.0.1", port: port), configuration: configuration)
        client.setBearerToken(token)
        return client
    }
}

/// SplitMix64 as a generator: cheap, no system call per number.
struct FastRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SeedSet.mix(state)
    }
}

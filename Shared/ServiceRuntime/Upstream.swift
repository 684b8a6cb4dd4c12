import Auth
import Foundation
public import RPC

extension ServiceContext {
    /// A client for the producer `name` (from `PHONE_<NAME>_ADDR`), calling as
    /// this service with `scopes`; nil when no address is configured. Tokens
    /// are minted from the shared secret per call, so they never expire on a
    /// long-lived stream.
    public func upstreamClient(_ name: String, scopes: Set<String>) -> RPCClient? {
        guard let target = settings.upstreams[name] else { return nil }
        let client = RPCClient(target: target)
        let signer = TokenSigner(hs256Secret: settings.jwtSecret)
        let principal = Principal(subject: settings.serviceName, role: .service, scopes: scopes, expiresAt: Date())
        client.setBearerTokenProvider { signer.token(for: principal, lifetime: 300) }
        return client
    }
}

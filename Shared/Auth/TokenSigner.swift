public import Foundation
import Crypto

/// Mints HS256 tokens: for the CLI's local `token` command, demo data and tests.
/// Production tokens come from the platform's own auth service.
public struct TokenSigner: Sendable {
    private let secret: [UInt8]

    public init(hs256Secret: [UInt8]) {
        self.secret = hs256Secret
    }

    /// A compact JWT carrying `claims`.
    public func sign(_ claims: Claims) -> String {
        let header = #"{"alg":"HS256","typ":"JWT"}"#
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = (try? encoder.encode(claims)) ?? Data()
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: secret))
        return signingInput + "." + Base64URL.encode(mac)
    }

    /// A token for `principal` valid for `lifetime` seconds.
    public func token(for principal: Principal, lifetime: TimeInterval = 3600, now: Date = Date()) -> String {
        sign(Claims(principal: principal, issuedAt: now, lifetime: lifetime))
    }
}

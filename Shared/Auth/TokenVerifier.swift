public import Foundation
import Crypto

/// Verifies bearer JWTs: HS256 with a shared secret, optionally EdDSA (Ed25519)
/// public keys. Any other `alg`, including `none`, is refused.
public struct TokenVerifier: Sendable {
    // Raw bytes, not Crypto's key types: those are not Sendable.
    private let hmacSecret: [UInt8]?
    private let edPublicKeys: [[UInt8]]
    /// Clock skew tolerated on `exp` and `nbf`.
    public var leeway: TimeInterval

    /// - Parameters:
    ///   - hs256Secret: the shared secret; nil disables HS256.
    ///   - ed25519PublicKeys: raw 32-byte Ed25519 public keys accepted for `alg: EdDSA`.
    public init(hs256Secret: [UInt8]?, ed25519PublicKeys: [[UInt8]] = [], leeway: TimeInterval = 30) throws {
        if let hs256Secret, hs256Secret.count < 16 {
            throw AuthError(.invalidClaim("HS256 secret must be at least 16 bytes"))
        }
        for key in ed25519PublicKeys {
            guard (try? Curve25519.Signing.PublicKey(rawRepresentation: key)) != nil else {
                throw AuthError(.invalidClaim("an Ed25519 public key must be 32 bytes"))
            }
        }
        self.hmacSecret = hs256Secret
        self.edPublicKeys = ed25519PublicKeys
        self.leeway = leeway
    }

    /// Verifies `authorization` metadata ("Bearer <jwt>") and returns the caller.
    public func verify(authorization: String?, now: Date = Date()) throws(AuthError) -> Principal {
        guard let authorization, !authorization.isEmpty else { throw AuthError(.missingToken) }
        let prefix = "bearer "
        guard authorization.count > prefix.count, authorization.lowercased().hasPrefix(prefix) else {
            throw AuthError(.malformed)
        }
        return try verify(token: String(authorization.dropFirst(prefix.count)), now: now)
    }

    /// Verifies a compact JWT and returns the caller.
    public func verify(token: String, now: Date = Date()) throws(AuthError) -> Principal {
        // A JWT is three base64url parts; anything else (including the empty
        // signature of `alg: none`) is malformed.
        guard token.utf8.count <= 8192 else { throw AuthError(.malformed) }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[2].isEmpty,
              let headerBytes = Base64URL.decode(parts[0]),
              let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2])
        else { throw AuthError(.malformed) }

        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            throw AuthError(.malformed)
        }
        let signedPart = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        switch header.alg {
        case "HS256" where hmacSecret != nil:
            let key = SymmetricKey(data: hmacSecret!)
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signedPart, using: key) else {
                throw AuthError(.badSignature)
            }
        case "EdDSA" where !edPublicKeys.isEmpty:
            let valid = edPublicKeys.contains { raw in
                (try? Curve25519.Signing.PublicKey(rawRepresentation: raw))?.isValidSignature(signature, for: signedPart) == true
            }
            guard valid else {
                throw AuthError(.badSignature)
            }
        default:
            throw AuthError(.unsupportedAlgorithm(String(header.alg.prefix(32))))
        }

        guard let claims = try? JSONDecoder().decode(Claims.self, from: Data(payloadBytes)) else {
            throw AuthError(.invalidClaim("missing or mistyped sub, role or exp"))
        }
        return try principal(from: claims, now: now)
    }

    private func principal(from claims: Claims, now: Date) throws(AuthError) -> Principal {
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(claims.exp))
        guard expiresAt.addingTimeInterval(leeway) > now else { throw AuthError(.expired) }
        if let nbf = claims.nbf, Date(timeIntervalSince1970: TimeInterval(nbf)).addingTimeInterval(-leeway) > now {
            throw AuthError(.notYetValid)
        }
        guard !claims.sub.isEmpty else { throw AuthError(.invalidClaim("sub is empty")) }
        guard let role = Role(rawValue: claims.role) else {
            throw AuthError(.invalidClaim("unknown role '\(claims.role.prefix(32))'"))
        }
        let org = claims.org.flatMap { $0.isEmpty ? nil : $0 }
        if role.isOrganizationRole && org == nil {
            throw AuthError(.invalidClaim("role \(role) requires an org claim"))
        }
        let scopes = Set((claims.scope ?? "").split(separator: " ").map(String.init))
        return Principal(subject: claims.sub, role: role, organizationID: role.isOrganizationRole ? org : nil,
                         scopes: scopes, expiresAt: expiresAt)
    }

    private struct Header: Decodable {
        var alg: String
    }
}

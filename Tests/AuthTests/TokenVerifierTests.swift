import Auth
import Crypto
import Foundation
import Testing

private let secret = Array("test-secret-at-least-16-bytes".utf8)
private let signer = TokenSigner(hs256Secret: secret)
private let verifier = try! TokenVerifier(hs256Secret: secret)

private func base64url(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

private func hs256Token(header: String, payload: String, key: [UInt8] = secret) -> String {
    let input = base64url(header.utf8) + "." + base64url(payload.utf8)
    let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: key))
    return input + "." + base64url(mac)
}

private var future: Int64 { Int64(Date().timeIntervalSince1970) + 600 }

@Suite struct TokenVerifierTests {
    @Test func acceptsAValidOrgToken() throws {
        let token = signer.token(for: Principal(subject: "u1", role: .orgAdmin, organizationID: "org-a", expiresAt: Date()))
        let principal = try verifier.verify(authorization: "Bearer \(token)")
        #expect(principal.subject == "u1")
        #expect(principal.role == .orgAdmin)
        #expect(principal.organizationID == "org-a")
    }

    @Test func splitsServiceScopes() throws {
        let token = signer.sign(Claims(sub: "svc", role: "service", scope: "lookup:read credentials:read", exp: future))
        let principal = try verifier.verify(token: token)
        #expect(principal.scopes == ["lookup:read", "credentials:read"])
        #expect(principal.has(scope: "credentials:read"))
        #expect(!principal.has(scope: "events:read"))
    }

    @Test func refusesMissingToken() {
        #expect(throws: AuthError(.missingToken)) { try verifier.verify(authorization: nil) }
        #expect(throws: AuthError(.missingToken)) { try verifier.verify(authorization: "") }
    }

    @Test func refusesTamperedPayload() throws {
        let token = signer.sign(Claims(sub: "u1", role: "org_member", org: "org-a", exp: future))
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = base64url(#"{"sub":"u1","role":"platform_admin","exp":\#(future)}"#.utf8)
        #expect(throws: AuthError(.badSignature)) { try verifier.verify(token: parts.joined(separator: ".")) }
    }

    @Test("a signature re-spelt in its last character's unused bits is refused, for every token")
    func refusesNonCanonicalSignatureSpelling() throws {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for subject in 0..<64 {
            let token = signer.token(for: Principal(subject: "u\(subject)", role: .platformAdmin, expiresAt: Date()))
            #expect(throws: Never.self) { try verifier.verify(token: token) }
            // 32 bytes in 43 characters: the last one's two low bits carry no data.
            var characters = Array(token)
            let last = try #require(alphabet.firstIndex(of: characters.removeLast()))
            let respelt = String(characters) + String(alphabet[last ^ 1])
            #expect(throws: AuthError.self, "\(respelt)") { try verifier.verify(token: respelt) }
        }
    }

    @Test func refusesWrongSecret() {
        let token = TokenSigner(hs256Secret: Array("another-secret-of-16-bytes".utf8))
            .sign(Claims(sub: "u1", role: "platform_admin", exp: future))
        #expect(throws: AuthError(.badSignature)) { try verifier.verify(token: token) }
    }

    @Test func refusesExpiredToken() {
        let token = signer.sign(Claims(sub: "u1", role: "platform_admin", exp: Int64(Date().timeIntervalSince1970) - 120))
        #expect(throws: AuthError(.expired)) { try verifier.verify(token: token) }
    }

    @Test func refusesAlgNone() {
        let header = base64url(#"{"alg":"none","typ":"JWT"}"#.utf8)
        let payload = base64url(#"{"sub":"u1","role":"platform_admin","exp":\#(future)}"#.utf8)
        // Both the empty-signature form and a junk signature are refused.
        #expect(throws: AuthError(.malformed)) { try verifier.verify(token: "\(header).\(payload).") }
        #expect(throws: AuthError(.unsupportedAlgorithm("none"))) { try verifier.verify(token: "\(header).\(payload).AAAA") }
    }

    @Test func refusesOtherAlgorithms() {
        let token = hs256Token(header: #"{"alg":"HS512"}"#, payload: #"{"sub":"u1","role":"platform_admin","exp":\#(future)}"#)
        #expect(throws: AuthError(.unsupportedAlgorithm("HS512"))) { try verifier.verify(token: token) }
    }

    @Test func refusesUnknownRoleAndOrgRoleWithoutOrg() {
        let unknown = hs256Token(header: #"{"alg":"HS256"}"#, payload: #"{"sub":"u1","role":"root","exp":\#(future)}"#)
        #expect(throws: AuthError.self) { try verifier.verify(token: unknown) }
        let noOrg = hs256Token(header: #"{"alg":"HS256"}"#, payload: #"{"sub":"u1","role":"org_owner","exp":\#(future)}"#)
        #expect(throws: AuthError(.invalidClaim("role org_owner requires an org claim"))) { try verifier.verify(token: noOrg) }
    }

    @Test func refusesMalformedInput() {
        for junk in ["Bearer", "Basic abc", "Bearer a.b", "Bearer ...", "Bearer a.b.c.d", "Bearer ☃.☃.☃",
                     "Bearer " + String(repeating: "A", count: 10_000)] {
            #expect(throws: AuthError.self) { try verifier.verify(authorization: junk) }
        }
    }

    @Test func acceptsEdDSAWhenConfigured() throws {
        let key = Curve25519.Signing.PrivateKey()
        let edVerifier = try TokenVerifier(hs256Secret: nil, ed25519PublicKeys: [Array(key.publicKey.rawRepresentation)])
        let input = base64url(#"{"alg":"EdDSA"}"#.utf8) + "." + base64url(#"{"sub":"s","role":"service","exp":\#(future)}"#.utf8)
        let signature = try key.signature(for: Array(input.utf8))
        let principal = try edVerifier.verify(token: input + "." + base64url(signature))
        #expect(principal.role == .service)
        // HS256 is not accepted by a verifier configured only for EdDSA.
        let hsToken = signer.sign(Claims(sub: "u", role: "platform_admin", exp: future))
        #expect(throws: AuthError(.unsupportedAlgorithm("HS256"))) { try edVerifier.verify(token: hsToken) }
    }
}

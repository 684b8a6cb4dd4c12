import Auth
import Crypto
import Foundation
import Protos
import RPC
import Testing
import TestSupport

extension AssignmentTests {
    /// Bad bearer tokens against the running service processes: each is
    /// UNAUTHENTICATED, and the service goes on serving good callers, on the
    /// same connection and on others. (TokenVerifierTests checks each case in
    /// the verifier itself; this checks that the processes use it.)
    @Suite struct TokenEndToEndTests {
        let fixtures: Fixtures

        init() throws {
            fixtures = try Fixtures()
        }

        /// An authenticated method of each service that any valid platform admin may call.
        static let probes: [ThreeServices.Service: (method: String, payload: [UInt8])] = [
            .inventory: (InventoryAPI.prefix + "ListNumbers", InventoryV1.ListNumbersRequest.with { $0.pageSize = 1 }.serializedBytes()),
            .assignment: (AssignmentAPI.prefix + "SearchAvailable", AssignmentV1.SearchAvailableRequest.with { $0.pageSize = 1 }.serializedBytes()),
            .lookup: (LookupAPI.prefix + "GetStatus", LookupV1.GetStatusRequest().serializedBytes()),
        ]

        static func base64url(_ bytes: some Sequence<UInt8>) -> String {
            Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }

        /// A token with this header and payload, signed HS256 with `secret`.
        static func token(header: String = #"{"alg":"HS256","typ":"JWT"}"#, payload: String,
                          secret: String = assignmentTestSecret) -> String {
            let input = base64url(header.utf8) + "." + base64url(payload.utf8)
            let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
            return input + "." + base64url(mac)
        }

        /// `authorization` values that must all be refused, by name.
        static func badAuthorizations() -> [(name: String, value: String)] {
            let now = Int64(Date().timeIntervalSince1970)
            let admin = #"{"sub":"x","role":"platform_admin","exp":\#(now + 600)}"#
            let good = token(payload: admin)
            var parts = good.split(separator: ".").map(String.init)
            let lastSignatureCharacter = parts[2].removeLast()
            let tamperedSignature = parts.joined(separator: ".") + (lastSignatureCharacter == "A" ? "B" : "A")
            let memberParts = token(payload: #"{"sub":"x","role":"org_member","org":"o","exp":\#(now + 600)}"#).split(separator: ".")
            let elevated = [memberParts[0], Substring(base64url(admin.utf8)), memberParts[2]].joined(separator: ".")
            let noneHeader = base64url(#"{"alg":"none","typ":"JWT"}"#.utf8) + "." + base64url(admin.utf8)
            let edKey = Curve25519.Signing.PrivateKey()
            let edInput = base64url(#"{"alg":"EdDSA"}"#.utf8) + "." + base64url(admin.utf8)
            let edToken = edInput + "." + base64url((try? edKey.signature(for: Array(edInput.utf8))) ?? Data())
            return [
                ("tampered signature", "Bearer " + tamperedSignature),
                ("payload elevated to platform_admin", "Bearer " + elevated),
                ("expired an hour ago", "Bearer " + token(payload: #"{"sub":"x","role":"platform_admin","exp":\#(now - 3_600)}"#)),
                ("not valid for an hour", "Bearer " + token(payload: #"{"sub":"x","role":"platform_admin","exp":\#(now + 7_200),"nbf":\#(now + 3_600)}"#)),
                ("wrong secret", "Bearer " + token(payload: admin, secret: "another-secret-0123456789abcdef")),
                ("alg none, empty signature", "Bearer " + noneHeader + "."),
                ("alg none, junk signature", "Bearer " + noneHeader + ".AAAA"),
                ("alg HS512", "Bearer " + token(header: #"{"alg":"HS512"}"#, payload: admin)),
                ("alg RS256", "Bearer " + token(header: #"{"alg":"RS256"}"#, payload: admin)),
                ("alg ES256", "Bearer " + token(header: #"{"alg":"ES256"}"#, payload: admin)),
                ("EdDSA without configured keys", "Bearer " + edToken),
                ("header without alg", "Bearer " + token(header: #"{"typ":"JWT"}"#, payload: admin)),
                ("header not JSON", "Bearer " + token(header: "not json", payload: admin)),
                ("payload not JSON", "Bearer " + token(payload: "not json")),
                ("no sub", "Bearer " + token(payload: #"{"role":"platform_admin","exp":\#(now + 600)}"#)),
                ("empty sub", "Bearer " + token(payload: #"{"sub":"","role":"platform_admin","exp":\#(now + 600)}"#)),
                ("no role", "Bearer " + token(payload: #"{"sub":"x","exp":\#(now + 600)}"#)),
                ("unknown role", "Bearer " + token(payload: #"{"sub":"x","role":"root","exp":\#(now + 600)}"#)),
                ("no exp", "Bearer " + token(payload: #"{"sub":"x","role":"platform_admin"}"#)),
                ("exp as text", "Bearer " + token(payload: #"{"sub":"x","role":"platform_admin","exp":"\#(now + 600)"}"#)),
                ("org_owner without org", "Bearer " + token(payload: #"{"sub":"x","role":"org_owner","exp":\#(now + 600)}"#)),
                ("org_member with empty org", "Bearer " + token(payload: #"{"sub":"x","role":"org_member","org":"","exp":\#(now + 600)}"#)),
                ("two parts", "Bearer a.b"),
                ("four parts", "Bearer " + good + ".x"),
                ("not base64url", "Bearer ☃.☃.☃"),
                ("bearer without token", "Bearer "),
                ("basic scheme", "Basic " + base64url("admin:admin".utf8)),
                ("token without scheme", good),
                ("64 KiB token", "Bearer " + String(repeating: "A", count: 65_536)),
                ("empty", ""),
            ]
        }

        @Test func badTokensAreUnauthenticatedAndServiceGoesOnServing() async throws {
            let services = try await ThreeServices.start(fixtures.stack)
            defer { Task { await services.stop() } }
            let good = fixtures.stack.signer.token(for: Principal(subject: "x", role: .platformAdmin, expiresAt: .distantFuture))
            let bad = Self.badAuthorizations()
            var tried = 0
            for service in ThreeServices.Service.allCases {
                let probe = try #require(Self.probes[service])
                let port = services.process(service).port
                // A well-behaved client on its own connection throughout.
                let healthy = services.client(service, Principal(subject: "ok", role: .platformAdmin, expiresAt: .distantFuture))
                defer { healthy.close() }
                let peer = try RawPeer(port: port)
                var callID: UInt64 = 0
                for (name, authorization) in bad {
                    callID += 1
                    tried += 1
                    var request = RpcV1.Request()
                    request.method = probe.method
                    request.payload = probe.payload
                    if !authorization.isEmpty { request.metadata = [MetadataKey.authorization: authorization] }
                    var frame = RpcV1.Frame()
                    frame.callId = callID
                    frame.kind = .request(request)
                    peer.sendFrame(frame.serializedBytes())
                    let answer = await peer.readFrame()
                    guard case .response(let response)? = answer?.kind, answer?.callId == callID else {
                        Issue.record("\(service), \(name): no answer (\(String(describing: answer)))")
                        continue
                    }
                    #expect(response.status?.code == .unauthenticated, "\(service), \(name): \(String(describing: response.status))")
                    #expect(response.payload.isEmpty, "\(service), \(name): an answer came with the refusal")
                    if authorization.count > 24 {
                        let tail = String(authorization.suffix(16)), message = response.status?.message ?? ""
                        #expect(message.range(of: tail) == nil, "\(service), \(name): the refusal echoes the token: \(message)")
                    }
                    // A good caller is still served between bad ones.
                    _ = try await healthy.unary(StandardMethod.healthCheck, RpcV1.HealthCheckRequest(), as: RpcV1.HealthCheckResponse.self)
                }
                // The same connection serves a good token after all the bad ones
                // (nothing bad was cached), and the bad ones again stay refused.
                callID += 1
                guard let accepted = await peer.call(callID, method: probe.method, payload: probe.payload, token: good) else {
                    Issue.record("\(service): connection closed after bad tokens")
                    continue
                }
                #expect(accepted.status == nil || accepted.status?.code == .ok, "\(service): \(String(describing: accepted.status))")
                callID += 1
                let again = await peer.call(callID, method: probe.method, payload: probe.payload, token: String(bad[0].value.dropFirst(7)))
                #expect(again?.status?.code == .unauthenticated, "\(service): a bad token after a good one")
                #expect(services.process(service).process.isRunning)
            }
            print("token cases: \(bad.count) bad authorizations × 3 services = \(tried) calls")
        }
    }
}

import Auth
import Foundation
import NIOCore
import Protos
@testable import RPC
import Testing
import TestSupport

/// A method's fast path answers straight from the frame's bytes, but only where
/// the general path would have answered the same way: never for a token the
/// connection has not verified, a caller the method does not admit, or a
/// frame the general path would refuse.
@Suite struct FastPathTests {
    static let marked = "phonenumbers.testing.v1.Test/Marked"
    static let adminMarked = "phonenumbers.testing.v1.Test/AdminMarked"

    /// Echo methods whose fast path marks its answers (so a test can tell who
    /// answered) and declines messages with `f_int32` = 7.
    private func router() -> RPCRouter {
        var router = RPCRouter()
        let echo: @Sendable (TestingV1.KitchenSink, RPCContext) throws -> TestingV1.KitchenSink = { request, _ in request }
        let fast: FastPath = { payload, _, out in
            guard var message = try? TestingV1.KitchenSink(serializedBytes: Array(payload)), message.fInt32 != 7 else { return false }
            message.fString = "fast path"
            for byte in message.serializedBytes() { out.append(byte) }
            return true
        }
        router.registerInline(MethodDescriptor(Self.marked, access: .anyAuthenticated), echo)
        router.registerInline(MethodDescriptor(Self.adminMarked, access: .authenticated(roles: [.platformAdmin])), echo)
        router.registerFastPath(for: Self.marked, fast)
        router.registerFastPath(for: Self.adminMarked, fast)
        return router
    }

    private func call(_ client: RPCClient, _ method: String = marked, int32: Int32 = 1) async throws -> String {
        try await client.unary(method, TestingV1.KitchenSink.with { $0.fInt32 = int32; $0.fString = "handler" },
                               as: TestingV1.KitchenSink.self).fString
    }

    @Test("calls with a valid token take the fast path, the first included; a declined call is the handler's")
    func fastPathAfterVerification() async throws {
        let server = try await RunningServer.start(router: router())
        let client = server.client(token: token(.orgMember, org: "org-1"))
        #expect(try await call(client) == "fast path")
        #expect(try await call(client) == "fast path")
        #expect(try await call(client) == "fast path")
        #expect(try await call(client, int32: 7) == "handler", "a declined call is the handler's")
        client.close()
        try await server.stop()
    }

    @Test("a cached token does not admit a caller to a method its role may not call")
    func accessIsCheckedPerMethod() async throws {
        let server = try await RunningServer.start(router: router())
        let client = server.client(token: token(.orgMember, org: "org-1"))
        _ = try await call(client)
        #expect(try await call(client) == "fast path")
        let error = await #expect(throws: RPCError.self) { try await call(client, Self.adminMarked) }
        #expect(error?.code == .permissionDenied)

        let admin = server.client(token: token(.platformAdmin))
        _ = try await call(admin, Self.adminMarked)
        #expect(try await call(admin, Self.adminMarked) == "fast path")
        client.close()
        admin.close()
        try await server.stop()
    }

    @Test("another token on the same connection is verified, and a bad one refused")
    func anotherTokenIsVerified() async throws {
        let server = try await RunningServer.start(router: router())
        let peer = try RawPeer(port: server.port)
        let payload = TestingV1.KitchenSink.with { $0.fString = "handler" }.serializedBytes()
        for callID: UInt64 in 1...2 {
            peer.sendFrame(requestFrame(callID: callID, method: Self.marked, payload: payload, token: token(.platformAdmin)))
            _ = await peer.readFrame()
        }
        let forged = TokenSigner(hs256Secret: Array("another-secret-0123456789-abcdef".utf8))
            .token(for: Principal(subject: "x", role: .platformAdmin, organizationID: nil, scopes: [], expiresAt: Date()), lifetime: 600)
        peer.sendFrame(requestFrame(callID: 3, method: Self.marked, payload: payload, token: forged))
        guard case .response(let response)? = await peer.readFrame()?.kind else { Issue.record("no answer"); return }
        #expect(response.status?.code == .unauthenticated)
        peer.sendFrame(requestFrame(callID: 4, method: Self.marked, payload: payload))
        guard case .response(let anonymous)? = await peer.readFrame()?.kind else { Issue.record("no answer"); return }
        #expect(anonymous.status?.code == .unauthenticated)
        try await server.stop()
    }

    @Test("metadata that is not UTF-8 is refused as the general path refuses it, fast path or not")
    func invalidMetadataIsRefused() async throws {
        let server = try await RunningServer.start(router: router())
        let peer = try RawPeer(port: server.port)
        let payload = TestingV1.KitchenSink().serializedBytes()
        let admin = token(.platformAdmin)
        for callID: UInt64 in 1...2 {
            peer.sendFrame(requestFrame(callID: callID, method: Self.marked, payload: payload, token: admin))
            _ = await peer.readFrame()
        }
        // The request of call 3 with a `trace-id` of invalid UTF-8 appended.
        var request = requestFrame(callID: 3, method: Self.marked, payload: payload, token: admin)
        #expect(request.prefix(2) == [0x08, 3])
        let entry: [UInt8] = [0x0a, 8] + Array("trace-id".utf8) + [0x12, 2, 0xff, 0xfe]
        var body = Array(request.dropFirst(2))
        #expect(body.first == 0x12)
        var fields = Array(body.dropFirst())
        // Drop the request's length varint, then re-frame it with the entry added.
        while fields.removeFirst() & 0x80 != 0 {}
        fields += [0x12, UInt8(entry.count)] + entry
        body = [0x12]
        var length = fields.count
        while length >= 0x80 {
            body.append(UInt8(length & 0x7f) | 0x80)
            length >>= 7
        }
        body.append(UInt8(length))
        request = [0x08, 3] + body + fields
        peer.sendFrame(request)
        guard case .response(let response)? = await peer.readFrame()?.kind else { Issue.record("no answer"); return }
        #expect(response.status?.code == .invalidArgument)
        #expect(response.status?.message.contains("UTF-8") == true, "\(response.status?.message ?? "")")
        try await server.stop()
    }
}

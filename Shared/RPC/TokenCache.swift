import Auth
import Foundation
import NIOCore
import Protos

/// A connection's last verified token: clients reuse one token for many calls,
/// and HMAC + JSON per call would dominate a fast method.
struct TokenCache {
    /// A class: a fast call takes it per call, and copying a struct would
    /// retain each of the principal's strings.
    final class Entry {
        let authorization: [UInt8]
        let principal: Principal
        /// By index in the server's fast routes: which of them the caller may
        /// call, checked once per token rather than on every call.
        let fastAdmitted: [Bool]
        /// When it expires (with the verifier's leeway), on the monotonic
        /// clock: the fast lane checks it against the time its poll returned,
        /// with no reading of the wall clock per call.
        let validUntil: NIODeadline

        init(authorization: [UInt8], principal: Principal, fastAdmitted: [Bool], leeway: Double) {
            self.authorization = authorization
            self.principal = principal
            self.fastAdmitted = fastAdmitted
            let left = max(0, min(principal.expiresAt.timeIntervalSinceNow + leeway, 366 * 86_400))
            validUntil = .now() + .nanoseconds(Int64(left * 1e9))
        }
    }

    private var entry: Entry?

    /// The cached token if `authorization` is it and it has not expired at `now`.
    func cached(_ authorization: UnsafeRawBufferPointer, at now: NIODeadline = .now()) -> Entry? {
        guard let entry, authorization.matches(entry.authorization), now < entry.validUntil else { return nil }
        return entry
    }

    /// The caller `authorization` names: the cached entry when it is the last
    /// token verified, else verified now (and cached when valid).
    mutating func verify(_ authorization: String, verifier: TokenVerifier,
                         fastAccess: [AccessPolicy] = []) throws(AuthError) -> Entry {
        var authorization = authorization
        if let hit = authorization.withUTF8({ cached(UnsafeRawBufferPointer($0)) }) {
            return hit
        }
        let principal = try verifier.verify(authorization: authorization)
        let verified = Entry(authorization: Array(authorization.utf8), principal: principal,
                             fastAdmitted: fastAccess.map { $0.admits(principal) }, leeway: verifier.leeway)
        entry = verified
        return verified
    }
}

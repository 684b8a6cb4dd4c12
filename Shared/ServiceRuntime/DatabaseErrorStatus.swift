public import RPC
public import Store

/// Database failures as callers should see them: an outage is UNAVAILABLE
/// (retry later), a lost race ABORTED (retry now), a duplicate
/// ALREADY_EXISTS; anything else INTERNAL. Messages never carry SQL or values.
extension DatabaseError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch code {
        case .unavailable, .connectionLost, .timeout, .shutdown:
            RPCError(.unavailable, "the database is unavailable; retry later", cause: self)
        case .serializationFailure, .deadlockDetected:
            RPCError(.aborted, "the change collided with a concurrent one; retry", cause: self)
        case .uniqueViolation:
            RPCError(.alreadyExists, "already exists", cause: self)
        default:
            RPCError(.internal, "internal error", cause: self)
        }
    }
}

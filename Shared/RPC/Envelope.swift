import Protos

// Conversions between the wire envelope (generated types) and RPC's own types.

extension RpcV1.Frame {
    /// A frame ending call `callID` with `status` (and `payload` when OK).
    static func response(callID: UInt64, status: RPCError?, payload: [UInt8] = []) -> Self {
        var response = RpcV1.Response()
        response.status = RpcV1.Status(status)
        response.payload = payload
        var frame = Self()
        frame.callId = callID
        frame.kind = .response(response)
        return frame
    }
}

extension RpcV1.Status {
    /// OK for nil, else the error's code, message and field violations.
    init(_ error: RPCError?) {
        self.init()
        guard let error else { return }
        code = RpcV1.Code(rawValue: error.code.rawValue)
        message = error.message
        fieldViolations = error.fieldViolations.map {
            var violation = RpcV1.FieldViolation()
            violation.field = $0.field
            violation.description = $0.description
            return violation
        }
    }

    /// nil for OK, else the error it carries.
    var rpcError: RPCError? {
        let code = RPCError.Code(wireValue: self.code.rawValue)
        guard code != .ok else { return nil }
        return RPCError(code, message, fieldViolations: fieldViolations.map {
            RPCError.FieldViolation(field: $0.field, description: $0.description)
        })
    }
}

extension Error {
    /// The status to send for an error thrown by a handler: its own for
    /// `RPCErrorConvertible`, CANCELLED for cancellation, else INTERNAL with a
    /// message that reveals nothing of the cause.
    var asRPCError: RPCError {
        switch self {
        case let convertible as any RPCErrorConvertible: convertible.rpcError
        case is CancellationError: RPCError(.cancelled, "the call was cancelled")
        default: RPCError(.internal, "internal error", cause: self)
        }
    }
}

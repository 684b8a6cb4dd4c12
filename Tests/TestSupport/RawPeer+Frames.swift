public import Protos

extension RawPeer {
    /// Reads one frame, or nil when the server closed the connection.
    public func readFrame() async -> RpcV1.Frame? {
        await readFrameBytes().flatMap { try? RpcV1.Frame(serializedBytes: $0) }
    }

    /// Sends one request frame and reads frames until the answer of `callID`
    /// arrives; nil when the server closed the connection first.
    public func call(_ callID: UInt64, method: String, payload: [UInt8], token: String?) async -> RpcV1.Response? {
        sendFrame(requestFrame(callID: callID, method: method, payload: payload, token: token))
        while let frame = await readFrame() {
            if frame.callId == callID, case .response(let response)? = frame.kind { return response }
        }
        return nil
    }
}

/// The bytes of a `Frame` holding one request (without the length prefix).
public func requestFrame(callID: UInt64, method: String, payload: [UInt8] = [], token: String? = nil,
                         timeoutMicros: UInt64 = 0) -> [UInt8] {
    var request = RpcV1.Request()
    request.method = method
    request.payload = payload
    request.timeoutMicros = timeoutMicros
    if let token { request.metadata = ["authorization": "Bearer \(token)"] }
    var frame = RpcV1.Frame()
    frame.callId = callID
    frame.kind = .request(request)
    return frame.serializedBytes()
}

import NIOCore
import Protos
import RPC

/// What the load generator speaks: lookup's Resolve in RPC frames, or Redis
/// `GET route:<index>` in RESP, so that the same driver, pacing and timing
/// can be set against both (the paced Redis run is the machine's control).
enum Wire {
    /// Lookup: the request envelope (method, token, timeout) without its
    /// payload, which is its last field: each call appends its own, asking
    /// for the number's provider credentials with `withCredentials`.
    case lookup(envelope: [UInt8], withCredentials: Bool)
    case redis

    static func lookup(token: String, withCredentials: Bool = false) -> Wire {
        var request = RpcV1.Request()
        request.method = LookupMethods.resolve
        request.metadata = [MetadataKey.authorization: "Bearer \(token)"]
        request.timeoutMicros = 5_000_000
        return .lookup(envelope: request.serializedBytes(), withCredentials: withCredentials)
    }

    /// Appends the call `callID` for the seeded number `index` to `out`.
    func writeCall(index: Int, callID: UInt64, to out: inout [UInt8]) {
        switch self {
        case .lookup(let envelope, let withCredentials):
            let number = SeedSet.e164(index)
            let payload = 2 + number.utf8.count + (withCredentials ? 2 : 0)  // ResolveRequest { number = 1, include_credentials = 4 }
            let request = envelope.count + 2 + payload
            let frame = 1 + ProtoWriter.varintSize(callID) + 1 + ProtoWriter.varintSize(UInt64(request)) + request
            withUnsafeBytes(of: UInt32(frame).bigEndian) { out.append(contentsOf: $0) }
            out.append(1 << 3)  // Frame.call_id
            Self.appendVarint(callID, to: &out)
            out.append(2 << 3 | 2)  // Frame.request
            Self.appendVarint(UInt64(request), to: &out)
            out.append(contentsOf: envelope)
            out.append(contentsOf: [4 << 3 | 2, UInt8(payload), 1 << 3 | 2, UInt8(number.utf8.count)])  // Request.payload
            out.append(contentsOf: number.utf8)
            if withCredentials { out.append(contentsOf: [4 << 3, 1]) }
        case .redis:
            let key = SeedSet.redisKey(index)
            out.append(contentsOf: "*2\r\n$3\r\nGET\r\n$\(key.utf8.count)\r\n\(key)\r\n".utf8)
        }
    }

    enum Answer {
        /// More bytes are needed.
        case incomplete
        /// An answer of `length` bytes: to the call `callID` (nil: the
        /// oldest call out, as Redis answers in order), failed with `failure`.
        case whole(length: Int, callID: UInt64?, failure: String?)
        /// Not an answer this wire can give: the connection is lost.
        case malformed(String)
    }

    /// The answer at the start of `bytes`.
    func answer(at bytes: UnsafeRawBufferPointer, maximum: Int) -> Answer {
        switch self {
        case .lookup: return Self.lookupAnswer(bytes, maximum: maximum)
        case .redis: return Self.redisAnswer(bytes)
        }
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    /// A length-prefixed response frame; its envelope is decoded and its
    /// status checked, the route inside is not (redis-benchmark does not
    /// parse values either).
    private static func lookupAnswer(_ bytes: UnsafeRawBufferPointer, maximum: Int) -> Answer {
        guard bytes.count >= 4 else { return .incomplete }
        let length = Int(bytes.loadUnaligned(as: UInt32.self).bigEndian)
        guard length <= maximum - 4 else { return .malformed("an answer of \(length) bytes, larger than the read buffer") }
        guard bytes.count - 4 >= length else { return .incomplete }
        let frame = UnsafeRawBufferPointer(rebasing: bytes[4..<4 + length])
        guard let (callID, failed) = responseStatus(frame) else {
            return .whole(length: 4 + length, callID: 0, failure: "an undecodable or unexpected frame")
        }
        var failure: String?
        if failed {
            failure = "an undecodable error answer"
            if let decoded = try? RpcV1.Frame(serializedBytes: frame), case .response(let response) = decoded.kind,
               let status = response.status {
                failure = "\(status.code): \(status.message)"
            }
        }
        return .whole(length: 4 + length, callID: callID, failure: failure)
    }

    /// A response frame's call id and whether its status is not OK; nil for
    /// any other frame.
    private static func responseStatus(_ frame: UnsafeRawBufferPointer) -> (callID: UInt64, failed: Bool)? {
        var fields = ProtoFieldReader(frame)
        var callID: UInt64 = 0
        var response: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .varint(let id)): callID = id
            case (4, .bytes(let bytes)): response = bytes
            default: return nil
            }
        }
        guard !fields.isMalformed, let response else { return nil }
        fields = ProtoFieldReader(response)
        var failed = false
        while let field = fields.next() {
            // Response.status: OK is an empty message (code 0 left out).
            if field.number == 1, case .bytes(let status) = field.value { failed = !status.isEmpty }
        }
        return fields.isMalformed ? nil : (callID, failed)
    }

    /// A GET's reply: `$<length>\r\n<value>\r\n`; `$-1\r\n` (no such key)
    /// and `-<error>\r\n` are failures.
    private static func redisAnswer(_ bytes: UnsafeRawBufferPointer) -> Answer {
        guard let lineEnd = lineEnd(bytes, from: 0) else { return .incomplete }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[1..<lineEnd]), as: UTF8.self)
        switch bytes[0] {
        case UInt8(ascii: "$"):
            guard let length = Int(line) else { return .malformed("a bulk reply of length \"\(line)\"") }
            if length < 0 { return .whole(length: lineEnd + 2, callID: nil, failure: "no such key") }
            let whole = lineEnd + 2 + length + 2
            return bytes.count < whole ? .incomplete : .whole(length: whole, callID: nil, failure: nil)
        case UInt8(ascii: "-"):
            return .whole(length: lineEnd + 2, callID: nil, failure: line)
        default:
            return .malformed("a reply starting with \(bytes[0]), not a bulk string or an error")
        }
    }

    /// The offset of the first `\r\n` at or after `start`.
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\r"), bytes[index + 1] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }
}

/// Why bytes could not be decoded as a message.
public struct ProtoDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong with the input.
    public enum Reason: Hashable, Sendable {
        /// Not valid protobuf wire format (truncated value, a length past the
        /// end of the input, an unsupported wire type, ...).
        case malformed(String)
        /// protobuf-c refused the input after the wire scan accepted it (e.g.
        /// a field with the wrong wire type for its declared type).
        case rejectedByProtobufC
        /// A string field, named by its full proto name, is not valid UTF-8.
        case invalidUTF8(field: String)
        /// A string field holds a NUL character, which protobuf-c's C strings
        /// cannot represent (it would silently cut the string short).
        case embeddedNUL(field: String)
        /// Messages nest deeper than `limit` (protobuf-c decodes recursively).
        case nestingTooDeep(limit: Int)
        /// protobuf-c needed more than `limit` bytes of memory for the decode.
        case allocationLimitExceeded(limit: Int)
    }

    /// The fully qualified proto name of the message being decoded.
    public let messageName: String
    /// What was wrong.
    public let reason: Reason

    /// An error decoding a `messageName`.
    public init(messageName: String, reason: Reason) {
        self.messageName = messageName
        self.reason = reason
    }

    /// A one-line explanation, e.g. "cannot decode phonenumbers.rpc.v1.Frame:
    /// field 2 claims 4294967295 bytes but 3 remain (offset 2)".
    public var description: String {
        let detail = switch reason {
        case .malformed(let detail): detail
        case .rejectedByProtobufC: "protobuf-c rejected the input"
        case .invalidUTF8(let field): "string field \(field) is not valid UTF-8"
        case .embeddedNUL(let field): "string field \(field) contains a NUL character"
        case .nestingTooDeep(let limit): "messages nest deeper than \(limit) levels"
        case .allocationLimitExceeded(let limit): "decoding needs more than \(limit) bytes of memory"
        }
        return "cannot decode \(messageName): \(detail)"
    }
}

/// Limits applied when decoding untrusted bytes.
public enum ProtoDecoding {
    /// How deep messages may nest (as protobuf's own default limit).
    public static let maximumNestingDepth = 100

    /// The most memory protobuf-c may allocate to decode `inputLength` bytes
    /// of a message whose largest reachable C struct is `largestCStruct` bytes.
    ///
    /// Worst legitimate case: every two input bytes (tag and zero length) make
    /// an empty sub-message, costing its struct, a pointer in an array,
    /// protobuf-c's bookkeeping for the field and the allocation header; the
    /// constant covers small inputs.
    static func allocationLimit(inputLength: Int, largestCStruct: Int) -> Int {
        let perTwoBytes = largestCStruct + 128
        let (product, overflow) = (inputLength / 2 + 1).multipliedReportingOverflow(by: perTwoBytes)
        return overflow ? Int.max : min(Int.max - 65_536, product) + 65_536
    }
}

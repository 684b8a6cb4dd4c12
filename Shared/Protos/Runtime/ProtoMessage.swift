/// A message type generated from a .proto file (see Tools/ProtoGen).
///
/// Encoding and decoding go through protobuf-c: a message is converted to
/// protobuf-c's C struct and packed by it, and bytes are unpacked by it and
/// converted back. C types never appear in this API.
///
/// What a round trip keeps, and what it does not:
/// - Unknown fields are dropped when decoding.
/// - protobuf-c cannot represent a string containing NUL (it uses C
///   strings): when encoding, each NUL in a string is replaced by U+FFFD
///   rather than cutting the string short; a decoded string never contains NUL
///   (input holding one is rejected, see ``ProtoDecodingError``).
/// - Map entries are encoded in key order, so equal messages encode to equal
///   bytes.
public protocol ProtoMessage: Sendable, Hashable {
    /// The fully qualified proto name, e.g. `phonenumbers.rpc.v1.Frame`.
    static var protoName: String { get }

    /// A message with every field at its default value.
    init()

    /// Decodes a message from its protobuf encoding.
    ///
    /// Safe on untrusted input: bad input throws, it never crashes. Before
    /// protobuf-c sees the bytes, a scan checks the wire format, that strings
    /// are UTF-8 without NUL and that messages nest at most
    /// ``ProtoDecoding/maximumNestingDepth`` deep; protobuf-c then allocates
    /// from a budget proportional to the input length.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)

    /// Converts the message to protobuf-c's representation once and lends
    /// `body` a ``ProtoSerialization`` that knows the encoded size and writes
    /// the bytes wherever asked (e.g. straight into a network buffer). The
    /// serialization is only valid during `body`.
    func withSerialization<Output, Failure: Error>(
        _ body: (borrowing ProtoSerialization) throws(Failure) -> Output
    ) throws(Failure) -> Output
}

extension ProtoMessage {
    /// Decodes a message from its protobuf encoding (see the
    /// `UnsafeRawBufferPointer` variant for what is checked).
    public init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ProtoDecodingError) in try Self(serializedBytes: raw) }
        }
        self = try result.get()
    }

    /// Decodes a message from part of a byte array.
    public init(serializedBytes bytes: ArraySlice<UInt8>) throws(ProtoDecodingError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ProtoDecodingError) in try Self(serializedBytes: raw) }
        }
        self = try result.get()
    }

    /// The protobuf encoding of the message.
    public func serializedBytes() -> [UInt8] {
        withSerialization { serialization in
            [UInt8](unsafeUninitializedCapacity: serialization.size) { buffer, count in
                count = serialization.write(to: UnsafeMutableRawBufferPointer(buffer))
            }
        }
    }

    /// The length of the protobuf encoding. This converts the message for
    /// protobuf-c: to get the size and the bytes, use ``withSerialization(_:)``
    /// once instead.
    public var serializedSize: Int {
        withSerialization { $0.size }
    }

    /// Writes the protobuf encoding to the start of `buffer`, which must hold
    /// at least ``serializedSize`` bytes (a smaller buffer is a programming
    /// error and traps). Returns the number of bytes written.
    @discardableResult
    public func serialize(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        withSerialization { $0.write(to: buffer) }
    }

    /// A message built by `populate` from the default one:
    /// `RpcV1.Frame.with { $0.callId = 7 }`.
    public static func with<Failure: Error>(
        _ populate: (inout Self) throws(Failure) -> Void
    ) throws(Failure) -> Self {
        var message = Self()
        try populate(&message)
        return message
    }
}

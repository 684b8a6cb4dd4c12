internal import CProtobufC

/// What every generated message implements (internally) to be converted to
/// and from protobuf-c's C struct `CMessage`. The generated code is in
/// Shared/Protos/Generated; `ProtoCodec` drives it.
protocol CMessageBridge: ProtoMessage {
    /// protoc-c's struct for the message.
    associatedtype CMessage

    /// The largest C struct protobuf-c can allocate decoding this message;
    /// scales the allocation budget.
    static var _largestCStruct: Int { get }
    /// What the wire scan checks before protobuf-c sees the bytes.
    static var _wireSchema: ProtoWireSchema { get }

    /// protoc-c's `__init`: sets the descriptor and every field's default.
    static func _cInit(_ c: UnsafeMutablePointer<CMessage>)
    /// protoc-c's `__get_packed_size`.
    static func _cPackedSize(_ c: UnsafePointer<CMessage>) -> Int
    /// protoc-c's `__pack`.
    static func _cPack(_ c: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int
    /// protoc-c's `__unpack`.
    static func _cUnpack(
        _ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ count: Int, _ data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>?
    /// protoc-c's `__free_unpacked`.
    static func _cFreeUnpacked(
        _ c: UnsafeMutablePointer<CMessage>, _ allocator: UnsafeMutablePointer<ProtobufCAllocator>
    )

    /// `_cPack` for a type-erased struct, for ``ProtoSerialization``.
    static func _cPackRaw(_ message: UnsafeRawPointer, _ out: UnsafeMutablePointer<UInt8>) -> Int

    /// Copies a decoded C struct into Swift values.
    init(_c pointer: UnsafePointer<CMessage>)
    /// Writes the message into a `_cInit`ed C struct; `arena` owns every
    /// allocation made for it.
    func _fill(_ c: UnsafeMutablePointer<CMessage>, _ arena: ProtoArena)
}

// protoc-c only declares `__pack`, `__unpack`, ... for top-level messages;
// nested ones use protobuf-c's generic functions, which those wrap.
extension CMessageBridge {
    static func _cPackedSize(_ c: UnsafePointer<CMessage>) -> Int {
        protobuf_c_message_get_packed_size(base(c))
    }

    static func _cPack(_ c: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int {
        protobuf_c_message_pack(base(c), out)
    }

    static func _cUnpack(
        _ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ count: Int, _ data: UnsafePointer<UInt8>
    ) -> UnsafeMutablePointer<CMessage>? {
        let message = protobuf_c_message_unpack(_cDescriptor, allocator, count, data)
        return UnsafeMutableRawPointer(message)?.assumingMemoryBound(to: CMessage.self)
    }

    static func _cFreeUnpacked(
        _ c: UnsafeMutablePointer<CMessage>, _ allocator: UnsafeMutablePointer<ProtobufCAllocator>
    ) {
        protobuf_c_message_free_unpacked(UnsafeMutablePointer(mutating: base(c)), allocator)
    }

    /// protoc-c's descriptor of the message, taken from a struct `_cInit`
    /// fills in: Swift sees the descriptor globals as values, and a copy's
    /// address would not do (protobuf-c keeps and compares the pointer).
    static var _cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> {
        withUnsafeTemporaryAllocation(of: CMessage.self, capacity: 1) { buffer in
            _cInit(buffer.baseAddress!)
            return base(buffer.baseAddress!).pointee.descriptor
        }
    }

    static func _cPackRaw(_ message: UnsafeRawPointer, _ out: UnsafeMutablePointer<UInt8>) -> Int {
        _cPack(message.assumingMemoryBound(to: CMessage.self), out)
    }

    /// The `ProtobufCMessage base` every protoc-c struct starts with.
    private static func base(_ c: UnsafePointer<CMessage>) -> UnsafePointer<ProtobufCMessage> {
        UnsafeRawPointer(c).assumingMemoryBound(to: ProtobufCMessage.self)
    }
}

/// A message already converted for protobuf-c, lent by
/// ``ProtoMessage/withSerialization(_:)``: it knows the encoded size and
/// writes the encoding into memory the caller provides.
///
/// Noncopyable and only lent (`borrowing`), so it cannot outlive the
/// conversion it points into.
public struct ProtoSerialization: ~Copyable {
    /// The number of bytes ``write(to:)`` writes.
    public let size: Int

    /// The C struct, owned by the conversion's arena.
    let message: UnsafeRawPointer
    /// Packs `message` (its generated protobuf-c pack function).
    let packer: any CMessageBridge.Type

    init(size: Int, message: UnsafeRawPointer, packer: any CMessageBridge.Type) {
        self.size = size
        self.message = message
        self.packer = packer
    }

    /// Writes the encoding to the start of `buffer`, which must hold at least
    /// ``size`` bytes (a smaller buffer is a programming error and traps).
    /// Returns ``size``.
    @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= size, "buffer of \(buffer.count) bytes for a \(size)-byte message")
        guard size > 0, let base = buffer.baseAddress else { return 0 }
        let written = packer._cPackRaw(message, base.assumingMemoryBound(to: UInt8.self))
        precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
        return written
    }
}

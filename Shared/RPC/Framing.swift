public import NIOCore
public import Protos

/// Splits a byte stream into frames: a 4-byte big-endian length, then that many
/// bytes. A length above `maximumFrameSize` throws `FrameTooLargeError` before
/// anything is buffered, so a peer cannot make us allocate what it claims.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The default maximum frame payload: 1 MiB.
    public static let defaultMaximumFrameSize = 1 << 20

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = FrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length <= maximumFrameSize else {
            throw FrameTooLargeError(length: Int(length), maximum: maximumFrameSize)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

/// A peer announced a frame larger than the configured maximum.
public struct FrameTooLargeError: Error, Hashable, CustomStringConvertible {
    public var length: Int
    public var maximum: Int

    public var description: String {
        "frame of \(length) bytes exceeds the maximum of \(maximum) bytes"
    }
}

extension ByteBuffer {
    /// Appends one frame holding `frame`'s encoding: length prefix, then bytes,
    /// encoded straight into this buffer.
    public mutating func writeFrame(_ frame: RpcV1.Frame) {
        frame.withSerialization { serialization in
            let size = serialization.size
            writeInteger(UInt32(size))
            writeWithUnsafeMutableBytes(minimumWritableBytes: size) { pointer in
                serialization.write(to: UnsafeMutableRawBufferPointer(rebasing: pointer[..<size]))
            }
        }
    }

    /// The frame of a successful answer, length prefix first: what
    /// `writeFrame(.response(callID:status:payload:))` writes with no status,
    /// without building the message (every call answers one).
    public mutating func writeOKResponseFrame(callID: UInt64, payload: [UInt8]) {
        payload.withUnsafeBytes { writeOKResponseFrame(callID: callID, payload: $0) }
    }

    /// The same, for a payload in place. The frame is written through one
    /// pointer: a `writeInteger` per byte checked the buffer's uniqueness and
    /// capacity each time, on every fast answer.
    public mutating func writeOKResponseFrame(callID: UInt64, payload: UnsafeRawBufferPointer) {
        // Response { status = 1: present and empty (OK); payload = 2 }
        let response = 2 + (payload.isEmpty ? 0 : 1 + ProtoWriter.varintSize(UInt64(payload.count)) + payload.count)
        // Frame { call_id = 1; response = 4 }
        let frame = (callID == 0 ? 0 : 1 + ProtoWriter.varintSize(callID)) + 1 + ProtoWriter.varintSize(UInt64(response)) + response
        writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + frame) { out in
            var at = 0
            func put(_ byte: UInt8) {
                out[at] = byte
                at += 1
            }
            func putVarint(_ value: UInt64) {
                var value = value
                while value >= 0x80 {
                    put(UInt8(truncatingIfNeeded: value) | 0x80)
                    value >>= 7
                }
                put(UInt8(value))
            }
            put(UInt8(truncatingIfNeeded: frame >> 24))
            put(UInt8(truncatingIfNeeded: frame >> 16))
            put(UInt8(truncatingIfNeeded: frame >> 8))
            put(UInt8(truncatingIfNeeded: frame))
            if callID != 0 {
                put(1 << 3)
                putVarint(callID)
            }
            put(4 << 3 | 2)
            putVarint(UInt64(response))
            put(1 << 3 | 2)
            put(0)
            if !payload.isEmpty {
                put(2 << 3 | 2)
                putVarint(UInt64(payload.count))
                UnsafeMutableRawBufferPointer(rebasing: out[at..<at + payload.count]).copyMemory(from: payload)
                at += payload.count
            }
            return at
        }
    }
}

import NIOCore
import NIOEmbedded
import NIOTestUtils
@testable import RPC
import Testing

@Suite struct FrameDecoderTests {
    private func frame(_ payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(payload.count))
        buffer.writeBytes(payload)
        return buffer
    }

    @Test func decodesFramesSplitAnywhere() throws {
        let payloads: [[UInt8]] = [[], [1], Array(repeating: 7, count: 300), [1, 2, 3, 4, 5]]
        let pairs = payloads.map { (frame($0), [ByteBuffer(bytes: $0)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: pairs,
            decoderFactory: { FrameDecoder(maximumFrameSize: 1024) })
    }

    @Test("an answer's frame written directly is the frame the message would serialise to")
    func okResponseFrameMatchesTheMessage() throws {
        for callID: UInt64 in [0, 1, 127, 128, 300, 1 << 40, .max] {
            for size in [0, 1, 127, 128, 400, 20_000] {
                let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                var direct = ByteBuffer()
                direct.writeOKResponseFrame(callID: callID, payload: payload)
                var viaMessage = ByteBuffer()
                viaMessage.writeFrame(.response(callID: callID, status: nil, payload: payload))
                #expect(direct == viaMessage, "call \(callID), payload of \(size) bytes")
            }
        }
    }

    @Test func refusesFrameOverMaximumBeforeBuffering() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameSize: 16)))
        var header = ByteBuffer()
        header.writeInteger(UInt32(17))
        // Only the header arrives: the decoder must refuse without waiting for the body.
        #expect(throws: FrameTooLargeError(length: 17, maximum: 16)) { try channel.writeInbound(header) }
        _ = try? channel.finish()
    }

    @Test func acceptsFrameAtExactlyTheMaximum() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameSize: 16)))
        try channel.writeInbound(frame(Array(repeating: 1, count: 16)))
        let decoded = try channel.readInbound(as: ByteBuffer.self)
        #expect(decoded?.readableBytes == 16)
        #expect(try channel.finish().isClean)
    }
}

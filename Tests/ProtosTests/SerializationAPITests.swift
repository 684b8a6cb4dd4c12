import Protos
import Testing

/// The ways of getting at the encoding: bytes, size, caller's buffer.
@Suite struct SerializationAPITests {
    @Test func sizeMatchesBytes() {
        let sink = Fixtures.fullSink()
        #expect(sink.serializedSize == sink.serializedBytes().count)
    }

    @Test func serializeIntoCallerBuffer() throws {
        let sink = Fixtures.fullSink()
        let expected = sink.serializedBytes()
        // Write after a 4-byte prefix, as the framing layer does.
        var buffer = [UInt8](repeating: 0xAA, count: expected.count + 8)
        let written = sink.withSerialization { serialization in
            buffer.withUnsafeMutableBytes { raw in
                serialization.write(to: UnsafeMutableRawBufferPointer(rebasing: raw[4...]))
            }
        }
        #expect(written == expected.count)
        #expect(Array(buffer[4..<(4 + written)]) == expected)
        #expect(buffer.prefix(4).allSatisfy { $0 == 0xAA })
        #expect(buffer.suffix(4).allSatisfy { $0 == 0xAA })

        var exact = [UInt8](repeating: 0, count: sink.serializedSize)
        let count = exact.withUnsafeMutableBytes { sink.serialize(into: $0) }
        #expect(count == expected.count)
        #expect(exact == expected)
    }

    @Test func decodeFromSliceAndRawBuffer() throws {
        let frame = RpcV1.Frame.with { $0.callId = 9; $0.kind = .cancel(RpcV1.Cancel()) }
        let framed = [0, 0, 0, 4] + frame.serializedBytes() + [0xFF]
        let slice = framed[4..<(framed.count - 1)]
        #expect(try RpcV1.Frame(serializedBytes: slice) == frame)
        let fromRaw = try slice.withUnsafeBytes { try RpcV1.Frame(serializedBytes: $0) }
        #expect(fromRaw == frame)
    }

    @Test func withSerializationRethrowsTheBodysError() {
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try RpcV1.Cancel().withSerialization { _ throws(Stop) in throw Stop() }
        }
    }

    @Test func protoNames() {
        #expect(RpcV1.Frame.protoName == "phonenumbers.rpc.v1.Frame")
        #expect(TestingV1.KitchenSink.Nested.protoName == "phonenumbers.testing.v1.KitchenSink.Nested")
        #expect(TestingV1.Colour.protoName == "phonenumbers.testing.v1.Colour")
        #expect(RpcV1.HealthCheckResponse.ServingStatus.protoName
            == "phonenumbers.rpc.v1.HealthCheckResponse.ServingStatus")
    }
}

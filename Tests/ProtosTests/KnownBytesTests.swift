import Protos
import Testing

/// Encodings computed by hand from the wire format spec, so that a broken
/// encoder (or decoder) cannot pass by agreeing with itself.
@Suite struct KnownBytesTests {
    typealias Sink = TestingV1.KitchenSink

    @Test func frameWithRequest() throws {
        let frame = RpcV1.Frame.with {
            $0.callId = 1
            $0.kind = .request(.with { $0.method = "a"; $0.timeoutMicros = 300 })
        }
        let expected: [UInt8] = [
            0x08, 0x01,              // 1: call_id = 1 (varint)
            0x12, 0x06,              // 2: request, 6 bytes
            0x0A, 0x01, 0x61,        //    1: method = "a"
            0x18, 0xAC, 0x02,        //    3: timeout_micros = 300 (varint 0b10_0101100)
        ]
        #expect(frame.serializedBytes() == expected)
        #expect(try RpcV1.Frame(serializedBytes: expected) == frame)
    }

    @Test func scalarEncodings() throws {
        let sink = Sink.with {
            $0.fDouble = 1.0
            $0.fInt32 = -1
            $0.fSint32 = -1
            $0.fFixed32 = 1
            $0.fBool = true
            $0.fColour = .blue
            $0.rInt32 = [1, 2, 300]
            $0.mStringString = ["k": "v"]
            $0.choice = .cInt64(5)
            $0.oInt32 = 0
            $0.oString = ""
        }
        let expected: [UInt8] = [
            0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F,  // 1: f_double = 1.0 (fixed64, little endian)
            0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,  // 3: f_int32 = -1 (10-byte varint)
            0x38, 0x01,  // 7: f_sint32 = -1 (zigzag 1)
            0x4D, 0x01, 0x00, 0x00, 0x00,  // 9: f_fixed32 = 1 (fixed32)
            0x68, 0x01,  // 13: f_bool = true
            0x80, 0x01, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,  // 16: f_colour = BLUE (-3)
            0xB2, 0x01, 0x04, 0x01, 0x02, 0xAC, 0x02,  // 22: r_int32 packed [1, 2, 300]
            0xCA, 0x02, 0x06, 0x0A, 0x01, 0x6B, 0x12, 0x01, 0x76,  // 41: entry {1: "k", 2: "v"}
            0xA0, 0x03, 0x05,  // 52: c_int64 = 5
            0xE8, 0x03, 0x00,  // 61: o_int32 = 0, present
            0xF2, 0x03, 0x00,  // 62: o_string = "", present
        ]
        #expect(sink.serializedBytes() == expected)
        #expect(try Sink(serializedBytes: expected) == sink)
    }

    @Test func defaultsAreNotEncoded() {
        // proto3 implicit presence: zero, empty and the zero enum are absent.
        let sink = Sink.with {
            $0.fInt32 = 0
            $0.fString = ""
            $0.fBytes = []
            $0.fColour = .unspecified
            $0.rInt32 = []
            $0.fNested = nil
        }
        #expect(sink.serializedBytes() == [])
    }

    @Test func unpackedRepeatedScalarsAreAccepted() throws {
        // 22: r_int32 as two separate varint fields (tag 22<<3|0 = 0xB0 0x01).
        let bytes: [UInt8] = [0xB0, 0x01, 0x01, 0xB0, 0x01, 0x02]
        #expect(try Sink(serializedBytes: bytes).rInt32 == [1, 2])
    }

    @Test func unknownFieldsAreSkipped() throws {
        let bytes: [UInt8] = [
            0x08, 0x07,                    // 1: call_id = 7
            0x78, 0x2A,                    // 15: unknown varint
            0x82, 0x01, 0x02, 0xAB, 0xCD,  // 16: unknown, 2 bytes
            0x8D, 0x02, 1, 2, 3, 4,        // 33: unknown fixed32
            0x29, 1, 2, 3, 4, 5, 6, 7, 8,  // 5 as fixed64: unknown wire type for `cancel`? no: field 5, wire 1
        ]
        // Field 5 (`cancel`, a message) with wire type 1 is a type mismatch,
        // which protobuf-c rejects; without it the rest decodes.
        #expect(Fixtures.decodingError(RpcV1.Frame.self, bytes)?.reason == .rejectedByProtobufC)
        let frame = try RpcV1.Frame(serializedBytes: Array(bytes.dropLast(9)))
        #expect(frame.callId == 7)
        #expect(frame.kind == nil)
    }

    @Test func lastValueWinsAndMapKeysRepeat() throws {
        let bytes: [UInt8] = [0x18, 0x01, 0x18, 0x02]  // 3: f_int32 = 1, then 2
            + Fixtures.lengthDelimited(41, [0x0A, 0x01, 0x6B, 0x12, 0x01, 0x31])  // "k": "1"
            + Fixtures.lengthDelimited(41, [0x0A, 0x01, 0x6B, 0x12, 0x01, 0x32])  // "k": "2"
            + Fixtures.lengthDelimited(41, [0x12, 0x01, 0x33])  // no key: "" → "3"
        let sink = try Sink(serializedBytes: bytes)
        #expect(sink.fInt32 == 2)
        #expect(sink.mStringString == ["k": "2", "": "3"])
    }

    @Test func unknownEnumValuesSurvive() throws {
        let bytes: [UInt8] = [0x80, 0x01, 0x07, 0x88, 0x01, 0x09]  // 16: f_colour = 7, 17: f_mood = 9
        let sink = try Sink(serializedBytes: bytes)
        #expect(sink.fColour == .unrecognized(7))
        #expect(sink.fMood == .unrecognized(9))
        #expect(sink.serializedBytes() == bytes)
    }
}

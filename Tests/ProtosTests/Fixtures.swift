import Protos

/// Messages and helpers shared by the tests.
enum Fixtures {
    typealias Sink = TestingV1.KitchenSink
    typealias Nested = TestingV1.KitchenSink.Nested

    /// A nested message with `depth` levels of children below it.
    static func tree(_ name: String, depth: Int) -> Nested {
        var node = Nested()
        node.name = name
        node.value = Int32(depth)
        if depth > 0 {
            node.children = [tree(name + ".0", depth: depth - 1), tree(name + ".1", depth: depth - 1)]
        }
        return node
    }

    /// A kitchen sink with every field set to a value other than its default.
    static func fullSink() -> Sink {
        var sink = Sink()
        sink.fDouble = 3.141592653589793
        sink.fFloat = -2.5
        sink.fInt32 = -123_456
        sink.fInt64 = 9_876_543_210
        sink.fUint32 = 4_000_000_000
        sink.fUint64 = 18_000_000_000_000_000_000
        sink.fSint32 = -77
        sink.fSint64 = -7_777_777_777
        sink.fFixed32 = 0xDEAD_BEEF
        sink.fFixed64 = 0x0123_4567_89AB_CDEF
        sink.fSfixed32 = -1
        sink.fSfixed64 = -2
        sink.fBool = true
        sink.fString = "kitchen sink"
        sink.fBytes = [0, 1, 2, 0xFF]
        sink.fColour = .blue
        sink.fMood = .grumpy
        sink.fNested = tree("root", depth: 3)
        sink.rDouble = [0, -1.5, .greatestFiniteMagnitude]
        sink.rInt32 = [Int32.min, -1, 0, 1, Int32.max]
        sink.rInt64 = [Int64.min, 0, Int64.max]
        sink.rUint64 = [0, 1, UInt64.max]
        sink.rSint32 = [Int32.min, -1, 0, Int32.max]
        sink.rBool = [true, false, true]
        sink.rString = ["", "a", "ünïcödé", "🦊"]
        sink.rBytes = [[], [0], [1, 2, 3]]
        sink.rColour = [.red, .blue, .unspecified, .unrecognized(99), .unrecognized(-100)]
        sink.rNested = [Nested(), tree("r", depth: 1)]
        sink.rFloat = [1.5, -0.25, .infinity]
        sink.rFixed64 = [0, UInt64.max]
        sink.mStringString = ["a": "1", "b": "", "": "empty key", "ключ": "значение"]
        sink.mInt32Nested = [0: Nested(), -5: tree("m", depth: 2), Int32.max: Nested()]
        sink.mUint64Bytes = [0: [], UInt64.max: [1, 2, 3], 42: [0]]
        sink.mStringColour = ["red": .red, "blue": .blue, "odd": .unrecognized(12345)]
        sink.mBoolInt64 = [true: Int64.min, false: Int64.max]
        sink.choice = .cNested(tree("choice", depth: 2))
        sink.oInt32 = -9
        sink.oString = "optional"
        sink.oBool = true
        sink.oColour = .green
        sink.oDouble = 1e-300
        sink.oBytes = [9, 8, 7]
        return sink
    }

    /// What decoding `bytes` as `M` throws, or nil if it succeeds.
    static func decodingError<M: ProtoMessage>(_: M.Type, _ bytes: [UInt8]) -> ProtoDecodingError? {
        do {
            _ = try M(serializedBytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    /// Encodes and decodes `message`.
    static func roundTrip<M: ProtoMessage>(_ message: M) throws -> M {
        try M(serializedBytes: message.serializedBytes())
    }

    /// The varint encoding of `value`.
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    /// A length-delimited field: tag, length, payload.
    static func lengthDelimited(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] {
        varint(field << 3 | 2) + varint(UInt64(payload.count)) + payload
    }
}

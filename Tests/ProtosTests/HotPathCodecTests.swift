import Protos
import Testing

/// `ProtoWriter` and `ProtoFieldReader` serve hot paths that skip the
/// generated code; they must agree with it byte for byte.
@Suite struct HotPathCodecTests {
    @Test("a nested field of any length is written as protobuf-c writes a bytes field of that length")
    func nestedLengths() {
        for size in [0, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let expected = TestingV1.KitchenSink.with { $0.fBytes = bytes; $0.fBool = true }.serializedBytes()
            var nested = ProtoWriter(capacity: 8)
            nested.bool(13, true)
            nested.nested(15) { field in for byte in bytes { field.append(byte) } }
            var direct = ProtoWriter(capacity: 8)
            direct.bool(13, true)
            bytes.withUnsafeBytes { direct.data(15, $0) }
            // protobuf-c leaves an empty bytes field out; a nested message is always written.
            #expect(nested.bytes == (size == 0 ? expected + [0x7a, 0] : expected), "nested, \(size) bytes")
            #expect(direct.bytes == expected, "data, \(size) bytes")
            var filled = ProtoWriter(capacity: 8)
            filled.bool(13, true)
            if size > 0 { filled.field(15, count: size) { $0.copyBytes(from: bytes) } }
            #expect(filled.bytes == expected, "field, \(size) bytes")
            direct.removeAll()
            #expect(direct.bytes.isEmpty)
        }
    }

    @Test("the field reader reads back what the generated code wrote, and stops at malformed input")
    func fieldReader() {
        let message = TestingV1.KitchenSink.with {
            $0.fInt32 = -5; $0.fUint64 = 1 << 40; $0.fFixed32 = 0xDEADBEEF; $0.fFixed64 = 0x0123_4567_89AB_CDEF
            $0.fString = "héllo"; $0.fBytes = [0, 1, 2]
        }
        let bytes = message.serializedBytes()
        var fields: [UInt32: String] = [:]
        var complete = false
        bytes.withUnsafeBytes { raw in
            var reader = ProtoFieldReader(raw)
            while let field = reader.next() {
                switch field.value {
                case .varint(let value): fields[field.number] = "varint \(value)"
                case .fixed(let value): fields[field.number] = "fixed \(value)"
                case .bytes(let value): fields[field.number] = "bytes \(Array(value))"
                }
            }
            complete = !reader.isMalformed
        }
        #expect(complete)
        #expect(fields == [
            3: "varint \(UInt64(bitPattern: -5))", 6: "varint \(1 << 40)", 9: "fixed \(0xDEADBEEF)",
            10: "fixed \(0x0123_4567_89AB_CDEF)", 14: "bytes \(Array("héllo".utf8))", 15: "bytes [0, 1, 2]",
        ])
        for cut in 1..<bytes.count {
            let truncated = Array(bytes.prefix(cut))
            var read = 0
            let malformed = truncated.withUnsafeBytes { raw in
                var reader = ProtoFieldReader(raw)
                while reader.next() != nil { read += 1 }
                return reader.isMalformed
            }
            // Cut at a field boundary the rest is simply absent; anywhere else it is malformed.
            #expect(malformed || read < fields.count, "cut at \(cut)")
        }
        for invalid in [[0x80], [0x0b, 0x00], [0x00, 0x01], [0x12, 0x05, 0x61]] as [[UInt8]] {
            let malformed = invalid.withUnsafeBytes { raw in
                var reader = ProtoFieldReader(raw)
                while reader.next() != nil {}
                return reader.isMalformed
            }
            #expect(malformed, "\(invalid)")
        }
    }

    @Test("text checks: UTF-8 without NUL")
    func text() {
        for (bytes, valid) in [(Array("ok é".utf8), true), ([0x61, 0x00], false), ([0xff], false), ([], true)] as [([UInt8], Bool)] {
            #expect(bytes.withUnsafeBytes { ProtoFieldReader.isValidText($0) } == valid, "\(bytes)")
        }
    }
}

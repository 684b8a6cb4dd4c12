@testable import Protos
import Testing

/// Untrusted bytes: every kind of bad input is an error, never a crash.
@Suite struct MalformedInputTests {
    typealias Sink = TestingV1.KitchenSink
    typealias Nested = TestingV1.KitchenSink.Nested

    @Test(arguments: [
        [0xFF], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0x00], [0x08],
        [0x0B, 0x00], [0x0C], [0x0E, 0x00], [0x0F, 0x00], [0x12], [0x12, 0x80], [0x09, 0x00, 0x00],
        [0x0D, 0x00], Array("definitely not protobuf".utf8),
    ] as [[UInt8]])
    func garbageIsRejected(_ bytes: [UInt8]) {
        #expect(Fixtures.decodingError(RpcV1.Frame.self, bytes) != nil)
        #expect(Fixtures.decodingError(Sink.self, bytes) != nil)
    }

    @Test func everyTruncationIsHandled() {
        let bytes = Fixtures.fullSink().serializedBytes()
        var rejected = 0
        for length in 0..<bytes.count {
            // Cutting between two fields leaves a valid (smaller) message;
            // anything else must throw. Either way: no crash.
            if Fixtures.decodingError(Sink.self, Array(bytes[..<length])) != nil { rejected += 1 }
        }
        #expect(rejected > bytes.count / 2)
        #expect(Fixtures.decodingError(Sink.self, Array(bytes.dropLast())) != nil)
    }

    @Test func hugeLengthIsRejectedBeforeAllocating() throws {
        // 2: request, claiming 4294967295 bytes.
        let frame: [UInt8] = [0x08, 0x01, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0A]
        let error = try #require(Fixtures.decodingError(RpcV1.Frame.self, frame))
        #expect(error.reason == .malformed("field 2 claims 4294967295 bytes but 1 remain (offset 3)"))
        #expect(error.description.contains("phonenumbers.rpc.v1.Frame"))
        // The same in a field the scan does not descend into (bytes), and at
        // the maximum a varint can express.
        let payload: [UInt8] = [0x22, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
        #expect(Fixtures.decodingError(RpcV1.Request.self, payload) != nil)
        let stream: [UInt8] = [0x0A, 0xFE, 0xFF, 0xFF, 0xFF, 0x07]
        #expect(Fixtures.decodingError(RpcV1.StreamMessage.self, stream) != nil)
    }

    @Test func wrongWireTypeIsRejectedByProtobufC() {
        // 1: call_id (uint64) sent as length-delimited.
        #expect(Fixtures.decodingError(RpcV1.Frame.self, [0x0A, 0x00])?.reason == .rejectedByProtobufC)
    }

    @Test func groupsAreRejected() {
        let error = Fixtures.decodingError(RpcV1.Frame.self, [0x0B, 0x0C])
        #expect(error?.reason == .malformed("unsupported wire type 3 for field 1 at offset 0"))
    }

    /// `depth` nested messages: each is `children` (3) of the previous one.
    private func nestedChain(depth: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 1..<depth {
            bytes = Fixtures.lengthDelimited(3, bytes)
        }
        return bytes
    }

    @Test func nestingUpToTheLimitDecodes() throws {
        var node = try Nested(serializedBytes: nestedChain(depth: ProtoDecoding.maximumNestingDepth))
        var depth = 1
        while let child = node.children.first {
            node = child
            depth += 1
        }
        #expect(depth == ProtoDecoding.maximumNestingDepth)
    }

    @Test func nestingBeyondTheLimitIsRejected() {
        let limit = ProtoDecoding.maximumNestingDepth
        #expect(Fixtures.decodingError(Nested.self, nestedChain(depth: limit + 1))?.reason
            == .nestingTooDeep(limit: limit))
        // Deep enough to overflow the stack in protobuf-c's recursive decoder.
        #expect(Fixtures.decodingError(Nested.self, nestedChain(depth: 200_000))?.reason
            == .nestingTooDeep(limit: limit))
        // Counted through every path: KitchenSink → c_nested → children...
        let viaOneof = Fixtures.lengthDelimited(53, nestedChain(depth: limit))
        #expect(Fixtures.decodingError(Sink.self, viaOneof)?.reason == .nestingTooDeep(limit: limit))
    }

    @Test func invalidUTF8IsRejectedWithTheFieldName() {
        let cases: [([UInt8], String)] = [
            (Fixtures.lengthDelimited(14, [0x61, 0xC3, 0x28]), "phonenumbers.testing.v1.KitchenSink.f_string"),
            (Fixtures.lengthDelimited(27, [0xED, 0xA0, 0x80]), "phonenumbers.testing.v1.KitchenSink.r_string"),
            (Fixtures.lengthDelimited(41, Fixtures.lengthDelimited(1, [0xFF])),
             "phonenumbers.testing.v1.KitchenSink.m_string_string (map key)"),
            (Fixtures.lengthDelimited(41, Fixtures.lengthDelimited(2, [0xC0, 0x80])),
             "phonenumbers.testing.v1.KitchenSink.m_string_string (map value)"),
            (Fixtures.lengthDelimited(30, Fixtures.lengthDelimited(1, [0xF4, 0x90, 0x80, 0x80])),
             "phonenumbers.testing.v1.KitchenSink.Nested.name"),
            (Fixtures.lengthDelimited(62, [0xE2, 0x82]), "phonenumbers.testing.v1.KitchenSink.o_string"),
        ]
        for (bytes, field) in cases {
            #expect(Fixtures.decodingError(Sink.self, bytes)?.reason == .invalidUTF8(field: field))
        }
    }

    @Test func nulInStringIsRejected() {
        let bytes = Fixtures.lengthDelimited(51, [0x61, 0x00, 0x62])
        #expect(Fixtures.decodingError(Sink.self, bytes)?.reason
            == .embeddedNUL(field: "phonenumbers.testing.v1.KitchenSink.c_string"))
    }

    /// The scan's UTF-8 check agrees with the standard library's.
    @Test func utf8CheckMatchesTheStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF,
                                    0xF0, 0xF4, 0xF5, 0xFF, 0x9F, 0xA0, 0x8F, 0x90]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...6, using: &generator)
            let text = (0..<length).map { _ in interesting.randomElement(using: &generator)! }
            let valid = String(validating: text, as: UTF8.self) != nil && !text.contains(0)
            let decoded = try? Sink(serializedBytes: Fixtures.lengthDelimited(14, text))
            #expect((decoded != nil) == valid, "\(text)")
        }
    }

    @Test func allocationBudgetIsEnforced() throws {
        let bytes = Fixtures.fullSink().serializedBytes()
        let decode = { (limit: Int) throws(ProtoDecodingError) -> Sink in
            try bytes.withUnsafeBytes { raw in
                Result { () throws(ProtoDecodingError) -> Sink in try ProtoCodec.decode(raw, allocationLimit: limit) }
            }.get()
        }
        #expect(throws: ProtoDecodingError(messageName: Sink.protoName,
                                           reason: .allocationLimitExceeded(limit: 1_000))) {
            try decode(1_000)
        }
        #expect(try decode(10_000_000) == Fixtures.fullSink())
    }

    @Test func manyEmptySubmessagesFitTheDefaultBudget() throws {
        // The cheapest input per allocated byte: 2 bytes per empty message.
        let bytes = Array(repeating: [0xF2, 0x01, 0x00] as [UInt8], count: 50_000).flatMap { $0 }  // 30: r_nested
        #expect(try Sink(serializedBytes: bytes).rNested.count == 50_000)
        let violations = Array(repeating: [0x1A, 0x00] as [UInt8], count: 50_000).flatMap { $0 }  // 3: field_violations
        #expect(try RpcV1.Status(serializedBytes: violations).fieldViolations.count == 50_000)
    }

    @Test func randomBytesNeverCrash() throws {
        var generator = SystemRandomNumberGenerator()
        let seeds = [Fixtures.fullSink().serializedBytes(),
                     RpcV1.Frame.with { $0.kind = .request(.with { $0.metadata = ["a": "b"] }) }.serializedBytes()]
        for round in 0..<5_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes = seeds[round % 4 / 2]
                for _ in 0..<Int.random(in: 1...8, using: &generator) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            if let frame = try? RpcV1.Frame(serializedBytes: bytes) {
                #expect(try RpcV1.Frame(serializedBytes: frame.serializedBytes()) == frame)
            }
            if let sink = try? Sink(serializedBytes: bytes) {
                let again = try? Sink(serializedBytes: sink.serializedBytes())
                #expect(again?.serializedBytes() == sink.serializedBytes())
            }
        }
    }
}

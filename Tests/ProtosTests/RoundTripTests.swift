import Protos
import Testing

/// Encoding then decoding gives back the same message, for every field kind.
@Suite struct RoundTripTests {
    typealias Sink = TestingV1.KitchenSink
    typealias Nested = TestingV1.KitchenSink.Nested

    @Test func defaultMessageIsEmpty() throws {
        #expect(Sink().serializedBytes() == [])
        #expect(Sink().serializedSize == 0)
        #expect(try Sink(serializedBytes: []) == Sink())
        #expect(try RpcV1.Cancel(serializedBytes: []) == RpcV1.Cancel())
    }

    @Test func everyFieldSet() throws {
        let sink = Fixtures.fullSink()
        let decoded = try Fixtures.roundTrip(sink)
        #expect(decoded == sink)
        // Field by field too, so a failure says which one.
        #expect(decoded.fFixed64 == sink.fFixed64)
        #expect(decoded.fNested == sink.fNested)
        #expect(decoded.rColour == sink.rColour)
        #expect(decoded.mStringString == sink.mStringString)
        #expect(decoded.mInt32Nested == sink.mInt32Nested)
        #expect(decoded.mBoolInt64 == sink.mBoolInt64)
        #expect(decoded.choice == sink.choice)
    }

    @Test func integerExtremes() throws {
        for (low, high) in [(true, false), (false, true)] {
            var sink = Sink()
            sink.fInt32 = low ? .min : .max
            sink.fInt64 = low ? .min : .max
            sink.fUint32 = high ? .max : 1
            sink.fUint64 = high ? .max : 1
            sink.fSint32 = low ? .min : .max
            sink.fSint64 = low ? .min : .max
            sink.fFixed32 = high ? .max : 1
            sink.fFixed64 = high ? .max : 1
            sink.fSfixed32 = low ? .min : .max
            sink.fSfixed64 = low ? .min : .max
            sink.choice = .cInt64(low ? .min : .max)
            sink.oInt32 = low ? .min : .max
            #expect(try Fixtures.roundTrip(sink) == sink)
        }
    }

    @Test(arguments: [
        Double.infinity, -Double.infinity, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude,
        -Double.leastNormalMagnitude, 1e308, -1e-308,
    ])
    func floatingPointValues(_ value: Double) throws {
        var sink = Sink()
        sink.fDouble = value
        sink.fFloat = Float(value)
        sink.rDouble = [value, -value]
        sink.rFloat = [Float(value)]
        sink.oDouble = value
        #expect(try Fixtures.roundTrip(sink) == sink)
    }

    @Test func notANumberKeepsItsBits() throws {
        var sink = Sink()
        let quiet = Double.nan
        let signalling = Double(bitPattern: 0x7FF4_0000_0000_0001)
        sink.fDouble = quiet
        sink.fFloat = -Float.nan
        sink.rDouble = [signalling, 1]
        sink.oDouble = -quiet
        let decoded = try Fixtures.roundTrip(sink)
        // NaN is not equal to itself: compare bit patterns.
        #expect(decoded.fDouble.bitPattern == quiet.bitPattern)
        #expect(decoded.fFloat.bitPattern == (-Float.nan).bitPattern)
        #expect(decoded.rDouble.map(\.bitPattern) == [signalling.bitPattern, Double(1).bitPattern])
        #expect(decoded.oDouble?.bitPattern == (-quiet).bitPattern)
    }

    @Test func negativeZeroKeepsItsSignWhenPresent() throws {
        var sink = Sink()
        sink.oDouble = -0.0
        let decoded = try Fixtures.roundTrip(sink)
        #expect(decoded.oDouble == 0)
        #expect(decoded.oDouble?.sign == .minus)
    }

    @Test func bytesEmptyAndLarge() throws {
        var sink = Sink()
        sink.fBytes = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        sink.rBytes = [[], sink.fBytes, []]
        sink.choice = .cBytes([])
        let decoded = try Fixtures.roundTrip(sink)
        #expect(decoded == sink)
        #expect(decoded.rBytes.map(\.count) == [0, 3 << 20, 0])
    }

    @Test(arguments: [
        "", "ascii", "héllo wörld", "日本語テキスト", "👋🏽 family: 👨‍👩‍👧‍👦", "e\u{301} (combining)",
        "\u{FFFF}\u{10FFFF}\u{FFFD}", String(repeating: "ß", count: 100_000),
    ])
    func unicodeStrings(_ text: String) throws {
        var sink = Sink()
        sink.fString = text
        sink.rString = [text, text]
        sink.mStringString = [text: text]
        sink.oString = text
        sink.choice = .cString(text)
        sink.fNested = Nested.with { $0.name = text }
        let decoded = try Fixtures.roundTrip(sink)
        #expect(decoded == sink)
        // Unicode equality would hide a normalization: compare the bytes.
        #expect(Array(decoded.fString.utf8) == Array(text.utf8))
        #expect(decoded.mStringString.keys.map { Array($0.utf8) } == [Array(text.utf8)])
    }

    /// protobuf-c strings are C strings; NUL is replaced rather than letting
    /// the string be cut short.
    @Test func nulInStringIsReplacedWhenEncoding() throws {
        var sink = Sink()
        sink.fString = "a\0b\0"
        sink.rString = ["\0"]
        sink.mStringString = ["k\0": "v\0"]
        let decoded = try Fixtures.roundTrip(sink)
        #expect(decoded.fString == "a\u{FFFD}b\u{FFFD}")
        #expect(decoded.rString == ["\u{FFFD}"])
        #expect(decoded.mStringString == ["k\u{FFFD}": "v\u{FFFD}"])
    }

    @Test func recursionThroughRepeatedField() throws {
        var sink = Sink()
        sink.fNested = Fixtures.tree("deep", depth: 8)
        sink.rNested = [Fixtures.tree("a", depth: 4), Nested(), Fixtures.tree("b", depth: 1)]
        let decoded = try Fixtures.roundTrip(sink)
        #expect(decoded == sink)
        #expect(decoded.fNested?.children.first?.children.first?.name == "deep.0.0")
    }

    @Test(arguments: [
        Sink.Choice.cString("text"), .cString(""), .cInt64(0), .cInt64(-1), .cNested(Nested()),
        .cNested(Fixtures.tree("c", depth: 2)), .cBytes([]), .cBytes([1, 2]), .cColour(.unspecified),
        .cColour(.blue), .cColour(.unrecognized(-77)),
    ])
    func everyOneofCase(_ choice: Sink.Choice) throws {
        var sink = Sink()
        sink.choice = choice
        // A oneof member set to its default is still set: it is on the wire.
        #expect(sink.serializedSize > 0)
        #expect(try Fixtures.roundTrip(sink).choice == choice)
    }

    @Test func unsetOneofStaysUnset() throws {
        #expect(try Fixtures.roundTrip(Sink()).choice == nil)
    }

    @Test func optionalPresenceSurvives() throws {
        var zero = Sink()
        zero.oInt32 = 0
        zero.oString = ""
        zero.oBool = false
        zero.oColour = .unspecified
        zero.oDouble = 0
        zero.oBytes = []
        let decodedZero = try Fixtures.roundTrip(zero)
        #expect(decodedZero.oInt32 == 0)
        #expect(decodedZero.oString == "")
        #expect(decodedZero.oBool == false)
        #expect(decodedZero.oColour == .unspecified)
        #expect(decodedZero.oDouble == 0)
        #expect(decodedZero.oBytes == [])

        let decodedNil = try Fixtures.roundTrip(Sink())
        #expect(decodedNil.oInt32 == nil)
        #expect(decodedNil.oString == nil)
        #expect(decodedNil.oBool == nil)
        #expect(decodedNil.oColour == nil)
        #expect(decodedNil.oDouble == nil)
        #expect(decodedNil.oBytes == nil)
    }

    @Test func singularMessagePresenceSurvives() throws {
        var sink = Sink()
        sink.fNested = Nested()
        #expect(try Fixtures.roundTrip(sink).fNested == Nested())
        #expect(try Fixtures.roundTrip(Sink()).fNested == nil)
    }

    @Test func mapsWithSeveralEntries() throws {
        var sink = Sink()
        for index in 0..<200 {
            sink.mStringString["key \(index)"] = "value \(index)"
            sink.mInt32Nested[Int32(index) - 100] = Nested.with { $0.value = Int32(index) }
            sink.mUint64Bytes[UInt64(index) * 1_000_000_007] = Array(repeating: UInt8(index & 0xFF), count: index)
            sink.mStringColour["c\(index)"] = TestingV1.Colour(rawValue: Int32(index % 5) - 2)
        }
        sink.mBoolInt64 = [false: 0, true: 1]
        #expect(try Fixtures.roundTrip(sink) == sink)
    }

    @Test func equalMapsEncodeToEqualBytes() {
        var forward = Sink()
        var backward = Sink()
        for index in 0..<50 {
            forward.mStringString["k\(index)"] = "\(index)"
            backward.mStringString["k\(49 - index)"] = "\(49 - index)"
        }
        forward.mBoolInt64 = [true: 1, false: 2]
        backward.mBoolInt64 = [false: 2, true: 1]
        #expect(forward == backward)
        #expect(forward.serializedBytes() == backward.serializedBytes())
    }

    @Test func envelopeFrames() throws {
        let request = RpcV1.Request.with {
            $0.method = "phonenumbers.rpc.v1.Health/Check"
            $0.metadata = ["authorization": "Bearer x.y.z", "trace-id": "abc"]
            $0.timeoutMicros = 5_000_000
            $0.payload = RpcV1.HealthCheckRequest.with { $0.service = "inventory" }.serializedBytes()
        }
        let status = RpcV1.Status.with {
            $0.code = .invalidArgument
            $0.message = "bad number"
            $0.fieldViolations = [RpcV1.FieldViolation.with { $0.field = "items[3].number"; $0.description = "?" }]
        }
        let kinds: [RpcV1.Frame.Kind] = [
            .request(request), .streamMessage(RpcV1.StreamMessage.with { $0.payload = [1, 2, 3] }),
            .response(RpcV1.Response.with { $0.status = status; $0.metadata = ["retry-after": "1"] }),
            .cancel(RpcV1.Cancel()),
        ]
        for (index, kind) in kinds.enumerated() {
            let frame = RpcV1.Frame.with {
                $0.callId = UInt64(index) << 40
                $0.kind = kind
            }
            #expect(try Fixtures.roundTrip(frame) == frame)
        }
        let health = try RpcV1.HealthCheckRequest(serializedBytes: request.payload)
        #expect(health.service == "inventory")
    }

    @Test func eventsStream() throws {
        let event = EventsV1.Event.with {
            $0.position = 42
            $0.type = "inventory.number.imported"
            $0.aggregateId = "+441234567890"
            $0.payload = [0xCA, 0xFE]
            $0.occurredAtMicros = -1
            $0.traceId = "trace"
        }
        let responses = [
            EventsV1.SubscribeResponse.with { $0.kind = .event(event) },
            EventsV1.SubscribeResponse.with { $0.kind = .heartbeat(.with { $0.headPosition = .max }) },
        ]
        for response in responses {
            #expect(try Fixtures.roundTrip(response) == response)
        }
    }
}

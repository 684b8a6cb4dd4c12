import Protos

/// The fuzz targets of this executable, chosen with the environment variable
/// `FUZZ_MESSAGE` (libFuzzer owns the command line).
enum FuzzTarget: String, CaseIterable {
    /// `RpcV1.Frame`, the envelope of every RPC frame on the wire.
    case frame
    /// `TestingV1.KitchenSink`, every field kind.
    case kitchenSink = "kitchen-sink"

    /// The target named by `FUZZ_MESSAGE`, `frame` when unset.
    static func fromEnvironment(_ value: String?) -> FuzzTarget? {
        guard let value, !value.isEmpty else { return .frame }
        return FuzzTarget(rawValue: value)
    }

    /// Runs one input through the target's property check; a violation
    /// traps (printing the input), which both libFuzzer and the plain loop
    /// report as a finding.
    func run(_ bytes: UnsafeRawBufferPointer) {
        let problem = switch self {
        case .frame: checkRoundTrip(RpcV1.Frame.self, bytes)
        case .kitchenSink: checkRoundTrip(TestingV1.KitchenSink.self, bytes)
        }
        if let problem {
            let hex = bytes.prefix(4096).map { String($0, radix: 16) }.joined(separator: " ")
            preconditionFailure("\(problem)\ninput (\(bytes.count) bytes): \(hex)")
        }
    }

    /// Valid encodings to start from.
    var seeds: [[UInt8]] {
        switch self {
        case .frame: Seeds.frames.map { $0.serializedBytes() }
        case .kitchenSink: Seeds.sinks.map { $0.serializedBytes() }
        }
    }
}

/// The property: any input either fails to decode (with an error, never a
/// crash), or decodes to a message that encodes, decodes again to an equal
/// message and encodes again to the same bytes. Returns what went wrong.
func checkRoundTrip<M: ProtoMessage>(_: M.Type, _ bytes: UnsafeRawBufferPointer) -> String? {
    guard let first = try? M(serializedBytes: bytes) else { return nil }
    let encoded = first.serializedBytes()
    if encoded.count != first.serializedSize {
        return "\(M.protoName): serializedSize disagrees with serializedBytes"
    }
    let second: M
    do {
        second = try M(serializedBytes: encoded)
    } catch {
        return "\(M.protoName): the re-encoded message does not decode: \(error)"
    }
    // NaN is not equal to itself: such messages are compared by their bytes only.
    if first != second && !containsNaN(first) {
        return "\(M.protoName): the round trip changed the message:\n\(first)\n\(second)"
    }
    if second.serializedBytes() != encoded {
        return "\(M.protoName): the encoding is not stable"
    }
    return nil
}

/// Messages whose encodings seed the fuzzers. Computed, not stored: a global
/// holding them shows up as a (false) leak under LeakSanitizer, which cannot
/// see pointers Swift packs into enum payloads.
enum Seeds {
    static var frames: [RpcV1.Frame] { [
        RpcV1.Frame(),
        .with {
            $0.callId = 1
            $0.kind = .request(.with {
                $0.method = "phonenumbers.rpc.v1.Health/Check"
                $0.metadata = ["authorization": "Bearer a.b.c", "trace-id": "t-1"]
                $0.timeoutMicros = 250_000
                $0.payload = [0x0A, 0x09] + Array("inventory".utf8)
            })
        },
        .with { $0.callId = 2; $0.kind = .streamMessage(.with { $0.payload = [1, 2, 3] }) },
        .with {
            $0.callId = .max
            $0.kind = .response(.with {
                $0.status = .with {
                    $0.code = .invalidArgument
                    $0.message = "bad number"
                    $0.fieldViolations = [.with { $0.field = "items[0].number"; $0.description = "too short" }]
                }
                $0.metadata = ["retry-after": "5"]
            })
        },
        .with { $0.callId = 3; $0.kind = .cancel(RpcV1.Cancel()) },
    ] }

    static var sinks: [TestingV1.KitchenSink] { [
        TestingV1.KitchenSink(),
        .with {
            $0.fDouble = -1.5
            $0.fFloat = .infinity
            $0.fInt32 = .min
            $0.fInt64 = .max
            $0.fUint32 = .max
            $0.fUint64 = .max
            $0.fSint32 = -2
            $0.fSint64 = .min
            $0.fFixed32 = 7
            $0.fFixed64 = 8
            $0.fSfixed32 = -9
            $0.fSfixed64 = -10
            $0.fBool = true
            $0.fString = "ünï"
            $0.fBytes = [0, 255]
            $0.fColour = .blue
            $0.fMood = .happy
            $0.fNested = .with { $0.name = "n"; $0.children = [.with { $0.value = 1 }] }
            $0.rDouble = [1, 2]
            $0.rInt32 = [-1, 300]
            $0.rInt64 = [5]
            $0.rUint64 = [6]
            $0.rSint32 = [-7]
            $0.rBool = [true, false]
            $0.rString = ["a", ""]
            $0.rBytes = [[1], []]
            $0.rColour = [.red, .unrecognized(50)]
            $0.rNested = [.with { $0.name = "r" }]
            $0.rFloat = [0.5]
            $0.rFixed64 = [9]
            $0.mStringString = ["k": "v"]
            $0.mInt32Nested = [1: .with { $0.name = "m" }]
            $0.mUint64Bytes = [2: [3]]
            $0.mStringColour = ["g": .green]
            $0.mBoolInt64 = [true: -1]
            $0.choice = .cString("choice")
            $0.oInt32 = 0
            $0.oString = ""
            $0.oBool = false
            $0.oColour = .unspecified
            $0.oDouble = 0
            $0.oBytes = []
        },
        .with { $0.choice = .cNested(.with { $0.children = [.with { $0.children = [.init()] }] }) },
        .with { $0.choice = .cBytes([1, 2, 3]) },
        .with { $0.choice = .cColour(.unrecognized(-5)) },
        .with { $0.choice = .cInt64(-1) },
    ] }
}

/// Whether a NaN hides somewhere in `value` (found by reflection; only
/// called when two messages compare unequal). `message != message` cannot
/// tell: arrays sharing storage compare equal without looking at elements.
func containsNaN(_ value: Any) -> Bool {
    if let double = value as? Double { return double.isNaN }
    if let float = value as? Float { return float.isNaN }
    return Mirror(reflecting: value).children.contains { containsNaN($0.value) }
}

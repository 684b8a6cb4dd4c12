import Protos
import Testing

/// Generated enums: names, open values, equality.
@Suite struct EnumTests {
    @Test func prefixIsStrippedWhenEveryValueHasIt() {
        #expect(TestingV1.Colour.allCases == [.unspecified, .red, .green, .blue])
        #expect(TestingV1.KitchenSink.Mood.allCases == [.unspecified, .happy, .grumpy])
        // SERVING_STATUS_ is not a prefix of these: kept whole.
        #expect(RpcV1.HealthCheckResponse.ServingStatus.allCases == [.unknown, .serving, .notServing])
        #expect(RpcV1.Code.invalidArgument.rawValue == 3)
        #expect(RpcV1.Code.ok.rawValue == 0)
        #expect(RpcV1.Code.allCases.count == 17)
    }

    @Test func rawValues() {
        #expect(TestingV1.Colour.blue.rawValue == -3)
        #expect(TestingV1.Colour(rawValue: -3) == .blue)
        #expect(TestingV1.Colour(rawValue: 2) == .green)
        #expect(TestingV1.Colour(rawValue: 7) == .unrecognized(7))
        #expect(TestingV1.Colour.unrecognized(7).rawValue == 7)
        #expect(RpcV1.Code(rawValue: 16) == .unauthenticated)
    }

    @Test func unrecognizedEqualsTheKnownCaseOfTheSameValue() {
        #expect(TestingV1.Colour.unrecognized(1) == .red)
        #expect(Set([TestingV1.Colour.unrecognized(1), .red]).count == 1)
        #expect(TestingV1.Colour.unrecognized(1) != .green)
    }

    @Test func defaultIsTheZeroValue() {
        #expect(TestingV1.KitchenSink().fColour == .unspecified)
        #expect(RpcV1.Status().code == .ok)
        #expect(RpcV1.HealthCheckResponse().status == .unknown)
    }
}

import ArgumentParser
import Foundation
import Protos
import RPC

/// Lookup's GetStatus (numbers held, load time) and a sample of Resolve
/// answers (that seeded numbers resolve, and how large an answer is), as
/// `name value` lines for the script.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print lookup's status and the size of its Resolve answers.")
    @Option(help: "Lookup port on 127.0.0.1.") var port: Int
    @OptionGroup var seed: SeedOptions
    @Option(help: "Seeded numbers to resolve as a sample (0: none).") var sample = 1_000

    func run() async throws {
        let client = RPCClient.loopback(port: port, token: try BenchTokens.lookupReader())
        defer { client.close() }
        let status = try await client.unary(LookupMethods.status, LookupV1.GetStatusRequest(), as: LookupV1.GetStatusResponse.self,
                                            idempotent: true)
        print("numbers \(status.numbers)")
        print("assigned \(status.assignedNumbers)")
        print("schedules \(status.schedules)")
        print("load_micros \(status.loadMicros)")
        print("ready \(status.ready)")
        guard sample > 0 else { return }
        var random = FastRandom(state: 42)
        var bytes = 0, toAgent = 0
        for _ in 0..<sample {
            var request = LookupV1.ResolveRequest()
            request.number = SeedSet.e164(Int.random(in: 0..<seed.numbers, using: &random))
            let response = try await client.unary(LookupMethods.resolve, request, as: LookupV1.ResolveResponse.self)
            bytes += response.serializedBytes().count
            if response.route?.destination == .agent { toAgent += 1 }
        }
        print("response_bytes \(bytes / sample)")
        print("sample_to_agent \(toAgent)/\(sample)")
    }
}

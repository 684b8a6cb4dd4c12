// The server-pipeline fuzz target: every input is a peer's byte stream (cut
// into a few reads) fed to a server connection's pipeline — frame decoder and
// connection handler — on an EmbeddedChannel; Harness.swift says how an input
// is read and what is checked. Two ways to run it (scripts/fuzz.sh chooses):
//
// - libFuzzer: built with `--sanitize fuzzer -Xswiftc -sanitize=address,fuzzer
//   -Xswiftc -DLIBFUZZER`; libFuzzer provides `main` and calls
//   `LLVMFuzzerTestOneInput`.
// - plain: an ordinary build (so that `swift build` of the package always
//   works): a bounded random-mutation loop over the seeds,
//       RPCFuzz [--seconds N]
//   or, to refresh the committed seed files,
//       RPCFuzz --write-seeds <directory>

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if LIBFUZZER

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    runServerPipeline(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#else

@main
struct PlainFuzzer {
    static func main() throws {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        var seconds = 10.0
        while let argument = arguments.next() {
            switch argument {
            case "--seconds":
                seconds = arguments.next().flatMap(Double.init) ?? seconds
            case "--write-seeds":
                guard let directory = arguments.next() else { fatalError("--write-seeds needs a directory") }
                writeSeeds(to: directory)
                return
            default:
                fatalError("unknown argument \(argument)")
            }
        }
        let seeds = Seeds.all
        var generator = SystemRandomNumberGenerator()
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        var executions = 0
        while clock.now < deadline {
            for _ in 0..<64 {
                var input = seeds.randomElement(using: &generator)!
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    mutate(&input, seeds: seeds, using: &generator)
                }
                input.withUnsafeBytes { runServerPipeline($0) }
                executions += 1
            }
        }
        print("RPCFuzz (plain, server-pipeline): \(executions) executions in \(seconds)s, no findings")
    }

    /// One file per seed: `<directory>/server-pipeline/seed-<n>.bin`.
    static func writeSeeds(to directory: String) {
        let folder = directory + "/server-pipeline"
        for path in [directory, folder] where mkdir(path, 0o755) != 0 && errno != EEXIST {
            fatalError("cannot create \(path)")
        }
        for (index, seed) in Seeds.all.enumerated() {
            guard let file = fopen(folder + "/seed-\(index).bin", "wb") else { fatalError("cannot write seeds") }
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
    }

    /// One random mutation: a bit flip, a byte change, an insertion, a
    /// deletion, a splice from another seed, or a truncation.
    static func mutate(_ bytes: inout [UInt8], seeds: [[UInt8]], using generator: inout SystemRandomNumberGenerator) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<6, using: &generator) {
        case 0 where !bytes.isEmpty:
            bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
        case 1 where !bytes.isEmpty:
            bytes[position] = UInt8.random(in: 0...255, using: &generator)
        case 2:
            bytes.insert([0x00, 0x01, 0x04, 0x7F, 0x80, 0xFF].randomElement(using: &generator)!, at: position)
        case 3 where !bytes.isEmpty:
            bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...4, using: &generator)))
        case 4:
            let other = seeds.randomElement(using: &generator)!
            let start = Int.random(in: 0..<other.count, using: &generator)
            bytes.insert(contentsOf: other[start...].prefix(64), at: position)
        default:
            bytes = Array(bytes.prefix(position))
        }
    }
}

#endif

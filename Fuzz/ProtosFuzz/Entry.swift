// Two ways to run the harness (scripts/fuzz.sh chooses):
//
// - libFuzzer: built with `--sanitize fuzzer -Xswiftc -sanitize=address,fuzzer
//   -Xswiftc -DLIBFUZZER`; libFuzzer provides `main` and calls
//   `LLVMFuzzerTestOneInput` with coverage-guided inputs.
// - plain: an ordinary build (so that `swift build` of the package always
//   works): a bounded random-mutation loop over the seeds,
//       ProtosFuzz [--target frame|kitchen-sink] [--seconds N]
//   or, to refresh the committed seed files,
//       ProtosFuzz --write-seeds <directory>

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if LIBFUZZER

/// The target, read once: `FUZZ_MESSAGE` is set by scripts/fuzz.sh.
private let target: FuzzTarget = {
    let name = getenv("FUZZ_MESSAGE").map { String(cString: $0) }
    guard let target = FuzzTarget.fromEnvironment(name) else {
        fatalError("FUZZ_MESSAGE must be one of \(FuzzTarget.allCases.map(\.rawValue))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#else

@main
struct PlainFuzzer {
    static func main() throws {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        var target = FuzzTarget.fromEnvironment(getenv("FUZZ_MESSAGE").map { String(cString: $0) }) ?? .frame
        var seconds = 10.0
        while let argument = arguments.next() {
            switch argument {
            case "--target":
                guard let name = arguments.next(), let chosen = FuzzTarget(rawValue: name) else {
                    fatalError("--target needs one of \(FuzzTarget.allCases.map(\.rawValue))")
                }
                target = chosen
            case "--seconds":
                seconds = arguments.next().flatMap(Double.init) ?? seconds
            case "--write-seeds":
                guard let directory = arguments.next() else { fatalError("--write-seeds needs a directory") }
                try writeSeeds(to: directory)
                return
            default:
                fatalError("unknown argument \(argument)")
            }
        }
        var mutator = Mutator(seeds: target.seeds)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(seconds * 1000))
        var executions = 0
        while clock.now < deadline {
            for _ in 0..<256 {
                let input = mutator.next()
                input.withUnsafeBytes { target.run($0) }
                executions += 1
            }
        }
        print("ProtosFuzz (plain, \(target.rawValue)): \(executions) executions in \(seconds)s, no findings")
    }

    /// One file per seed: `<directory>/<target>/seed-<n>.bin`.
    static func writeSeeds(to directory: String) throws {
        for target in FuzzTarget.allCases {
            let folder = directory + "/" + target.rawValue
            for path in [directory, folder] where mkdir(path, 0o755) != 0 && errno != EEXIST {
                fatalError("cannot create \(path)")
            }
            for (index, seed) in target.seeds.enumerated() {
                guard let file = fopen(folder + "/seed-\(index).bin", "wb") else { fatalError("cannot write seeds") }
                _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
            }
        }
    }
}

/// Random mutations of the seeds: bit flips, byte changes, insertions,
/// deletions, interesting values and splices.
struct Mutator {
    let seeds: [[UInt8]]
    private var generator = SystemRandomNumberGenerator()
    private static let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x12, 0x1A, 0x22, 0x08]

    init(seeds: [[UInt8]]) {
        self.seeds = seeds
    }

    mutating func next() -> [UInt8] {
        var bytes = seeds.randomElement(using: &generator)!
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            mutate(&bytes)
        }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<6, using: &generator) {
        case 0 where !bytes.isEmpty:
            bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
        case 1 where !bytes.isEmpty:
            bytes[position] = UInt8.random(in: 0...255, using: &generator)
        case 2:
            bytes.insert(Self.interesting.randomElement(using: &generator)!, at: position)
        case 3 where !bytes.isEmpty:
            bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...4, using: &generator)))
        case 4:
            let other = seeds.randomElement(using: &generator)!
            if !other.isEmpty {
                let start = Int.random(in: 0..<other.count, using: &generator)
                bytes.insert(contentsOf: other[start...].prefix(16), at: position)
            }
        default:
            bytes = Array(bytes.prefix(position))
        }
    }
}

#endif

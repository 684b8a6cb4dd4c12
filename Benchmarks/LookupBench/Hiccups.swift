import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// How long this machine takes the CPU away from a thread that never waits:
/// threads that only read the clock, and count every gap between two reads
/// above 250 µs. No server runs, so a gap is the kernel's or the
/// hypervisor's (on a virtual machine, a virtual core the host did not run),
/// and any call in flight on that core waits as long. The share of time in
/// such gaps bounds how low a p99 on this machine can go.
struct Hiccups: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure the machine's stalls: gaps seen by threads that never wait.")
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @Option(help: "Write `share-of-time-in-stalls-one-busy share-all-busy longest-ms` (percent, all cores) here.")
    var resultFile: String?

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("seconds must be positive") }
    }

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let one = Self.measure(threads: 1, seconds: seconds)
        let all = Self.measure(threads: cores, seconds: seconds)
        for (label, gaps) in [("1 core busy", one), ("all \(cores) cores busy", all)] {
            print(String(format: "hiccups, %@: %.2f%% of the time in stalls over 250 us (%d stalls, %d over 1 ms, longest %.2f ms)",
                         label, gaps.stalledShare * 100, gaps.stalls, gaps.overOneMilli, Double(gaps.longestNanos) / 1e6))
        }
        if let resultFile {
            try String(format: "%.3f %.3f %.2f\n", one.stalledShare * 100, all.stalledShare * 100,
                       Double(max(one.longestNanos, all.longestNanos)) / 1e6)
                .write(toFile: resultFile, atomically: true, encoding: .utf8)
        }
    }

    struct Gaps {
        var stalls = 0
        var overOneMilli = 0
        var stalledNanos: UInt64 = 0
        var longestNanos: UInt64 = 0
        var measuredNanos: UInt64 = 0
        var stalledShare: Double { measuredNanos == 0 ? 0 : Double(stalledNanos) / Double(measuredNanos) }

        mutating func add(_ other: Gaps) {
            stalls += other.stalls
            overOneMilli += other.overOneMilli
            stalledNanos += other.stalledNanos
            longestNanos = max(longestNanos, other.longestNanos)
            measuredNanos += other.measuredNanos
        }
    }

    /// `threads` threads reading the clock for `seconds`; their gaps summed.
    static func measure(threads: Int, seconds: Double) -> Gaps {
        let total = NIOLockedValueBox(Gaps())
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            Thread {
                let gaps = spin(seconds: seconds)
                total.withLockedValue { $0.add(gaps) }
                done.leave()
            }.start()
        }
        done.wait()
        return total.withLockedValue { $0 }
    }

    private static func spin(seconds: Double) -> Gaps {
        var gaps = Gaps()
        let start = now()
        let end = start + UInt64(seconds * 1e9)
        var last = start
        while last < end {
            let time = now()
            let gap = time - last
            if gap > 250_000 {
                gaps.stalls += 1
                gaps.stalledNanos += gap
                if gap > 1_000_000 { gaps.overOneMilli += 1 }
                gaps.longestNanos = max(gaps.longestNanos, gap)
            }
            last = time
        }
        gaps.measuredNanos = last - start
        return gaps
    }

    private static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}

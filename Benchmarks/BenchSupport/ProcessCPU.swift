public import ArgumentParser
import Foundation

// CPU time from /proc, so a benchmark can charge a server (or a whole Postgres
// cluster) for the work a run made it do, not only time the client's calls.

/// User + system CPU time of a process, in microseconds (fields 14 and 15 of /proc/PID/stat).
public func processCPUMicros(_ pid: Int32) throws -> Int64 {
    let fields = try statFields(pid)
    return try ticksToMicros(fields, 11) + ticksToMicros(fields, 12)
}

/// The whole Postgres cluster: the postmaster with the children it has reaped
/// (backends that ended, e.g. a load generator's connections), plus every live
/// child (backends, WAL writer, checkpointer, ...).
public func clusterCPUMicros(_ postmaster: Int32) throws -> Int64 {
    let fields = try statFields(postmaster)
    var total = try (11...14).reduce(0) { $0 + (try ticksToMicros(fields, $1)) }
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry), let child = try? statFields(pid), child.count > 12, Int32(child[1]) == postmaster else { continue }
        total += (try? ticksToMicros(child, 11) + ticksToMicros(child, 12)) ?? 0
    }
    return total
}

/// Prints `processCPUMicros` (or `clusterCPUMicros`) of a process, for scripts
/// that measure servers they did not write (Redis, Postgres).
public struct CPUMicros: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cpu-micros", abstract: "Print a process's user + system CPU time in microseconds.")
    @Option var pid: Int32
    @Flag(help: "Add the children it reaped and its live children (a Postgres postmaster's cluster).")
    var withChildren = false

    public init() {}

    public func run() throws {
        print(withChildren ? try clusterCPUMicros(pid) : try processCPUMicros(pid))
    }
}

public extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}

struct ProcStatError: Error, CustomStringConvertible {
    var description: String
}

/// The fields of /proc/PID/stat after the command name (which may contain spaces).
private func statFields(_ pid: Int32) throws -> [Substring] {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { throw ProcStatError(description: "cannot read /proc/\(pid)/stat") }
    return stat[stat.index(after: close)...].split(separator: " ")
}

private let ticksPerSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))

private func ticksToMicros(_ fields: [Substring], _ index: Int) throws -> Int64 {
    guard index < fields.count, let ticks = Int64(fields[index]) else {
        throw ProcStatError(description: "unexpected /proc stat field \(index + 3)")
    }
    return ticks * 1_000_000 / ticksPerSecond
}

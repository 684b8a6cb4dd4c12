#if canImport(Glibc)
import CMalloc
#endif
import Foundation

/// glibc malloc settings for services that pass large batches through memory:
/// lookup's start-up load of a million rows (measured: they halved the page
/// faults, cut a tenth of the load's CPU and about 50 MiB of resident memory)
/// and inventory's imports of thousands of numbers per call.
public enum MallocTuning {
    private static let defaultThreshold: Int32 = 128 * 1024
    /// At most `arenas` malloc arenas (by default one per core, not glibc's
    /// eight per core). Batches allocated on one thread and freed on another,
    /// with an arena per thread, each landed in memory that had to be faulted
    /// in afresh. Call it first in `main`, before threads start.
    public static func limitArenas(to arenas: Int? = nil) {
        #if canImport(Glibc)
        mallopt(M_ARENA_MAX, Int32(clamping: arenas ?? max(2, ProcessInfo.processInfo.activeProcessorCount)))
        #endif
    }

    /// Runs `body` with freed memory kept for reuse rather than handed back
    /// to the kernel (each batch is freed just before the next one of the same
    /// size is allocated); afterwards the defaults return and the transient
    /// memory goes back to the system, not into resident memory. All of it only
    /// with one arena: `malloc_trim` gives back the main arena's free top but
    /// not a secondary arena's (see lookup's `main`).
    public static func keepingFreedMemory<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        #if canImport(Glibc)
        keepFreedMemory(upTo: Int(Int32.max))
        defer {
            mallopt(M_TRIM_THRESHOLD, defaultThreshold)
            mallopt(M_MMAP_THRESHOLD, defaultThreshold)
            malloc_trim(0)
        }
        #endif
        return try await body()
    }

    /// From now on, keeps up to `bytes` of freed memory per arena for reuse,
    /// and serves blocks below 32 MiB from the heap rather than fresh mappings.
    /// By default glibc maps each block of 128 KiB or more afresh and unmaps it
    /// when freed, so every import batch paid to fault in and zero its buffers
    /// again (a tenth of inventory's CPU in a profile). Call it in `main`.
    public static func keepFreedMemory(upTo bytes: Int) {
        #if canImport(Glibc)
        mallopt(M_TRIM_THRESHOLD, Int32(clamping: bytes))
        mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        #endif
    }
}

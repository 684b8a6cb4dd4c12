#if canImport(Glibc)
import Glibc
#endif

/// Transparent huge pages for the projection's large arrays only. Resolve
/// reads the numbers, the key index and the arena at random, one place of
/// each per call: on 4 KiB pages nearly every read also misses the TLB, and on
/// a virtual machine a page walk is itself several memory reads. The rest of
/// the heap stays on 4 KiB pages: huge pages there kept memory the start-up
/// load had freed resident around the few allocations left in each (4–5 MiB
/// in alternating starts, with glibc's `glibc.malloc.hugetlb=1` for the whole
/// heap).
enum HugePages {
    private static let size = 2 << 20

    /// Asks for huge pages for the whole 2 MiB pages within `buffer`: called
    /// before the memory is first touched, its page faults then map huge
    /// pages. A hint: without the kernel's support nothing changes.
    static func advise<Element>(_ buffer: UnsafeMutableBufferPointer<Element>) {
        #if canImport(Glibc)
        guard let base = buffer.baseAddress else { return }
        let start = Int(bitPattern: base)
        let first = (start + size - 1) & ~(size - 1)
        let end = (start + buffer.count * MemoryLayout<Element>.stride) & ~(size - 1)
        guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(aligned, end - first, MADV_HUGEPAGE)
        #endif
    }
}

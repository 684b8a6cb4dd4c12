import CPrefetch

/// An open-addressing hash index from a key to a slot of the numbers array,
/// holding only 32-bit slots (the keys live in the numbers themselves): about
/// 5 bytes per number where a `Dictionary` needs 25 to 40. The table is at
/// most 80% full, sized exactly (not to a power of two) so a million numbers
/// take 1.25 million entries.
struct SlotTable: Sendable {
    private var slots: [Int32]
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        let size = max(16, minimumCapacity * 5 / 4 + 1)
        slots = Array(unsafeUninitializedCapacity: size) { buffer, count in
            HugePages.advise(buffer)
            buffer.initialize(repeating: -1)
            count = size
        }
    }

    /// The slot whose key hashes to `hash` and satisfies `isKey`.
    func find(hash: UInt64, _ isKey: (Int32) -> Bool) -> Int32? {
        var index = start(hash)
        while true {
            let slot = slots[index]
            if slot < 0 { return nil }
            if isKey(slot) { return slot }
            index = next(index)
        }
    }

    /// Adds `slot` (whose key is not in the table yet). `hashOf` gives any
    /// stored slot's hash, for growing.
    mutating func insert(_ slot: Int32, hash: UInt64, hashOf: (Int32) -> UInt64) {
        if (count + 1) * 5 > slots.count * 4 { grow(hashOf) }
        place(slot, hash: hash)
        count += 1
    }

    /// The slot at `hash`'s first probe (-1: none), for prefetching: the key
    /// may still be further along, or not in the table.
    func firstProbe(_ hash: UInt64) -> Int32 {
        slots[start(hash)]
    }

    /// Asks the CPU to fetch `hash`'s first probe.
    func prefetch(_ hash: UInt64) {
        slots.withUnsafeBufferPointer { cprefetch($0.baseAddress! + start(hash)) }
    }

    /// The first probe: the 32-bit hash scaled to the table (no modulo).
    private func start(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: ((hash & 0xFFFF_FFFF) &* UInt64(slots.count)) >> 32)
    }

    private func next(_ index: Int) -> Int {
        index + 1 == slots.count ? 0 : index + 1
    }

    /// Removes `slot` (found under `hash`), re-placing the run after it so
    /// later probes still find their keys.
    mutating func remove(_ slot: Int32, hash: UInt64, hashOf: (Int32) -> UInt64) {
        var index = start(hash)
        while slots[index] != slot {
            guard slots[index] >= 0 else { return }
            index = next(index)
        }
        slots[index] = -1
        count -= 1
        var following = next(index)
        while slots[following] >= 0 {
            let moved = slots[following]
            slots[following] = -1
            place(moved, hash: hashOf(moved))
            following = next(following)
        }
    }

    private mutating func place(_ slot: Int32, hash: UInt64) {
        var index = start(hash)
        while slots[index] >= 0 { index = next(index) }
        slots[index] = slot
    }

    private mutating func grow(_ hashOf: (Int32) -> UInt64) {
        let old = slots
        slots = Array(repeating: -1, count: old.count * 3 / 2)
        for slot in old where slot >= 0 { place(slot, hash: hashOf(slot)) }
    }

    /// Spreads a 64-bit value over 32 bits (Fibonacci hashing: the product's
    /// high bits depend on every input bit).
    static func hash(_ value: UInt64) -> UInt64 {
        (value &* 0x9E37_79B9_7F4A_7C15) >> 32
    }
}

/// An open-addressing hash index from a key to a slot of the numbers array,
/// holding only 32-bit slots (the keys live in the numbers themselves): about
/// 8 bytes per number where a `Dictionary` needs 25 to 40. Numbers are never
/// removed, so there are no tombstones.
struct SlotTable: Sendable {
    private var slots: [Int32]
    private var mask: Int
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        var capacity = 16
        while capacity * 7 < minimumCapacity * 10 { capacity <<= 1 }
        slots = Array(repeating: -1, count: capacity)
        mask = capacity - 1
    }

    /// The slot whose key hashes to `hash` and satisfies `isKey`.
    func find(hash: UInt64, _ isKey: (Int32) -> Bool) -> Int32? {
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot < 0 { return nil }
            if isKey(slot) { return slot }
            index = (index + 1) & mask
        }
    }

    /// Adds `slot` (whose key is not in the table yet). `hashOf` gives any
    /// stored slot's hash, for growing.
    mutating func insert(_ slot: Int32, hash: UInt64, hashOf: (Int32) -> UInt64) {
        if (count + 1) * 10 > slots.count * 7 { grow(hashOf) }
        place(slot, hash: hash)
        count += 1
    }

    /// Removes `slot` (found under `hash`), re-placing the run after it so
    /// later probes still find their keys.
    mutating func remove(_ slot: Int32, hash: UInt64, hashOf: (Int32) -> UInt64) {
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index] != slot {
            guard slots[index] >= 0 else { return }
            index = (index + 1) & mask
        }
        slots[index] = -1
        count -= 1
        var next = (index + 1) & mask
        while slots[next] >= 0 {
            let moved = slots[next]
            slots[next] = -1
            place(moved, hash: hashOf(moved))
            next = (next + 1) & mask
        }
    }

    private mutating func place(_ slot: Int32, hash: UInt64) {
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index] >= 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    private mutating func grow(_ hashOf: (Int32) -> UInt64) {
        let old = slots
        slots = Array(repeating: -1, count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot >= 0 { place(slot, hash: hashOf(slot)) }
    }

    /// Spreads a 64-bit value over the table (Fibonacci hashing: the product's
    /// high bits depend on every input bit; the table uses the low bits of those).
    static func hash(_ value: UInt64) -> UInt64 {
        (value &* 0x9E37_79B9_7F4A_7C15) >> 32
    }
}

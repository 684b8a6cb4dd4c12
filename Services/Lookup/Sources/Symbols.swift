import CPrefetch
import Foundation

/// Interned strings: each distinct value (organisation id, agent id, trunk
/// id, …) is stored once and numbers refer to it by a 32-bit symbol. Symbol 0
/// is the empty string, meaning "none". Ids in a compact form are keyed by
/// their bits in a table of their own, which hashes and compares faster.
///
/// The names themselves are UTF-8 in one buffer, not an array of Strings:
/// Resolve writes a number's agent and trunk ids on every call, and taking a
/// String out meant a retain and release of its object, shared by every
/// number of that agent (2% of lookup's CPU in a profile; a String also costs
/// about twice the memory).
struct Symbols: Sendable {
    private var compact = CompactSymbolTable()
    private var texts: [String: UInt32] = ["": 0]
    private var utf8: [UInt8] = []
    /// Symbol `s` is `utf8[bounds[s]..<bounds[s + 1]]`.
    private var bounds: [UInt32] = [0, 0]

    mutating func intern(_ name: String) -> UInt32 { intern(CompactText(name)) }

    mutating func intern(_ name: CompactText) -> UInt32 {
        if let id = find(name) { return id }
        let id = UInt32(bounds.count - 1)
        if case .text(let text) = name {
            texts[text] = id
        } else {
            compact.insert(name, id)
        }
        utf8.append(contentsOf: name.string.utf8)
        bounds.append(UInt32(utf8.count))
        return id
    }

    /// Asks the CPU for the table entry where `name` would be found (compact
    /// names only): a hint for the start-up load, which interns ids at random.
    func prefetch(_ name: CompactText) { compact.prefetch(name) }

    /// The symbol of a string already interned; nil if it never was.
    func find(_ name: String) -> UInt32? { find(CompactText(name)) }

    private func find(_ name: CompactText) -> UInt32? {
        if case .text(let text) = name { return texts[text] }
        return compact.find(name)
    }

    subscript(symbol: UInt32) -> String { withUTF8(symbol) { String(decoding: $0, as: UTF8.self) } }

    /// Runs `body` with the symbol's UTF-8 in place.
    @inline(__always)
    func withUTF8<Result>(_ symbol: UInt32, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let start = Int(bounds[Int(symbol)]), end = Int(bounds[Int(symbol) + 1])
        return utf8.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }

    /// Whether the symbol's name is `name`, without building a String.
    func named(_ symbol: UInt32, _ name: String) -> Bool {
        var name = name
        return name.withUTF8 { name in withUTF8(symbol) { $0.elementsEqual(UnsafeRawBufferPointer(name)) } }
    }
}

/// Values by symbol in an array: symbols are small dense integers, so indexing
/// beats hashing them (loading a million numbers links each into two lists).
struct SymbolMap<Value: Sendable>: Sendable {
    private var slots: [Value?] = []

    subscript(symbol: UInt32) -> Value? {
        get { Int(symbol) < slots.count ? slots[Int(symbol)] : nil }
        set {
            let index = Int(symbol)
            if index >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count))
            }
            slots[index] = newValue
        }
    }

    var values: [Value] { slots.compactMap { $0 } }
}

/// Compact names (UUIDs, SIDs, short text) → symbol, open addressing with each entry's key
/// and symbol side by side: a lookup touches one cache line where a
/// `Dictionary` touches three, which matters when a million rows each look
/// up several random ids at start-up. Three quarters full at most.
struct CompactSymbolTable: Sendable {
    /// A name's bits: a tag telling the forms apart, then up to four words.
    private struct Key: Equatable {
        var tag: UInt16 = 0
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.tag == rhs.tag && lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1
                && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
        }
    }

    /// A key and its symbol in 40 bytes: the symbol sits beside the tag, in
    /// what would otherwise be padding.
    private struct Entry {
        var tag: UInt16 = 0
        var symbol: UInt32 = 0  // 0: empty
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        init() {}

        init(_ key: Key, _ symbol: UInt32) {
            tag = key.tag
            self.symbol = symbol
            words = key.words
        }

        var key: Key { Key(tag: tag, words: words) }
    }

    private var entries = [Entry](repeating: Entry(), count: 64)
    private var count = 0
    /// Random per process, so colliding ids cannot be worked out in advance.
    private let seed = UInt64.random(in: .min ... .max) | 1

    func find(_ name: CompactText) -> UInt32? {
        guard let key = Self.key(name) else { return nil }
        let mask = entries.count - 1
        var index = bucket(key)
        while true {
            let entry = entries[index]
            if entry.symbol == 0 { return nil }
            if entry.key == key { return entry.symbol }
            index = (index + 1) & mask
        }
    }

    func prefetch(_ name: CompactText) {
        guard let key = Self.key(name) else { return }
        entries.withUnsafeBufferPointer { cprefetch($0.baseAddress! + bucket(key)) }
    }

    /// Adds a compact name not yet in the table.
    mutating func insert(_ name: CompactText, _ symbol: UInt32) {
        guard let key = Self.key(name) else { preconditionFailure("only compact names go in this table") }
        precondition(symbol != 0, "symbol 0 marks an empty entry")
        if (count + 1) * 4 > entries.count * 3 { grow() }
        place(Entry(key, symbol))
        count += 1
    }

    private mutating func place(_ entry: Entry) {
        let mask = entries.count - 1
        var index = bucket(entry.key)
        while entries[index].symbol != 0 { index = (index + 1) & mask }
        entries[index] = entry
    }

    private mutating func grow() {
        let old = entries
        entries = [Entry](repeating: Entry(), count: old.count * 2)
        for entry in old where entry.symbol != 0 { place(entry) }
    }

    private func bucket(_ key: Key) -> Int {
        // Multiply-mix every word: time-ordered UUIDs (v7) and numbered ids differ in a few bits.
        func mix(_ state: UInt64, _ word: UInt64) -> UInt64 {
            let product = (state ^ word) &* 0xBF58_476D_1CE4_E5B9
            return product ^ product >> 31
        }
        let start = (UInt64(key.tag) ^ seed) &* 0x9E37_79B9_7F4A_7C15
        let mixed = mix(mix(mix(mix(start, key.words.0), key.words.1), key.words.2), key.words.3)
        return Int(truncatingIfNeeded: mixed) & (entries.count - 1)
    }

    /// Tags: 1 for a UUID, 2 + length (3…34) for short text, a SID's two
    /// capital letters (0x4141 and up) for a SID.
    private static func key(_ name: CompactText) -> Key? {
        switch name {
        case .uuid(let uuid):
            let halves = unsafeBitCast(uuid.uuid, to: (UInt64, UInt64).self)
            return Key(tag: 1, words: (halves.0, halves.1, 0, 0))
        case .sid(let prefix, let high, let low): return Key(tag: prefix, words: (high, low, 0, 0))
        case .short(let short): return Key(tag: 2 + UInt16(short.length), words: short.words)
        case .text: return nil
        }
    }
}

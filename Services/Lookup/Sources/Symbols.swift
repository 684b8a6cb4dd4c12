import Foundation

/// Interned strings: each distinct value (organisation id, agent id, trunk
/// id, …) is stored once and numbers refer to it by a 32-bit symbol. Symbol 0
/// is the empty string, meaning "none".
struct Symbols: Sendable {
    private var uuids = UUIDSymbolTable()
    private var texts: [String: UInt32] = ["": 0]
    private var names: [String] = [""]

    mutating func intern(_ name: String) -> UInt32 { intern(SymbolName(name)) }

    mutating func intern(_ name: SymbolName) -> UInt32 {
        if let id = find(name) { return id }
        let id = UInt32(names.count)
        switch name {
        case .uuid(let uuid): uuids.insert(uuid, id)
        case .text(let text): texts[text] = id
        }
        names.append(name.text)
        return id
    }

    /// The symbol of a string already interned; nil if it never was.
    func find(_ name: String) -> UInt32? { find(SymbolName(name)) }

    private func find(_ name: SymbolName) -> UInt32? {
        switch name {
        case .uuid(let uuid): uuids.find(uuid)
        case .text(let text): texts[text]
        }
    }

    subscript(symbol: UInt32) -> String { names[Int(symbol)] }
}

/// A string as `Symbols` keys it: ids in canonical UUID form (nearly all of
/// them) as their 16 bytes, which can be read from a row without making a
/// string, then hashed and compared in a table of their own.
enum SymbolName: Hashable, Sendable {
    case uuid(UUID)
    case text(String)

    init(_ text: String) {
        var text = text
        self = text.withUTF8 { HexText.uuid($0) }.map(Self.uuid) ?? .text(text)
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self = HexText.uuid(bytes).map(Self.uuid) ?? .text(String(decoding: bytes, as: UTF8.self))
    }

    var text: String {
        switch self {
        case .uuid(let uuid): uuid.uuidString.lowercased()
        case .text(let text): text
        }
    }
}

/// UUID → symbol, open addressing with each entry's key and symbol side by
/// side: a lookup touches one cache line where a `Dictionary` touches three,
/// which matters when a million rows each look up two random ids at start-up.
/// Half full at most.
struct UUIDSymbolTable: Sendable {
    private struct Entry {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var symbol: UInt32 = 0  // 0: empty
    }

    private var entries = [Entry](repeating: Entry(), count: 64)
    private var count = 0
    /// Random per process, so colliding ids cannot be worked out in advance.
    private let seed = UInt64.random(in: .min ... .max) | 1

    func find(_ uuid: UUID) -> UInt32? {
        let (high, low) = Self.halves(uuid)
        let mask = entries.count - 1
        var index = bucket(high, low)
        while true {
            let entry = entries[index]
            if entry.symbol == 0 { return nil }
            if entry.high == high && entry.low == low { return entry.symbol }
            index = (index + 1) & mask
        }
    }

    /// Adds a UUID not yet in the table.
    mutating func insert(_ uuid: UUID, _ symbol: UInt32) {
        precondition(symbol != 0, "symbol 0 marks an empty entry")
        if (count + 1) * 2 > entries.count { grow() }
        let (high, low) = Self.halves(uuid)
        place(Entry(high: high, low: low, symbol: symbol))
        count += 1
    }

    private mutating func place(_ entry: Entry) {
        let mask = entries.count - 1
        var index = bucket(entry.high, entry.low)
        while entries[index].symbol != 0 { index = (index + 1) & mask }
        entries[index] = entry
    }

    private mutating func grow() {
        let old = entries
        entries = [Entry](repeating: Entry(), count: old.count * 2)
        for entry in old where entry.symbol != 0 { place(entry) }
    }

    private func bucket(_ high: UInt64, _ low: UInt64) -> Int {
        // Multiply-mix both halves: time-ordered UUIDs (v7) differ mostly in a few bits.
        var mixed = (high ^ seed) &* 0x9E37_79B9_7F4A_7C15
        mixed ^= (low &+ mixed) &* 0xBF58_476D_1CE4_E5B9
        mixed ^= mixed >> 31
        return Int(truncatingIfNeeded: mixed) & (entries.count - 1)
    }

    private static func halves(_ uuid: UUID) -> (UInt64, UInt64) {
        unsafeBitCast(uuid.uuid, to: (UInt64, UInt64).self)
    }
}

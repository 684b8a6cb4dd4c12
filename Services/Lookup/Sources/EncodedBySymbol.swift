import Protos

/// Encoded messages (organisations, agents) by symbol, all in one byte
/// buffer. Resolve reads one as two array reads, its place and then its
/// bytes: a dictionary of class instances took a hash, the instance, its
/// array and then the bytes, each a likely cache miss at random, and a
/// retain and release of two of them on every call. They are kept only
/// encoded: the general path decodes the one it needs (a decoded copy of
/// every agent beside its bytes cost about 5 MB for 20,000 agents).
struct EncodedBySymbol: Sendable {
    /// Where a symbol's message is (`offset` .max: none), and for agents the
    /// organisation it works for.
    struct Place: Sendable {
        var offset = UInt32.max
        var count: UInt32 = 0
        var organization: UInt32 = 0
    }

    private(set) var places: [Place] = []
    private(set) var bytes: [UInt8] = []
    /// Bytes still referred to; a replaced message's old bytes are garbage
    /// until the buffer is compacted.
    private var live = 0
    /// How many symbols have a message.
    private(set) var count = 0

    /// The place of `symbol`'s message, if it has one.
    @inline(__always)
    func place(_ symbol: UInt32) -> Place? {
        guard Int(symbol) < places.count, places[Int(symbol)].offset != .max else { return nil }
        return places[Int(symbol)]
    }

    /// `symbol`'s message, decoded; nil when it has none.
    func message<Message: ProtoMessage>(_ symbol: UInt32, as type: Message.Type = Message.self) -> Message? {
        guard let place = place(symbol) else { return nil }
        return bytes.withUnsafeBytes { bytes in
            try? Message(serializedBytes: UnsafeRawBufferPointer(rebasing: bytes[Int(place.offset)..<Int(place.offset + place.count)]))
        }
    }

    /// The symbols with a message whose place names `organization`.
    func symbols(of organization: UInt32) -> [UInt32] {
        places.indices.filter { places[$0].offset != .max && places[$0].organization == organization }.map(UInt32.init)
    }

    mutating func set(_ symbol: UInt32, _ encoded: [UInt8], organization: UInt32 = 0) {
        remove(symbol)
        count += 1
        if Int(symbol) >= places.count {
            places.append(contentsOf: repeatElement(Place(), count: Int(symbol) + 1 - places.count))
        }
        places[Int(symbol)] = Place(offset: UInt32(bytes.count), count: UInt32(encoded.count), organization: organization)
        bytes += encoded
        live += encoded.count
        // Organisations and agents change rarely; rewrite once garbage outweighs what is live.
        if bytes.count > 2 * live + 4096 { compact() }
    }

    mutating func remove(_ symbol: UInt32) {
        guard let place = place(symbol) else { return }
        live -= Int(place.count)
        count -= 1
        places[Int(symbol)] = Place()
    }

    private mutating func compact() {
        var fresh: [UInt8] = []
        fresh.reserveCapacity(live)
        for index in places.indices where places[index].offset != .max {
            let place = places[index]
            places[index].offset = UInt32(fresh.count)
            fresh += bytes[Int(place.offset)..<Int(place.offset + place.count)]
        }
        bytes = fresh
    }
}

import CPrefetch
import Credentials
import Foundation
import ServiceRuntime

/// What a number keeps beside its packed fields: its texts, and what only
/// some numbers have (an owner, sealed credentials). Kept in the arena as one
/// record, so a number holds one offset for all of it and nothing for what it
/// lacks; a change stores a new record.
struct NumberExtras: Equatable, Sendable {
    var providerNumberID = CompactText.empty
    var vapiPhoneNumberID = CompactText.empty
    /// The owning organisation's symbol (0: none).
    var owner: UInt32 = 0
    var credentials: SealedCredentials?

    var isEmpty: Bool { self == NumberExtras() }
}

/// Append-only storage for numbers' variable-length fields (`NumberExtras`,
/// schedules), so a number holds a 32-bit offset instead of Swift strings and
/// arrays with their own heap blocks. Chunks of 32 MiB grow without the
/// doubling slack of one big array; each is a mapping of its own (malloc maps
/// blocks that large), touched only as far as it is filled, and never lies
/// among the start-up load's batches: small chunks allocated between them
/// kept the pages (or huge pages) around them resident after the batches
/// were freed. Offset 0 means "nothing stored".
///
/// Strings are stored compactly when they have the shapes provider ids have:
/// a lowercase UUID in 16 bytes, two capital letters and 32 lowercase hex
/// digits (Twilio's "PN…", "TK…") in 18; anything else as length and bytes.
///
/// A number's record is a header byte (1: an owner follows the texts, 2:
/// credentials follow), provider_number_id, vapi_phone_number_id, the owner's
/// symbol, then the credentials' key id and length-prefixed ciphertext. A
/// schedule's record is the count of the agents it can route to, their
/// symbols, then the encoded schedule's length and bytes. Symbols and lengths
/// are 4 bytes, little-endian.
struct ByteArena: Sendable {
    private static let chunkSize = 32 << 20
    private static let ownerFollows: UInt8 = 1, credentialsFollow: UInt8 = 2
    private var chunks: [[UInt8]] = [[0]]
    /// Where a value is encoded before it is copied in (kept to reuse its buffer).
    private var scratch: [UInt8] = []

    /// Stores a number's extras; their offset, or 0 when there are none.
    mutating func append(_ extras: NumberExtras) -> UInt32 {
        guard !extras.isEmpty else { return 0 }
        var encoded = take()
        encoded.append((extras.owner != 0 ? Self.ownerFollows : 0) | (extras.credentials != nil ? Self.credentialsFollow : 0))
        Self.encode(extras.providerNumberID, into: &encoded)
        Self.encode(extras.vapiPhoneNumberID, into: &encoded)
        if extras.owner != 0 { withUnsafeBytes(of: extras.owner.littleEndian) { encoded += $0 } }
        if let sealed = extras.credentials {
            Self.encode(CompactText(sealed.keyID), into: &encoded)
            Self.appendLength(sealed.ciphertext.count, to: &encoded)
            encoded += sealed.ciphertext
        }
        return append(returning: encoded)
    }

    /// The extras stored at `offset` (none for 0); the credentials only when
    /// asked for (copying them out is wasted work everywhere else).
    func extras(at offset: UInt32, withCredentials: Bool = true) -> NumberExtras {
        guard offset != 0 else { return NumberExtras() }
        return withRecord(at: offset) { header, providerNumberID, vapiPhoneNumberID, owner, rest in
            var extras = NumberExtras(providerNumberID: CompactText(providerNumberID), vapiPhoneNumberID: CompactText(vapiPhoneNumberID),
                                      owner: owner)
            if withCredentials { extras.credentials = Self.credentials(header, rest) }
            return extras
        }
    }

    /// Only the sealed credentials stored at `offset`, if any: what Resolve
    /// opens when asked for them.
    func credentials(at offset: UInt32) -> SealedCredentials? {
        guard offset != 0 else { return nil }
        return withRecord(at: offset) { header, _, _, _, rest in Self.credentials(header, rest) }
    }

    /// The credentials of a record with `header`, from `rest`, the bytes after its owner.
    private static func credentials(_ header: UInt8, _ rest: UnsafeRawBufferPointer) -> SealedCredentials? {
        guard header & credentialsFollow != 0 else { return nil }
        var position = 0
        let keyID = decode(rest, &position)
        let count = length(rest, at: position)
        return SealedCredentials(keyID: keyID, ciphertext: Array(rest[(position + 4)..<(position + 4 + count)]))
    }

    /// Stores a number's schedule: the symbols of the agents it can route to,
    /// then its encoded bytes.
    mutating func appendSchedule(_ encoded: [UInt8], agents: [UInt32]) -> UInt32 {
        var record = take()
        Self.appendLength(agents.count, to: &record)
        for agent in agents { withUnsafeBytes(of: agent.littleEndian) { record += $0 } }
        Self.appendLength(encoded.count, to: &record)
        record += encoded
        return append(returning: record)
    }

    /// Whether the schedule stored at `offset` can route to `agent`.
    func schedule(at offset: UInt32, reaches agent: UInt32) -> Bool {
        withBytes(at: offset) { bytes in
            let count = Self.length(bytes, at: 0)
            return (0..<count).contains { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: UInt32.self)) == agent }
        }
    }

    /// The encoded schedule stored at `offset`.
    func scheduleBytes<Result>(at offset: UInt32, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        withBytes(at: offset) { bytes in
            let start = 4 + 4 * Self.length(bytes, at: 0) + 4
            return body(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Self.length(bytes, at: start - 4))]))
        }
    }

    private static func appendLength(_ length: Int, to out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(length).littleEndian) { out += $0 }
    }

    private static func length(_ bytes: UnsafeRawBufferPointer, at position: Int) -> Int {
        Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
    }

    /// One stored text, as it is stored: no String made. `utf8` points into
    /// the arena, valid only inside the closure that was handed it.
    enum StoredText {
        case utf8(UnsafeRawBufferPointer)
        case uuid(UUID)
        case sid(prefix: UInt16, high: UInt64, low: UInt64)

        static var empty: StoredText { .utf8(UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    /// The provider ids stored at `offset` as they are stored, and the owner's
    /// symbol: for writing an answer without making Strings.
    func providerIDs<Result>(at offset: UInt32, _ body: (_ providerNumberID: StoredText, _ vapiPhoneNumberID: StoredText,
                                                          _ owner: UInt32) -> Result) -> Result {
        guard offset != 0 else { return body(.empty, .empty, 0) }
        return withRecord(at: offset) { _, providerNumberID, vapiPhoneNumberID, owner, _ in
            body(providerNumberID, vapiPhoneNumberID, owner)
        }
    }

    /// The record at `offset` (not 0): its header, texts and owner, and the bytes after them.
    private func withRecord<Result>(at offset: UInt32, _ body: (UInt8, StoredText, StoredText, UInt32, UnsafeRawBufferPointer) -> Result) -> Result {
        withBytes(at: offset) { bytes in
            let header = bytes[0]
            var position = 1
            let providerNumberID = Self.read(bytes, &position)
            let vapiPhoneNumberID = Self.read(bytes, &position)
            var owner: UInt32 = 0
            if header & Self.ownerFollows != 0 {
                owner = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
                position += 4
            }
            return body(header, providerNumberID, vapiPhoneNumberID, owner, UnsafeRawBufferPointer(rebasing: bytes[position...]))
        }
    }

    /// The scratch buffer, emptied, for encoding one value.
    private mutating func take() -> [UInt8] {
        var buffer: [UInt8] = []
        swap(&buffer, &scratch)
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    /// Stores `encoded` and keeps its buffer as the next scratch.
    private mutating func append(returning encoded: [UInt8]) -> UInt32 {
        defer { scratch = encoded }
        return append(encoded)
    }

    /// Stores bytes made by `encode(_:into:)`; their offset.
    private mutating func append(_ encoded: [UInt8]) -> UInt32 {
        precondition(encoded.count <= Self.chunkSize, "a field of \(encoded.count) bytes does not fit the arena")
        if chunks[chunks.count - 1].count + encoded.count > Self.chunkSize {
            chunks.append(Self.chunk())
        } else if chunks.count == 1 && chunks[0].capacity < Self.chunkSize {
            chunks[0] = Self.chunk() + chunks[0]
        }
        let index = chunks.count - 1
        let offset = UInt32(index * Self.chunkSize + chunks[index].count)
        chunks[index] += encoded
        return offset
    }

    /// An empty chunk with room for `chunkSize` bytes, on huge pages.
    private static func chunk() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: chunkSize) { buffer, count in
            HugePages.advise(buffer)
            count = 0
        }
    }

    /// Asks the CPU to fetch the bytes at `offset`.
    func prefetch(_ offset: UInt32) {
        withBytes(at: offset) { if let start = $0.baseAddress { cprefetch(start) } }
    }

    /// The bytes from `offset` to the end of its chunk. Read through a pointer:
    /// slicing the chunk would retain its buffer, whose reference count every
    /// event loop would then contend for.
    private func withBytes<Result>(at offset: UInt32, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        chunks[Int(offset) / Self.chunkSize].withUnsafeBytes { chunk in
            body(UnsafeRawBufferPointer(rebasing: chunk[(Int(offset) % Self.chunkSize)...]))
        }
    }

    // MARK: String codec

    private enum Tag: UInt8 {
        case empty = 0, short = 1, long = 2, uuid = 3, prefixedHex = 4
    }

    private static func encode(_ text: CompactText, into out: inout [UInt8]) {
        switch text {
        case .uuid(let uuid):
            out.append(Tag.uuid.rawValue)
            withUnsafeBytes(of: uuid.uuid) { out += $0 }
        case .sid(let prefix, let high, let low):
            out.append(Tag.prefixedHex.rawValue)
            out.append(UInt8(prefix >> 8))
            out.append(UInt8(truncatingIfNeeded: prefix))
            withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { out += $0 }
        case .short(let short):
            short.withBytes { encodeText($0, into: &out) }
        case .text(var string):
            string.withUTF8 { encodeText(UnsafeRawBufferPointer($0), into: &out) }
        }
    }

    private static func encodeText(_ utf8: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        if utf8.isEmpty {
            out.append(Tag.empty.rawValue)
        } else if utf8.count < 256 {
            out.append(Tag.short.rawValue)
            out.append(UInt8(utf8.count))
            out += utf8
        } else {
            out.append(Tag.long.rawValue)
            out += [UInt8(utf8.count >> 8 & 0xff), UInt8(utf8.count & 0xff)]
            out += utf8
        }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> String {
        switch read(bytes, &position) {
        case .utf8(let utf8): String(decoding: utf8, as: UTF8.self)
        case .uuid(let uuid): uuid.lowercasedString
        case .sid(let prefix, let high, let low): HexText.string(prefix: prefix, high, low)
        }
    }

    /// The text at `position` (moved past it).
    private static func read(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> StoredText {
        let tag = Tag(rawValue: bytes[position]) ?? .empty
        position += 1
        switch tag {
        case .empty:
            return .empty
        case .short, .long:
            var length = Int(bytes[position])
            position += 1
            if tag == .long {
                length = length << 8 | Int(bytes[position])
                position += 1
            }
            defer { position += length }
            return .utf8(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]))
        case .uuid:
            defer { position += 16 }
            return .uuid(UUID(uuid: uuidBytes(bytes, from: position)))
        case .prefixedHex:
            defer { position += 18 }
            let start = position
            let prefix = UInt16(bytes[start]) << 8 | UInt16(bytes[start + 1])
            let bits = unsafeBitCast(uuidBytes(bytes, from: start + 2), to: (UInt64, UInt64).self)
            return .sid(prefix: prefix, high: UInt64(bigEndian: bits.0), low: UInt64(bigEndian: bits.1))
        }
    }

    /// The 16 bytes at `start`.
    private static func uuidBytes(_ bytes: UnsafeRawBufferPointer, from start: Int) -> uuid_t {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + 16)])) }
        return value
    }
}

extension CompactText {
    /// A text as the arena stores it, in the form `CompactText(_:)` gives its string.
    init(_ stored: ByteArena.StoredText) {
        switch stored {
        case .utf8(let utf8): self = utf8.withMemoryRebound(to: UInt8.self) { CompactText($0) }
        case .uuid(let uuid): self = .uuid(uuid)
        case .sid(let prefix, let high, let low): self = .sid(prefix: prefix, high: high, low: low)
        }
    }
}

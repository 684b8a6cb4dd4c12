import Credentials
import Foundation
import Testing
@testable import LookupService

/// Ids as lookup keeps them: whatever their form, read from a row or from an
/// event, an id renders back exactly and names one symbol.
@Suite struct CompactTextTests {
    static let uuid = UUID().uuidString.lowercased()
    static let samples = [
        "", "a", "org-1", "bench-agent-19999", String(repeating: "x", count: 32), String(repeating: "y", count: 33),
        "ünï-😀-id", uuid, uuid.uppercased(), "PN" + String(repeating: "0f", count: 16),
        "TK" + String(repeating: "9a", count: 16), "PN" + String(repeating: "0F", count: 16),
        "pn" + String(repeating: "0f", count: 16), "PN" + String(repeating: "0g", count: 16),
        String(repeating: "long id ", count: 40), "nul\u{0}inside",
    ]

    static func fromBytes(_ text: String) -> CompactText {
        var text = text
        return text.withUTF8 { CompactText($0) }
    }

    @Test func everyFormRendersBackExactlyFromStringsAndFromRowBytes() {
        for sample in Self.samples {
            #expect(CompactText(sample).string == sample)
            #expect(Self.fromBytes(sample) == CompactText(sample), "\(sample)")
        }
        #expect(CompactText(Self.uuid) == .uuid(UUID(uuidString: Self.uuid)!))
        #expect(CompactText(Self.uuid.uppercased()) != CompactText(Self.uuid), "uppercase would not render back")
        guard case .sid = CompactText("PN" + String(repeating: "0f", count: 16)) else {
            Issue.record("a Twilio SID is held as bits")
            return
        }
    }

    @Test func eachDistinctIdIsOneSymbolWhicheverWayItArrives() {
        var symbols = Symbols()
        var seen: [String: UInt32] = [:]
        for sample in Self.samples {
            let symbol = symbols.intern(sample)
            #expect(symbols.intern(Self.fromBytes(sample)) == symbol)
            #expect(symbols.find(sample) == symbol)
            #expect(symbols[symbol] == sample)
            #expect(symbols.withUTF8(symbol) { Array($0) } == Array(sample.utf8))
            #expect(symbols.named(symbol, sample))
            #expect(!symbols.named(symbol, sample + "x"))
            seen[sample] = symbol
        }
        for (sample, symbol) in seen {
            #expect(symbols[symbol] == sample, "an earlier name stays as it was")
            #expect(symbols.named(0, sample) == sample.isEmpty)
        }
        #expect(seen[""] == 0)
        #expect(Set(seen.values).count == Self.samples.count)
        #expect(symbols.find("never interned") == nil)
    }

    @Test func thousandsOfIdsSurviveTheTableGrowing() {
        var symbols = Symbols()
        let ids = (0..<5_000).map { $0 % 2 == 0 ? UUID().uuidString.lowercased() : "agent-\($0)" }
        let interned = ids.map { symbols.intern($0) }
        for (id, symbol) in zip(ids, interned) {
            #expect(symbols.find(id) == symbol)
            #expect(symbols[symbol] == id)
        }
    }

    @Test func theArenaStoresEveryFormAndGivesItBack() {
        var arena = ByteArena()
        let pairs = zip(Self.samples, Self.samples.reversed()).filter { !$0.0.isEmpty || !$0.1.isEmpty }
        let offsets = pairs.map { arena.append(NumberExtras(providerNumberID: CompactText($0.0), vapiPhoneNumberID: CompactText($0.1))) }
        for ((first, second), offset) in zip(pairs, offsets) {
            let extras = arena.extras(at: offset)
            #expect([extras.providerNumberID.string, extras.vapiPhoneNumberID.string] == [first, second])
            #expect(extras.providerNumberID == CompactText(first) && extras.vapiPhoneNumberID == CompactText(second))
        }
        #expect(arena.append(NumberExtras()) == 0)
    }

    /// Owner and credentials are stored only when a number has them, and
    /// each comes back with the texts, alone or together.
    @Test func theArenaKeepsOwnerAndCredentialsBesideTheTexts() {
        var arena = ByteArena()
        let sealed = SealedCredentials(keyID: "key-2026", ciphertext: (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let variants = [
            NumberExtras(providerNumberID: CompactText("PN" + String(repeating: "0f", count: 16)), owner: 7),
            NumberExtras(vapiPhoneNumberID: CompactText(UUID().uuidString.lowercased()), credentials: sealed),
            NumberExtras(providerNumberID: CompactText("a text that is longer than thirty-two bytes"), owner: 70_000, credentials: sealed),
            NumberExtras(credentials: SealedCredentials(keyID: "k", ciphertext: [])),
            NumberExtras(owner: 1),
        ]
        let offsets = variants.map { arena.append($0) }
        for (extras, offset) in zip(variants, offsets) {
            #expect(offset != 0)
            #expect(arena.extras(at: offset) == extras)
            var withoutCredentials = extras
            withoutCredentials.credentials = nil
            #expect(arena.extras(at: offset, withCredentials: false) == withoutCredentials)
            #expect(arena.credentials(at: offset) == extras.credentials)
            arena.providerIDs(at: offset) { providerNumberID, vapiPhoneNumberID, owner in
                #expect(CompactText(providerNumberID) == extras.providerNumberID)
                #expect(CompactText(vapiPhoneNumberID) == extras.vapiPhoneNumberID)
                #expect(owner == extras.owner)
            }
        }
        #expect(arena.extras(at: 0) == NumberExtras())
        #expect(arena.credentials(at: 0) == nil)
    }

    /// The word-at-a-time hex reader against a digit-by-digit one: every byte
    /// value at every place of eight digits, and random digit strings.
    @Test func hexDigitsAreReadExactlyAndNothingElseIs() {
        func word(_ bytes: [UInt8]) -> UInt64 { bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * $1.offset) } }
        func reference(_ bytes: [UInt8]) -> UInt32? {
            let text = String(decoding: bytes, as: UTF8.self)
            guard bytes.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
            return UInt32(text, radix: 16)
        }
        let base = Array("0123abcd".utf8)
        for place in 0..<8 {
            for value in 0...255 {
                var bytes = base
                bytes[place] = UInt8(value)
                #expect(HexText.eightDigits(word(bytes)) == reference(bytes), "byte \(value) at \(place)")
            }
        }
        var random = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        for _ in 0..<10_000 {
            let bytes = (0..<8).map { _ in digits.randomElement(using: &random)! }
            #expect(HexText.eightDigits(word(bytes)) == reference(bytes))
        }
        let uuid = UUID()
        var text = uuid.uuidString.lowercased()
        #expect(text.withUTF8 { HexText.uuid($0) } == uuid)
        var misplaced = text.replacingOccurrences(of: "-", with: "")  // 32 digits, no dashes: not a UUID
        misplaced += "----"
        #expect(misplaced.withUTF8 { HexText.uuid($0) } == nil)
    }
}

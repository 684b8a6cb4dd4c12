import Credentials
import Foundation
import Store

/// A number's catalogue facts in the shapes memory keeps them, from an event
/// (`CatalogFacts`) or from a row of lookup's schema.
struct CatalogEntry: Sendable {
    var profile: Profile
    var trunk: SymbolName
    var providerNumberID: String
    var vapiPhoneNumberID: String
    var capabilities: Capabilities
    var retired: Bool
    var owner: SymbolName

    init(_ facts: CatalogFacts) {
        profile = Profile(country: facts.country, numberType: facts.numberType, provider: facts.provider, region: facts.region)
        trunk = SymbolName(facts.trunkID)
        providerNumberID = facts.providerNumberID
        vapiPhoneNumberID = facts.vapiPhoneNumberID
        capabilities = facts.capabilities
        retired = facts.retired
        owner = SymbolName(facts.ownerOrganizationID ?? "")
    }

    init(_ row: RawRow, from column: Int) {
        func text(_ offset: Int) -> String { row.string(column + offset) ?? "" }
        func name(_ offset: Int) -> SymbolName { row.bytes(column + offset).map(SymbolName.init) ?? .text("") }
        profile = Profile(country: text(0), numberType: text(2), provider: text(3), region: text(1))
        providerNumberID = text(4)
        trunk = name(5)
        vapiPhoneNumberID = text(6)
        capabilities = Capabilities(bits: UInt8(truncatingIfNeeded: row.int64(column + 7) ?? 0))
        retired = row.bool(column + 8) ?? false
        owner = name(9)
    }
}

/// One row of lookup's `numbers` as the loader reads it (on the database
/// thread): ids parsed, the E.164 key computed, and no string made for what
/// memory keeps as a symbol in UUID form.
struct LoadedNumber: Sendable {
    var id: UUID
    var key: E164Key
    var catalog: CatalogEntry?
    var credentials: SealedCredentials?
    var organization: SymbolName
    var agent: SymbolName
    var state: AssignmentFacts.State

    /// The columns `init(_:)` reads, in its order.
    static let columns = """
        number_id, e164, cataloged, country, region, number_type, provider, provider_number_id, trunk_id,
        vapi_phone_number_id, capabilities, retired, owner_organization_id, credentials_key_id,
        credentials_ciphertext, organization_id, agent_id, assignment_state
        """

    struct Unreadable: Error, CustomStringConvertible {
        var column: String
        var description: String { "column \(column) is unreadable" }
    }

    init(_ row: RawRow) throws {
        guard let id = row.uuid(0) else { throw Unreadable(column: "number_id") }
        guard let e164 = row.bytes(1), e164.first == UInt8(ascii: "+"), let key = E164Key.digits(e164.dropFirst()) else {
            throw Unreadable(column: "e164")
        }
        self.id = id
        self.key = key
        catalog = row.bool(2) == true ? CatalogEntry(row, from: 3) : nil
        if let keyID = row.string(13), let ciphertext = row.bytea(14) {
            credentials = SealedCredentials(keyID: keyID, ciphertext: ciphertext)
        }
        organization = row.bytes(15).map(SymbolName.init) ?? .text("")
        agent = row.bytes(16).map(SymbolName.init) ?? .text("")
        state = row.string(17).flatMap(AssignmentFacts.State.init(rawValue:)) ?? .available
    }
}

/// Lowercase hexadecimal text, the form Postgres and `SymbolName` write, so
/// parsing and printing round-trip exactly (uppercase is refused).
enum HexText {
    /// Canonical UUID text: "8-4-4-4-12" lowercase hex digits.
    static func uuid(_ text: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard text.count == 36, text[8] == UInt8(ascii: "-"), text[13] == UInt8(ascii: "-"),
              text[18] == UInt8(ascii: "-"), text[23] == UInt8(ascii: "-") else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        guard accumulate(text[0..<8], into: &high), accumulate(text[9..<13], into: &high),
              accumulate(text[14..<18], into: &high), accumulate(text[19..<23], into: &low),
              accumulate(text[24..<36], into: &low) else { return nil }
        return UUID(uuid: unsafeBitCast((high.bigEndian, low.bigEndian), to: uuid_t.self))
    }

    /// Exactly 32 lowercase hex digits as 128 bits, high half first.
    static func bits128(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> (high: UInt64, low: UInt64)? {
        var high: UInt64 = 0, low: UInt64 = 0
        guard digits.count == 32, accumulate(digits.prefix(16), into: &high), accumulate(digits.suffix(16), into: &low) else {
            return nil
        }
        return (high, low)
    }

    /// Shifts the value of each digit into `value`; false at a character that is not one.
    private static func accumulate(_ digits: Slice<UnsafeBufferPointer<UInt8>>, into value: inout UInt64) -> Bool {
        for character in digits {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(character - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(character - UInt8(ascii: "a") + 10)
            default: return false
            }
        }
        return true
    }
}

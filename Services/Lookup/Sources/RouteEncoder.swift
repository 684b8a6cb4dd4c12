import CPrefetch
import Credentials
import Foundation
import Protos
import ServiceRuntime

/// Resolve's answer in protobuf wire format, written straight from the
/// projection: no `LookupV1.Route` of Swift strings and nested messages to
/// build, copy into C structs and pack on every inbound call. Organisations,
/// agents and profiles are kept encoded (`EncodedBySymbol`, `EncodedProfile`)
/// and embedded as they are. It covers numbers routed to
/// an organisation, with their provider credentials opened when asked for:
/// nearly every call. The others, and every error, take the general path,
/// and a test holds both paths to the same answers.
extension RouteState {
    /// The encoded `ResolveResponse` at `instant` (nil: now), or nil when the
    /// general path must answer (anything but a route to an organisation, or
    /// credentials `keyRing` cannot open).
    func encodedResolve(_ key: E164Key, at instant: Date? = nil, viewer: Viewer, applied: LookupV1.ConsistencyToken,
                        opening keyRing: CredentialKeyRing? = nil) -> [UInt8]? {
        var out = ProtoWriter(capacity: 512)
        let answered = withUnsafePointer(to: self) {
            Self.encodedResolve(key, at: instant, in: $0, viewer: viewer, applied: applied, opening: keyRing, into: &out)
        }
        return answered ? out.bytes : nil
    }

    /// Appends the encoded `ResolveResponse` to `out`; false (nothing written)
    /// when the general path must answer. With a `keyRing`, the number's
    /// credentials are opened into the answer; when they cannot be, the
    /// general path says why.
    ///
    /// It reads the state in place, each field through the pointer: a method
    /// called on state behind a pointer (or a class's property) gets a copy of
    /// all of it first, which retains every array and dictionary it holds —
    /// contended reference counts, since every event loop reads the same state.
    static func encodedResolve(_ key: E164Key, at instant: Date? = nil, in state: UnsafePointer<RouteState>, viewer: Viewer,
                               applied: LookupV1.ConsistencyToken, opening keyRing: CredentialKeyRing? = nil,
                               into out: inout ProtoWriter) -> Bool {
        guard let slot = slot(for: key, in: state), visible(slot, to: viewer, in: state) else { return false }
        // The packed number and its profile as they are: no `NumberEntry` of Strings.
        let number = state.pointee.numbers[Int(slot)]
        guard !number.retired, number.state == .assigned, number.organization != 0,
              let organization = state.pointee.encodedOrganizations.place(number.organization) else { return false }
        let profile = state.pointee.encodedProfiles[Int(number.profile)]
        // A schedule is evaluated as the general path does; otherwise the
        // connected agent, looked up here without the general path's detour.
        let choice = number.hasSchedule ? state.pointee.choose(slot, organization: number.organization,
                                                               connectedAgent: number.agent, at: instant ?? Date()) : nil
        let agentSymbol = choice?.agentSymbol ?? number.agent  // 0: none
        let agent = agentSymbol == 0 ? nil : state.pointee.encodedAgents.place(agentSymbol)
            .flatMap { $0.organization == number.organization ? $0 : nil }
        var credentials: ProviderCredentials?
        if let keyRing, number.hasCredentials {
            guard let sealed = state.pointee.arena.credentials(at: number.extras),
                  let opened = try? keyRing.decrypt(sealed, associatedData: CredentialKeyRing.associatedData(numberID: number.id.lowercasedString))
            else { return false }
            credentials = opened
        }

        let route = out.beginNested(1)  // ResolveResponse.route
        out.uuid(1, number.id)
        out.field(2, count: key.e164Count) { key.writeE164(to: $0) }
        out.appendEncoded(profile.place)  // fields 3 to 5
        state.pointee.encodedOrganizations.bytes.withUnsafeBytes { out.message(6, Self.slice($0, organization)) }
        out.enumeration(7, (choice?.destination ?? (agent == nil ? .none : .agent)).rawValue)
        out.enumeration(8, (choice?.reason ?? (agent == nil ? .noAgent : .connectedAgent)).rawValue)
        if let agent { state.pointee.encodedAgents.bytes.withUnsafeBytes { out.message(9, Self.slice($0, agent)) } }
        if let choice { out.string(10, choice.fallback) }
        state.pointee.symbols.withUTF8(number.agent) { out.data(11, $0) }
        if let choice {
            out.bool(12, true)
            out.string(13, choice.timeZone)
        }
        out.appendEncoded(profile.provider)  // field 14
        let ids = out.beginNested(15)
        let owner = state.pointee.symbols.withUTF8(profile.trunk) { trunk in
            state.pointee.arena.providerIDs(at: number.extras) { providerNumberID, vapiPhoneNumberID, owner in
                out.text(1, providerNumberID)
                out.data(2, trunk)
                out.text(3, vapiPhoneNumberID)
                return owner
            }
        }
        out.endNested(ids)
        let flags = number.capabilities.message
        let capabilities = out.beginNested(16)
        out.bool(1, flags.voice)
        out.bool(2, flags.sms)
        out.bool(3, flags.mms)
        out.bool(4, flags.fax)
        out.endNested(capabilities)
        out.bool(17, owner != 0 && owner == number.organization)
        for (name, value) in credentials?.fields.sorted(by: { $0.key < $1.key }) ?? [] {
            let entry = out.beginNested(18)  // map<string, string>: one entry message each
            out.string(1, name)
            out.string(2, value)
            out.endNested(entry)
        }
        out.bool(19, number.hasCredentials)
        out.endNested(route)
        let token = out.beginNested(2)  // ResolveResponse.applied
        out.uint64(1, applied.inventory)
        out.uint64(2, applied.assignment)
        out.endNested(token)
        return true
    }

    @inline(__always)
    private static func slice(_ bytes: UnsafeRawBufferPointer, _ place: EncodedBySymbol.Place) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Int(place.offset)..<Int(place.offset + place.count)])
    }
}

extension RouteState {
    /// Asks the CPU to fetch what answering `keys` will read, in passes over
    /// all of them: their first probes in the key index, then the numbers
    /// those hold, then those numbers' texts in the arena. Each pass's reads
    /// were fetched by the one before, so a batch of calls waits for memory
    /// about three times, not three times per call. A hint only: a key
    /// further along its probe run, or absent, is found as usual later.
    static func prefetch(_ keys: UnsafeBufferPointer<E164Key>, in state: UnsafePointer<RouteState>) {
        for key in keys { state.pointee.byKey.prefetch(SlotTable.hash(key.value)) }
        state.pointee.numbers.withUnsafeBufferPointer { numbers in
            for key in keys {
                let slot = Int(state.pointee.byKey.firstProbe(SlotTable.hash(key.value)))
                guard slot >= 0, slot < numbers.count else { continue }
                // 40 bytes a number: many span two cache lines, so both are asked for.
                let number = UnsafeRawPointer(numbers.baseAddress! + slot)
                cprefetch(number)
                cprefetch(number + MemoryLayout<PackedNumber>.size - 1)
            }
            for key in keys {
                let slot = Int(state.pointee.byKey.firstProbe(SlotTable.hash(key.value)))
                if slot >= 0, slot < numbers.count { state.pointee.arena.prefetch(numbers[slot].extras) }
            }
        }
    }
}

extension ProtoWriter {
    /// A UUID as its 36-character lower-case text, written without a String.
    mutating func uuid(_ field: UInt64, _ value: UUID) {
        self.field(field, count: 36) { value.writeLowercasedText(to: $0) }
    }

    /// A text from the arena, written without a String (left out when empty).
    mutating func text(_ field: UInt64, _ text: ByteArena.StoredText) {
        switch text {
        case .utf8(let utf8): data(field, utf8)
        case .uuid(let uuid): self.uuid(field, uuid)
        case .sid(let prefix, let high, let low):
            self.field(field, count: 34) { text in
                var index = 0
                HexText.forEachByte(prefix: prefix, high, low) { byte in
                    text[index] = byte
                    index += 1
                }
            }
        }
    }
}

import Foundation
import Protos
import ServiceRuntime

/// Resolve's answer in protobuf wire format, written straight from the
/// projection: no `LookupV1.Route` of Swift strings and nested messages to
/// build, copy into C structs and pack on every inbound call. Organisations
/// and agents are kept encoded (`OrganizationEntry`, `AgentEntry`) and
/// embedded as they are. It covers numbers without a schedule, answered
/// without credentials: nearly every call. The others, and every error, take
/// the general path, and a test holds both paths to the same answers.
extension RouteState {
    /// The encoded `ResolveResponse`, or nil when the general path must answer
    /// (a schedule to evaluate, or anything but a route to an organisation).
    func encodedResolve(_ key: E164Key, viewer: Viewer, applied: LookupV1.ConsistencyToken) -> [UInt8]? {
        var out = ProtoWriter(capacity: 512)
        return encodedResolve(key, viewer: viewer, applied: applied, into: &out) ? out.bytes : nil
    }

    /// Appends the encoded `ResolveResponse` to `out`; false (nothing written)
    /// when the general path must answer.
    func encodedResolve(_ key: E164Key, viewer: Viewer, applied: LookupV1.ConsistencyToken, into out: inout ProtoWriter) -> Bool {
        guard let slot = slot(for: key), visible(slot, to: viewer) else { return false }
        // The packed number and its profile as they are: no `NumberEntry` of Strings.
        let number = numbers[Int(slot)]
        guard !number.hasSchedule, !number.retired, number.state == .assigned, number.organization != 0,
              let organization = encodedOrganization(number.organization) else { return false }
        let profile = profiles[Int(number.profile)]
        let agent = agent(number.agent).flatMap { $0.organization == number.organization ? $0.encoded : nil }

        out.nested(1) { route in  // ResolveResponse.route
            route.uuid(1, number.id)
            route.string(2, key.e164)
            route.string(3, profile.country)
            route.string(4, profile.region)
            route.string(5, profile.numberType)
            route.message(6, organization)
            route.enumeration(7, (agent == nil ? LookupV1.Destination.none : .agent).rawValue)
            route.enumeration(8, (agent == nil ? LookupV1.RouteReason.noAgent : .connectedAgent).rawValue)
            if let agent { route.message(9, agent) }
            route.string(11, symbols[number.agent])
            route.string(14, profile.provider)
            route.nested(15) { ids in
                // The arena holds provider_number_id then vapi_phone_number_id; the trunk goes between.
                arena.forEachText(at: number.providerIDs, count: 2) { index, text in
                    if index == 1 { ids.string(2, symbols[number.trunk]) }
                    ids.text(index == 0 ? 1 : 3, text)
                }
            }
            let flags = number.capabilities.message
            route.nested(16) { capabilities in
                capabilities.bool(1, flags.voice)
                capabilities.bool(2, flags.sms)
                capabilities.bool(3, flags.mms)
                capabilities.bool(4, flags.fax)
            }
            route.bool(17, number.owner != 0 && number.owner == number.organization)
            route.bool(19, number.hasCredentials)
        }
        out.nested(2) { token in  // ResolveResponse.applied
            token.uint64(1, applied.inventory)
            token.uint64(2, applied.assignment)
        }
        return true
    }
}

extension ProtoWriter {
    /// A UUID as its 36-character lower-case text, written without a String.
    mutating func uuid(_ field: UInt64, _ value: UUID) {
        nested(field) { text in value.forEachLowercasedTextByte { text.append($0) } }
    }

    /// A text from the arena, written without a String (left out when empty).
    mutating func text(_ field: UInt64, _ text: ByteArena.StoredText) {
        switch text {
        case .utf8(let utf8): utf8.withUnsafeBytes { data(field, $0) }
        case .uuid(let uuid): self.uuid(field, uuid)
        case .sid(let prefix, let high, let low): nested(field) { text in HexText.forEachByte(prefix: prefix, high, low) { text.append($0) } }
        }
    }
}

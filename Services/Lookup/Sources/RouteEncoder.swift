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
        guard let slot = slot(for: key), visible(slot, to: viewer), !hasSchedule(slot) else { return false }
        let entry = self.entry(slot, withCredentials: false)
        guard !entry.retired, entry.state == .assigned, entry.organization != 0,
              let organization = encodedOrganization(entry.organization) else { return false }
        let agent = agent(entry.agent).flatMap { $0.organization == entry.organization ? $0.encoded : nil }

        out.nested(1) { route in  // ResolveResponse.route
            route.uuid(1, entry.id)
            route.string(2, key.e164)
            route.string(3, entry.country)
            route.string(4, entry.region)
            route.string(5, entry.numberType)
            route.message(6, organization)
            route.enumeration(7, (agent == nil ? LookupV1.Destination.none : .agent).rawValue)
            route.enumeration(8, (agent == nil ? LookupV1.RouteReason.noAgent : .connectedAgent).rawValue)
            if let agent { route.message(9, agent) }
            route.string(11, symbols[entry.agent])
            route.string(14, entry.provider)
            route.nested(15) { ids in
                ids.string(1, entry.providerNumberID)
                ids.string(2, entry.trunkID)
                ids.string(3, entry.vapiPhoneNumberID)
            }
            let flags = entry.capabilities.message
            route.nested(16) { capabilities in
                capabilities.bool(1, flags.voice)
                capabilities.bool(2, flags.sms)
                capabilities.bool(3, flags.mms)
                capabilities.bool(4, flags.fax)
            }
            route.bool(17, entry.owner != 0 && entry.owner == entry.organization)
            route.bool(19, entry.hasCredentials)
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
}

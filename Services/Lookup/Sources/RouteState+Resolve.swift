import Credentials
import Foundation
import ServiceRuntime
import Protos
import RPC

/// Whose data a caller may see: nil for platform admins and services (all),
/// an organisation id for organisation users (only theirs).
typealias Viewer = String?

/// A resolved route, and the sealed credentials to open when the caller asked.
struct ResolvedRoute: Sendable {
    var route: LookupV1.Route
    var sealed: SealedCredentials?
}

extension RouteState {
    /// Who takes a call on `key` at `instant`. Unknown numbers (and numbers of
    /// other organisations, for organisation users) are NOT_FOUND; retired
    /// numbers and numbers nobody holds are FAILED_PRECONDITION.
    func resolve(_ key: E164Key, at instant: Date, viewer: Viewer, withCredentials: Bool = false) -> Result<ResolvedRoute, RPCError> {
        guard let slot = slot(for: key), visible(slot, to: viewer) else {
            return .failure(RPCError(.notFound, "number \(key.e164) is not in the catalogue"))
        }
        let entry = self.entry(slot, withCredentials: withCredentials)
        if entry.retired {
            return .failure(RPCError(.failedPrecondition, "number \(key.e164) is retired"))
        }
        guard entry.state == .assigned, entry.organization != 0 else {
            let where_ = entry.state == .reserved ? "on hold for an organisation and not yet assigned" : "in the pool, not assigned to an organisation"
            return .failure(RPCError(.failedPrecondition, "number \(key.e164) is \(where_)"))
        }
        guard let organization = organization(entry.organization) else {
            return .failure(RPCError(.failedPrecondition,
                                     "number \(key.e164) belongs to organisation \(symbols[entry.organization]), which lookup has not seen yet"))
        }
        var route = baseRoute(entry)
        route.organization = organization
        decide(&route, entry: entry, slot: slot, at: instant)
        return .success(ResolvedRoute(route: route, sealed: entry.credentials))
    }

    /// Whether `viewer` may see the number at all.
    func visible(_ slot: Int32, to viewer: Viewer) -> Bool {
        withUnsafePointer(to: self) { Self.visible(slot, to: viewer, in: $0) }
    }

    /// `visible(_:to:)` for state read in place (see `encodedResolve(_:in:viewer:applied:into:)`).
    @inline(__always)
    static func visible(_ slot: Int32, to viewer: Viewer, in state: UnsafePointer<RouteState>) -> Bool {
        guard let viewer else { return true }
        let number = state.pointee.numbers[Int(slot)]
        return number.cataloged && number.organization != 0 && state.pointee.symbols.named(number.organization, viewer)
    }

    /// The number's facts, without organisation or destination.
    func baseRoute(_ entry: NumberEntry) -> LookupV1.Route {
        var route = LookupV1.Route()
        route.numberId = entry.id.lowercasedString
        route.e164 = entry.key.e164
        route.country = entry.country
        route.region = entry.region
        route.numberType = entry.numberType
        route.provider = entry.provider
        route.providerIds = .with {
            $0.providerNumberId = entry.providerNumberID
            $0.trunkId = entry.trunkID
            $0.vapiPhoneNumberId = entry.vapiPhoneNumberID
        }
        route.capabilities = entry.capabilities.message
        route.ownedByOrganization = entry.owner != 0 && entry.owner == entry.organization
        route.connectedAgentId = symbols[entry.agent]
        route.hasCredentials = entry.hasCredentials
        return route
    }

    /// The destination, for the general path's `Route`.
    private func decide(_ route: inout LookupV1.Route, entry: NumberEntry, slot: Int32, at instant: Date) {
        let choice = choose(slot, organization: entry.organization, connectedAgent: entry.agent, at: instant)
        route.hasSchedule = hasSchedule(slot)
        route.timeZone = choice.timeZone
        route.destination = choice.destination
        route.reason = choice.reason
        if let agent = choice.agent { route.agent = agent.message }
        route.fallbackDestination = choice.fallback
    }

    /// Who takes a call on the number in `slot` at `instant`, and why.
    struct Choice {
        var destination = LookupV1.Destination.none
        var reason = LookupV1.RouteReason.noAgent
        var agent: AgentEntry?
        /// The chosen agent's symbol (0: none).
        var agentSymbol: UInt32 = 0
        var fallback = ""
        /// The zone a schedule was evaluated in.
        var timeZone = ""
    }

    /// The schedule's choice at `instant` when the number has one, else (or
    /// when it chooses nobody) the connected agent; an agent only when it
    /// works for the number's `organization`.
    func choose(_ slot: Int32, organization: UInt32, connectedAgent: UInt32, at instant: Date) -> Choice {
        var choice = Choice()
        let scheduled = hasSchedule(slot)
        // Evaluated in the schedule's zone, or the organisation's as it is now.
        if scheduled, let evaluator = evaluator(for: slot) {
            choice.timeZone = evaluator.timeZone
            let (decision, source) = evaluator.evaluate(at: instant)
            switch decision {
            case .agent(let id):
                if !id.isEmpty, let symbol = symbols.find(id), let agent = agent(symbol, of: organization) {
                    choice.destination = .agent
                    choice.agent = agent
                    choice.agentSymbol = symbol
                    choice.reason = Self.reason(source)
                    return choice
                }
            case .fallback(let destination):
                choice.destination = .fallback
                choice.fallback = destination
                choice.reason = source == .fallback ? .scheduleFallback : Self.reason(source)
                return choice
            case .unrouted:
                break
            }
        }
        if let agent = agent(connectedAgent, of: organization) {
            choice.destination = .agent
            choice.agent = agent
            choice.agentSymbol = connectedAgent
            choice.reason = scheduled ? .scheduleConnectedAgent : .connectedAgent
        }
        return choice
    }

    /// The agent with `symbol` (0: none), if it works for `organization`.
    private func agent(_ symbol: UInt32, of organization: UInt32) -> AgentEntry? {
        guard symbol != 0, let agent = agent(symbol), agent.organization == organization else { return nil }
        return agent
    }

    private static func reason(_ source: ScheduleEvaluator.Source) -> LookupV1.RouteReason {
        switch source {
        case .override: .scheduleOverride
        case .rule: .scheduleRule
        case .defaultAgent: .scheduleDefaultAgent
        case .fallback: .scheduleFallback
        case .nothing: .noAgent
        }
    }
}

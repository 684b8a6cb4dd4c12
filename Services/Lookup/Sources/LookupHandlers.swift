import Auth
import Credentials
import Foundation
import Protos
import RPC
import ServiceRuntime

/// The lookup API. Every read answers from memory on the connection's event
/// loop; only a call whose `min_token` is not applied yet leaves it, to wait.
struct LookupHandlers: Sendable {
    static let prefix = "phonenumbers.lookup.v1.Lookup/"
    static let credentialsScope = "credentials:read"
    static let maximumBatch = 1_000
    /// Call handling services (lookup:read), platform admins, and organisation
    /// users for their own organisation's numbers.
    static let readers = AccessPolicy.authenticated(roles: [.orgOwner, .orgAdmin, .orgMember], scopes: ["lookup:read"])

    var projection: LookupProjection
    /// nil when no credential keys are configured: credentials cannot be opened.
    var keyRing: CredentialKeyRing?

    private var store: RouteStore { projection.store }

    func register(in router: inout RPCRouter) {
        func method(_ name: String) -> MethodDescriptor {
            MethodDescriptor(Self.prefix + name, access: Self.readers, idempotent: true)
        }
        router.registerInlineEncoded(method("Resolve"), resolve)
        router.registerFastPath(for: Self.prefix + "Resolve", warm: { [store] payloads in
            Self.prefetchResolves(payloads, from: store)
        }) { [store, keyRing] payload, principal, out in
            Self.fastResolve(payload, principal, from: store, keyRing: keyRing, into: &out)
        }
        router.registerInline(method("BatchResolve"), batchResolve)
        router.registerInline(method("IsAssigned"), isAssigned)
        router.registerInline(method("ResolveTenant"), resolveTenant)
        router.registerInline(method("ListByAgent"), listByAgent)
        router.registerInline(method("ListByOrganization"), listByOrganization)
        router.registerInline(
            MethodDescriptor(Self.prefix + "GetStatus", access: .authenticated(roles: [], scopes: ["lookup:read"]), idempotent: true),
            status)
    }

    // MARK: Methods

    @Sendable func resolve(_ request: LookupV1.ResolveRequest, _ context: RPCContext) throws -> EncodedAnswer {
        let viewer = try Self.viewer(context)
        let key = try NumberInput.key(request.number, regionHint: request.regionHint)
        let instant = try Self.instant(request.atTimeMicros)
        let withCredentials = try Self.credentialsAllowed(request.includeCredentials, context)
        // Encoded straight from the projection, as the fast lane answers the
        // calls it takes; here come national forms and calls the lane relayed.
        if !withCredentials || keyRing != nil, store.satisfies(request.minToken) {
            let applied = store.appliedToken, opening = withCredentials ? keyRing : nil
            if let encoded = store.read({ $0.encodedResolve(key, at: instant, viewer: viewer, applied: applied, opening: opening) }) {
                return .now(encoded)
            }
        }
        return try answer(request.minToken, context) {
            var response = LookupV1.ResolveResponse()
            response.route = try self.route(key, at: instant, viewer: viewer, withCredentials: withCredentials).get()
            response.applied = store.appliedToken
            return response
        }.encoded
    }

    /// Resolve's fast path (see `RPCRouter.registerFastPath`): a request the
    /// projection can answer now, answered as `resolve` would from
    /// `encodedResolve`, with no request or context to build. National forms
    /// (libphonenumber's), a `min_token` not applied yet, credentials the
    /// caller may not see or that cannot be opened, and every error are left
    /// to the general path, which waits or says why.
    static func fastResolve(_ payload: UnsafeRawBufferPointer, _ principal: Principal?, from store: RouteStore,
                            keyRing: CredentialKeyRing?, into out: inout ProtoWriter) -> Bool {
        guard let request = FastResolveRequest(payload), let principal, store.satisfies(request.minToken) else { return false }
        if request.withCredentials { guard keyRing != nil, Self.mayOpenCredentials(principal) else { return false } }
        let viewer: Viewer  // nil (every number) for platform callers: no `try?`, which would flatten it
        do { viewer = try Self.viewer(of: principal) } catch { return false }
        let applied = store.appliedToken, opening = request.withCredentials ? keyRing : nil
        return store.readInPlace {
            RouteState.encodedResolve(request.key, at: request.instant, in: $0, viewer: viewer, applied: applied, opening: opening, into: &out)
        }
    }

    /// Resolve's `FastPathWarm`: the numbers of a poll's calls prefetched
    /// together (`RouteState.prefetch`). At 16 calls per read the cache
    /// misses of answering each in turn were a quarter of lookup's time.
    static func prefetchResolves(_ payloads: [UnsafeRawBufferPointer], from store: RouteStore) {
        withUnsafeTemporaryAllocation(of: E164Key.self, capacity: payloads.count) { keys in
            var count = 0
            for payload in payloads {
                guard let request = FastResolveRequest(payload) else { continue }
                keys.initializeElement(at: count, to: request.key)
                count += 1
            }
            store.readInPlace { RouteState.prefetch(UnsafeBufferPointer(rebasing: keys[..<count]), in: $0) }
        }
    }

    @Sendable func batchResolve(_ request: LookupV1.BatchResolveRequest, _ context: RPCContext) throws -> InlineAnswer<LookupV1.BatchResolveResponse> {
        let viewer = try Self.viewer(context)
        guard (1...Self.maximumBatch).contains(request.numbers.count) else {
            throw RPCError.invalidArgument(field: "numbers", "must hold 1 to \(Self.maximumBatch) numbers, not \(request.numbers.count)")
        }
        let instant = try Self.instant(request.atTimeMicros)
        let withCredentials = try Self.credentialsAllowed(request.includeCredentials, context)
        return try answer(request.minToken, context) {
            var response = LookupV1.BatchResolveResponse()
            response.results = request.numbers.enumerated().map { index, number in
                var result = LookupV1.BatchResolveResult()
                result.number = number
                let outcome = Result { () throws(RPCError) in
                    try NumberInput.key(number, regionHint: request.regionHint, field: "numbers[\(index)]")
                }.flatMap { self.route($0, at: instant, viewer: viewer, withCredentials: withCredentials) }
                switch outcome {
                case .success(let route): result.outcome = .route(route)
                case .failure(let error): result.outcome = .error(.with {
                    $0.code = UInt32(error.code.rawValue)
                    $0.message = error.message
                })
                }
                return result
            }
            response.applied = store.appliedToken
            return response
        }
    }

    @Sendable func isAssigned(_ request: LookupV1.IsAssignedRequest, _ context: RPCContext) throws -> InlineAnswer<LookupV1.IsAssignedResponse> {
        let viewer = try Self.viewer(context)
        let key = try NumberInput.key(request.number, regionHint: request.regionHint)
        return try answer(request.minToken, context) {
            var response = LookupV1.IsAssignedResponse()
            response.e164 = key.e164
            store.read { state in
                guard let slot = state.slot(for: key), state.visible(slot, to: viewer) else { return }
                let number = state.numbers[Int(slot)]
                guard number.cataloged, !number.retired, number.state == .assigned, number.organization != 0 else { return }
                response.assigned = true
                response.organizationId = state.symbols[number.organization]
            }
            return response
        }
    }

    @Sendable func resolveTenant(_ request: LookupV1.ResolveTenantRequest, _ context: RPCContext) throws -> InlineAnswer<LookupV1.ResolveTenantResponse> {
        let viewer = try Self.viewer(context)
        try FieldRules.regionCode(request.regionHint, field: "region_hint")
        enum Key { case tenant(String), number(E164Key) }
        let key: Key
        switch request.key {
        case .tenantId(let id) where !id.isEmpty:
            try FieldRules.text(id, field: "tenant_id", maximumLength: 200)
            key = .tenant(id)
        case .number(let number): key = .number(try NumberInput.key(number, regionHint: request.regionHint, field: "number"))
        default: throw RPCError.invalidArgument(field: "key", "set tenant_id (an organisation id, slug or external id) or number")
        }
        return try answer(request.minToken, context) {
            try store.read { state throws(RPCError) in
                let symbol: UInt32
                switch key {
                case .tenant(let name):
                    guard let found = state.organizationSymbol(named: name), viewer == nil || state.symbols[found] == viewer else {
                        throw RPCError(.notFound, "organisation '\(name.prefix(100))' not found")
                    }
                    symbol = found
                case .number(let number):
                    guard let slot = state.slot(for: number), state.visible(slot, to: viewer) else {
                        throw RPCError(.notFound, "number \(number.e164) is not in the catalogue")
                    }
                    let packed = state.numbers[Int(slot)]
                    guard packed.state == .assigned, packed.organization != 0, state.organization(packed.organization) != nil else {
                        throw RPCError(.failedPrecondition, "number \(number.e164) is not assigned to an organisation")
                    }
                    symbol = packed.organization
                }
                var response = LookupV1.ResolveTenantResponse()
                response.organization = state.organization(symbol)
                response.numberCount = UInt32(state.numberCount(of: symbol))
                response.agentCount = UInt32(state.agentCount(of: symbol))
                return response
            }
        }
    }

    @Sendable func listByAgent(_ request: LookupV1.ListByAgentRequest, _ context: RPCContext) throws -> InlineAnswer<LookupV1.ListRoutesResponse> {
        let viewer = try Self.viewer(context)
        try FieldRules.identifier(request.agentId, field: "agent_id")
        let page = try RoutePage(size: request.pageSize, token: request.pageToken)
        return try answer(request.minToken, context) {
            let symbol = try store.read { state throws(RPCError) in
                guard let symbol = state.symbols.find(request.agentId), let agent = state.agent(symbol),
                      viewer == nil || state.symbols[agent.organization] == viewer else {
                    throw RPCError(.notFound, "agent '\(request.agentId)' not found")
                }
                return symbol
            }
            return page.list(.agent(symbol), in: store, viewer: viewer)
        }
    }

    @Sendable func listByOrganization(_ request: LookupV1.ListByOrganizationRequest, _ context: RPCContext) throws -> InlineAnswer<LookupV1.ListRoutesResponse> {
        let viewer = try Self.viewer(context)
        try FieldRules.identifier(request.organizationId, field: "organization_id")
        let page = try RoutePage(size: request.pageSize, token: request.pageToken)
        return try answer(request.minToken, context) {
            let symbol = try store.read { state throws(RPCError) in
                guard let symbol = state.organizationSymbol(named: request.organizationId),
                      viewer == nil || state.symbols[symbol] == viewer else {
                    throw RPCError(.notFound, "organisation '\(request.organizationId)' not found")
                }
                return symbol
            }
            return page.list(.organization(symbol), in: store, viewer: viewer)
        }
    }

    @Sendable func status(_ request: LookupV1.GetStatusRequest, _ context: RPCContext) throws -> LookupV1.GetStatusResponse {
        var response = LookupV1.GetStatusResponse()
        response.streams = projection.status()
        store.read { state in
            response.numbers = UInt64(state.numberCount)
            response.assignedNumbers = UInt64(state.assignedCount)
            response.organizations = UInt64(state.organizationCount)
            response.agents = UInt64(state.agentCount)
            response.schedules = UInt64(state.scheduleCount)
        }
        response.loadMicros = projection.loadDurationMicros
        response.ready = projection.isLoaded
        return response
    }

    // MARK: Helpers

    /// Answers now when `token` is applied; otherwise waits for it as a task.
    private func answer<Response: ProtoMessage>(
        _ token: LookupV1.ConsistencyToken?, _ context: RPCContext,
        _ body: @escaping @Sendable () throws -> Response
    ) rethrows -> InlineAnswer<Response> {
        if store.satisfies(token) { return .now(try body()) }
        let store = self.store
        return .later {
            try await store.wait(for: token ?? LookupV1.ConsistencyToken(), until: context.deadline)
            return try body()
        }
    }

    /// The route, with credentials opened when asked for (and allowed).
    private func route(_ key: E164Key, at instant: Date, viewer: Viewer, withCredentials: Bool) -> Result<LookupV1.Route, RPCError> {
        store.read { $0.resolve(key, at: instant, viewer: viewer, withCredentials: withCredentials) }.flatMap { resolved in
            var route = resolved.route
            guard withCredentials, let sealed = resolved.sealed else { return .success(route) }
            guard let keyRing else {
                return .failure(RPCError(.failedPrecondition, "this lookup holds no credential keys, so it cannot open credentials"))
            }
            do {
                let opened = try keyRing.decrypt(sealed, associatedData: CredentialKeyRing.associatedData(numberID: route.numberId))
                route.credentials = opened.fields
                return .success(route)
            } catch {
                return .failure(RPCError(.failedPrecondition,
                                         "credentials of number \(route.e164) are sealed under key '\(sealed.keyID)', which this lookup cannot open"))
            }
        }
    }

    /// Whether `principal` may have credentials opened into its answers.
    static func mayOpenCredentials(_ principal: Principal?) -> Bool {
        principal?.has(scope: credentialsScope) == true
    }

    /// nil (everything) for platform admins and services; the organisation for its users.
    static func viewer(_ context: RPCContext) throws(RPCError) -> Viewer {
        try viewer(of: context.requirePrincipal())
    }

    static func viewer(of principal: Principal) throws(RPCError) -> Viewer {
        guard principal.role.isOrganizationRole else { return nil }
        guard let organization = principal.organizationID else {
            throw RPCError(.permissionDenied, "an organisation token must name its organisation")
        }
        return organization
    }

    static func instant(_ micros: Int64) throws(RPCError) -> Date {
        guard micros >= 0 else { throw RPCError.invalidArgument(field: "at_time_micros", "must not be negative") }
        return micros == 0 ? Date() : Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    static func credentialsAllowed(_ requested: Bool, _ context: RPCContext) throws(RPCError) -> Bool {
        guard requested else { return false }
        guard mayOpenCredentials(context.principal) else {
            throw RPCError(.permissionDenied, "include_credentials needs the \(credentialsScope) scope")
        }
        return true
    }
}

/// One page of routes in E.164 order, evaluated now, without credentials.
struct RoutePage: Sendable {
    var size: Int
    /// The last key of the previous page.
    var after: UInt64

    init(size: UInt32, token: String) throws(RPCError) {
        self.size = try PageToken.pageSize(size)
        let last = try PageToken.decode(token)
        guard last.isEmpty || UInt64(last) != nil else {
            throw RPCError.invalidArgument(field: "page_token", "is not a token this service issued")
        }
        after = UInt64(last) ?? 0
    }

    /// The page of `membership`'s routes after `after`, by E.164. A number
    /// that left the membership since the scan found it is left out.
    func list(_ membership: RouteState.Membership, in store: RouteStore, viewer: Viewer) -> LookupV1.ListRoutesResponse {
        let keys = store.memberKeys(of: membership, above: after, limit: size + 1)
        var response = LookupV1.ListRoutesResponse()
        let now = Date()
        store.read { state in
            for key in keys.prefix(size).map(E164Key.init(value:)) {
                guard let slot = state.slot(for: key), state.isMember(slot, of: membership) else { continue }
                if case .success(let resolved) = state.resolve(key, at: now, viewer: viewer) {
                    response.routes.append(resolved.route)
                }
            }
        }
        if keys.count > size, let last = keys.prefix(size).last {
            response.nextPageToken = PageToken.encode(String(last))
        }
        return response
    }
}

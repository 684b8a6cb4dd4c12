import ArgumentParser
import Protos
import RPC

/// The lookup service's questions: what happens to a call to this number now.
struct Resolve: ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who takes a call to this number (now or --at a time): organisation, agent or fallback, provider.",
        discussion: LookupViews.callers)

    @Argument(help: "The number in any written form (+14155550100, tel:…, sip:…).") var number: String
    @OptionGroup var route: RouteOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = LookupV1.ResolveRequest()
        request.number = number
        request.regionHint = route.regionHint
        request.atTimeMicros = try route.atMicros()
        request.includeCredentials = route.credentials
        request.minToken = route.minimum.message
        let response = try await session.call(.lookup, "Resolve", request, as: LookupV1.ResolveResponse.self, idempotent: true)
        options.emit(response) { LookupViews.route(response.route) }
    }
}

struct BatchResolve: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch-resolve",
        abstract: "Resolve up to 1,000 numbers at once; each gets a route or its own error.",
        discussion: LookupViews.callers)

    @Argument(help: "The numbers.") var numbers: [String]
    @OptionGroup var route: RouteOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = LookupV1.BatchResolveRequest()
        request.numbers = numbers
        request.regionHint = route.regionHint
        request.atTimeMicros = try route.atMicros()
        request.includeCredentials = route.credentials
        request.minToken = route.minimum.message
        let response = try await session.call(.lookup, "BatchResolve", request, as: LookupV1.BatchResolveResponse.self, idempotent: true)
        options.emit(response) {
            var table = Table("number", "organization", "destination", "reason")
            for result in response.results {
                switch result.outcome {
                case .route(let route):
                    table.add(result.number, route.organization?.id ?? "-", LookupViews.destination(route), Format.name(route.reason))
                case .error(let error):
                    table.add(result.number, "-", "error", "\(RPCError.Code(wireValue: Int32(error.code))): \(error.message)")
                case nil:
                    table.add(result.number, "-", "-", "-")
                }
            }
            return table.render()
        }
    }
}

struct IsAssigned: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "is-assigned",
        abstract: "Whether a number is active and held by an organisation (exit status 0 either way).",
        discussion: LookupViews.callers)

    @Argument(help: "The number in any written form.") var number: String
    @Option(help: ArgumentHelp("ISO region for a national form.", valueName: "region")) var regionHint = ""
    @OptionGroup var minimum: MinimumTokenOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = LookupV1.IsAssignedRequest()
        request.number = number
        request.regionHint = regionHint
        request.minToken = minimum.message
        let response = try await session.call(.lookup, "IsAssigned", request, as: LookupV1.IsAssignedResponse.self, idempotent: true)
        options.emit(response) {
            response.assigned ? "\(response.e164) is assigned to \(response.organizationId)" : "\(Format.text(response.e164)) is not assigned"
        }
    }
}

struct ResolveTenant: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve-tenant",
        abstract: "The organisation behind an id, slug, external id or number, with its counts.",
        discussion: LookupViews.callers)

    @Option(help: "An organisation id, slug or external id.") var tenant: String?
    @Option(help: "A number the organisation holds.") var number: String?
    @Option(help: ArgumentHelp("ISO region for a national form.", valueName: "region")) var regionHint = ""
    @OptionGroup var minimum: MinimumTokenOptions
    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard (tenant == nil) != (number == nil) else { throw ValidationError("give either --tenant or --number") }
    }

    func execute(_ session: Session) async throws {
        var request = LookupV1.ResolveTenantRequest()
        request.key = tenant.map { .tenantId($0) } ?? number.map { .number($0) }
        request.regionHint = regionHint
        request.minToken = minimum.message
        let response = try await session.call(.lookup, "ResolveTenant", request, as: LookupV1.ResolveTenantResponse.self, idempotent: true)
        options.emit(response) { LookupViews.tenant(response) }
    }
}

struct ListByAgent: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-by-agent",
        abstract: "The routes of the numbers an agent is connected to, evaluated now.",
        discussion: LookupViews.callers)

    @Argument(help: "The agent id.") var agent: String
    @OptionGroup var paging: PagingOptions
    @OptionGroup var minimum: MinimumTokenOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = LookupV1.ListByAgentRequest()
        request.agentId = agent
        request.pageSize = paging.pageSize
        request.minToken = minimum.message
        let response = try await RouteListing.collect(paging, session: session, method: "ListByAgent") { token in
            request.pageToken = token
            return request
        }
        options.emit(response) { LookupViews.routes(response.routes) + PagingOptions.more(response.nextPageToken) }
    }
}

struct ListByOrganization: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-by-org",
        abstract: "The routes of an organisation's numbers, evaluated now.",
        discussion: LookupViews.callers)

    @Argument(help: "An organisation id, slug or external id.") var org: String
    @OptionGroup var paging: PagingOptions
    @OptionGroup var minimum: MinimumTokenOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = LookupV1.ListByOrganizationRequest()
        request.organizationId = org
        request.pageSize = paging.pageSize
        request.minToken = minimum.message
        let response = try await RouteListing.collect(paging, session: session, method: "ListByOrganization") { token in
            request.pageToken = token
            return request
        }
        options.emit(response) { LookupViews.routes(response.routes) + PagingOptions.more(response.nextPageToken) }
    }
}

struct LookupStatus: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup-status",
        abstract: "How far lookup has followed inventory and assignment, and what it holds in memory.",
        discussion: "Platform admins and services with lookup:read.")

    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        let response = try await session.call(.lookup, "GetStatus", LookupV1.GetStatusRequest(), as: LookupV1.GetStatusResponse.self,
                                              idempotent: true)
        options.emit(response) { LookupViews.status(response) }
    }
}

/// The pages of ListByAgent / ListByOrganization as one ListRoutesResponse.
enum RouteListing {
    static func collect<Request: ProtoMessage>(_ paging: PagingOptions, session: Session, method: String,
                                               request: (String) -> Request) async throws -> LookupV1.ListRoutesResponse {
        let (routes, next) = try await paging.collect { token in
            let page = try await session.call(.lookup, method, request(token), as: LookupV1.ListRoutesResponse.self, idempotent: true)
            return (page.routes, page.nextPageToken)
        }
        var response = LookupV1.ListRoutesResponse()
        response.routes = routes
        response.nextPageToken = next
        return response
    }
}

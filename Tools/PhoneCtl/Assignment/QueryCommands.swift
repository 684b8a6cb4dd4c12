import ArgumentParser
import Protos
import RPC

/// `phonectl org-numbers`: what an organisation holds.
struct OrganizationNumbers: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "org-numbers",
        abstract: "List an organisation's numbers with their agents.",
        discussion: AssignmentViews.readers)

    @Option(help: "Organisation id (org users: their own by default).") var org = ""
    @OptionGroup var paging: PagingOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = AssignmentV1.ListOrganizationNumbersRequest()
        request.organizationId = org
        request.pageSize = paging.pageSize
        let (numbers, next) = try await paging.collect { token in
            request.pageToken = token
            let page = try await session.call(.assignment, "ListOrganizationNumbers", request,
                                              as: AssignmentV1.ListOrganizationNumbersResponse.self, idempotent: true)
            return (page.numbers, page.nextPageToken)
        }
        var response = AssignmentV1.ListOrganizationNumbersResponse()
        response.numbers = numbers
        response.nextPageToken = next
        options.emit(response) { AssignmentViews.assigned(numbers) + PagingOptions.more(next) }
    }
}

/// `phonectl summary`: an organisation's dashboard numbers.
struct Summary: ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "An organisation's number count, connected count, pool availability and monthly cost.",
        discussion: AssignmentViews.readers)

    @Option(help: "Organisation id (org users: their own by default).") var org = ""
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = AssignmentV1.GetSummaryRequest()
        request.organizationId = org
        let summary = try await session.call(.assignment, "GetSummary", request, as: AssignmentV1.Summary.self, idempotent: true)
        options.emit(summary) {
            var fields = Fields([("numbers", String(summary.myNumbers)), ("connected to agents", String(summary.connectedToAgents)),
                                 ("available in pool", String(summary.availableInPool))])
            for currency in summary.monthlyCostMicros.keys.sorted() {
                fields.add("monthly cost", Format.money(micros: summary.monthlyCostMicros[currency] ?? 0, currency: currency))
            }
            return fields.render()
        }
    }
}

/// `phonectl history`: the audit trail of a number or an organisation.
struct History: ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "The assignment history (who did what, when) of a number or of an organisation.",
        discussion: AssignmentViews.readers)

    @Option(help: "A number, by id or written form.") var number: String?
    @Option(help: "An organisation id.") var org: String?
    @OptionGroup var paging: PagingOptions
    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard (number == nil) != (org == nil) else { throw ValidationError("give either --number or --org") }
    }

    func execute(_ session: Session) async throws {
        var request = AssignmentV1.GetHistoryRequest()
        if let number { request.numberId = try await session.numberID(number) }
        request.organizationId = org ?? ""
        request.pageSize = paging.pageSize
        let (entries, next) = try await paging.collect { token in
            request.pageToken = token
            let page = try await session.call(.assignment, "GetHistory", request, as: AssignmentV1.GetHistoryResponse.self, idempotent: true)
            return (page.entries, page.nextPageToken)
        }
        var response = AssignmentV1.GetHistoryResponse()
        response.entries = entries
        response.nextPageToken = next
        options.emit(response) { AssignmentViews.history(entries) + PagingOptions.more(next) }
    }
}

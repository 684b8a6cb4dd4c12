import ArgumentParser
import Protos
import RPC

/// `phonectl pool …`: finding, holding and taking numbers from the platform pool.
struct Pool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search the pool, hold numbers, allocate them to organisations, release them.",
        subcommands: [Search.self, Reserve.self, Confirm.self, Cancel.self, Allocate.self, Release.self])

    struct Search: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "List available numbers in the pool.",
            discussion: "Any authenticated caller.")

        @OptionGroup var filter: PoolFilterOptions
        @OptionGroup var paging: PagingOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.SearchAvailableRequest()
            request.filter = try filter.message()
            request.pageSize = paging.pageSize
            let (numbers, next) = try await paging.collect { token in
                request.pageToken = token
                let page = try await session.call(.assignment, "SearchAvailable", request, as: AssignmentV1.SearchAvailableResponse.self,
                                                  idempotent: true)
                return (page.numbers, page.nextPageToken)
            }
            var response = AssignmentV1.SearchAvailableResponse()
            response.numbers = numbers
            response.nextPageToken = next
            options.emit(response) { AssignmentViews.pool(numbers) + PagingOptions.more(next) }
        }
    }

    struct Reserve: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold numbers for an organisation (all or none) until confirmed, cancelled or expired.",
            discussion: AssignmentViews.writers)

        @OptionGroup var selection: SelectionOptions
        @Option(help: "How long the hold lasts (0: 300 s, at most 3600).") var holdSeconds: UInt32 = 0
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = try await selection.request(session)
            request.holdSeconds = holdSeconds
            let response = try await session.call(.assignment, "Reserve", request, as: AssignmentV1.HoldResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { AssignmentViews.hold(response) }
        }
    }

    struct Allocate: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Assign numbers to an organisation at once (all or none), without a hold.",
            discussion: AssignmentViews.writers)

        @OptionGroup var selection: SelectionOptions
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            let request = try await selection.request(session)
            let response = try await session.call(.assignment, "Allocate", request, as: AssignmentV1.AssignedNumbersResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { AssignmentViews.assigned(response.numbers) + "\n" + Format.token(response.consistencyToken) }
        }
    }

    struct Confirm: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a hold into an assignment of its numbers.",
            discussion: AssignmentViews.writers)

        @Argument(help: "The hold id Reserve printed.") var hold: String
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.ConfirmHoldRequest()
            request.holdId = hold
            let response = try await session.call(.assignment, "ConfirmHold", request, as: AssignmentV1.AssignedNumbersResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { AssignmentViews.assigned(response.numbers) + "\n" + Format.token(response.consistencyToken) }
        }
    }

    struct Cancel: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a hold's numbers back to the pool.",
            discussion: AssignmentViews.writers)

        @Argument(help: "The hold id Reserve printed.") var hold: String
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.CancelHoldRequest()
            request.holdId = hold
            let response = try await session.call(.assignment, "CancelHold", request, as: AssignmentV1.MutationResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { "cancelled hold \(hold)\n" + Format.token(response.consistencyToken) }
        }
    }

    struct Release: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an organisation's number back to the pool (after a cool-down); disconnect it first.",
            discussion: AssignmentViews.writers)

        @OptionGroup var number: NumberArgument
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.ReleaseRequest()
            request.numberId = try await number.id(in: session)
            let response = try await session.call(.assignment, "Release", request, as: AssignmentV1.MutationResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { "released \(number.number)\n" + Format.token(response.consistencyToken) }
        }
    }
}

/// The pool filter flags (search, and reserve/allocate by count).
struct PoolFilterOptions: ParsableArguments {
    @Option(help: "ISO country, e.g. US.") var country = ""
    @Option(help: "Exact region text.") var region = ""
    @Option(help: "voice, sms, mms or fax.") var capability = ""
    @Option(help: "Number type, e.g. mobile, toll_free.") var type = ""
    @Option(help: "Digits the number starts with after +, e.g. 1415.") var prefix = ""
    @Option(help: "Digits anywhere in the number.") var contains = ""
    @Option(help: "Highest monthly cost, e.g. 2.00.") var maxMonthlyCost: String?

    func message() throws -> AssignmentV1.NumberFilter {
        var filter = AssignmentV1.NumberFilter()
        filter.country = country
        filter.region = region
        filter.capability = capability
        filter.numberType = type
        filter.prefix = prefix
        filter.contains = contains
        if let maxMonthlyCost { filter.maxMonthlyCostMicros = try Parse.micros(maxMonthlyCost, field: "--max-monthly-cost") }
        return filter
    }
}

/// Which numbers Reserve and Allocate take: named ones, or a count matching a filter.
struct SelectionOptions: ParsableArguments {
    @Option(help: "The organisation (org users: their own by default).") var org = ""
    @Option(name: .customLong("number"), help: "A number to take, by id or written form (repeatable).") var numbers: [String] = []
    @Option(help: "Take this many available numbers matching the filter flags.") var count: UInt32?
    @OptionGroup var filter: PoolFilterOptions

    func validate() throws {
        guard numbers.isEmpty != (count == nil) else { throw ValidationError("give either --number (repeatable) or --count") }
    }

    func request(_ session: Session) async throws -> AssignmentV1.ReserveRequest {
        var request = AssignmentV1.ReserveRequest()
        request.organizationId = org
        if let count {
            var matching = AssignmentV1.FilteredSelection()
            matching.filter = try filter.message()
            matching.count = count
            request.selection = .matching(matching)
        } else {
            var ids = AssignmentV1.NumberIds()
            for number in numbers { ids.ids.append(try await session.numberID(number)) }
            request.selection = .numbers(ids)
        }
        return request
    }
}

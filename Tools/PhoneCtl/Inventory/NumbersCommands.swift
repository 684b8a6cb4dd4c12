import ArgumentParser
import Protos
import RPC

/// `phonectl numbers …`: the inventory catalogue.
struct Numbers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The catalogue of numbers in inventory: import, read, change, retire, credentials.",
        subcommands: [ImportCommand.self, GetNumber.self, ListNumbers.self, UpdateNumber.self, RetireNumber.self,
                      RestoreNumber.self, Credentials.self, RotateKeys.self])
}

extension Numbers {
    struct GetNumber: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Show one number as inventory holds it.",
            discussion: "Platform admins; org owners, admins and members (their organisation's numbers); services with inventory:read.")

        @OptionGroup var number: NumberArgument
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = InventoryV1.GetNumberRequest()
            request.key = UUIDText.isUUID(number.number) ? .id(number.number) : .number(number.number)
            request.regionHint = number.regionHint
            let response = try await session.call(.inventory, "GetNumber", request, as: InventoryV1.NumberResponse.self, idempotent: true)
            options.emit(response) { NumberViews.fields(response.number) }
        }
    }

    struct ListNumbers: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List numbers, filtered, in pages (active numbers unless --lifecycle says otherwise).",
            discussion: "Platform admins and services with inventory:read see all; org users see their organisation's numbers.")

        @Option(help: "ISO country, e.g. GB.") var country = ""
        @Option(help: "Exact region text, e.g. \"London\".") var region = ""
        @Option(help: "Provider, e.g. twilio.") var provider = ""
        @Option(help: "voice, sms, mms or fax.") var capability: String?
        @Option(help: "Number type, e.g. mobile, fixed_line, toll_free.") var type: String?
        @Option(help: "active or retired.") var lifecycle: String?
        @Option(help: "Owning organisation id, or \"pool\" for the platform pool.") var owner = ""
        @Option(help: "Substring of the E.164 number or the label.") var query = ""
        @OptionGroup var paging: PagingOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = InventoryV1.ListNumbersRequest()
            request.country = country
            request.region = region
            request.provider = provider
            if let capability { request.capability = try EnumValue.parse(capability, as: InventoryV1.Capability.self, field: "--capability") }
            if let type { request.numberType = try EnumValue.parse(type, as: InventoryV1.NumberType.self, field: "--type") }
            if let lifecycle { request.lifecycle = try EnumValue.parse(lifecycle, as: InventoryV1.Lifecycle.self, field: "--lifecycle") }
            request.ownerOrganizationId = owner
            request.query = query
            request.pageSize = paging.pageSize
            let (numbers, next) = try await paging.collect { token in
                request.pageToken = token
                let page = try await session.call(.inventory, "ListNumbers", request, as: InventoryV1.ListNumbersResponse.self, idempotent: true)
                return (page.numbers, page.nextPageToken)
            }
            var response = InventoryV1.ListNumbersResponse()
            response.numbers = numbers
            response.nextPageToken = next
            options.emit(response) { NumberViews.table(numbers) + PagingOptions.more(next) }
        }
    }
}

enum UUIDText {
    static func isUUID(_ text: String) -> Bool {
        text.count == 36 && text.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12]
            && text.allSatisfy { $0 == "-" || $0.isHexDigit }
    }
}

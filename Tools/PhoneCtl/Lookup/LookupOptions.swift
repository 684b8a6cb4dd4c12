import ArgumentParser
import Foundation
import Protos

/// Read-your-writes for lookup: the consistency tokens mutations printed.
struct MinimumTokenOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Answer only after lookup applied inventory up to this consistency token.", valueName: "token"))
    var afterInventory: UInt64 = 0
    @Option(help: ArgumentHelp("Answer only after lookup applied assignment up to this consistency token.", valueName: "token"))
    var afterAssignment: UInt64 = 0

    var message: LookupV1.ConsistencyToken? {
        guard afterInventory != 0 || afterAssignment != 0 else { return nil }
        var token = LookupV1.ConsistencyToken()
        token.inventory = afterInventory
        token.assignment = afterAssignment
        return token
    }
}

/// How a number is routed: when, with credentials or not.
struct RouteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("ISO region for numbers in national form, e.g. US.", valueName: "region")) var regionHint = ""
    @Option(help: ArgumentHelp("Route as at this instant (ISO 8601), e.g. 2025-06-02T09:30:00Z; default now.", valueName: "time"))
    var at: String?
    @Flag(help: "Include the provider credentials in clear (needs credentials:read).") var credentials = false
    @OptionGroup var minimum: MinimumTokenOptions

    func atMicros() throws -> Int64 {
        guard let at else { return 0 }
        return Int64((try Parse.instant(at, field: "--at").timeIntervalSince1970 * 1_000_000).rounded())
    }
}

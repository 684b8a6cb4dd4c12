import ArgumentParser

/// The operator CLI: talks to the services over their RPC ports.
@main
struct PhoneCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phonectl",
        abstract: "Operate the phone-number services (inventory, assignment, lookup).",
        discussion: """
            Endpoints come from --inventory/--assignment/--lookup or PHONE_INVENTORY_ADDR, \
            PHONE_ASSIGNMENT_ADDR, PHONE_LOOKUP_ADDR; the caller's token from --token or PHONE_TOKEN \
            (without one, PHONE_JWT_SECRET mints a five-minute platform-admin token). \
            Output is a table for people, or stable JSON with --json. A failed call prints one line, \
            "phonectl: <STATUS_CODE>: <message>", on stderr and exits with status 1. \
            Numbers may be given by inventory id or in any written form (+14155550100).
            """,
        subcommands: [
            Numbers.self, ImportCommand.self,
            Organizations.self, Agents.self, Pool.self, Connect.self, Disconnect.self, Schedules.self,
            OrganizationNumbers.self, Summary.self, History.self,
            Resolve.self, BatchResolve.self, IsAssigned.self, ResolveTenant.self, ListByAgent.self,
            ListByOrganization.self, LookupStatus.self,
            CheckConsistency.self, Demo.self, Health.self, Methods.self, Token.self,
        ])
}

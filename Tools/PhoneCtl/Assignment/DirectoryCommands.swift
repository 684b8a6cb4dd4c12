import ArgumentParser
import Protos
import RPC

/// `phonectl orgs …`: organisations in assignment's directory.
struct Organizations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgs",
        abstract: "Register, change and delete organisations.",
        subcommands: [Upsert.self, Delete.self])

    struct Upsert: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an organisation, or replace its details.",
            discussion: AssignmentViews.directoryWriters)

        @Argument(help: "Organisation id.") var id: String
        @Option(help: "Display name.") var name: String
        @Option(help: "IANA time zone, e.g. Europe/London.") var timeZone: String
        @Option(help: "URL-friendly name.") var slug = ""
        @Option(help: "The id other systems know it by.") var externalId = ""
        @Option(help: "one (one number per agent, the default) or many.") var numbersPerAgent = "one"
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var organization = AssignmentV1.Organization()
            organization.id = id
            organization.name = name
            organization.timeZone = timeZone
            organization.slug = slug
            organization.externalId = externalId
            organization.numbersPerAgent = try EnumValue.parse(numbersPerAgent, as: AssignmentV1.Organization.NumbersPerAgent.self,
                                                               field: "--numbers-per-agent")
            var request = AssignmentV1.UpsertOrganizationRequest()
            request.organization = organization
            let response = try await session.call(.assignment, "UpsertOrganization", request, as: AssignmentV1.OrganizationResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { AssignmentViews.organization(response.organization) + "\n" + Format.token(response.consistencyToken) }
        }
    }

    struct Delete: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an organisation: its pool numbers go back to the pool, its agents and schedules go.",
            discussion: AssignmentViews.directoryWriters)

        @Argument(help: "Organisation id.") var id: String
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.DeleteOrganizationRequest()
            request.id = id
            let response = try await session.call(.assignment, "DeleteOrganization", request, as: AssignmentV1.MutationResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { "deleted organization \(id)\n" + Format.token(response.consistencyToken) }
        }
    }
}

/// `phonectl agents …`: an organisation's agents.
struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register, list and delete agents (the AI assistants that take calls).",
        subcommands: [Upsert.self, Delete.self, List.self])

    struct Upsert: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an agent of an organisation, or replace its details (agents cannot move).",
            discussion: AssignmentViews.directoryWriters)

        @Argument(help: "Agent id.") var id: String
        @Option(help: "The organisation it belongs to.") var org: String
        @Option(help: "Display name.") var name: String
        @Option(help: "e.g. the VAPI assistant id.") var assistantId = ""
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var agent = AssignmentV1.Agent()
            agent.id = id
            agent.organizationId = org
            agent.name = name
            agent.externalAssistantId = assistantId
            var request = AssignmentV1.UpsertAgentRequest()
            request.agent = agent
            let response = try await session.call(.assignment, "UpsertAgent", request, as: AssignmentV1.AgentResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { AssignmentViews.agents(response.agent.map { [$0] } ?? []) + "\n" + Format.token(response.consistencyToken) }
        }
    }

    struct Delete: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an agent: its numbers are disconnected and it leaves every schedule.",
            discussion: AssignmentViews.directoryWriters)

        @Argument(help: "Agent id.") var id: String
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.DeleteAgentRequest()
            request.id = id
            let response = try await session.call(.assignment, "DeleteAgent", request, as: AssignmentV1.MutationResponse.self,
                                                  idempotencyKey: mutation.idempotencyKey)
            options.emit(response) { "deleted agent \(id)\n" + Format.token(response.consistencyToken) }
        }
    }

    struct List: ServiceCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an organisation's agents.",
            discussion: AssignmentViews.readers)

        @Option(help: "Organisation id (org users: their own by default).") var org = ""
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = AssignmentV1.ListAgentsRequest()
            request.organizationId = org
            let response = try await session.call(.assignment, "ListAgents", request, as: AssignmentV1.ListAgentsResponse.self, idempotent: true)
            options.emit(response) { AssignmentViews.agents(response.agents) }
        }
    }
}

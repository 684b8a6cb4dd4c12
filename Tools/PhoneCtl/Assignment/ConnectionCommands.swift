import ArgumentParser
import Protos
import RPC

/// `phonectl connect`: an agent takes a number's calls.
struct Connect: ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect an agent to one of its organisation's numbers.",
        discussion: AssignmentViews.writers + " An organisation with one number per agent refuses a second number.")

    @OptionGroup var number: NumberArgument
    @Option(help: "The agent id.") var agent: String
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = AssignmentV1.ConnectAgentRequest()
        request.numberId = try await number.id(in: session)
        request.agentId = agent
        let response = try await session.call(.assignment, "ConnectAgent", request, as: AssignmentV1.AssignedNumberResponse.self,
                                              idempotencyKey: mutation.idempotencyKey)
        options.emit(response) { AssignmentViews.assigned(response.number.map { [$0] } ?? []) + "\n" + Format.token(response.consistencyToken) }
    }
}

/// `phonectl disconnect`: the number keeps its organisation but no agent.
struct Disconnect: ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Disconnect a number from its agent.",
        discussion: AssignmentViews.writers)

    @OptionGroup var number: NumberArgument
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var options: CommonOptions

    func execute(_ session: Session) async throws {
        var request = AssignmentV1.DisconnectAgentRequest()
        request.numberId = try await number.id(in: session)
        let response = try await session.call(.assignment, "DisconnectAgent", request, as: AssignmentV1.AssignedNumberResponse.self,
                                              idempotencyKey: mutation.idempotencyKey)
        options.emit(response) { AssignmentViews.assigned(response.number.map { [$0] } ?? []) + "\n" + Format.token(response.consistencyToken) }
    }
}

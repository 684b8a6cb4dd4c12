import ArgumentParser
import Foundation
import RPC

/// A subcommand that calls the services. A failed call is one line on
/// stderr, `phonectl: <STATUS_CODE>: <message> [field: problem]`, and exit
/// status 1.
protocol ServiceCommand: AsyncParsableCommand {
    var options: CommonOptions { get }
    /// The command's work, with the command's clients.
    func execute(_ session: Session) async throws
}

extension ServiceCommand {
    func run() async throws {
        let session = try options.connection.session()
        defer { session.close() }
        do {
            try await execute(session)
        } catch let error as RPCError {
            Console.error("phonectl: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The flags every service command takes: where, who, and the output form.
struct CommonOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Print the response as JSON (stable: proto field names, sorted keys) instead of a table.")
    var json = false

    /// Prints `message` as JSON, or as `human()` renders it.
    func emit(_ message: Any, human: () -> String) {
        print(json ? JSONRendering.render(message) : human())
    }
}

/// The flag every mutation takes.
struct MutationOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Makes retries safe: the same key with the same request returns the first answer without acting again.",
        valueName: "key"))
    var idempotencyKey: String?
}

/// stderr for errors and progress, so stdout stays clean for data.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

/// Failures found before calling (bad files, bad values) use the same codes
/// and one-line form as the services' own.
extension RPCError {
    static func local(_ message: String, field: String? = nil) -> RPCError {
        guard let field else { return RPCError(.invalidArgument, message) }
        return .invalidArgument(field: field, message)
    }
}

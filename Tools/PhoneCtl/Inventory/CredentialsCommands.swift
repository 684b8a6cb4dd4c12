import ArgumentParser
import Foundation
import Protos
import RPC

extension Numbers {
    /// `phonectl numbers credentials set|get|clear`.
    struct Credentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A number's provider credentials (stored encrypted by inventory).",
            discussion: """
                Fields per provider: twilio account_sid, auth_token, phone_number_sid (optional); \
                vonage api_key, api_secret; telnyx api_key; plivo auth_id, auth_token; sip username, password, host; \
                other providers: free-form fields.
                """,
            subcommands: [SetCredentials.self, GetCredentials.self, ClearCredentials.self])
    }
}

extension Numbers.Credentials {
    struct SetCredentials: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Replace a number's credentials (validated for its provider).",
            discussion: inventoryWriters + " Values given with --field end up in shell history; prefer --fields-file.")

        @OptionGroup var number: NumberArgument
        @Option(name: .customLong("field"), help: ArgumentHelp("One field, name=value (repeatable).", valueName: "name=value"))
        var fields: [String] = []
        @Option(help: ArgumentHelp("A file of name=value lines; - reads stdin.", valueName: "file"))
        var fieldsFile: String?
        @Option(help: "Fail with ABORTED unless the number is at this version.") var expectedVersion: Int64 = 0
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var lines = fields
            if let fieldsFile { lines += try InputFile.text(fieldsFile).split(whereSeparator: \.isNewline).map(String.init) }
            var values: [String: String] = [:]
            for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let equals = line.firstIndex(of: "=") else {
                    throw RPCError.local("'\(line.prefix(40))' is not name=value", field: "--field")
                }
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            guard !values.isEmpty else { throw ValidationError("give at least one --field or --fields-file (use 'clear' to remove)") }
            let response = try await NumberCredentials.set(values, number: number, expectedVersion: expectedVersion,
                                                           key: mutation.idempotencyKey, session: session)
            options.emit(response) { NumberViews.changed(response) }
        }
    }

    struct ClearCredentials: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear",
            abstract: "Remove a number's credentials.",
            discussion: inventoryWriters)

        @OptionGroup var number: NumberArgument
        @Option(help: "Fail with ABORTED unless the number is at this version.") var expectedVersion: Int64 = 0
        @OptionGroup var mutation: MutationOptions
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            let response = try await NumberCredentials.set([:], number: number, expectedVersion: expectedVersion,
                                                           key: mutation.idempotencyKey, session: session)
            options.emit(response) { NumberViews.changed(response) }
        }
    }

    struct GetCredentials: ServiceCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Show a number's credentials in clear (the read is logged by inventory).",
            discussion: "Platform admins and services with credentials:read.")

        @OptionGroup var number: NumberArgument
        @OptionGroup var options: CommonOptions

        func execute(_ session: Session) async throws {
            var request = InventoryV1.GetCredentialsRequest()
            request.numberId = try await number.id(in: session)
            let response = try await session.call(.inventory, "GetCredentials", request,
                                                  as: InventoryV1.GetCredentialsResponse.self, idempotent: true)
            options.emit(response) {
                let values = response.credentials?.fields ?? [:]
                return Fields([("number id", response.numberId), ("provider", response.provider)]
                              + values.keys.sorted().map { ($0, values[$0] ?? "") }).render()
            }
        }
    }
}

/// SetCredentials, shared by set and clear (empty fields clear).
enum NumberCredentials {
    static func set(_ fields: [String: String], number: NumberArgument, expectedVersion: Int64, key: String?,
                    session: Session) async throws -> InventoryV1.NumberResponse {
        var request = InventoryV1.SetCredentialsRequest()
        request.numberId = try await number.id(in: session)
        request.expectedVersion = expectedVersion
        var credentials = InventoryV1.Credentials()
        credentials.fields = fields
        request.credentials = credentials
        return try await session.call(.inventory, "SetCredentials", request, as: InventoryV1.NumberResponse.self, idempotencyKey: key)
    }
}

/// Reading a file named on the command line ("-" is stdin).
enum InputFile {
    static func data(_ path: String) throws(RPCError) -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RPCError(.notFound, "cannot read \(path)")
        }
        return data
    }

    static func text(_ path: String) throws(RPCError) -> String {
        guard let text = String(data: try data(path), encoding: .utf8) else {
            throw RPCError(.invalidArgument, "\(path) is not UTF-8 text")
        }
        return text
    }
}

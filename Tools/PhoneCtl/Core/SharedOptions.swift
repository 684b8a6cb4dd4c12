import ArgumentParser
import Foundation
import Protos
import RPC

/// A number named on the command line: its inventory id or any written form.
struct NumberArgument: ParsableArguments {
    @Argument(help: "The number: its inventory id, or any written form such as +14155550100.")
    var number: String
    @Option(help: ArgumentHelp("ISO region for a number written in national form, e.g. US.", valueName: "region"))
    var regionHint = ""

    func id(in session: Session) async throws(RPCError) -> String {
        try await session.numberID(number, regionHint: regionHint)
    }
}

/// Page flags of list commands.
struct PagingOptions: ParsableArguments {
    @Option(help: "Results per page (0: the service's default).")
    var pageSize: UInt32 = 0
    @Option(help: "Continue from the next-page token a previous page printed.")
    var pageToken = ""
    @Flag(help: "Follow the pages to the end and print everything.")
    var all = false

    /// One page, or with --all every page in order; and the token of the page after.
    func collect<Item>(_ fetch: (_ pageToken: String) async throws -> (items: [Item], next: String)) async throws -> (items: [Item], next: String) {
        var token = pageToken
        var items: [Item] = []
        while true {
            let page = try await fetch(token)
            items += page.items
            guard all, !page.next.isEmpty else { return (items, page.next) }
            token = page.next
        }
    }

    /// The hint people get under a page that is not the last.
    static func more(_ next: String) -> String {
        next.isEmpty ? "" : "\nmore: --page-token \(next)"
    }
}

/// Enum flags are written as the JSON shows them: `mobile`, `fixed_line`.
enum EnumValue {
    static func parse<Value: ProtoEnum>(_ text: String, as type: Value.Type, field: String) throws(RPCError) -> Value {
        let wanted = text.lowercased().replacingOccurrences(of: "-", with: "_")
        let known = Value.allCases.filter { $0.rawValue != 0 }
        if let value = known.first(where: { Format.name($0) == wanted }) { return value }
        throw RPCError.local("'\(text)' is not one of \(known.map { Format.name($0) }.joined(separator: ", "))", field: field)
    }
}

import Foundation
import TestSupport

/// The messages of the `.proto` files, read from the files themselves (the
/// single source of truth), so a test can reach every string field of every
/// request, including fields added after the test was written.
struct ProtoSchema: Sendable {
    struct Field: Sendable {
        var name: String
        var number: UInt32
        /// The type as written: "string", "int64", a message name, or "map".
        var type: String
        var repeated: Bool
        /// Other members of the same oneof (field numbers).
        var oneofSiblings: [UInt32]
    }

    /// Messages by their full name, e.g. "phonenumbers.inventory.v1.ImportItem".
    private(set) var messages: [String: [Field]] = [:]
    /// Request message of each method, e.g. "phonenumbers.inventory.v1.Inventory/GetNumber".
    private(set) var requests: [String: String] = [:]

    /// Reads every `.proto` file under proto/.
    static func load() throws -> ProtoSchema {
        var schema = ProtoSchema()
        let root = URL(fileURLWithPath: TestPostgres.repositoryRoot).appendingPathComponent("proto")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".proto") } ?? []
        for file in files.sorted() {
            try schema.read(String(contentsOf: root.appendingPathComponent(file), encoding: .utf8))
        }
        return schema
    }

    private mutating func read(_ text: String) throws {
        let package = text.firstMatch(of: /package\s+([\w.]+);/).map { String($0.1) } ?? ""
        // Service comments name each method's request: "rpc Name(Request)" after "service X {".
        var service = ""
        for line in text.split(separator: "\n") {
            if let match = line.firstMatch(of: /service\s+(\w+)\s*\{/) { service = String(match.1) }
            for match in line.matches(of: /rpc\s+(\w+)\((\w+)\)/) {
                requests["\(package).\(service)/\(match.1)"] = "\(package).\(match.2)"
            }
        }
        // One statement or brace per line, comments dropped.
        let code = text.split(separator: "\n").map { line in line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false)[0] }
            .joined(separator: "\n")
            .replacingOccurrences(of: "{", with: "{\n").replacingOccurrences(of: "}", with: "\n}\n")
            .replacingOccurrences(of: ";", with: ";\n")
        enum Scope { case message(String), oneof([UInt32]), other }
        var scopes: [Scope] = []
        var oneofMembers: [[UInt32]] = []
        var pending: [(message: String, field: Field, oneof: Int?)] = []
        func currentMessage() -> String? {
            for scope in scopes.reversed() { if case .message(let name) = scope { return name } }
            return nil
        }
        for raw in code.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let match = line.firstMatch(of: /^message\s+(\w+)\s*\{/) {
                let name = (currentMessage() ?? package) + "." + match.1
                scopes.append(.message(name))
                messages[name] = messages[name] ?? []
            } else if line.hasPrefix("oneof ") {
                oneofMembers.append([])
                scopes.append(.oneof([UInt32(oneofMembers.count - 1)]))
            } else if line.hasSuffix("{") {
                scopes.append(.other)
            } else if line == "}" {
                _ = scopes.popLast()
            } else if case .other? = scopes.last {
                continue
            } else if let match = line.firstMatch(of: /^(repeated\s+)?(map<\s*\w+\s*,\s*\w+\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)/),
                      let message = currentMessage() {
                var oneof: Int?
                if case .oneof(let index)? = scopes.last { oneof = Int(index[0]) }
                let type = match.2.hasPrefix("map<") ? "map" : String(match.2)
                let field = Field(name: String(match.3), number: UInt32(match.4)!, type: type, repeated: match.1 != nil || type == "map",
                                  oneofSiblings: [])
                if let oneof { oneofMembers[oneof].append(field.number) }
                pending.append((message, field, oneof))
            }
        }
        for (message, field, oneof) in pending {
            var field = field
            if let oneof { field.oneofSiblings = oneofMembers[oneof].filter { $0 != field.number } }
            // A field's message type is named relative to the file's package.
            if !Self.scalars.contains(field.type) && field.type != "map" && !field.type.contains(".") {
                field.type = messages.keys.first { $0 == message + "." + field.type } ?? package + "." + field.type
            }
            messages[message, default: []].append(field)
        }
    }

    static let scalars: Set<String> = ["string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
                                       "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float"]

    /// A string field reachable from a request: its path (e.g.
    /// "items[0].provider_ids.trunk_id") and how to reach it on the wire.
    struct StringPath: Sendable, CustomStringConvertible {
        var steps: [Field]
        /// For map entries: 1 (key) or 2 (value) inside the last step.
        var mapPart: UInt32?

        var description: String {
            steps.map { $0.name + ($0.repeated && $0.type != "map" && $0 != steps.last! ? "[0]" : "") }.joined(separator: ".")
                + (mapPart.map { $0 == 1 ? "{key}" : "{value}" } ?? "")
        }

        /// The name a refusal should mention.
        var leaf: String { steps.last!.name }

        /// Names a refusal may mention instead: a map entry's problem is its owner's.
        var names: [String] {
            mapPart != nil && steps.count > 1 ? [leaf, steps[steps.count - 2].name] : [leaf]
        }
    }

    /// Every string field reachable from `message` (recursion bounded).
    func stringPaths(of message: String, depth: Int = 0) -> [StringPath] {
        guard depth < 5, let fields = messages[message] else { return [] }
        var paths: [StringPath] = []
        for field in fields {
            switch field.type {
            case "string":
                paths.append(StringPath(steps: [field]))
            case "map":
                paths.append(StringPath(steps: [field], mapPart: 1))
                paths.append(StringPath(steps: [field], mapPart: 2))
            case _ where messages[field.type] != nil:
                paths += stringPaths(of: field.type, depth: depth + 1).map { StringPath(steps: [field] + $0.steps, mapPart: $0.mapPart) }
            default:
                break
            }
        }
        return paths
    }
}

extension ProtoSchema.Field: Equatable {
    static func == (lhs: Self, rhs: Self) -> Bool { lhs.number == rhs.number && lhs.name == rhs.name }
}

/// Protobuf wire format, just enough to put any bytes into one string field
/// of an encoded message (what a typed message cannot hold: invalid UTF-8,
/// NUL), leaving the rest of the message as it was.
enum Wire {
    struct Field {
        var number: UInt32
        var wireType: UInt8
        /// A varint's or fixed value's raw bytes, or a length-delimited value's content.
        var value: [UInt8]
    }

    static func decode(_ bytes: [UInt8]) throws -> [Field] {
        var fields: [Field] = []
        var offset = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            throw ServiceProcessError("truncated varint")
        }
        while offset < bytes.count {
            let tag = try varint()
            let wireType = UInt8(tag & 7)
            let start = offset
            switch wireType {
            case 0: _ = try varint(); fields.append(Field(number: UInt32(tag >> 3), wireType: 0, value: Array(bytes[start..<offset])))
            case 1: offset += 8; fields.append(Field(number: UInt32(tag >> 3), wireType: 1, value: Array(bytes[start..<offset])))
            case 5: offset += 4; fields.append(Field(number: UInt32(tag >> 3), wireType: 5, value: Array(bytes[start..<offset])))
            case 2:
                let length = Int(try varint())
                fields.append(Field(number: UInt32(tag >> 3), wireType: 2, value: Array(bytes[offset..<(offset + length)])))
                offset += length
            default: throw ServiceProcessError("wire type \(wireType)")
            }
        }
        return fields
    }

    static func encode(_ fields: [Field]) -> [UInt8] {
        var out: [UInt8] = []
        func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 { out.append(UInt8(value & 0x7f) | 0x80); value >>= 7 }
            out.append(UInt8(value))
        }
        for field in fields {
            varint(UInt64(field.number) << 3 | UInt64(field.wireType))
            if field.wireType == 2 { varint(UInt64(field.value.count)) }
            out += field.value
        }
        return out
    }

    /// `message` with the string at `path` set to `value` (raw bytes). Along
    /// the path, the first occurrence of each message field is entered (and
    /// created if absent); the string replaces any earlier value and any other
    /// member of its oneof.
    static func setting(_ path: ProtoSchema.StringPath, to value: [UInt8], in message: [UInt8]) throws -> [UInt8] {
        try setting(path.steps[...], mapPart: path.mapPart, to: value, in: message)
    }

    private static func setting(_ steps: ArraySlice<ProtoSchema.Field>, mapPart: UInt32?, to value: [UInt8], in message: [UInt8]) throws -> [UInt8] {
        var fields = try decode(message)
        let step = steps.first!
        if steps.count == 1 && mapPart == nil {
            fields.removeAll { $0.number == step.number || step.oneofSiblings.contains($0.number) }
            fields.append(Field(number: step.number, wireType: 2, value: value))
            return encode(fields)
        }
        fields.removeAll { step.oneofSiblings.contains($0.number) }
        let inner: [UInt8]
        if steps.count == 1, let mapPart {
            // A map entry: key 1, value 2; the other part kept (or a valid default).
            let entry = fields.first { $0.number == step.number }?.value ?? encode([Field(number: 1, wireType: 2, value: Array("k".utf8)),
                                                                                   Field(number: 2, wireType: 2, value: Array("v".utf8))])
            var parts = try decode(entry).filter { $0.number != mapPart }
            parts.append(Field(number: mapPart, wireType: 2, value: value))
            inner = encode(parts.sorted { $0.number < $1.number })
        } else {
            inner = try setting(steps.dropFirst(), mapPart: mapPart, to: value,
                                in: fields.first { $0.number == step.number }?.value ?? [])
        }
        if let index = fields.firstIndex(where: { $0.number == step.number }) {
            fields[index].value = inner
        } else {
            fields.append(Field(number: step.number, wireType: 2, value: inner))
        }
        return encode(fields)
    }
}

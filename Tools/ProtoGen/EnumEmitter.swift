/// Emits an open (proto3) Swift enum for a proto enum.
struct EnumEmitter {
    /// One Swift case per distinct number; later names for the same number
    /// (`allow_alias`) become static constants.
    struct Case {
        let swiftName: String
        let number: Int32
        let protoName: String
        let sourcePath: [Int32]
    }

    /// Names the generated enum already uses for other things.
    private static let reserved: Set<String> = [
        "unrecognized", "rawValue", "allCases", "protoName", "hashValue", "hash",
    ]

    let enumeration: TypeRegistry.Enum
    let file: FileDescriptor
    let types: SwiftTypes

    func emit(into writer: inout CodeWriter) throws(GeneratorError) {
        let (cases, aliases) = try self.cases()
        let name = enumeration.simpleName
        let int32 = types.std("Int32")
        writer.doc(file.comments[enumeration.sourcePath], proto: "enum \(enumeration.fullName)")
        writer.open("public enum \(SwiftNaming.escaped(name)): ProtoEnum")
        for item in cases {
            writer.doc(file.comments[item.sourcePath], proto: "\(item.protoName) = \(item.number)")
            writer.line("case \(item.swiftName)")
        }
        writer.line("/// A value this version of the schema does not know: proto3 enums are open.")
        writer.line("case unrecognized(\(int32))")
        for alias in aliases {
            writer.line()
            writer.doc(file.comments[alias.sourcePath], proto: "\(alias.protoName) = \(alias.number) (alias)")
            let target = cases.first { $0.number == alias.number }!
            writer.line("public static let \(alias.swiftName): Self = .\(target.swiftName)")
        }
        writer.line()
        writer.line("/// The fully qualified proto name.")
        writer.line("public static let protoName = \"\(enumeration.fullName)\"")
        writer.line()
        writer.line("/// Every known value, in declaration order (never `unrecognized`).")
        writer.list("public static let allCases: [Self] = [", cases.map { "." + $0.swiftName }, "]")
        writer.line()
        writer.line("/// The case of a wire value; values not in the schema become `unrecognized`.")
        writer.open("public init(rawValue: \(int32))")
        writer.line("switch rawValue {")
        for item in cases {
            writer.line("case \(item.number): self = .\(item.swiftName)")
        }
        writer.line("default: self = .unrecognized(rawValue)")
        writer.line("}")
        writer.close()
        writer.line()
        writer.line("/// The wire value.")
        writer.open("public var rawValue: \(int32)")
        writer.line("switch self {")
        for item in cases {
            writer.line("case .\(item.swiftName): \(item.number)")
        }
        writer.line("case .unrecognized(let value): value")
        writer.line("}")
        writer.close()
        writer.line()
        writer.line("/// Equal when the wire values are: `.unrecognized(n)` equals the case for `n`.")
        writer.open("public static func == (lhs: Self, rhs: Self) -> \(types.std("Bool"))")
        writer.line("lhs.rawValue == rhs.rawValue")
        writer.close()
        writer.line()
        writer.line("/// Hashes the wire value, consistently with `==`.")
        writer.open("public func hash(into hasher: inout \(types.std("Hasher")))")
        writer.line("hasher.combine(rawValue)")
        writer.close()
        writer.close()
    }

    /// Case names: lowerCamel, without the `ENUM_NAME_` prefix when every
    /// value has it (`COLOUR_RED` in `Colour` → `red`).
    private func cases() throws(GeneratorError) -> (cases: [Case], aliases: [Case]) {
        let values = enumeration.descriptor.values
        guard !values.isEmpty else { throw GeneratorError("\(enumeration.fullName) has no values") }
        let prefix = SwiftNaming.upperSnake(enumeration.descriptor.name) + "_"
        let canStrip = values.allSatisfy { value in
            guard value.name.hasPrefix(prefix) else { return false }
            let rest = value.name.dropFirst(prefix.count)
            return rest.first.map { $0.isLetter } ?? false
        }
        var cases: [Case] = []
        var aliases: [Case] = []
        var names: Set<String> = []
        for (index, value) in values.enumerated() {
            let base = canStrip ? String(value.name.dropFirst(prefix.count)) : value.name
            let swiftName = SwiftNaming.escaped(SwiftNaming.lowerCamel(base), reserved: Self.reserved)
            guard names.insert(swiftName).inserted else {
                throw GeneratorError("\(enumeration.fullName).\(value.name): Swift name `\(swiftName)` is used twice")
            }
            let item = Case(swiftName: swiftName, number: value.number, protoName: value.name,
                            sourcePath: enumeration.sourcePath + [2, Int32(index)])
            if cases.contains(where: { $0.number == value.number }) {
                aliases.append(item)
            } else {
                cases.append(item)
            }
        }
        return (cases, aliases)
    }
}

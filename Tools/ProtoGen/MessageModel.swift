/// What a field holds, resolved against the registry.
enum ValueKind {
    case double, float, int32, int64, uint32, uint64, bool
    case string
    case bytes
    case enumeration(TypeRegistry.Enum)
    case message(TypeRegistry.Message)

    /// Scalars whose Swift and C types are the same (no conversion, arrays
    /// can be copied as they are).
    var isPlainScalar: Bool {
        switch self {
        case .double, .float, .int32, .int64, .uint32, .uint64: true
        default: false
        }
    }
}

/// A field that is not part of a (real) oneof.
struct FieldModel {
    /// How the field is stored in Swift and in C.
    enum Shape {
        /// proto3 implicit presence: scalar, string, bytes or enum, never nil.
        case implicit(ValueKind)
        /// A singular message: `T?`; `boxed` when `T` contains this message
        /// (directly or not) and so needs heap storage.
        case message(TypeRegistry.Message, boxed: Bool)
        /// proto3 `optional`: `T?`, bridged to the oneof `_name` that
        /// scripts/generate.sh substitutes for C generation; `boxed` as for
        /// `message`.
        case optional(ValueKind, cCaseMember: String, boxed: Bool)
        case repeated(ValueKind)
        case map(key: ValueKind, value: ValueKind, entry: TypeRegistry.Message)
    }

    let descriptor: FieldDescriptor
    let fullName: String
    /// Escaped, ready to declare and to use after a dot.
    let swiftName: String
    /// The C struct member, escaped for Swift.
    let cName: String
    let shape: Shape
    let sourcePath: [Int32]

    /// The C struct member holding a repeated field's count.
    var cCountName: String { "n_" + cName.filter { $0 != "`" } }
}

/// A oneof (proto3 `optional` fields' synthetic oneofs excluded).
struct OneofModel {
    /// A field of the oneof: an enum case with the value as payload.
    struct Member {
        let descriptor: FieldDescriptor
        let fullName: String
        let caseName: String
        let cName: String
        let value: ValueKind
        let sourcePath: [Int32]
    }

    let protoName: String
    let propertyName: String
    let typeName: String
    let cCaseMember: String
    let members: [Member]
    /// Whether a member's type contains this message: the enum is then
    /// `indirect`, which gives it heap storage.
    let isIndirect: Bool
    let sourcePath: [Int32]
}

/// A message ready to emit: its fields and oneofs in declaration order, and
/// its nested types (map entries excluded: they become dictionaries).
struct MessageModel {
    enum Member {
        case field(FieldModel)
        case oneof(OneofModel)
    }

    let message: TypeRegistry.Message
    let members: [Member]
    let nestedMessages: [MessageModel]
    let nestedEnums: [TypeRegistry.Enum]
}

/// Builds `MessageModel`s: resolves types, picks names, finds recursion.
struct MessageModelBuilder {
    let registry: TypeRegistry

    /// Member names of every message's Swift type that fields must not take.
    static let reservedMembers: Set<String> = [
        "protoName", "serializedBytes", "serializedSize", "serialize", "withSerialization",
        "hashValue", "hash", "with",
    ]

    func build(_ message: TypeRegistry.Message) throws(GeneratorError) -> MessageModel {
        let descriptor = message.descriptor
        if descriptor.hasExtensions {
            throw GeneratorError("\(message.fullName): extensions are not supported")
        }
        var members: [MessageModel.Member] = []
        var emittedOneofs: Set<Int> = []
        var usedMemberNames: Set<String> = []
        var usedTypeNames = Set(descriptor.nestedMessages.filter { !$0.isMapEntry }.map(\.name)
            + descriptor.enums.map(\.name))

        func claim(_ name: String, _ what: String) throws(GeneratorError) {
            guard usedMemberNames.insert(name).inserted else {
                throw GeneratorError("\(message.fullName): \(what) maps to Swift name `\(name)`, already used")
            }
        }

        for (index, field) in descriptor.fields.enumerated() {
            let fullName = message.fullName + "." + field.name
            let path = message.sourcePath + [2, Int32(index)]
            if field.label == 2 {
                throw GeneratorError("\(fullName): required fields are not supported (proto3 only)")
            }
            if let oneofIndex = field.oneofIndex, !field.isProto3Optional {
                guard emittedOneofs.insert(oneofIndex).inserted else { continue }
                let oneof = try buildOneof(oneofIndex, in: message, usedTypeNames: &usedTypeNames)
                try claim(oneof.propertyName, "oneof \(oneof.protoName)")
                members.append(.oneof(oneof))
                continue
            }
            let swiftName = SwiftNaming.escaped(SwiftNaming.lowerCamel(field.name),
                                                reserved: Self.reservedMembers)
            try claim(swiftName, "field \(field.name)")
            let shape = try self.shape(of: field, fullName: fullName, in: message)
            members.append(.field(FieldModel(
                descriptor: field, fullName: fullName, swiftName: swiftName,
                cName: SwiftNaming.cMember(CNaming.fieldName(field.name)), shape: shape, sourcePath: path)))
        }

        var nestedMessages: [MessageModel] = []
        for nested in descriptor.nestedMessages where !nested.isMapEntry {
            nestedMessages.append(try build(registry.message(message.fullName + "." + nested.name,
                                                             for: message.fullName)))
        }
        var nestedEnums: [TypeRegistry.Enum] = []
        for nested in descriptor.enums {
            nestedEnums.append(try registry.enumeration(message.fullName + "." + nested.name,
                                                        for: message.fullName))
        }
        return MessageModel(message: message, members: members,
                            nestedMessages: nestedMessages, nestedEnums: nestedEnums)
    }

    private func shape(of field: FieldDescriptor, fullName: String,
                       in message: TypeRegistry.Message) throws(GeneratorError) -> FieldModel.Shape {
        let value = try valueKind(of: field, fullName: fullName)
        if field.isRepeated {
            if case .message(let entry) = value, entry.descriptor.isMapEntry {
                let fields = entry.descriptor.fields
                guard fields.count == 2, let key = fields.first(where: { $0.number == 1 }),
                      let val = fields.first(where: { $0.number == 2 }) else {
                    throw GeneratorError("\(fullName): malformed map entry \(entry.fullName)")
                }
                return .map(key: try valueKind(of: key, fullName: fullName + ".key"),
                            value: try valueKind(of: val, fullName: fullName + ".value"),
                            entry: entry)
            }
            return .repeated(value)
        }
        if field.isProto3Optional {
            // The rewritten .proto names the oneof `_<field>`; see scripts/generate.sh.
            var boxed = false
            if case .message(let target) = value { boxed = reaches(target, message) }
            return .optional(value, cCaseMember: CNaming.oneofCaseMember("_" + field.name), boxed: boxed)
        }
        if case .message(let target) = value {
            return .message(target, boxed: reaches(target, message))
        }
        return .implicit(value)
    }

    private func buildOneof(_ index: Int, in message: TypeRegistry.Message,
                            usedTypeNames: inout Set<String>) throws(GeneratorError) -> OneofModel {
        let descriptor = message.descriptor
        guard index < descriptor.oneofNames.count else {
            throw GeneratorError("\(message.fullName): bad oneof index \(index)")
        }
        let protoName = descriptor.oneofNames[index]
        var members: [OneofModel.Member] = []
        var caseNames: Set<String> = []
        var isIndirect = false
        for (fieldIndex, field) in descriptor.fields.enumerated() where field.oneofIndex == index {
            let fullName = message.fullName + "." + field.name
            let value = try valueKind(of: field, fullName: fullName)
            if case .message(let target) = value, reaches(target, message) { isIndirect = true }
            let caseName = SwiftNaming.escaped(SwiftNaming.lowerCamel(field.name))
            guard caseNames.insert(caseName).inserted else {
                throw GeneratorError("\(fullName): case name `\(caseName)` used twice in oneof \(protoName)")
            }
            members.append(OneofModel.Member(
                descriptor: field, fullName: fullName, caseName: caseName,
                cName: SwiftNaming.cMember(CNaming.fieldName(field.name)), value: value,
                sourcePath: message.sourcePath + [2, Int32(fieldIndex)]))
        }
        // `kind` → `Kind`; should a nested type already be called that, the
        // enum becomes `KindOneof`.
        var typeName = SwiftNaming.upperCamel(protoName)
        if usedTypeNames.contains(typeName) { typeName += "Oneof" }
        guard usedTypeNames.insert(typeName).inserted else {
            throw GeneratorError("\(message.fullName): oneof \(protoName) type name `\(typeName)` is taken")
        }
        return OneofModel(
            protoName: protoName,
            propertyName: SwiftNaming.escaped(SwiftNaming.lowerCamel(protoName), reserved: Self.reservedMembers),
            typeName: SwiftNaming.escaped(typeName),
            cCaseMember: CNaming.oneofCaseMember(protoName),
            members: members, isIndirect: isIndirect,
            sourcePath: message.sourcePath + [8, Int32(index)])
    }

    func valueKind(of field: FieldDescriptor, fullName: String) throws(GeneratorError) -> ValueKind {
        switch field.kind {
        case .double: .double
        case .float: .float
        case .int32, .sint32, .sfixed32: .int32
        case .int64, .sint64, .sfixed64: .int64
        case .uint32, .fixed32: .uint32
        case .uint64, .fixed64: .uint64
        case .bool: .bool
        case .string: .string
        case .bytes: .bytes
        case .enum: .enumeration(try registry.enumeration(field.typeName, for: fullName))
        case .message: .message(try registry.message(field.typeName, for: fullName))
        case .group: throw GeneratorError("\(fullName): groups are not supported")
        }
    }

    /// Whether a value of `start` can contain a value of `target` without
    /// going through an array or dictionary (which are already indirect).
    func reaches(_ start: TypeRegistry.Message, _ target: TypeRegistry.Message) -> Bool {
        var seen: Set<String> = []
        var stack = [start]
        while let current = stack.popLast() {
            if current === target { return true }
            guard seen.insert(current.fullName).inserted else { continue }
            for field in current.descriptor.fields where field.kind == .message && !field.isRepeated {
                if let next = try? registry.message(field.typeName, for: current.fullName) {
                    stack.append(next)
                }
            }
        }
        return false
    }
}

/// Emits the public Swift struct of a message, with its nested types.
struct MessageEmitter {
    let model: MessageModel
    let types: SwiftTypes

    private var message: TypeRegistry.Message { model.message }
    private var comments: [[Int32]: String] { message.file.comments }

    func emit(into writer: inout CodeWriter) throws(GeneratorError) {
        writer.doc(comments[message.sourcePath], proto: "message \(message.fullName)")
        writer.open("public struct \(SwiftNaming.escaped(message.simpleName)): ProtoMessage")
        for member in model.members {
            switch member {
            case .field(let field): emitProperty(field, into: &writer)
            case .oneof(let oneof): emitOneofProperty(oneof, into: &writer)
            }
        }
        for member in model.members {
            if case .oneof(let oneof) = member {
                writer.line()
                emitOneofEnum(oneof, into: &writer)
            }
        }
        for enumeration in model.nestedEnums {
            writer.line()
            try EnumEmitter(enumeration: enumeration, file: message.file, types: types).emit(into: &writer)
        }
        for nested in model.nestedMessages {
            writer.line()
            try MessageEmitter(model: nested, types: types).emit(into: &writer)
        }
        writer.line()
        emitConformance(into: &writer)
        writer.close()
    }

    private func emitProperty(_ field: FieldModel, into writer: inout CodeWriter) {
        var declaration = Self.protoDeclaration(field.descriptor)
        if case .map(_, _, let entry) = field.shape {
            let parts = entry.descriptor.fields.sorted { $0.number < $1.number }.map(SwiftTypes.protoType)
            declaration = "map<\(parts.joined(separator: ", "))> \(field.descriptor.name) = \(field.descriptor.number)"
        }
        writer.doc(comments[field.sourcePath], proto: declaration)
        switch field.shape {
        case .implicit(let value):
            writer.line("public var \(field.swiftName): \(types.type(of: value)) = \(types.defaultValue(of: value))")
        case .message(let target, boxed: false):
            writer.line("public var \(field.swiftName): \(target.swiftName)? = nil")
        case .message(let target, boxed: true), .optional(.message(let target), _, boxed: true):
            // The message contains itself through this field: a struct
            // cannot, so the value lives in a (immutable, shared) box.
            let storage = Self.storageName(field)
            writer.open("public var \(field.swiftName): \(target.swiftName)?")
            writer.line("get { \(storage)?.value }")
            writer.line("set { \(storage) = newValue.map(ProtoBox.init) }")
            writer.close()
            writer.line("private var \(storage): ProtoBox<\(target.swiftName)>? = nil")
        case .optional(let value, _, _):
            writer.line("public var \(field.swiftName): \(types.type(of: value))? = nil")
        case .repeated(let value):
            writer.line("public var \(field.swiftName): [\(types.type(of: value))] = []")
        case .map(let key, let value, _):
            writer.line("public var \(field.swiftName): [\(types.type(of: key)): \(types.type(of: value))] = [:]")
        }
    }

    private func emitOneofProperty(_ oneof: OneofModel, into writer: inout CodeWriter) {
        writer.doc(comments[oneof.sourcePath], proto: "oneof \(oneof.protoName)")
        writer.line("public var \(oneof.propertyName): \(oneof.typeName)? = nil")
    }

    private func emitOneofEnum(_ oneof: OneofModel, into writer: inout CodeWriter) {
        writer.line("/// The fields of oneof `\(oneof.protoName)`: at most one is set.")
        let indirect = oneof.isIndirect ? "indirect " : ""
        writer.open("public \(indirect)enum \(oneof.typeName): \(types.std("Hashable")), \(types.std("Sendable"))")
        for member in oneof.members {
            writer.doc(comments[member.sourcePath], proto: Self.protoDeclaration(member.descriptor))
            writer.line("case \(member.caseName)(\(types.type(of: member.value)))")
        }
        writer.close()
    }

    private func emitConformance(into writer: inout CodeWriter) {
        writer.line("/// The fully qualified proto name.")
        writer.line("public static let protoName = \"\(message.fullName)\"")
        writer.line()
        writer.line("/// A message with every field at its default value.")
        writer.line("public init() {}")
        writer.line()
        writer.line("/// Decodes a message with protobuf-c; see `ProtoMessage.init(serializedBytes:)`.")
        writer.open("public init(serializedBytes bytes: \(types.std("UnsafeRawBufferPointer"))) throws(ProtoDecodingError)")
        writer.line("self = try ProtoCodec.decode(bytes)")
        writer.close()
        writer.line()
        writer.line("/// Encodes the message with protobuf-c; see `ProtoMessage.withSerialization(_:)`.")
        writer.line("public func withSerialization<Output, Failure: \(types.std("Error"))>(")
        writer.line("    _ body: (borrowing ProtoSerialization) throws(Failure) -> Output")
        writer.open(") throws(Failure) -> Output")
        writer.line("try ProtoCodec.withSerialization(of: self, body)")
        writer.close()
    }

    /// The private stored property behind a boxed field.
    static func storageName(_ field: FieldModel) -> String {
        "_" + field.swiftName.filter { $0 != "`" } + "Storage"
    }

    /// `repeated string roles = 4`, as written in the .proto (roughly).
    static func protoDeclaration(_ field: FieldDescriptor) -> String {
        let label = field.isProto3Optional ? "optional " : field.isRepeated ? "repeated " : ""
        return "\(label)\(SwiftTypes.protoType(field)) \(field.name) = \(field.number)"
    }
}

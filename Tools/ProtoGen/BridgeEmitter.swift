/// Emits the internal conformance of a message to `CMessageBridge`: the
/// conversion between the Swift struct and protobuf-c's C struct, the calls
/// into protobuf-c, and what the pre-decode wire scan must check.
struct BridgeEmitter {
    let model: MessageModel
    let types: SwiftTypes

    private var message: TypeRegistry.Message { model.message }
    private var registry: TypeRegistry { types.registry }
    private var pointer: String { types.std("UnsafePointer") }
    private var mutablePointer: String { types.std("UnsafeMutablePointer") }

    func emit(into writer: inout CodeWriter) throws(GeneratorError) {
        writer.open("extension \(message.swiftName): CMessageBridge")
        writer.line("typealias CMessage = \(message.cType)")
        writer.line()
        emitBudget(into: &writer)
        writer.line()
        try emitWireSchema(into: &writer)
        writer.line()
        emitProtobufCCalls(into: &writer)
        emitDecode(into: &writer)
        writer.line()
        emitEncode(into: &writer)
        writer.close()
        for nested in model.nestedMessages {
            writer.line()
            try BridgeEmitter(model: nested, types: types).emit(into: &writer)
        }
    }

    // MARK: Decoding limits

    /// The largest C struct protobuf-c may allocate while decoding this
    /// message: it scales the allocation budget (see `ProtoCodec`).
    private func emitBudget(into writer: inout CodeWriter) {
        var seen: [String: TypeRegistry.Message] = [:]
        var stack = [message]
        while let current = stack.popLast() {
            guard seen[current.fullName] == nil else { continue }
            seen[current.fullName] = current
            for field in current.descriptor.fields where field.kind == .message {
                if let next = try? registry.message(field.typeName, for: current.fullName) {
                    stack.append(next)
                }
            }
        }
        let sizes = seen.keys.sorted().map { "\(types.std("MemoryLayout"))<\(seen[$0]!.cType)>.size" }
        writer.line("/// The largest C struct a decode of this message can allocate.")
        writer.list("static let _largestCStruct: \(types.std("Int")) = ProtoC.largest(", sizes, ")")
    }

    /// Whether the wire scan must look inside values of `message`: it holds
    /// strings (checked for UTF-8 and NUL) or messages that are not
    /// `isTerminal` (nesting depth is checked).
    private func needsScan(_ message: TypeRegistry.Message) -> Bool {
        message.descriptor.fields.contains { field in
            if field.kind == .string { return true }
            guard field.kind == .message,
                  let target = try? registry.message(field.typeName, for: message.fullName) else { return false }
            return !isTerminal(target)
        }
    }

    /// No strings and no message fields: nothing to check, no deeper nesting.
    private func isTerminal(_ message: TypeRegistry.Message) -> Bool {
        !message.descriptor.fields.contains { $0.kind == .string || $0.kind == .message }
    }

    private func emitWireSchema(into writer: inout CodeWriter) throws(GeneratorError) {
        writer.line("/// What the wire scan checks before protobuf-c decodes this message.")
        guard needsScan(message) else {
            writer.line("static let _wireSchema: ProtoWireSchema = .opaque")
            return
        }
        writer.line("static let _wireSchema: ProtoWireSchema = ProtoWireSchema { field in")
        writer.indent()
        try emitSchemaSwitch(for: message, errorName: { message.fullName + "." + $0.name }, into: &writer)
        writer.close()
    }

    /// `switch field { case 1: return .string(...) ... }` for the fields
    /// of `message` the scan must check.
    private func emitSchemaSwitch(for message: TypeRegistry.Message, errorName: (FieldDescriptor) -> String,
                                  into writer: inout CodeWriter) throws(GeneratorError) {
        writer.line("switch field {")
        for field in message.descriptor.fields.sorted(by: { $0.number < $1.number }) {
            if field.kind == .string {
                writer.line("case \(field.number): return .string(\"\(errorName(field))\")")
                continue
            }
            guard field.kind == .message else { continue }
            let target = try registry.message(field.typeName, for: message.fullName)
            guard needsScan(target) else { continue }
            if target.descriptor.isMapEntry {
                let mapField = errorName(field)
                writer.line("case \(field.number): return .message(ProtoWireSchema { field in")
                writer.indent()
                try emitSchemaSwitch(for: target, errorName: { "\(mapField) (map \($0.name))" }, into: &writer)
                writer.close("})")
            } else {
                writer.line("case \(field.number): return .message(\(target.swiftName)._wireSchema)")
            }
        }
        writer.line("default: return nil")
        writer.line("}")
    }

    // MARK: protobuf-c entry points

    /// protoc-c declares packing functions for top-level messages only;
    /// nested ones use `CMessageBridge`'s generic defaults.
    private func emitProtobufCCalls(into writer: inout CodeWriter) {
        guard message.isTopLevel else { return }
        let lower = message.cLower
        let int = types.std("Int")
        writer.line("static func _cInit(_ c: \(mutablePointer)<CMessage>) { \(lower)__init(c) }")
        writer.line()
        writer.open("static func _cPackedSize(_ c: \(pointer)<CMessage>) -> \(int)")
        writer.line("\(lower)__get_packed_size(c)")
        writer.close()
        writer.line()
        writer.open("static func _cPack(_ c: \(pointer)<CMessage>, _ out: \(mutablePointer)<\(types.std("UInt8"))>) -> \(int)")
        writer.line("\(lower)__pack(c, out)")
        writer.close()
        writer.line()
        writer.line("static func _cUnpack(")
        writer.indent()
        writer.line("_ allocator: \(mutablePointer)<ProtobufCAllocator>, _ count: \(int), _ data: \(pointer)<\(types.std("UInt8"))>")
        writer.dedent()
        writer.open(") -> \(mutablePointer)<CMessage>?")
        writer.line("\(lower)__unpack(allocator, count, data)")
        writer.close()
        writer.line()
        writer.line("static func _cFreeUnpacked(")
        writer.line("    _ c: \(mutablePointer)<CMessage>, _ allocator: \(mutablePointer)<ProtobufCAllocator>")
        writer.open(")")
        writer.line("\(lower)__free_unpacked(c, allocator)")
        writer.close()
        writer.line()
    }

    // MARK: C → Swift

    private func emitDecode(into writer: inout CodeWriter) {
        if !message.isTopLevel {
            writer.line("static func _cInit(_ c: \(mutablePointer)<CMessage>) { \(message.cLower)__init(c) }")
            writer.line()
        }
        writer.line("/// Copies a message decoded by protobuf-c (strings already checked by the wire scan).")
        writer.open("init(_c pointer: \(pointer)<CMessage>)")
        writer.line("self.init()")
        guard !model.members.isEmpty else {
            writer.close()
            return
        }
        writer.line("let c = pointer.pointee")
        for member in model.members {
            switch member {
            case .field(let field): emitDecode(field, into: &writer)
            case .oneof(let oneof): emitDecode(oneof, into: &writer)
            }
        }
        writer.close()
    }

    private func emitDecode(_ field: FieldModel, into writer: inout CodeWriter) {
        let target = "self.\(field.swiftName)"
        let member = "c.\(field.cName)"
        switch field.shape {
        case .implicit(let value):
            writer.line("\(target) = \(types.fromC(member, value))")
        case .message(let type, _):
            writer.line("if let value = \(member) { \(target) = \(type.swiftName)(_c: value) }")
        case .optional(let value, let caseMember, _):
            writer.open("if ProtoC.enumValue(c.\(caseMember)) == \(field.descriptor.number)")
            writer.line("\(target) = \(types.fromC(member, value))")
            writer.close()
        case .repeated(let value) where value.isPlainScalar:
            writer.line("\(target) = ProtoC.array(\(member), c.\(field.cCountName))")
        case .repeated(let value):
            writer.line("\(target) = ProtoC.array(\(member), c.\(field.cCountName)) { \(types.fromC("$0", value)) }")
        case .map(let key, let value, _):
            writer.line("\(target) = ProtoC.map(\(member), c.\(field.cCountName)) { entry in")
            writer.indent()
            writer.line("(\(types.fromC("entry.key", key)), \(types.fromC("entry.value", value)))")
            writer.close()
        }
    }

    private func emitDecode(_ oneof: OneofModel, into writer: inout CodeWriter) {
        writer.line("switch ProtoC.enumValue(c.\(oneof.cCaseMember)) {")
        for member in oneof.members {
            let value = types.fromC("c.\(member.cName)", member.value)
            writer.line("case \(member.descriptor.number): self.\(oneof.propertyName) = .\(member.caseName)(\(value))")
        }
        writer.line("default: break")
        writer.line("}")
    }

    // MARK: Swift → C

    private func emitEncode(into writer: inout CodeWriter) {
        writer.line("/// Fills a C struct (already `_cInit`ed) for protobuf-c to pack; `arena` owns")
        writer.line("/// every allocation.")
        writer.open("func _fill(_ c: \(mutablePointer)<CMessage>, _ arena: ProtoArena)")
        for member in model.members {
            switch member {
            case .field(let field): emitEncode(field, into: &writer)
            case .oneof(let oneof): emitEncode(oneof, into: &writer)
            }
        }
        writer.close()
    }

    private func emitEncode(_ field: FieldModel, into writer: inout CodeWriter) {
        let source = "self.\(field.swiftName)"
        let member = "c.pointee.\(field.cName)"
        switch field.shape {
        case .implicit(let value):
            switch value {
            case .string, .bytes:
                // Left at protoc-c's default (empty) when empty: not packed.
                writer.line("if !\(source).isEmpty { \(member) = \(types.toC(source, value)) }")
            default:
                writer.line("\(member) = \(types.toC(source, value))")
            }
        case .message:
            writer.line("if let value = \(source) { \(member) = arena.message(value) }")
        case .optional(let value, let caseMember, _):
            writer.open("if let value = \(source)")
            writer.line("c.pointee.\(caseMember) = ProtoC.cEnum(\(field.descriptor.number))")
            writer.line("\(member) = \(types.toC("value", value))")
            writer.close()
        case .repeated(let value):
            writer.line("c.pointee.\(field.cCountName) = \(source).count")
            if value.isPlainScalar {
                writer.line("\(member) = arena.copy(\(source))")
            } else {
                writer.line("\(member) = arena.array(\(source)) { \(types.toC("$0", value)) }")
            }
        case .map(let key, let value, let entry):
            writer.line("c.pointee.\(field.cCountName) = \(source).count")
            writer.line("\(member) = arena.map(\(source), entry: \(entry.cLower)__init) { entry, key, value in")
            writer.indent()
            writer.line("entry.pointee.key = \(types.toC("key", key))")
            writer.line("entry.pointee.value = \(types.toC("value", value))")
            writer.close()
        }
    }

    private func emitEncode(_ oneof: OneofModel, into writer: inout CodeWriter) {
        writer.line("switch self.\(oneof.propertyName) {")
        for member in oneof.members {
            writer.line("case .\(member.caseName)(let value)?:")
            writer.line("    c.pointee.\(oneof.cCaseMember) = ProtoC.cEnum(\(member.descriptor.number))")
            writer.line("    c.pointee.\(member.cName) = \(types.toC("value", member.value))")
        }
        writer.line("case nil: break")
        writer.line("}")
    }
}

/// Spellings of Swift types and of the conversions between Swift values and
/// protobuf-c's C representation, shared by the emitters.
struct SwiftTypes {
    let registry: TypeRegistry

    /// A standard library type, qualified when a generated type shadows it.
    func std(_ name: String) -> String {
        registry.simpleNames.contains(name) ? "Swift." + name : name
    }

    func type(of value: ValueKind) -> String {
        switch value {
        case .double: std("Double")
        case .float: std("Float")
        case .int32: std("Int32")
        case .int64: std("Int64")
        case .uint32: std("UInt32")
        case .uint64: std("UInt64")
        case .bool: std("Bool")
        case .string: std("String")
        case .bytes: "[\(std("UInt8"))]"
        case .enumeration(let enumeration): enumeration.swiftName
        case .message(let message): message.swiftName
        }
    }

    /// The proto3 default of a non-optional value.
    func defaultValue(of value: ValueKind) -> String {
        switch value {
        case .double, .float, .int32, .int64, .uint32, .uint64: "0"
        case .bool: "false"
        case .string: "\"\""
        case .bytes: "[]"
        case .enumeration(let enumeration): "\(enumeration.swiftName)(rawValue: 0)"
        case .message(let message): "\(message.swiftName)()"
        }
    }

    /// C value for Swift value `expr` (`arena` must be in scope).
    func toC(_ expr: String, _ value: ValueKind) -> String {
        switch value {
        case .double, .float, .int32, .int64, .uint32, .uint64: expr
        case .bool: "(\(expr) ? 1 : 0)"
        case .string: "arena.cString(\(expr))"
        case .bytes: "arena.binary(\(expr))"
        case .enumeration: "ProtoC.cEnum(\(expr).rawValue)"
        case .message: "arena.message(\(expr))"
        }
    }

    /// Swift value for C value `expr`.
    func fromC(_ expr: String, _ value: ValueKind) -> String {
        switch value {
        case .double, .float, .int32, .int64, .uint32, .uint64: expr
        case .bool: "\(expr) != 0"
        case .string: "ProtoC.string(\(expr))"
        case .bytes: "ProtoC.bytes(\(expr))"
        case .enumeration(let enumeration): "\(enumeration.swiftName)(rawValue: ProtoC.enumValue(\(expr)))"
        case .message(let message): "ProtoC.message(\(expr), as: \(message.swiftName).self)"
        }
    }

    /// The proto spelling of a field's type, for documentation.
    static func protoType(_ field: FieldDescriptor) -> String {
        switch field.kind {
        case .message, .enum: String(field.typeName.split(separator: ".").last ?? "")
        default: "\(field.kind)"
        }
    }
}

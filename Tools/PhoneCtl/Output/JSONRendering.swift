import Foundation
import Protos

/// Any generated message as stable JSON: proto field names (snake_case),
/// sorted keys, every scalar field present (defaults included), absent
/// messages as null, enums as their snake_case value names, a set oneof as
/// the key of its chosen field, 64-bit integers as numbers. Generated messages
/// are plain structs of their fields, so reflection is enough and no
/// per-message code is needed.
enum JSONRendering {
    static func render(_ message: Any) -> String {
        let object = value(message)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return "null"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A JSON-compatible value for `any`.
    static func value(_ any: Any) -> Any {
        switch any {
        case let text as String: return text
        case let flag as Bool: return flag
        case let number as Int: return number
        case let number as Int32: return number
        case let number as Int64: return number
        case let number as UInt32: return number
        case let number as UInt64: return number
        case let number as Double: return number
        case let bytes as [UInt8]: return Data(bytes).base64EncodedString()
        case let enumeration as any ProtoEnum: return enumName(enumeration)
        default: break
        }
        let mirror = Mirror(reflecting: any)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { value($0.value) } ?? NSNull()
        case .collection, .set:
            return mirror.children.map { value($0.value) }
        case .dictionary:
            var object: [String: Any] = [:]
            for entry in mirror.children {
                let pair = Array(Mirror(reflecting: entry.value).children)
                guard pair.count == 2 else { continue }
                object["\(pair[0].value)"] = value(pair[1].value)
            }
            return object
        case .struct, .class:
            var object: [String: Any] = [:]
            for child in mirror.children {
                guard let label = child.label else { continue }
                if let (name, chosen) = oneof(child.value) {
                    object[snakeCase(name)] = value(chosen)
                } else if !isUnsetOneof(child.value) {
                    object[snakeCase(label)] = value(child.value)
                }
            }
            return object
        default:
            return "\(any)"
        }
    }

    /// The chosen case and payload of a set oneof (an enum with a payload).
    private static func oneof(_ any: Any) -> (String, Any)? {
        var mirror = Mirror(reflecting: any)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            mirror = Mirror(reflecting: wrapped)
        }
        guard mirror.displayStyle == .enum, let chosen = mirror.children.first, let label = chosen.label else { return nil }
        return (label, chosen.value)
    }

    /// An unset oneof (an optional that would hold an enum, not a message)
    /// is left out; an unset message field is null.
    private static func isUnsetOneof(_ any: Any) -> Bool {
        guard let optional = type(of: any) as? any OptionalType.Type, Mirror(reflecting: any).children.isEmpty else { return false }
        return !(optional.wrappedType is any ProtoMessage.Type)
    }

    static func enumName(_ value: any ProtoEnum) -> Any {
        let name = "\(value)"
        return name.hasPrefix("unrecognized(") ? Int(value.rawValue) : snakeCase(name)
    }

    /// `monthlyCostMicros` → `monthly_cost_micros`; digits stay attached (`e164`).
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                if !out.isEmpty { out += "_" }
                out += character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// Lets reflection ask an optional what it would hold.
private protocol OptionalType {
    static var wrappedType: Any.Type { get }
}

extension Optional: OptionalType {
    static var wrappedType: Any.Type { Wrapped.self }
}

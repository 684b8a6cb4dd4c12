/// Swift names for proto names.
enum SwiftNaming {
    /// Words that must be escaped with backticks to be used as identifiers.
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func",
        "import", "inout", "internal", "let", "open", "operator", "private",
        "precedencegroup", "protocol", "public", "rethrows", "static", "struct",
        "subscript", "typealias", "var", "break", "case", "catch", "continue", "default",
        "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat",
        "return", "throw", "switch", "where", "while", "as", "await", "false", "is",
        "nil", "super", "throws", "true", "try", "consume", "borrowing", "consuming",
        "some", "any", "Any",
    ]

    /// Words that even backticks cannot make usable as a member name (`x.self`
    /// is `x`, `T.Type` is a metatype, ...): these get a trailing underscore.
    static let unusable: Set<String> = ["self", "Self", "init", "Type", "Protocol", "_"]

    /// `call_id` → `callId`, `INVALID_ARGUMENT` → `invalidArgument`,
    /// `f_int32` → `fInt32`. Leading underscores are kept.
    static func lowerCamel(_ name: String) -> String {
        let leading = String(name.prefix { $0 == "_" })
        let parts = name.dropFirst(leading.count).split(separator: "_").map(String.init)
        guard let first = parts.first else { return name }
        var result = leading
        // A part in capitals (`ID`, `OK`) is a word, not an acronym to keep.
        result += isAllUppercase(first) ? first.lowercased() : lowercaseFirst(first)
        for part in parts.dropFirst() {
            result += isAllUppercase(part) ? capitalizeFirst(part.lowercased()) : capitalizeFirst(part)
        }
        return result
    }

    /// `rpc` → `Rpc`, `kitchen_sink` → `KitchenSink`, `v1` → `V1`.
    static func upperCamel(_ name: String) -> String {
        let camel = lowerCamel(name)
        return capitalizeFirst(String(camel.drop { $0 == "_" }))
    }

    /// `ServingStatus` → `SERVING_STATUS`, `HTTPCode` → `HTTP_CODE`.
    static func upperSnake(_ name: String) -> String {
        let chars = Array(name)
        var result = ""
        for (index, char) in chars.enumerated() {
            if char.isUppercase, index > 0 {
                let previous = chars[index - 1]
                let nextIsLower = index + 1 < chars.count && chars[index + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    result += "_"
                }
            }
            result += char.uppercased()
        }
        return result
    }

    /// A name safe to declare and to use after a dot.
    static func escaped(_ identifier: String, reserved: Set<String> = []) -> String {
        if unusable.contains(identifier) || reserved.contains(identifier) {
            return identifier + "_"
        }
        return keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// A C struct member as Swift code must spell it: C names can be Swift
    /// keywords (`in`, `self`, ...; protoc-c only renames C++ keywords).
    static func cMember(_ name: String) -> String {
        keywords.contains(name) || unusable.contains(name) ? "`\(name)`" : name
    }

    private static func isAllUppercase(_ word: String) -> Bool {
        word.contains { $0.isLetter } && !word.contains { $0.isLowercase }
    }

    private static func lowercaseFirst(_ word: String) -> String {
        word.prefix(1).lowercased() + word.dropFirst()
    }

    private static func capitalizeFirst(_ word: String) -> String {
        word.prefix(1).uppercased() + word.dropFirst()
    }
}

/// The names protoc-c gives to C declarations, reproduced exactly
/// (protoc-c/c_helpers.cc of protobuf-c 1.4): any difference would be a
/// compile error in the generated Swift, never a silent mismatch.
enum CNaming {
    /// protoc-c appends `_` to field names that are C++ keywords.
    private static let cKeywords: Set<String> = [
        "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
        "catch", "char", "class", "compl", "const", "const_cast", "continue",
        "default", "delete", "do", "double", "dynamic_cast", "else", "enum",
        "explicit", "extern", "false", "float", "for", "friend", "goto", "if",
        "inline", "int", "long", "mutable", "namespace", "new", "not", "not_eq",
        "operator", "or", "or_eq", "private", "protected", "public", "register",
        "reinterpret_cast", "return", "short", "signed", "sizeof", "static",
        "static_cast", "struct", "switch", "template", "this", "throw", "true", "try",
        "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual",
        "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
    ]

    /// `FullNameToC`: `phonenumbers.rpc.v1.Frame` → `Phonenumbers__Rpc__V1__Frame`.
    static func typeName(_ fullName: String) -> String {
        fullName.split(separator: ".").map { toCamel(String($0)) }.joined(separator: "__")
    }

    /// `FullNameToLower`: `phonenumbers.testing.v1.KitchenSink` →
    /// `phonenumbers__testing__v1__kitchen_sink` (functions and descriptors).
    static func lowerName(_ fullName: String) -> String {
        fullName.split(separator: ".").map { camelToLower(String($0)) }.joined(separator: "__")
    }

    /// `FieldName`: the struct member of a field.
    static func fieldName(_ name: String) -> String {
        let lower = name.lowercased()
        return cKeywords.contains(lower) ? lower + "_" : lower
    }

    /// The struct member holding which field of a oneof is set.
    static func oneofCaseMember(_ oneofName: String) -> String {
        lowerName(oneofName) + "_case"
    }

    private static func toCamel(_ name: String) -> String {
        var result = ""
        var nextIsUpper = true
        for char in name {
            if char == "_" {
                nextIsUpper = true
            } else if nextIsUpper {
                result += asciiUpper(char)
                nextIsUpper = false
            } else {
                result.append(char)
            }
        }
        return result
    }

    private static func camelToLower(_ name: String) -> String {
        var result = ""
        var wasUpper = true
        for char in name {
            let isUpper = char.isASCII && char.isUppercase
            if isUpper {
                if !wasUpper { result += "_" }
                result += char.lowercased()
            } else {
                result.append(char)
            }
            wasUpper = isUpper
        }
        return result
    }

    private static func asciiUpper(_ char: Character) -> String {
        char.isASCII ? char.uppercased() : String(char)
    }
}

/// Every message and enum of the descriptor set, indexed by full proto name,
/// with the Swift and C names the emitters use.
final class TypeRegistry {
    /// A message (map entries included: protoc-c gives them C structs).
    final class Message {
        let fullName: String
        let descriptor: MessageDescriptor
        let file: FileDescriptor
        /// Swift name with every enclosing type, e.g. `TestingV1.KitchenSink.Nested`.
        let swiftName: String
        /// The last component of `swiftName`.
        let simpleName: String
        /// protoc-c's struct type, e.g. `Phonenumbers__Rpc__V1__Frame`.
        let cType: String
        /// protoc-c's prefix of functions and descriptors, e.g. `phonenumbers__rpc__v1__frame`.
        let cLower: String
        /// Top-level messages get `__pack`/`__unpack`/... from protoc-c; nested
        /// ones only `__init`.
        let isTopLevel: Bool
        /// Source path of the declaration, for comments.
        let sourcePath: [Int32]

        init(fullName: String, descriptor: MessageDescriptor, file: FileDescriptor,
             swiftName: String, isTopLevel: Bool, sourcePath: [Int32]) {
            self.fullName = fullName
            self.descriptor = descriptor
            self.file = file
            self.swiftName = swiftName
            self.simpleName = String(swiftName.split(separator: ".").last!)
            self.cType = CNaming.typeName(fullName)
            self.cLower = CNaming.lowerName(fullName)
            self.isTopLevel = isTopLevel
            self.sourcePath = sourcePath
        }
    }

    /// An enum.
    final class Enum {
        let fullName: String
        let descriptor: EnumDescriptor
        let swiftName: String
        let simpleName: String
        let sourcePath: [Int32]

        init(fullName: String, descriptor: EnumDescriptor, swiftName: String, sourcePath: [Int32]) {
            self.fullName = fullName
            self.descriptor = descriptor
            self.swiftName = swiftName
            self.simpleName = String(swiftName.split(separator: ".").last!)
            self.sourcePath = sourcePath
        }
    }

    private(set) var messages: [String: Message] = [:]
    private(set) var enums: [String: Enum] = [:]
    /// Every generated type's last name component; a Swift standard type
    /// with one of these names must be spelled `Swift.X` in generated code.
    private(set) var simpleNames: Set<String> = []

    init(files: [FileDescriptor]) throws(GeneratorError) {
        for file in files {
            let namespace = Self.namespace(forPackage: file.package)
            let prefix = file.package.isEmpty ? "" : file.package + "."
            for (index, message) in file.messages.enumerated() {
                try register(message, fullName: prefix + message.name, file: file,
                             swiftParent: namespace, isTopLevel: true, path: [4, Int32(index)])
            }
            for (index, enumeration) in file.enums.enumerated() {
                try register(enumeration, fullName: prefix + enumeration.name,
                             swiftParent: namespace, path: [5, Int32(index)])
            }
        }
    }

    /// `phonenumbers.rpc.v1` → `RpcV1`: the product's common root is dropped,
    /// the rest UpperCamel-joined. Empty for a file without a package.
    static func namespace(forPackage package: String) -> String {
        var parts = package.split(separator: ".").map(String.init)
        if parts.first == "phonenumbers", parts.count > 1 { parts.removeFirst() }
        return parts.map(SwiftNaming.upperCamel).joined()
    }

    /// The message a field of type `.a.b.C` refers to.
    func message(_ typeName: String, for field: String) throws(GeneratorError) -> Message {
        guard let message = messages[String(typeName.drop { $0 == "." })] else {
            throw GeneratorError("\(field): type \(typeName) is not defined in any file given to protogen "
                + "(only files under proto/ are generated; well-known types are not supported)")
        }
        return message
    }

    /// The enum a field of type `.a.b.C` refers to.
    func enumeration(_ typeName: String, for field: String) throws(GeneratorError) -> Enum {
        guard let enumeration = enums[String(typeName.drop { $0 == "." })] else {
            throw GeneratorError("\(field): enum \(typeName) is not defined in any file given to protogen")
        }
        return enumeration
    }

    private func register(_ message: MessageDescriptor, fullName: String, file: FileDescriptor,
                          swiftParent: String, isTopLevel: Bool, path: [Int32]) throws(GeneratorError) {
        let simple = Self.typeName(message.name)
        let swiftName = swiftParent.isEmpty ? simple : swiftParent + "." + simple
        guard messages[fullName] == nil else { throw GeneratorError("\(fullName) is defined twice") }
        messages[fullName] = Message(fullName: fullName, descriptor: message, file: file,
                                     swiftName: swiftName, isTopLevel: isTopLevel, sourcePath: path)
        simpleNames.insert(simple)
        for (index, nested) in message.nestedMessages.enumerated() {
            try register(nested, fullName: fullName + "." + nested.name, file: file,
                         swiftParent: swiftName, isTopLevel: false, path: path + [3, Int32(index)])
        }
        for (index, enumeration) in message.enums.enumerated() {
            try register(enumeration, fullName: fullName + "." + enumeration.name,
                         swiftParent: swiftName, path: path + [4, Int32(index)])
        }
    }

    private func register(_ enumeration: EnumDescriptor, fullName: String,
                          swiftParent: String, path: [Int32]) throws(GeneratorError) {
        let simple = Self.typeName(enumeration.name)
        let swiftName = swiftParent.isEmpty ? simple : swiftParent + "." + simple
        guard enums[fullName] == nil else { throw GeneratorError("\(fullName) is defined twice") }
        enums[fullName] = Enum(fullName: fullName, descriptor: enumeration,
                               swiftName: swiftName, sourcePath: path)
        simpleNames.insert(simple)
    }

    /// Message and enum names are kept as written (they are UpperCamel by
    /// proto style); only names Swift cannot use get an underscore.
    private static func typeName(_ name: String) -> String {
        SwiftNaming.unusable.contains(name) || name == "Any" ? name + "_" : name
    }
}

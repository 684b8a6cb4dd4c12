// protogen: generates the Swift message types of Shared/Protos/Generated from
// a descriptor set of proto/ (written by `protoc-c --descriptor_set_out
// --include_source_info`). Run it through scripts/generate.sh.
//
//     protogen --descriptor-set <file> --output <directory>
//
// Every .proto file in the set gets one Swift file; `Namespaces.pb.swift`
// declares the package namespaces. Output is deterministic: same input,
// same bytes.
//
// Naming:
// - package `phonenumbers.rpc.v1` → namespace `public enum RpcV1 {}` (the
//   leading `phonenumbers.` dropped, the rest UpperCamel-joined); messages and
//   enums keep their proto names, nested as in the .proto
//   (`TestingV1.KitchenSink.Nested`);
// - fields → lowerCamel (`call_id` → `callId`); oneof `kind` → property `kind`
//   of enum type `Kind` (`KindOneof` if a nested type is already `Kind`);
// - enum values → lowerCamel cases without the enum's prefix when every value
//   has it (`COLOUR_RED` in `Colour` → `red`), plus `unrecognized(Int32)`;
// - Swift keywords are escaped with backticks; names even backticks cannot
//   make usable as members (`self`, `init`, `Type`, ...) and names the
//   generated code uses (`serializedSize`, `unrecognized`, ...) get a `_`.
//
// The C side follows protoc-c's own naming (Naming.swift), so a mismatch
// shows up as a compile error, never as a silent one.

import Foundation

/// Command-line options.
struct Options {
    var descriptorSet = ""
    var output = ""

    init(_ arguments: [String]) throws(GeneratorError) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--descriptor-set": descriptorSet = iterator.next() ?? ""
            case "--output": output = iterator.next() ?? ""
            default: throw GeneratorError("unknown argument \(argument)")
            }
        }
        guard !descriptorSet.isEmpty, !output.isEmpty else {
            throw GeneratorError("usage: protogen --descriptor-set <file> --output <directory>")
        }
    }
}

/// Reads the descriptor set and returns the generated files by name.
func generate(descriptorSet bytes: [UInt8]) throws(GeneratorError) -> [(name: String, text: String)] {
    let set: FileDescriptorSet
    do {
        set = try FileDescriptorSet(bytes: bytes)
    } catch {
        throw GeneratorError("cannot read the descriptor set: \(error)")
    }
    let files = set.files.sorted { $0.name < $1.name }
    let types = SwiftTypes(registry: try TypeRegistry(files: files))
    var outputs = [(name: "Namespaces.pb.swift", text: FileEmitter.namespaces(for: files))]
    for file in files {
        let emitter = FileEmitter(file: file, types: types)
        outputs.append((emitter.outputName, try emitter.emit()))
    }
    return outputs
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    guard let data = FileManager.default.contents(atPath: options.descriptorSet) else {
        throw GeneratorError("cannot read \(options.descriptorSet)")
    }
    let outputs = try generate(descriptorSet: [UInt8](data))
    let directory = URL(fileURLWithPath: options.output, isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for output in outputs {
        try Data(output.text.utf8).write(to: directory.appendingPathComponent(output.name))
    }
} catch {
    FileHandle.standardError.write(Data("protogen: \(error)\n".utf8))
    exit(1)
}

// The parts of descriptor.proto the generator reads, parsed by hand with
// `WireReader`. Field numbers are those of google/protobuf/descriptor.proto.

/// `google.protobuf.FileDescriptorSet`.
struct FileDescriptorSet {
    var files: [FileDescriptor] = []

    init(bytes: [UInt8]) throws(WireReader.Malformed) {
        var reader = WireReader(bytes)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            if field == 1, wireType == .lengthDelimited {
                var sub = try reader.readSubReader()
                files.append(try FileDescriptor(&sub))
            } else {
                try reader.skip(wireType)
            }
        }
    }
}

/// `google.protobuf.FileDescriptorProto`.
struct FileDescriptor {
    var name = ""
    var package = ""
    var dependencies: [String] = []
    var messages: [MessageDescriptor] = []
    var enums: [EnumDescriptor] = []
    var syntax = ""
    /// Comments by source path (see `SourceCodeInfo.Location.path`).
    var comments: [[Int32]: String] = [:]

    init(_ reader: inout WireReader) throws(WireReader.Malformed) {
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): name = try reader.readString()
            case (2, .lengthDelimited): package = try reader.readString()
            case (3, .lengthDelimited): dependencies.append(try reader.readString())
            case (4, .lengthDelimited):
                var sub = try reader.readSubReader()
                messages.append(try MessageDescriptor(&sub))
            case (5, .lengthDelimited):
                var sub = try reader.readSubReader()
                enums.append(try EnumDescriptor(&sub))
            case (9, .lengthDelimited):
                var sub = try reader.readSubReader()
                try Self.readSourceCodeInfo(&sub, into: &comments)
            case (12, .lengthDelimited): syntax = try reader.readString()
            default: try reader.skip(wireType)
            }
        }
    }

    /// Keeps, for each location, its leading comment (or else its trailing
    /// one): that is what becomes the `///` documentation.
    private static func readSourceCodeInfo(
        _ reader: inout WireReader, into comments: inout [[Int32]: String]
    ) throws(WireReader.Malformed) {
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            guard field == 1, wireType == .lengthDelimited else {
                try reader.skip(wireType)
                continue
            }
            var location = try reader.readSubReader()
            var path: [Int32] = []
            var leading = ""
            var trailing = ""
            while !location.isAtEnd {
                let (field, wireType) = try location.readTag()
                switch (field, wireType) {
                case (1, _): try location.readInt32s(wireType, into: &path)
                case (3, .lengthDelimited): leading = try location.readString()
                case (4, .lengthDelimited): trailing = try location.readString()
                default: try location.skip(wireType)
                }
            }
            let text = leading.isEmpty ? trailing : leading
            if !text.isEmpty { comments[path] = text }
        }
    }
}

/// `google.protobuf.DescriptorProto`.
struct MessageDescriptor {
    var name = ""
    var fields: [FieldDescriptor] = []
    var nestedMessages: [MessageDescriptor] = []
    var enums: [EnumDescriptor] = []
    var oneofNames: [String] = []
    var hasExtensions = false
    /// `MessageOptions.map_entry`: a synthetic `XxxEntry` message of a map field.
    var isMapEntry = false

    init(_ reader: inout WireReader) throws(WireReader.Malformed) {
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): name = try reader.readString()
            case (2, .lengthDelimited):
                var sub = try reader.readSubReader()
                fields.append(try FieldDescriptor(&sub))
            case (3, .lengthDelimited):
                var sub = try reader.readSubReader()
                nestedMessages.append(try MessageDescriptor(&sub))
            case (4, .lengthDelimited):
                var sub = try reader.readSubReader()
                enums.append(try EnumDescriptor(&sub))
            case (5, .lengthDelimited), (6, .lengthDelimited):
                // extension_range / extension
                hasExtensions = true
                try reader.skip(wireType)
            case (7, .lengthDelimited):
                var options = try reader.readSubReader()
                while !options.isAtEnd {
                    let (field, wireType) = try options.readTag()
                    if field == 7, wireType == .varint {
                        isMapEntry = try options.readVarint() != 0
                    } else {
                        try options.skip(wireType)
                    }
                }
            case (8, .lengthDelimited):
                var oneof = try reader.readSubReader()
                var oneofName = ""
                while !oneof.isAtEnd {
                    let (field, wireType) = try oneof.readTag()
                    if field == 1, wireType == .lengthDelimited {
                        oneofName = try oneof.readString()
                    } else {
                        try oneof.skip(wireType)
                    }
                }
                oneofNames.append(oneofName)
            default: try reader.skip(wireType)
            }
        }
    }
}

/// `google.protobuf.FieldDescriptorProto`.
struct FieldDescriptor {
    /// `FieldDescriptorProto.Type`.
    enum Kind: Int32 {
        case double = 1, float, int64, uint64, int32, fixed64, fixed32, bool, string,
             group, message, bytes, uint32, `enum`, sfixed32, sfixed64, sint32, sint64
    }

    var name = ""
    var number: Int32 = 0
    /// `FieldDescriptorProto.Label`: 1 optional, 2 required, 3 repeated.
    var label: Int32 = 1
    var kind: Kind = .int32
    /// Fully qualified with a leading dot, for messages and enums.
    var typeName = ""
    var oneofIndex: Int?
    var isProto3Optional = false
    var hasDefaultValue = false

    var isRepeated: Bool { label == 3 }

    init(_ reader: inout WireReader) throws(WireReader.Malformed) {
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): name = try reader.readString()
            case (3, .varint): number = try reader.readInt32()
            case (4, .varint): label = try reader.readInt32()
            case (5, .varint):
                let raw = try reader.readInt32()
                guard let kind = Kind(rawValue: raw) else {
                    throw WireReader.Malformed(description: "unknown field type \(raw) for \(name)")
                }
                self.kind = kind
            case (6, .lengthDelimited): typeName = try reader.readString()
            case (7, .lengthDelimited):
                hasDefaultValue = true
                try reader.skip(wireType)
            case (9, .varint): oneofIndex = Int(try reader.readInt32())
            case (17, .varint): isProto3Optional = try reader.readVarint() != 0
            default: try reader.skip(wireType)
            }
        }
    }
}

/// `google.protobuf.EnumDescriptorProto`.
struct EnumDescriptor {
    /// `google.protobuf.EnumValueDescriptorProto`.
    struct Value {
        var name = ""
        var number: Int32 = 0
    }

    var name = ""
    var values: [Value] = []

    init(_ reader: inout WireReader) throws(WireReader.Malformed) {
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readTag()
            switch (field, wireType) {
            case (1, .lengthDelimited): name = try reader.readString()
            case (2, .lengthDelimited):
                var sub = try reader.readSubReader()
                var value = Value()
                while !sub.isAtEnd {
                    let (field, wireType) = try sub.readTag()
                    switch (field, wireType) {
                    case (1, .lengthDelimited): value.name = try sub.readString()
                    case (2, .varint): value.number = try sub.readInt32()
                    default: try sub.skip(wireType)
                    }
                }
                values.append(value)
            default: try reader.skip(wireType)
            }
        }
    }
}

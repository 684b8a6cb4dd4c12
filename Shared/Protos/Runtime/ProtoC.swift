internal import CProtobufC

/// Helpers of the generated code for reading protobuf-c's C structs (and
/// for the enum conversions both ways).
enum ProtoC {
    /// A C string as a `String`; NULL is the empty string. The wire scan has
    /// already checked that the bytes are UTF-8 without NUL.
    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    /// Bytes as an array.
    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let pointer = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: data.len))
    }

    /// A sub-message; NULL (which protobuf-c does not produce for a set field)
    /// is the default message.
    static func message<M: CMessageBridge>(_ pointer: UnsafeMutablePointer<M.CMessage>?, as _: M.Type) -> M {
        guard let pointer else { return M() }
        return M(_c: pointer)
    }

    /// A C array used as it is (numbers).
    static func array<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int) -> [T] {
        guard count > 0, let pointer else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    /// A C array converted element by element.
    static func array<T, Value>(
        _ pointer: UnsafeMutablePointer<T>?, _ count: Int, _ convert: (T) -> Value
    ) -> [Value] {
        guard count > 0, let pointer else { return [] }
        return UnsafeBufferPointer(start: pointer, count: count).map(convert)
    }

    /// A C array of map entries as a dictionary; a repeated key keeps its
    /// last value, as protobuf requires.
    static func map<Entry, Key: Hashable, Value>(
        _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?, _ count: Int,
        _ convert: (Entry) -> (Key, Value)
    ) -> [Key: Value] {
        guard count > 0, let pointer else { return [:] }
        var map: [Key: Value] = [:]
        map.reserveCapacity(count)
        for entry in UnsafeBufferPointer(start: pointer, count: count) {
            guard let entry else { continue }
            let (key, value) = convert(entry.pointee)
            map[key] = value
        }
        return map
    }

    /// A Swift enum's wire value as protoc-c's C enum (whose raw type is
    /// `int` or `unsigned int`, depending on its values).
    static func cEnum<CEnum: RawRepresentable>(_ value: Int32) -> CEnum where CEnum.RawValue: FixedWidthInteger {
        CEnum(rawValue: CEnum.RawValue(truncatingIfNeeded: value))!
    }

    /// A C enum's wire value.
    static func enumValue<CEnum: RawRepresentable>(_ value: CEnum) -> Int32 where CEnum.RawValue: FixedWidthInteger {
        Int32(truncatingIfNeeded: value.rawValue)
    }

    /// The largest of some sizes.
    static func largest(_ sizes: Int...) -> Int {
        sizes.max() ?? 0
    }
}

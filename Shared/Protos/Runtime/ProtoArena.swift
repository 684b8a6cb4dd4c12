internal import CProtobufC

/// Owns the memory of one message converted for protobuf-c (structs,
/// arrays, NUL-terminated strings, bytes) and frees it all at once.
///
/// A bump allocator over blocks: conversion makes many small allocations
/// that all die together right after packing.
final class ProtoArena {
    private var blocks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var available = 0
    private var nextBlockSize = 1024

    /// Frees every allocation. The arena can be used again afterwards.
    func releaseAll() {
        for block in blocks { block.deallocate() }
        blocks.removeAll()
        cursor = nil
        available = 0
    }

    deinit {
        releaseAll()
    }

    /// Uninitialized memory for `count` values of `T`.
    func allocate<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let alignment = max(MemoryLayout<T>.alignment, 8)
        let byteCount = max(MemoryLayout<T>.stride * count, 1)
        return allocateBytes(byteCount, alignment: alignment).bindMemory(to: T.self, capacity: count)
    }

    private func allocateBytes(_ byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let cursor {
            let padding = (alignment - Int(bitPattern: cursor) % alignment) % alignment
            if padding + byteCount <= available {
                self.cursor = cursor + padding + byteCount
                available -= padding + byteCount
                return cursor + padding
            }
        }
        // Big allocations get a block of their own, so a large `bytes`
        // field does not waste the rest of the current block.
        if byteCount > nextBlockSize / 4 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: max(alignment, 16))
            blocks.append(block)
            return block
        }
        let block = UnsafeMutableRawPointer.allocate(byteCount: nextBlockSize, alignment: 16)
        blocks.append(block)
        cursor = block + byteCount
        available = nextBlockSize - byteCount
        nextBlockSize = min(nextBlockSize * 2, 64 * 1024)
        return block
    }

    // MARK: Values

    /// A NUL-terminated copy of `string`. protobuf-c measures strings with
    /// `strlen`, so a NUL inside would cut the string short: each one is
    /// replaced by U+FFFD instead (documented on `ProtoMessage`).
    func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var contiguous = string
        let copy = contiguous.withUTF8 { utf8 -> UnsafeMutablePointer<CChar>? in
            if utf8.contains(0) { return nil }
            let pointer = allocate(CChar.self, count: utf8.count + 1)
            if let base = utf8.baseAddress {
                UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: utf8.count)
            }
            pointer[utf8.count] = 0
            return pointer
        }
        if let copy { return copy }
        return cString(String(String.UnicodeScalarView(
            string.unicodeScalars.map { $0 == "\0" ? "\u{FFFD}" : $0 })))
    }

    /// A copy of `bytes` (no allocation when empty).
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let pointer = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: pointer)
    }

    /// `message` converted to its C struct.
    func message<M: CMessageBridge>(_ message: M) -> UnsafeMutablePointer<M.CMessage> {
        let pointer = allocate(M.CMessage.self, count: 1)
        M._cInit(pointer)
        message._fill(pointer, self)
        return pointer
    }

    // MARK: Repeated fields and maps

    /// A copy of an array whose elements C uses as they are (numbers).
    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = allocate(T.self, count: values.count)
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: values.count) }
        return pointer
    }

    /// The C array of `values` converted by `convert`.
    func array<Value, CValue>(_ values: [Value], _ convert: (Value) -> CValue) -> UnsafeMutablePointer<CValue>? {
        guard !values.isEmpty else { return nil }
        let pointer = allocate(CValue.self, count: values.count)
        for (index, value) in values.enumerated() {
            (pointer + index).initialize(to: convert(value))
        }
        return pointer
    }

    /// The C array of map entries of `map`, in key order (so that equal maps
    /// encode to equal bytes). Each entry is `initialize`d (protoc-c's
    /// `__init` of the entry message), then `fill`ed.
    func map<Key: ProtoMapKey, Value, Entry>(
        _ map: [Key: Value],
        entry initialize: (UnsafeMutablePointer<Entry>?) -> Void,
        _ fill: (UnsafeMutablePointer<Entry>, Key, Value) -> Void
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>? {
        guard !map.isEmpty else { return nil }
        let entries = allocate(UnsafeMutablePointer<Entry>?.self, count: map.count)
        for (index, element) in map.sorted(by: { Key.protoPrecedes($0.key, $1.key) }).enumerated() {
            let entry = allocate(Entry.self, count: 1)
            initialize(entry)
            fill(entry, element.key, element.value)
            (entries + index).initialize(to: entry)
        }
        return entries
    }
}

/// The key types proto maps allow, with the order their entries are encoded in.
protocol ProtoMapKey: Hashable {
    static func protoPrecedes(_ lhs: Self, _ rhs: Self) -> Bool
}

extension ProtoMapKey where Self: Comparable {
    static func protoPrecedes(_ lhs: Self, _ rhs: Self) -> Bool { lhs < rhs }
}

extension String: ProtoMapKey {}
extension Int32: ProtoMapKey {}
extension Int64: ProtoMapKey {}
extension UInt32: ProtoMapKey {}
extension UInt64: ProtoMapKey {}

extension Bool: ProtoMapKey {
    static func protoPrecedes(_ lhs: Bool, _ rhs: Bool) -> Bool { !lhs && rhs }
}

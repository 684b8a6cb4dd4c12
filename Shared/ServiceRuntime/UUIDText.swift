#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension UUID {
    /// What `uuidString.lowercased()` gives, in one allocation and without
    /// its formatted printing and Unicode case mapping: services write ids
    /// on every answer, and thousands per import.
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeLowercasedText(to: UnsafeMutableRawBufferPointer(out))
            return 36
        }
    }

    /// Writes the 36 bytes of `lowercasedString` at the start of `out` (which
    /// has room for them), for writers that want them in a buffer of their
    /// own rather than as a String. Lookup writes one on every answer.
    public func writeLowercasedText(to out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 36, "a UUID's text takes 36 bytes")
        withUnsafeBytes(of: uuid) { bytes in
            var at = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: at, as: UInt8.self)
                    at += 1
                }
                let byte = bytes[index]
                out.storeBytes(of: lowercaseHexDigit(byte >> 4), toByteOffset: at, as: UInt8.self)
                out.storeBytes(of: lowercaseHexDigit(byte & 0x0f), toByteOffset: at + 1, as: UInt8.self)
                at += 2
            }
        }
    }
}

/// The lower-case ASCII hexadecimal digit for `value` (0...15).
public func lowercaseHexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
}

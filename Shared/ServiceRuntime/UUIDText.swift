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
            var count = 0
            forEachLowercasedTextByte { byte in
                out[count] = byte
                count += 1
            }
            return count
        }
    }

    /// The 36 bytes of `lowercasedString`, one by one, for writers that
    /// want them in a buffer of their own rather than as a String.
    public func forEachLowercasedTextByte(_ body: (UInt8) -> Void) {
        withUnsafeBytes(of: uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { body(UInt8(ascii: "-")) }
                body(lowercaseHexDigit(byte >> 4))
                body(lowercaseHexDigit(byte & 0x0f))
            }
        }
    }
}

/// The lower-case ASCII hexadecimal digit for `value` (0...15).
public func lowercaseHexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
}

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
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var count = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[count] = UInt8(ascii: "-")
                        count += 1
                    }
                    out[count] = lowercaseHexDigit(byte >> 4)
                    out[count + 1] = lowercaseHexDigit(byte & 0x0f)
                    count += 2
                }
                return count
            }
        }
    }
}

/// The lower-case ASCII hexadecimal digit for `value` (0...15).
public func lowercaseHexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
}

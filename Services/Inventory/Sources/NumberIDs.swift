import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Number ids are random UUIDs, written in lower case; an import makes and
/// writes thousands per call, so both are done without Foundation's per-id costs.
extension UUID {
    /// `count` random (version 4) UUIDs from one request for random bytes.
    /// `UUID()` opens and reads the system's random device for every id.
    static func random(count: Int) -> [UUID] {
        var bytes = [UInt8](repeating: 0, count: count * 16)
        bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { arc4random_buf(base, $0.count) } }
        return (0..<count).map { index in
            var uuid = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 16, as: uuid_t.self) }
            uuid.6 = uuid.6 & 0x0f | 0x40  // version 4
            uuid.8 = uuid.8 & 0x3f | 0x80  // RFC 4122 variant
            return UUID(uuid: uuid)
        }
    }

    /// What `uuidString.lowercased()` gives, without its formatted printing
    /// and Unicode case mapping.
    var lowercasedString: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var count = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[count] = UInt8(ascii: "-")
                        count += 1
                    }
                    out[count] = hexDigit(byte >> 4)
                    out[count + 1] = hexDigit(byte & 0x0f)
                    count += 2
                }
                return count
            }
        }
    }
}

/// The lower-case ASCII hexadecimal digit for `value` (0...15).
func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
}

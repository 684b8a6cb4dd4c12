import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Number ids are random UUIDs; an import makes thousands per call, so they
/// are made without Foundation's per-id costs (and written with
/// `lowercasedString`).
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
}

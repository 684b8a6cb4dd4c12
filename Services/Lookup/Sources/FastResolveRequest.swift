import Foundation
import Protos

/// A `ResolveRequest` read in place for Resolve's fast path: nil unless the
/// general path would decode it to the same request without an error, and
/// its number is read without libphonenumber (`NumberInput.key(bytes:regionHint:)`).
/// Any field it does not know, or of the wrong wire type, leaves the request
/// to the general path.
struct FastResolveRequest {
    var key: E164Key
    /// nil: now.
    var instant: Date?
    var withCredentials = false
    var minToken: LookupV1.ConsistencyToken?

    init?(_ payload: UnsafeRawBufferPointer) {
        var fields = ProtoFieldReader(payload)
        var number: UnsafeRawBufferPointer?
        var regionHint = UnsafeRawBufferPointer(start: nil, count: 0)
        var micros: Int64 = 0
        while let field = fields.next() {
            // As every protobuf decoder, the last of a repeated scalar field wins.
            switch (field.number, field.value) {
            case (1, .bytes(let bytes)): number = bytes
            case (2, .bytes(let bytes)): regionHint = bytes
            case (3, .varint(let value)): micros = Int64(bitPattern: value)
            case (4, .varint(let value)): withCredentials = value != 0
            case (5, .bytes(let bytes)):
                guard minToken == nil, let token = Self.token(bytes) else { return nil }
                minToken = token
            default: return nil
            }
        }
        guard !fields.isMalformed, let number, micros >= 0,
              let key = NumberInput.key(bytes: number, regionHint: regionHint) else { return nil }
        self.key = key
        instant = micros == 0 ? nil : Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// A `ConsistencyToken` of its two positions only.
    private static func token(_ bytes: UnsafeRawBufferPointer) -> LookupV1.ConsistencyToken? {
        var fields = ProtoFieldReader(bytes)
        var token = LookupV1.ConsistencyToken()
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .varint(let value)): token.inventory = value
            case (2, .varint(let value)): token.assignment = value
            default: return nil
            }
        }
        return fields.isMalformed ? nil : token
    }
}

import Protos

/// The parts of a request frame that a fast path needs, read in place from
/// the frame's bytes. Anything else — another kind of frame, a field the
/// envelope does not define, malformed bytes, metadata that is not text —
/// gives nil, and the general path decodes the frame and answers as usual.
struct RawRequest {
    var callID: UInt64 = 0
    var method = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The `authorization` metadata value, unchecked: it is only ever compared
    /// with a token already verified (and so known to be text).
    var authorization: UnsafeRawBufferPointer?
    var payload = UnsafeRawBufferPointer(start: nil, count: 0)

    init?(frame: UnsafeRawBufferPointer) {
        var fields = ProtoFieldReader(frame)
        var request: UnsafeRawBufferPointer?
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .varint(let id)): callID = id
            // A repeated message field would merge: the general path's to do.
            case (2, .bytes(let bytes)) where request == nil: request = bytes
            default: return nil
            }
        }
        guard !fields.isMalformed, let request else { return nil }
        fields = ProtoFieldReader(request)
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .bytes(let bytes)): method = bytes
            case (2, .bytes(let entry)): guard readMetadata(entry) else { return nil }
            case (3, .varint): break  // the deadline: a fast path answers at once
            case (4, .bytes(let bytes)): payload = bytes
            default: return nil
            }
        }
        guard !fields.isMalformed else { return nil }
    }

    private static let authorizationKey = Array(MetadataKey.authorization.utf8)

    /// One map entry; false when it is not a key and value of text.
    private mutating func readMetadata(_ entry: UnsafeRawBufferPointer) -> Bool {
        var fields = ProtoFieldReader(entry)
        var key = UnsafeRawBufferPointer(start: nil, count: 0), value = key
        while let field = fields.next() {
            switch (field.number, field.value) {
            case (1, .bytes(let bytes)): key = bytes
            case (2, .bytes(let bytes)): value = bytes
            default: return false
            }
        }
        guard !fields.isMalformed, ProtoFieldReader.isValidText(key) else { return false }
        if key.matches(Self.authorizationKey) {
            authorization = value
            return true
        }
        return ProtoFieldReader.isValidText(value)
    }
}

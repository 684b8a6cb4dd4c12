extension PhoneNumber {
    /// Whether `text` has the shape of E.164: `+`, then 8 to 15 ASCII digits,
    /// the first not zero.
    ///
    /// This is a cheap shape check in pure Swift, not validation: it never
    /// calls libphonenumber, so `"+19999999999"` passes although no such
    /// number exists. Hot paths use it to skip parsing for input that is
    /// already canonical (a well-formed E.164 string is its own key) and fall
    /// back to ``init(parsing:defaultRegion:requireDefaultRegion:)`` for
    /// everything else. A few real but very short numbers (7 digits, e.g. in
    /// Niue) fail the check and simply take the slow path.
    @inlinable
    public static func isPlausibleE164(_ text: String) -> Bool {
        isPlausibleE164(utf8: text.utf8)
    }

    /// Substring overload of ``isPlausibleE164(_:)``, so slices of
    /// a request need not be copied into a `String` first.
    @inlinable
    public static func isPlausibleE164(_ text: Substring) -> Bool {
        isPlausibleE164(utf8: text.utf8)
    }

    /// ``isPlausibleE164(_:)`` on raw UTF-8 bytes, for callers that
    /// hold bytes straight off the wire.
    @inlinable
    public static func isPlausibleE164<Bytes: Collection<UInt8>>(utf8 bytes: Bytes) -> Bool {
        var iterator = bytes.makeIterator()
        guard iterator.next() == UInt8(ascii: "+") else { return false }
        guard let first = iterator.next(), first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else {
            return false
        }
        var digits = 1
        while let byte = iterator.next() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
            digits += 1
            if digits > 15 { return false }
        }
        return digits >= 8
    }
}

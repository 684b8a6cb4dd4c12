extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes (to search answers and rows for
    /// data that must not be there).
    public func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}

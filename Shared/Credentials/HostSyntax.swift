/// A plausibility check for SIP hosts: `host`, `host:port`, `1.2.3.4[:port]`, `[v6][:port]` or a
/// bare IPv6 address. It catches typos and pasted URLs; it does not resolve anything.
enum HostSyntax {
    static func isPlausibleHost(_ text: String) -> Bool {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return false }
        let bytes = ArraySlice(text.utf8)
        let colon = UInt8(ascii: ":")
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let rest = bytes[(close + 1)...]
            guard isIPv6(bytes[(bytes.startIndex + 1)..<close]) else { return false }
            return rest.isEmpty || (rest.first == colon && isPort(rest.dropFirst()))
        }
        let colons = bytes.count(where: { $0 == colon })
        if colons >= 2 { return isIPv6(bytes) }
        var host = bytes
        if let index = bytes.firstIndex(of: colon) {
            guard isPort(bytes[(index + 1)...]) else { return false }
            host = bytes[..<index]
        }
        return isIPv4(host) || isHostname(host)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isPort(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard (1...5).contains(bytes.count), bytes.allSatisfy(isDigit), let port = Int(String(decoding: bytes, as: UTF8.self)) else { return false }
        return (1...65535).contains(port)
    }

    /// Dotted quad without leading zeros (which some parsers read as octal).
    private static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(isDigit), let value = Int(String(decoding: part, as: UTF8.self)) else { return false }
            return value <= 255 && (part.count == 1 || part.first != UInt8(ascii: "0"))
        }
    }

    /// RFC 1123 labels; an all-numeric last label is an IPv4 typo, not a hostname.
    private static func isHostname(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard (1...253).contains(bytes.count) else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let hyphen = UInt8(ascii: "-")
        let labelsOK = labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != hyphen && label.last != hyphen
                && label.allSatisfy { isDigit($0) || isLetter($0) || $0 == hyphen }
        }
        guard labelsOK, let last = labels.last else { return false }
        return !last.allSatisfy(isDigit)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// RFC 4291 text form: up to eight 16-bit hex groups, at most one `::`, optional IPv4 tail.
    /// Zone ids (`%eth0`) are refused: they mean nothing off the host that wrote them.
    private static func isIPv6(_ input: ArraySlice<UInt8>) -> Bool {
        let colon = UInt8(ascii: ":")
        var text = Array(input)
        var tailGroups = 0
        if let lastColon = text.lastIndex(of: colon), text[(lastColon + 1)...].contains(UInt8(ascii: ".")) {
            guard isIPv4(text[(lastColon + 1)...]) else { return false }
            text.removeSubrange((lastColon + 1)...)
            text.append(UInt8(ascii: "0"))  // stand-in group so the split below stays simple
            tailGroups = 1  // an IPv4 tail is two groups; the stand-in counts as one
        }
        func groups(_ part: ArraySlice<UInt8>) -> Int? {
            if part.isEmpty { return 0 }
            let pieces = part.split(separator: colon, omittingEmptySubsequences: false)
            guard pieces.allSatisfy({ (1...4).contains($0.count) && $0.allSatisfy(isHexDigit) }) else { return nil }
            return pieces.count
        }
        let doubleColon = text.indices.dropLast().first { text[$0] == colon && text[$0 + 1] == colon }
        if let split = doubleColon {
            guard let left = groups(text[..<split]), let right = groups(text[(split + 2)...]) else { return false }
            return left + right + tailGroups <= 7
        }
        return groups(text[...]).map { $0 + tailGroups == 8 } ?? false
    }
}

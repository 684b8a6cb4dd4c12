/// Accumulates indented Swift source.
struct CodeWriter {
    private(set) var text = ""
    private var depth = 0

    /// Appends one line at the current indentation (blank lines stay empty).
    mutating func line(_ content: String = "") {
        text += content.isEmpty ? "\n" : String(repeating: "    ", count: depth) + content + "\n"
    }

    /// Appends `header {` and indents what follows until `close()`.
    mutating func open(_ header: String) {
        line(header + " {")
        depth += 1
    }

    /// Appends `opening` + comma-separated `items` + `closing`, on one line
    /// if it fits in 110 columns, else one item per line.
    mutating func list(_ opening: String, _ items: [String], _ closing: String) {
        let single = opening + items.joined(separator: ", ") + closing
        if String(repeating: "    ", count: depth).count + single.count <= 110 || items.isEmpty {
            line(single)
            return
        }
        line(opening)
        depth += 1
        for (index, item) in items.enumerated() {
            line(item + (index == items.count - 1 ? "" : ","))
        }
        depth -= 1
        line(closing)
    }

    /// Indents what follows (for headers `open` cannot express).
    mutating func indent() { depth += 1 }

    /// Undoes one `indent()`.
    mutating func dedent() { depth -= 1 }

    /// Ends the innermost `open`.
    mutating func close(_ trailer: String = "}") {
        depth -= 1
        line(trailer)
    }

    /// Appends `///` documentation: the .proto comment if there is one, then
    /// a line naming the proto declaration it came from.
    mutating func doc(_ comment: String?, proto: String) {
        let lines = Self.commentLines(comment)
        for text in lines {
            line(text.isEmpty ? "///" : "/// " + text)
        }
        if !lines.isEmpty { line("///") }
        line("/// Proto: `\(proto)`")
    }

    /// Comment lines as protoc reports them (each still starting with the
    /// space after `//`), trimmed and without leading or trailing blank lines.
    static func commentLines(_ comment: String?) -> [String] {
        guard let comment else { return [] }
        var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map { raw in
            var text = Substring(raw)
            if text.first == " " { text = text.dropFirst() }
            while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
            return String(text)
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}

import Foundation

/// Aligned columns for people; `--json` is the form for scripts.
struct Table {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) {
        self.header = header
    }

    mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    func render(empty: String = "(none)") -> String {
        guard !rows.isEmpty else { return empty }
        let all = [header.map { $0.uppercased() }] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// One record as `name  value` lines, names aligned.
struct Fields {
    private var pairs: [(String, String)] = []

    init(_ pairs: [(String, String)] = []) {
        self.pairs = pairs
    }

    mutating func add(_ name: String, _ value: String) {
        pairs.append((name, value))
    }

    func render() -> String {
        let width = pairs.map(\.0.count).max() ?? 0
        return pairs.map { name, value in
            (name + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0) + "  " + value
        }.joined(separator: "\n")
    }
}

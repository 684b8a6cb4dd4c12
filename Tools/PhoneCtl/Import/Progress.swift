import Foundation

/// Import progress on stderr: a bar redrawn in place on a terminal, plain
/// lines otherwise (logs, CI), so stdout holds only the report.
final class Progress {
    private let total: Int
    private var done: Int
    private let isTerminal = Console.stderrIsTerminal
    private var drawn = false

    init(total: Int, alreadyDone: Int) {
        self.total = total
        self.done = alreadyDone
    }

    func advance(by rows: Int, report: ImportReport) {
        done += rows
        let counts = "created \(report.created), already present \(report.alreadyPresent), rejected \(report.rejected)"
        if isTerminal {
            let width = 30
            let filled = total == 0 ? width : width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            drawn = true
            FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) rows  \(counts)\u{1B}[K".utf8))
        } else {
            Console.error("import: \(done)/\(total) rows  \(counts)")
        }
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

import ArgumentParser
import Crypto
import Foundation
import NIOCore
import Protos
import RPC

/// `phonectl import numbers.csv` (also `phonectl numbers import`).
struct ImportCommand: ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import numbers from a CSV file into inventory, in batches.",
        discussion: """
            The first row names the columns, as the fields of the ImportItem message (any order, any case):
            \(ImportColumns.known.map { "  \($0.name): \($0.meaning)" }.joined(separator: "\n"))

            Fields may be quoted ("Acme, Inc."), with "" for a quote inside. Rows that cannot be read \
            (bad quoting, a bad boolean, the wrong number of fields) are reported and not sent. Every \
            rejected row is reported with its line number, the field and the reason. Importing the same \
            file again is safe: numbers already in inventory with the same data count as already present.

            Each batch carries an idempotency key derived from its rows and this run (or --idempotency-key, \
            to make a whole re-run replay the first run's answers), so a batch retried after a lost \
            connection is never applied twice.

            Exit status: 0 when every row was imported or already present, 2 when some rows were rejected, \
            1 when a call failed. \(inventoryWriters)
            """)

    @Argument(help: "The CSV file; - reads stdin.") var file: String
    @Option(help: "Rows per ImportNumbers call (1-5000).") var batchSize = 500
    @Option(help: ArgumentHelp("ISO region assumed for numbers in national form, unless a row's region_hint says otherwise.", valueName: "region"))
    var regionHint = ""
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard (1...5000).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 5000") }
    }

    func execute(_ session: Session) async throws {
        let text = try InputFile.text(file)
        var records = CSV.parse(text)
        guard !records.isEmpty, case .success(let header) = records.removeFirst() else {
            throw RPCError.local("\(file) has no header row", field: "header")
        }
        let columns = try ImportColumns(header: header.fields)

        var report = ImportReport()
        var rows: [(line: Int, item: InventoryV1.ImportItem)] = []
        for record in records {
            switch record {
            case .failure(let problem):
                report.reject(line: problem.line, number: "", field: "row", reason: problem.reason)
            case .success(let row):
                do {
                    rows.append((row.line, try columns.item(row.fields, defaultRegionHint: regionHint)))
                } catch {
                    report.reject(line: row.line, number: row.fields.first ?? "", field: error.field, reason: error.reason)
                }
            }
        }

        let run = mutation.idempotencyKey ?? UUID().uuidString
        let progress = Progress(total: rows.count + report.rejected, alreadyDone: report.rejected)
        for start in stride(from: 0, to: rows.count, by: batchSize) {
            let batch = Array(rows[start..<min(start + batchSize, rows.count)])
            var request = InventoryV1.ImportNumbersRequest()
            request.items = batch.map(\.item)
            let response: InventoryV1.ImportNumbersResponse
            do {
                response = try await session.call(.inventory, "ImportNumbers", request, as: InventoryV1.ImportNumbersResponse.self,
                                                  idempotencyKey: BatchKey.make(run: run, request: request),
                                                  timeout: .seconds(max(60, Int64(options.connection.timeout))))
            } catch {
                progress.finish()
                throw RPCError(error.code, "\(error.message) (lines \(batch[0].line)-\(batch[batch.count - 1].line); earlier batches were imported)",
                               fieldViolations: error.fieldViolations)
            }
            report.add(response, lines: batch.map(\.line), numbers: batch.map(\.item.number))
            progress.advance(by: batch.count, report: report)
        }
        progress.finish()
        options.emit(report) { report.human() }
        if report.rejected > 0 { throw ExitCode(2) }
    }
}

/// Idempotency keys for import batches: a digest of the run and the batch's
/// request, so a retried batch repeats its key and any other batch differs.
enum BatchKey {
    static func make(run: String, request: InventoryV1.ImportNumbersRequest) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(run.utf8) + [0])
        hasher.update(data: request.serializedBytes())
        return "import-" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// What an import did, row by row; rendered as JSON with --json.
struct ImportReport {
    struct Rejection {
        var line: Int
        var number: String
        var field: String
        var reason: String
    }

    var created = 0
    var alreadyPresent = 0
    var rejected = 0
    var rejections: [Rejection] = []
    /// Inventory's position after the last batch (for lookup's min-token).
    var consistencyToken: UInt64 = 0

    mutating func reject(line: Int, number: String, field: String, reason: String) {
        rejections.append(Rejection(line: line, number: number, field: field, reason: reason))
        rejected += 1
    }

    mutating func add(_ response: InventoryV1.ImportNumbersResponse, lines: [Int], numbers: [String]) {
        for result in response.results {
            let index = Int(result.index)
            guard lines.indices.contains(index) else { continue }
            switch result.outcome {
            case .created: created += 1
            case .alreadyPresent: alreadyPresent += 1
            default:
                // The service names items by their index in the batch; people want lines.
                var reason = result.reason
                for (item, line) in lines.enumerated() { reason = reason.replacingOccurrences(of: "(item \(item))", with: "(line \(line))") }
                reject(line: lines[index], number: numbers[index], field: result.field, reason: reason)
            }
        }
        consistencyToken = max(consistencyToken, response.consistencyToken)
    }

    func human() -> String {
        var text = "created \(created), already present \(alreadyPresent), rejected \(rejected)"
        if !rejections.isEmpty {
            var table = Table("line", "number", "field", "reason")
            for rejection in rejections.sorted(by: { $0.line < $1.line }) {
                table.add(String(rejection.line), Format.text(rejection.number), rejection.field, rejection.reason)
            }
            text += "\n\n" + table.render()
        }
        return text + "\n" + Format.token(consistencyToken)
    }
}

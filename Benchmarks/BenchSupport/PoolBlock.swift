public import Protos
public import RPC

/// A block of 10,000 valid US numbers (+1 AAA NXX 0000 upwards) chosen at
/// random and used only if the catalogue has no number of it yet, so numbers a
/// benchmark imports are new and a prefix filter sees nothing else.
public struct PoolBlock: Sendable {
    /// Digits after "+" common to the block, e.g. "1510482".
    public let digits: String

    static let areaCodes = ["510", "707", "925", "408"]
    public static let capacity = 10_000
    static let importMethod = "phonenumbers.inventory.v1.Inventory/ImportNumbers"
    static let listMethod = "phonenumbers.inventory.v1.Inventory/ListNumbers"

    public static func random() -> PoolBlock {
        while true {
            let exchange = Int.random(in: 200...999)
            if exchange % 100 == 11 { continue }  // N11 codes are service codes, not exchanges
            return PoolBlock(digits: "1" + areaCodes.randomElement()! + String(exchange))
        }
    }

    public func e164(_ index: Int) -> String {
        let line = String(index)
        return "+" + digits + String(repeating: "0", count: max(0, 4 - line.count)) + line
    }

    public var filter: AssignmentV1.NumberFilter {
        var filter = AssignmentV1.NumberFilter()
        filter.prefix = digits
        return filter
    }

    /// Imports `count` numbers (at most `capacity`) of a block the catalogue has
    /// none of, through inventory (a platform admin's client), 1,000 per call.
    /// Returns the block and the consistency token of the last import call.
    public static func importFresh(_ count: Int, through inventory: RPCClient) async throws -> (block: PoolBlock, token: UInt64) {
        precondition((1...capacity).contains(count), "a block holds 1 to \(capacity) numbers")
        for _ in 0..<20 {
            let block = PoolBlock.random()
            var list = InventoryV1.ListNumbersRequest()
            list.query = "+" + block.digits
            list.pageSize = 1
            let existing = try await inventory.unary(listMethod, list, as: InventoryV1.ListNumbersResponse.self)
            guard existing.numbers.isEmpty else { continue }
            var created = 0
            var token: UInt64 = 0
            for start in stride(from: 0, to: count, by: 1_000) {
                var request = InventoryV1.ImportNumbersRequest()
                request.items = (start..<min(start + 1_000, count)).map { index in
                    var item = InventoryV1.ImportItem()
                    item.number = block.e164(index)
                    item.provider = "twilio"
                    item.monthlyCostMicros = 1_150_000
                    item.currency = "USD"
                    return item
                }
                let response = try await inventory.unary(importMethod, request, as: InventoryV1.ImportNumbersResponse.self)
                created += Int(response.created)
                token = max(token, response.consistencyToken)
                if let problem = response.results.first(where: { $0.outcome != .created }) {
                    throw PoolBlockError("import into +\(block.digits): item \(problem.index) \(problem.outcome) \(problem.field): \(problem.reason)")
                }
            }
            guard created == count else { throw PoolBlockError("import into +\(block.digits) created \(created) of \(count)") }
            return (block, token)
        }
        throw PoolBlockError("no fresh block of numbers found")
    }
}

public struct PoolBlockError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

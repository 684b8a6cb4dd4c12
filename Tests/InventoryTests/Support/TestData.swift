import Foundation
import PhoneNumbers
import Protos
import Store
import Synchronization
import Testing
import TestSupport

/// Random names: the database is shared and never reset, so every test uses
/// numbers, organisations and labels nobody else uses.
enum Random {
    static func token(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }

    static func hex(_ length: Int) -> String {
        let alphabet = Array("0123456789abcdef")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }

    static func digits(_ length: Int) -> String {
        String((0..<length).map { _ in Character(String(Int.random(in: 0...9))) })
    }

    static func organization() -> String { "org-" + token(12) }
    static func tag() -> String { "tag" + token(12) }
    static func key() -> String { "key-" + UUID().uuidString }
}

/// Fresh valid numbers nobody has imported yet.
enum Numbers {
    private static let handedOut = Mutex<Set<String>>([])

    /// US area codes of ordinary geographic numbers.
    static let usAreaCodes = ["415", "628", "650", "212", "646", "312", "617", "206", "303", "512", "702", "305", "404", "713"]

    /// `count` valid numbers, each `prefix` followed by random digits to make
    /// `length` digits after the "+", accepted by libphonenumber with `kind`
    /// when given, and not yet in `inventory.numbers`.
    static func fresh(_ count: Int = 1, prefix: String? = nil, length: Int = 11,
                      kind: PhoneNumber.Kind? = nil) async throws -> [String] {
        var result: [String] = []
        while result.count < count {
            var candidates: [String] = []
            var attempts = 0
            while candidates.count < count - result.count {
                attempts += 1
                precondition(attempts < 100_000, "no valid number with prefix \(prefix ?? "")")
                let start = prefix ?? ("+1" + usAreaCodes.randomElement()!)
                let digitsAfterPlus = start.count - 1
                // First digit of a North American exchange is 2-9.
                var rest = Random.digits(length - digitsAfterPlus)
                if start.hasPrefix("+1") && digitsAfterPlus == 4 { rest = String(Int.random(in: 2...9)) + rest.dropFirst() }
                let text = start + rest
                guard let parsed = try? PhoneNumber(parsing: text), parsed.e164 == text,
                      kind == nil || parsed.type == kind else { continue }
                let fresh = handedOut.withLock { $0.insert(text).inserted }
                if fresh && !candidates.contains(text) { candidates.append(text) }
            }
            // The table exists once any inventory process has migrated the schema.
            let taken = try await AdminDB.query(
                "SELECT to_regclass('inventory.numbers') IS NOT NULL AS present"
            ).first!.decode(Bool.self, column: "present") ? try await AdminDB.query(
                "SELECT e164 FROM inventory.numbers WHERE e164 = ANY($1::text[])", [candidates]
            ).map { try $0.decode(String.self, column: "e164") } : []
            result += candidates.filter { !taken.contains($0) }
        }
        return result
    }

    static func fresh(prefix: String? = nil, kind: PhoneNumber.Kind? = nil) async throws -> String {
        try await fresh(1, prefix: prefix, kind: kind)[0]
    }
}

/// Superuser reads of the inventory schema, to check what the service stored.
enum AdminDB {
    static func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> QueryResult {
        try await TestPostgres.withAdmin(maxConnections: 1) { database in
            try await database.query(sql, parameters)
        }
    }

    /// The outbox events about one number, in position order.
    static func events(aggregate id: String) async throws -> [OutboxRow] {
        try await query("SELECT position, type, aggregate_id, payload FROM inventory.outbox WHERE aggregate_id = $1 ORDER BY position", [id])
            .map { row in
                OutboxRow(position: try row.decode(Int64.self, column: "position"),
                          type: try row.decode(String.self, column: "type"),
                          aggregateID: try row.decode(String.self, column: "aggregate_id"),
                          payload: try row.decode([UInt8].self, column: "payload"))
            }
    }

    static func outboxCount(aggregate id: String) async throws -> Int {
        try await query("SELECT count(*)::int8 AS n FROM inventory.outbox WHERE aggregate_id = $1", [id])
            .first!.decode(Int64.self, column: "n").asInt
    }

    static func credentialsKeyID(_ id: String) async throws -> String? {
        try await query("SELECT credentials_key_id FROM inventory.numbers WHERE id = $1::uuid", [id])
            .first?.decode(String?.self, column: "credentials_key_id")
    }
}

struct OutboxRow: Sendable {
    var position: Int64
    var type: String
    var aggregateID: String
    var payload: [UInt8]
}

extension Int64 {
    var asInt: Int { Int(self) }
}

/// RotateCredentialKeys re-encrypts every row in the shared database: tests
/// that call it take this lock, so a rotation never races the key-rotation
/// test's own rows (when tests run in parallel).
actor RotationLock {
    static let shared = RotationLock()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    static func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await shared.acquire()
        do {
            let result = try await body()
            await shared.release()
            return result
        } catch {
            await shared.release()
            throw error
        }
    }
}

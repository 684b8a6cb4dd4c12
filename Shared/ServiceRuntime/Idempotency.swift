import Auth
import Crypto
import Foundation
public import Protos
public import RPC
public import Store

/// Idempotency keys for mutations: the first call with a key does the work
/// and stores its answer in the same transaction; a repeat with the same key
/// and the same request gets that answer again; the same key with a different
/// request is refused. Keys are scoped to the calling principal.
public struct IdempotencyKeys: Sendable {
    /// The schema holding the `idempotency_keys` table.
    public let schema: String
    /// Longest key accepted.
    public static let maximumKeyLength = 200

    public init(schema: String) {
        self.schema = schema
    }

    /// The migration creating the table; add it to a service's list.
    public static func migration(version: Int) -> Migration {
        Migration(version: version, name: "create idempotency keys", sql: """
            CREATE TABLE idempotency_keys (
                principal text NOT NULL,
                key text NOT NULL,
                method text NOT NULL,
                request_sha256 bytea NOT NULL,
                response bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (principal, key)
            );
            CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
            """)
    }

    /// Runs `body` in a transaction, once per idempotency key: the response is
    /// stored with the change, and a repeated call returns it without running
    /// `body`. Without a key, `body` simply runs in a transaction.
    public func run<Request: ProtoMessage, Response: ProtoMessage>(
        _ context: RPCContext, request: Request, database: Database,
        _ body: @escaping @Sendable (Transaction) async throws -> Response
    ) async throws -> Response {
        guard let key = context.idempotencyKey else {
            return try await database.withTransaction { try await body($0) }
        }
        guard !key.isEmpty, key.utf8.count <= Self.maximumKeyLength else {
            throw RPCError.invalidArgument(field: "idempotency-key", "must be 1 to \(Self.maximumKeyLength) bytes")
        }
        let principal = context.principal?.description ?? "anonymous"
        let digest = Array(SHA256.hash(data: Array(context.method.utf8) + [0] + request.serializedBytes()))
        let table = "\"\(schema)\".idempotency_keys"
        return try await database.withTransaction { transaction in
            // A concurrent call with the same key waits here until the first commits.
            let claimed = try await transaction.query(
                "INSERT INTO \(table) (principal, key, method, request_sha256, response) VALUES ($1, $2, $3, $4, '') ON CONFLICT DO NOTHING RETURNING 1",
                [principal, key, context.method, digest])
            if claimed.isEmpty {
                let stored = try await transaction.query(
                    "SELECT method, request_sha256, response FROM \(table) WHERE principal = $1 AND key = $2", [principal, key])
                guard let row = stored.first else {
                    throw RPCError(.aborted, "idempotency key is being used by a call that did not finish; retry")
                }
                guard try row.decode(String.self, column: "method") == context.method,
                      try row.decode([UInt8].self, column: "request_sha256") == digest else {
                    throw RPCError.invalidArgument(field: "idempotency-key",
                        "was already used for a different request; use a new key for a new request")
                }
                return try Response(serializedBytes: try row.decode([UInt8].self, column: "response"))
            }
            let response = try await body(transaction)
            try await transaction.execute(
                "UPDATE \(table) SET response = $3 WHERE principal = $1 AND key = $2",
                [principal, key, response.serializedBytes()])
            return response
        }
    }
}

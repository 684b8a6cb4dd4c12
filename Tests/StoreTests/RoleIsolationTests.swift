import Store
import TestSupport
import Testing

/// A role can touch only its own schema. (The bootstrap's service roles
/// against the services' real schemas: AssignmentTests.DatabaseRoleTests.)
@Suite("Role isolation")
struct RoleIsolationTests {
    @Test("a role cannot read or write another role's schema (42501)")
    func crossSchemaAccessDenied() async throws {
        try await TestPostgres.withRole(prefix: "owner") { owner, ownerDatabase in
            try await ownerDatabase.execute("CREATE TABLE private_numbers (e164 text)")
            try await ownerDatabase.execute("INSERT INTO private_numbers VALUES ($1)", ["+14155550100"])

            try await TestPostgres.withRole(prefix: "intruder") { _, intruder in
                let table = "\(owner.schema).private_numbers"
                for sql in [
                    "SELECT * FROM \(table)",
                    "INSERT INTO \(table) VALUES ('+14155550199')",
                    "UPDATE \(table) SET e164 = 'x'",
                    "DELETE FROM \(table)",
                    "CREATE TABLE \(owner.schema).planted (v int)",
                ] {
                    let error = await #expect(throws: DatabaseError.self, "\(sql)") {
                        try await intruder.execute(sql)
                    }
                    #expect(error?.sqlState == DatabaseError.SQLState.insufficientPrivilege, "\(sql)")
                    #expect(error?.code == .permissionDenied, "\(sql)")
                }
                // Nor can it create objects in the shared public schema.
                let publicError = await #expect(throws: DatabaseError.self) {
                    try await intruder.execute("CREATE TABLE public.planted (v int)")
                }
                #expect(publicError?.sqlState == DatabaseError.SQLState.insufficientPrivilege)
                // Nor create schemas of its own.
                let schemaError = await #expect(throws: DatabaseError.self) {
                    try await intruder.execute("CREATE SCHEMA planted")
                }
                #expect(schemaError?.sqlState == DatabaseError.SQLState.insufficientPrivilege)
            }
            // The owner's data is untouched.
            let rows = try await ownerDatabase.query("SELECT e164 FROM private_numbers")
            #expect(try rows.map { try $0.decode(String.self, at: 0) } == ["+14155550100"])
        }
    }
}

import Foundation
import Logging
import NIOConcurrencyHelpers
import Observability
import Testing

/// Log lines stay one valid JSON object each, whatever the message and
/// metadata hold, and secrets put into metadata never come out.
@Suite struct JSONLogHandlerTests {
    private func logged(_ body: (inout Logger) -> Void) throws -> [String: Any] {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "inventory") { label in
            JSONLogHandler(label: label, write: { line in lines.withLockedValue { $0.append(line) } })
        }
        logger.logLevel = .debug
        body(&logger)
        let written = lines.withLockedValue { $0 }
        try #require(written.count == 1)
        #expect(!written[0].contains("\n"))
        return try #require(try JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
    }

    @Test func awkwardMessagesAndNestedMetadataStayOneJSONObject() throws {
        let entry = try logged { logger in
            logger[metadataKey: "trace.id"] = "t-1"
            logger.warning("quote \" backslash \\ newline \n tab \t bell \u{7} é", metadata: [
                "db.schema": "inventory",
                "counts": ["a": "1", "b": ["x", "y"]],
                "message": "a metadata key named like a field",
            ])
        }
        #expect(entry["message"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{7} é")
        #expect(entry["level"] as? String == "warning")
        #expect(entry["label"] as? String == "inventory")
        #expect(entry["trace.id"] as? String == "t-1")
        #expect(entry["db.schema"] as? String == "inventory")
        let counts = entry["counts"] as? [String: Any]
        #expect(counts?["a"] as? String == "1")
        #expect(counts?["b"] as? [String] == ["x", "y"])
        #expect(entry["metadata.message"] as? String == "a metadata key named like a field")
    }

    @Test func secretsAreRedacted() throws {
        let entry = try logged { logger in
            logger.info("connecting", metadata: [
                "authorization": "Bearer eyJhbGciOi.secret.part", "pg.password": "hunter2", "pg.user": "inventory",
            ])
        }
        #expect(entry["authorization"] as? String == "[redacted]")
        #expect(entry["pg.password"] as? String == "[redacted]")
        #expect(entry["pg.user"] as? String == "inventory")
    }
}

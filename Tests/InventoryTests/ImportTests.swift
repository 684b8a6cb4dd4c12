import Auth
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// ImportNumbers: normalisation, per-item outcomes and what is recorded.
@Suite(.inventoryProcess) struct ImportTests {
    let admin: InventoryAPI

    init() throws {
        admin = try InventoryServer.shared.api(.admin())
    }

    @Test func writtenFormsNormaliseToTheSameE164() async throws {
        let e164 = try await Numbers.fresh(prefix: "+1415")
        let digits = e164.dropFirst(2)   // "415NXXXXXX"
        let (area, exchange, line) = (digits.prefix(3), digits.dropFirst(3).prefix(3), digits.suffix(4))
        let forms: [(number: String, hint: String)] = [
            ("+1 (\(area)) \(exchange)-\(line)", ""),
            ("+1-\(area)-\(exchange)-\(line)", ""),
            ("1\(area)\(exchange)\(line)", "US"),
            ("(\(area)) \(exchange)-\(line)", "us"),
            ("tel:+1-\(area)-\(exchange)-\(line)", ""),
        ]
        let first = try await admin.importNumbers([importItem(forms[0].number)])
        #expect(first.created == 1)
        #expect(first.results.first?.outcome == .created)
        #expect(first.results.first?.e164 == e164)
        let id = try #require(first.results.first?.numberId)
        #expect(!id.isEmpty)

        for form in forms.dropFirst() {
            let again = try await admin.importNumbers([importItem(form.number) { $0.regionHint = form.hint }])
            let result = try #require(again.results.first)
            #expect(result.outcome == .alreadyPresent, "\(form): \(result)")
            #expect(result.e164 == e164, "\(form)")
            #expect(result.numberId == id, "\(form)")
            #expect(again.created == 0 && again.alreadyPresent == 1 && again.rejected == 0)
        }
        let stored = try #require(try await admin.get(id: id).number)
        #expect(stored.e164 == e164)
        #expect(stored.version == 1)
    }

    @Test func reimportOfIdenticalDataIsAlreadyPresentNotAnError() async throws {
        let number = try await Numbers.fresh()
        let tag = Random.tag()
        let item = importItem(number) {
            $0.label = "\(tag) main line"
            $0.capabilities = capabilities(voice: true, sms: true)
            $0.monthlyCostMicros = 1_150_000
            $0.currency = "USD"
            var ids = InventoryV1.ProviderIds()
            ids.providerNumberId = "PN" + Random.hex(32)
            ids.trunkId = "TK" + Random.hex(32)
            $0.providerIds = ids
            $0.credentials = credentials(twilioCredentials())
        }
        let first = try await admin.importNumbers([item])
        #expect(first.results.first?.outcome == .created)
        let id = try #require(first.results.first?.numberId)
        let eventsAfterFirst = try await AdminDB.outboxCount(aggregate: id)

        let second = try await admin.importNumbers([item])
        let result = try #require(second.results.first)
        #expect(result.outcome == .alreadyPresent, "\(result)")
        #expect(result.numberId == id)
        #expect(result.field.isEmpty && result.reason.isEmpty)
        #expect(second.created == 0 && second.alreadyPresent == 1 && second.rejected == 0)
        #expect(second.consistencyToken >= first.consistencyToken)

        // Nothing changed: same version, no new events.
        #expect(try await admin.get(id: id).number?.version == 1)
        #expect(try await AdminDB.outboxCount(aggregate: id) == eventsAfterFirst)
    }

    @Test func reimportWithDifferentDataIsRejectedNamingTheDifferences() async throws {
        let number = try await Numbers.fresh()
        let original = importItem(number) {
            $0.label = "original"
            $0.credentials = credentials(twilioCredentials(authToken: "first-token-" + Random.token(8)))
        }
        let created = try await admin.importNumbers([original])
        let id = try #require(created.results.first?.numberId)

        var changed = original
        changed.label = "changed"
        changed.capabilities = capabilities(voice: true, fax: true)
        changed.credentials = credentials(twilioCredentials(authToken: "other-token-" + Random.token(8)))
        let response = try await admin.importNumbers([changed])
        let result = try #require(response.results.first)
        #expect(result.outcome == .rejected)
        #expect(result.field == "number")
        #expect(result.numberId == id, "the rejection should point at the existing number")
        for field in ["label", "capabilities", "credentials"] {
            #expect(result.reason.contains(field), "reason should name \(field): \(result.reason)")
        }
        #expect(!result.reason.contains("provider"), "provider did not change: \(result.reason)")
        #expect(!result.reason.contains("other-token") && !result.reason.contains("first-token"))
        #expect(response.rejected == 1 && response.created == 0)

        let stored = try #require(try await admin.get(id: id).number)
        #expect(stored.label == "original")
        #expect(stored.capabilities == capabilities(voice: true))
        #expect(stored.version == 1)
    }

    @Test func duplicatesInsideOneBatch() async throws {
        let e164 = try await Numbers.fresh(prefix: "+1415")
        let national = String(e164.dropFirst(2))
        let response = try await admin.importNumbers([
            importItem(e164) { $0.label = "dup" },
            importItem(national) { $0.regionHint = "US"; $0.label = "dup" },
            importItem(e164) { $0.label = "different" },
        ])
        #expect(response.results.map(\.index) == [0, 1, 2])
        #expect(response.results.map(\.outcome) == [.created, .alreadyPresent, .rejected])
        #expect(response.results.map(\.e164) == [e164, e164, e164])
        #expect(response.results[1].numberId == response.results[0].numberId)
        #expect(response.results[2].field == "number")
        #expect(response.results[2].reason.contains("item 0"), "\(response.results[2].reason)")
        #expect(response.created == 1 && response.alreadyPresent == 1 && response.rejected == 1)

        let stored = try #require(try await admin.get(number: e164).number)
        #expect(stored.label == "dup")
        #expect(try await AdminDB.query("SELECT 1 FROM inventory.numbers WHERE e164 = $1", [e164]).count == 1)
    }

    @Test func concurrentImportsOfOneNumberCreateItOnce() async throws {
        let server = try InventoryServer.shared
        let number = try await Numbers.fresh()
        let results = try await withThrowingTaskGroup(of: InventoryV1.ImportResult.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let response = try await server.api(.admin()).importNumbers([importItem(number) { $0.label = "race" }])
                    return response.results[0]
                }
            }
            var all: [InventoryV1.ImportResult] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.filter { $0.outcome == .created }.count == 1, "\(results)")
        #expect(results.filter { $0.outcome == .alreadyPresent }.count == 5, "\(results)")
        #expect(Set(results.map(\.numberId)).count == 1)
        #expect(try await AdminDB.query("SELECT 1 FROM inventory.numbers WHERE e164 = $1", [number]).count == 1)
    }

    @Test func e164IsUniqueByADatabaseConstraint() async throws {
        let rows = try await AdminDB.query("""
            SELECT pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c
              JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = 'inventory' AND t.relname = 'numbers' AND c.contype IN ('u', 'p')
            """)
        let definitions = try rows.map { try $0.decode(String.self, column: "definition") }
        #expect(definitions.contains("UNIQUE (e164)"), "\(definitions)")
    }

    /// The example of the issue: a fixed, well-known number (so it may be present from an earlier run).
    @Test func googleMountainViewNumberIsUSMountainView() async throws {
        let response = try await admin.importNumbers([importItem("+1 650-253-0000")])
        let result = try #require(response.results.first)
        #expect(result.e164 == "+16502530000")
        #expect(result.outcome == .created || result.outcome == .alreadyPresent, "\(result)")
        let number = try #require(try await admin.get(number: "+16502530000").number)
        #expect(number.country == "US")
        #expect(number.region == "Mountain View, CA")
    }

    @Test func emptyBatchIsInvalid() async throws {
        await expectRPCError(.invalidArgument, field: "items") { try await admin.importNumbers([]) }
    }

    @Test func moreThan5000ItemsIsInvalidAnd5000IsAccepted() async throws {
        let tooMany = (0..<5_001).map { importItem("not-a-number-\($0)") }
        let error = await expectRPCError(.invalidArgument, field: "items") { try await admin.importNumbers(tooMany) }
        #expect(error?.message.contains("5000") == true || error?.message.contains("5,000") == true, "\(String(describing: error))")

        // Exactly the limit is accepted (every item is then judged on its own).
        let atLimit = (0..<5_000).map { importItem("not-a-number-\($0)") }
        let response = try await admin.importNumbers(atLimit)
        #expect(response.results.count == 5_000)
        #expect(response.rejected == 5_000)
        #expect(response.results.allSatisfy { $0.outcome == .rejected && $0.field == "number" })
        #expect(response.results.enumerated().allSatisfy { $0.element.index == UInt32($0.offset) })
    }

    @Test func mixedBatchImportsTheGoodAndReportsEachBad() async throws {
        let tag = Random.tag()
        let fresh = try await Numbers.fresh(5)
        let items = [
            importItem(fresh[0]) { $0.label = "\(tag) good 0" },                       // 0 created
            importItem("call me maybe") { $0.label = "\(tag) bad" },                   // 1 rejected: number
            importItem(fresh[1]) { $0.label = "\(tag) good 2" },                       // 2 created
            importItem(fresh[2]) { $0.country = "GB"; $0.label = "\(tag) bad" },       // 3 rejected: country
            importItem(fresh[0]) { $0.label = "\(tag) good 0" },                       // 4 duplicate of 0
            importItem(fresh[3]) { $0.label = "\(tag) bad\u{1}" },                     // 5 rejected: label
            importItem(fresh[4]) { $0.label = "\(tag) good 6"; $0.provider = "vonage" }, // 6 created
        ]
        let response = try await admin.importNumbers(items)
        #expect(response.results.map(\.outcome) == [.created, .rejected, .created, .rejected, .alreadyPresent, .rejected, .created])
        #expect(response.results.map(\.field) == ["", "number", "", "country", "", "label", ""])
        #expect(response.created == 3 && response.alreadyPresent == 1 && response.rejected == 3)
        #expect(response.results[4].numberId == response.results[0].numberId)
        for index in [1, 3, 5] { #expect(response.results[index].numberId.isEmpty) }

        // Nothing lost, nothing extra.
        var query = InventoryV1.ListNumbersRequest()
        query.query = tag
        let listed = try await admin.listAll(query)
        #expect(Set(listed.map(\.e164)) == [fresh[0], fresh[1], fresh[4]])
        #expect(listed.count == 3)
        for index in [2, 3] {
            await expectRPCError(.notFound) { try await admin.get(number: fresh[index]) }
        }

        // The same batch again imports nothing twice.
        let again = try await admin.importNumbers(items)
        #expect(again.results.map(\.outcome) == [.alreadyPresent, .rejected, .alreadyPresent, .rejected, .alreadyPresent, .rejected, .alreadyPresent])
        #expect(again.results.map(\.numberId) == response.results.map(\.numberId))
        #expect(try await admin.listAll(query).count == 3)
    }

    @Test func recordsNumberTypeCountryRegionAndAudit() async throws {
        let caller = Caller.admin("importer-" + Random.token(6))
        let api = try InventoryServer.shared.api(caller)
        let tollFree = try await Numbers.fresh(prefix: "+1800", kind: .tollFree)
        let mountainView = try await Numbers.fresh(prefix: "+1650253")
        let london = try await Numbers.fresh(1, prefix: "+44207", length: 12)[0]
        let given = try await Numbers.fresh()
        let before = Int64(Date().timeIntervalSince1970 * 1_000_000) - 1_000_000

        let response = try await api.importNumbers([
            importItem(tollFree), importItem(mountainView), importItem(london) { $0.country = "gb" },
            importItem(given) { $0.region = "Custom region" },
        ])
        #expect(response.created == 4, "\(response.results)")
        let numbers = try await response.results.asyncMap { try #require(try await api.get(id: $0.numberId).number) }

        #expect(numbers[0].numberType == .tollFree)
        #expect(numbers[0].country == "US")
        #expect(numbers[1].country == "US")
        #expect(numbers[1].region == "Mountain View, CA")
        #expect(numbers[1].numberType == .fixedLineOrMobile)
        #expect(numbers[2].country == "GB")
        #expect(numbers[2].region == "London")
        #expect(numbers[2].numberType == .fixedLine)
        #expect(numbers[3].region == "Custom region")

        for number in numbers {
            #expect(number.lifecycle == .active)
            #expect(number.ownerOrganizationId.isEmpty, "an admin import without owner joins the pool")
            #expect(number.capabilities == capabilities(voice: true), "unset capabilities mean voice only")
            #expect(number.version == 1)
            #expect(!number.hasCredentials)
            #expect(number.createdBy.contains(caller.principal.subject))
            #expect(number.updatedBy == number.createdBy)
            #expect(number.createdAtMicros >= before)
            #expect(number.createdAtMicros <= Int64(Date().timeIntervalSince1970 * 1_000_000) + 1_000_000)
            #expect(number.updatedAtMicros == number.createdAtMicros)
        }
        // The audit columns are in the table too.
        let row = try #require(try await AdminDB.query(
            "SELECT created_by, updated_by, number_type FROM inventory.numbers WHERE e164 = $1", [tollFree]).first)
        #expect(try row.decode(String.self, column: "created_by").contains(caller.principal.subject))
        #expect(try row.decode(String.self, column: "number_type") == "toll_free")
    }

    /// Ids are UUIDs of version 7: their first 48 bits are the creation time
    /// in milliseconds, so later imports get larger ids.
    @Test func idsAreTimeOrderedUUIDs() async throws {
        let numbers = try await Numbers.fresh(3)
        let first = try await admin.importNumbers([importItem(numbers[0]), importItem(numbers[1])])
        try await Task.sleep(for: .milliseconds(5))
        let later = try await admin.importNumbers([importItem(numbers[2])])
        let ids = (first.results + later.results).map(\.numberId)
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        for id in ids {
            #expect(UUID(uuidString: id) != nil && id == id.lowercased(), "\(id)")
            #expect(Array(id)[14] == "7", "version 7: \(id)")
            let millis = try #require(UInt64(id.replacingOccurrences(of: "-", with: "").prefix(12), radix: 16))
            #expect(millis <= now && now - millis < 60_000, "\(id) made \(Int64(now) - Int64(millis)) ms ago")
        }
        #expect(ids[2] > ids[0] && ids[2] > ids[1], "\(ids)")
    }

    /// The table's own check refuses anything but '+', a non-zero digit and 7
    /// to 15 digits in all, whatever wrote the row.
    @Test(arguments: ["+0415555123", "14155551234", "+1415555123a", "+１４１５５５５１２３", "+123456",
                      "+1234567890123456", "++14155551234", "+1415+555123", "", "+"])
    func databaseRefusesMalformedE164(_ e164: String) async throws {
        do {
            _ = try await AdminDB.query("""
                INSERT INTO inventory.numbers (id, e164, country, number_type, provider, created_by, updated_by)
                VALUES (gen_random_uuid(), $1, 'US', 'fixed_line', 'twilio', 'test', 'test')
                """, [e164])
            Issue.record("'\(e164)' was stored")
        } catch let error as DatabaseError {
            #expect(error.constraint == "numbers_e164_format", "\(error)")
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

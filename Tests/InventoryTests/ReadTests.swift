import Auth
import Foundation
import PhoneNumbers
import Protos
import RPC
import Store
import TestSupport
import Testing

/// GetNumber and ListNumbers: keys, every filter, pagination, page sizes.
@Suite(.inventoryProcess) struct ReadTests {
    let admin: InventoryAPI

    init() throws {
        admin = try InventoryServer.shared.api(.admin())
    }

    @Test func getNumberByIdAndByNumberInAnyWrittenForm() async throws {
        let e164 = try await Numbers.fresh(prefix: "+1415")
        let created = try await admin.create(importItem(e164) { $0.label = "reception" })
        let digits = e164.dropFirst(2)
        let (area, exchange, line) = (digits.prefix(3), digits.dropFirst(3).prefix(3), digits.suffix(4))

        let byID = try #require(try await admin.get(id: created.id).number)
        #expect(byID == created)
        #expect(byID.e164 == e164 && byID.label == "reception")
        #expect(try await admin.get(id: created.id.uppercased()).number?.id == created.id, "ids are case-insensitive UUIDs")

        for (form, hint) in [(e164, ""), ("+1 (\(area)) \(exchange)-\(line)", ""), ("+1-\(area)-\(exchange)-\(line)", ""),
                             ("1\(area)\(exchange)\(line)", "US"), ("(\(area)) \(exchange)-\(line)", "US"),
                             ("tel:+1-\(area)-\(exchange)-\(line)", "")] {
            let found = try await admin.get(number: form, regionHint: hint)
            #expect(found.number == created, "GetNumber(\(form), hint \(hint))")
            #expect(found.consistencyToken == 0, "reads produce no event position")
        }
    }

    @Test func getNumberErrors() async throws {
        await expectRPCError(.notFound) { try await admin.get(id: UUID().uuidString.lowercased()) }
        await expectRPCError(.notFound) { try await admin.get(number: try await Numbers.fresh()) }
        await expectRPCError(.invalidArgument, field: "id") { try await admin.get(id: "not-a-uuid") }
        await expectRPCError(.invalidArgument, field: "id") { try await admin.get(id: "") }
        await expectRPCError(.invalidArgument, field: "number") { try await admin.get(number: "no number here") }
        await expectRPCError(.invalidArgument, field: "number", "a national form needs a hint") {
            try await admin.get(number: "(415) 234-5678")
        }
        await expectRPCError(.invalidArgument, field: "region_hint", "like ImportItem, a bad hint is the hint's fault") {
            try await admin.get(number: "(415) 234-5678", regionHint: "XX")
        }
        await expectRPCError(.invalidArgument, field: "key") {
            try await admin.call("GetNumber", InventoryV1.GetNumberRequest(), as: InventoryV1.NumberResponse.self)
        }
    }

    /// A catalogue slice owned by one fresh organisation, plus a pool number
    /// sharing its label tag.
    struct Fixture {
        var organization: String
        var tag: String
        var sanFrancisco: InventoryV1.PhoneNumber   // twilio, voice+sms
        var mountainView: InventoryV1.PhoneNumber   // vonage, voice
        var tollFree: InventoryV1.PhoneNumber       // telnyx, fax only
        var london: InventoryV1.PhoneNumber         // twilio, voice+mms, GB
        var retired: InventoryV1.PhoneNumber        // sip, voice, retired
        var pool: InventoryV1.PhoneNumber           // twilio, pool

        var active: [InventoryV1.PhoneNumber] { [sanFrancisco, mountainView, tollFree, london] }
    }

    private func fixture() async throws -> Fixture {
        let organization = Random.organization()
        let tag = Random.tag()
        func owned(_ item: InventoryV1.ImportItem) -> InventoryV1.ImportItem {
            var item = item
            item.ownerOrganizationId = organization
            return item
        }
        let sanFrancisco = try await admin.create(owned(importItem(try await Numbers.fresh(prefix: "+1415")) {
            $0.capabilities = capabilities(voice: true, sms: true); $0.label = "\(tag) Alpha desk"
        }))
        let mountainView = try await admin.create(owned(importItem(try await Numbers.fresh(prefix: "+1650253"), provider: "vonage") {
            $0.label = "\(tag) Beta desk"
        }))
        let tollFree = try await admin.create(owned(importItem(try await Numbers.fresh(prefix: "+1800", kind: .tollFree), provider: "telnyx") {
            $0.capabilities = capabilities(fax: true); $0.label = "\(tag) Gamma fax"
        }))
        let london = try await admin.create(owned(importItem(try await Numbers.fresh(1, prefix: "+44207", length: 12)[0]) {
            $0.capabilities = capabilities(voice: true, mms: true); $0.label = "\(tag) Delta"
        }))
        let toRetire = try await admin.create(owned(importItem(try await Numbers.fresh(prefix: "+1415"), provider: "sip") {
            $0.label = "\(tag) Epsilon"
        }))
        let retired = try #require(try await admin.retire(toRetire.id).number)
        let pool = try await admin.create(importItem(try await Numbers.fresh()) { $0.label = "\(tag) pool" })
        return Fixture(organization: organization, tag: tag, sanFrancisco: sanFrancisco, mountainView: mountainView,
                       tollFree: tollFree, london: london, retired: retired, pool: pool)
    }

    private func ids(_ edit: (inout InventoryV1.ListNumbersRequest) -> Void) async throws -> Set<String> {
        var request = InventoryV1.ListNumbersRequest()
        edit(&request)
        return Set(try await admin.listAll(request).map(\.id))
    }

    @Test func listFiltersByCountry() async throws {
        let f = try await fixture()
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.country = "GB" } == [f.london.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.country = "us" }
                == [f.sanFrancisco.id, f.mountainView.id, f.tollFree.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.country = "FR" }.isEmpty)
    }

    @Test func listFiltersByRegion() async throws {
        let f = try await fixture()
        #expect(f.mountainView.region == "Mountain View, CA")
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.region = "Mountain View, CA" } == [f.mountainView.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.region = "mountain view, ca" } == [f.mountainView.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.region = "London" } == [f.london.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.region = "%" }.isEmpty, "% is not a wildcard")
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.region = "Londo_" }.isEmpty, "_ is not a wildcard")
    }

    @Test func listFiltersByProvider() async throws {
        let f = try await fixture()
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.provider = "vonage" } == [f.mountainView.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.provider = "twilio" } == [f.sanFrancisco.id, f.london.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.provider = "plivo" }.isEmpty)
    }

    @Test func listFiltersByCapability() async throws {
        let f = try await fixture()
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.capability = .sms } == [f.sanFrancisco.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.capability = .mms } == [f.london.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.capability = .fax } == [f.tollFree.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.capability = .voice }
                == [f.sanFrancisco.id, f.mountainView.id, f.london.id])
        await expectRPCError(.invalidArgument, field: "capability") {
            var request = InventoryV1.ListNumbersRequest()
            request.capability = .unrecognized(42)
            return try await admin.list(request)
        }
    }

    @Test func listFiltersByNumberType() async throws {
        let f = try await fixture()
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.numberType = .tollFree } == [f.tollFree.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.numberType = .fixedLine } == [f.london.id])
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.numberType = .mobile }.isEmpty)
    }

    @Test func unknownEnumFiltersAreInvalid() async throws {
        var request = InventoryV1.ListNumbersRequest()
        request.lifecycle = .unrecognized(9)
        await expectRPCError(.invalidArgument, field: "lifecycle") { try await admin.list(request) }
        request = InventoryV1.ListNumbersRequest()
        request.numberType = .unrecognized(99)
        await expectRPCError(.invalidArgument, field: "number_type") { try await admin.list(request) }
    }

    @Test func listFiltersByLifecycle() async throws {
        let f = try await fixture()
        let active = Set(f.active.map(\.id))
        #expect(try await ids { $0.ownerOrganizationId = f.organization } == active, "unspecified lists active numbers only")
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.lifecycle = .active } == active)
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.lifecycle = .retired } == [f.retired.id])
    }

    @Test func listFiltersByOwnerAndPool() async throws {
        let f = try await fixture()
        #expect(try await ids { $0.ownerOrganizationId = f.organization } == Set(f.active.map(\.id)))
        #expect(try await ids { $0.query = f.tag } == Set(f.active.map(\.id) + [f.pool.id]))
        #expect(try await ids { $0.query = f.tag; $0.ownerOrganizationId = "pool" } == [f.pool.id])
        #expect(try await ids { $0.ownerOrganizationId = Random.organization() }.isEmpty)
    }

    @Test func listFiltersByQueryOnNumberAndLabel() async throws {
        let f = try await fixture()
        let digits = String(f.london.e164.suffix(8))
        #expect(try await ids { $0.ownerOrganizationId = f.organization; $0.query = digits } == [f.london.id])
        #expect(try await ids { $0.query = f.sanFrancisco.e164 } == [f.sanFrancisco.id], "the whole E.164 matches too")
        #expect(try await ids { $0.query = "\(f.tag) beta".uppercased() } == [f.mountainView.id], "labels match case-insensitively")
        #expect(try await ids { $0.query = f.tag + " " } == Set(f.active.map(\.id) + [f.pool.id]))
        #expect(try await ids { $0.query = f.tag + "%" }.isEmpty, "% is a literal, not a wildcard")
        #expect(try await ids { $0.query = f.tag + "_" }.isEmpty, "_ is a literal, not a wildcard")
        let special = try await admin.create(importItem(try await Numbers.fresh()) { $0.label = "\(f.tag) 100%_off a\\b" })
        #expect(try await ids { $0.query = "\(f.tag) 100%_off" } == [special.id], "% and _ match themselves")
        #expect(try await ids { $0.query = "a\\b" }.contains(special.id), "a backslash matches itself")
        #expect(try await ids { $0.query = "\(f.tag) 100%" + "x" }.isEmpty)
        // Filters combine.
        #expect(try await ids { $0.query = f.tag; $0.provider = "twilio"; $0.capability = .mms } == [f.london.id])
    }

    @Test func listReturnsNumbersInFull() async throws {
        let f = try await fixture()
        var request = InventoryV1.ListNumbersRequest()
        request.ownerOrganizationId = f.organization
        let listed = try await admin.listAll(request)
        #expect(listed.map(\.e164) == listed.map(\.e164).sorted(), "ordered by number")
        let byID = Dictionary(uniqueKeysWithValues: listed.map { ($0.id, $0) })
        for number in f.active { #expect(byID[number.id] == number) }
    }

    @Test func paginationWalksEveryPageExactlyOnce() async throws {
        let organization = Random.organization()
        let numbers = try await Numbers.fresh(7)
        let response = try await admin.importNumbers(numbers.map { number in importItem(number) { $0.ownerOrganizationId = organization } })
        #expect(response.created == 7)

        var request = InventoryV1.ListNumbersRequest()
        request.ownerOrganizationId = organization
        request.pageSize = 3
        var pages: [[String]] = []
        var tokens: Set<String> = []
        while true {
            let page = try await admin.list(request)
            pages.append(page.numbers.map(\.e164))
            if page.nextPageToken.isEmpty { break }
            #expect(tokens.insert(page.nextPageToken).inserted, "a page token repeats")
            request.pageToken = page.nextPageToken
            if pages.count == 1 {
                // A number sorting before the cursor, added meanwhile, does not shift later pages.
                let early = "+1201" + String(Int.random(in: 2...9)) + Random.digits(6)
                _ = try? await admin.importNumbers([importItem(early) { $0.ownerOrganizationId = organization }])
            }
            try #require(pages.count <= 10)
        }
        #expect(pages.map(\.count).prefix(2) == [3, 3])
        let walked = pages.flatMap { $0 }
        #expect(walked.count == Set(walked).count, "no duplicates: \(pages)")
        #expect(Set(numbers).isSubset(of: Set(walked)), "every number seen: \(pages)")
        #expect(walked == walked.sorted())
        #expect(pages.last!.count <= 3 && !pages.last!.isEmpty)
    }

    @Test func pageSizeBounds() async throws {
        let organization = Random.organization()
        let numbers = try await Numbers.fresh(105)
        let response = try await admin.importNumbers(numbers.map { number in importItem(number) { $0.ownerOrganizationId = organization } })
        #expect(response.created == 105)

        var request = InventoryV1.ListNumbersRequest()
        request.ownerOrganizationId = organization
        request.pageSize = 0
        let first = try await admin.list(request)
        #expect(first.numbers.count == 100, "page_size 0 means 100")
        #expect(!first.nextPageToken.isEmpty)
        request.pageToken = first.nextPageToken
        let second = try await admin.list(request)
        #expect(second.numbers.count == 5)
        #expect(second.nextPageToken.isEmpty, "empty on the last page")
        #expect(Set(first.numbers.map(\.e164) + second.numbers.map(\.e164)) == Set(numbers))

        request.pageToken = ""
        request.pageSize = 1_000
        #expect(try await admin.list(request).numbers.count == 105)
        request.pageSize = 1
        let one = try await admin.list(request)
        #expect(one.numbers.count == 1 && !one.nextPageToken.isEmpty)

        request.pageSize = 1_001
        await expectRPCError(.invalidArgument, field: "page_size") { try await admin.list(request) }
        request.pageSize = .max
        await expectRPCError(.invalidArgument, field: "page_size") { try await admin.list(request) }
    }

    @Test func exactlyFullLastPageHasNoNextToken() async throws {
        let organization = Random.organization()
        let numbers = try await Numbers.fresh(4)
        _ = try await admin.importNumbers(numbers.map { number in importItem(number) { $0.ownerOrganizationId = organization } })
        var request = InventoryV1.ListNumbersRequest()
        request.ownerOrganizationId = organization
        request.pageSize = 2
        let first = try await admin.list(request)
        request.pageToken = first.nextPageToken
        let second = try await admin.list(request)
        #expect(first.numbers.count == 2 && second.numbers.count == 2)
        #expect(second.nextPageToken.isEmpty, "no empty extra page after an exactly full one")
    }

    @Test func pageTokenAndQueryValidation() async throws {
        var request = InventoryV1.ListNumbersRequest()
        request.pageToken = "garbage!"
        await expectRPCError(.invalidArgument, field: "page_token") { try await admin.list(request) }
        request.pageToken = Data("v2:+1".utf8).base64EncodedString()
        await expectRPCError(.invalidArgument, field: "page_token") { try await admin.list(request) }
        request.pageToken = ""
        request.query = "abc\u{1}"
        await expectRPCError(.invalidArgument, field: "query") { try await admin.list(request) }
    }
}

import RPC
import Testing
@testable import LookupService

/// How lookup reads the number forms call platforms send.
@Suite struct NumberInputTests {
    private func key(_ text: String, region: String = "") throws -> String {
        try NumberInput.key(text, regionHint: region).e164
    }

    @Test func e164InTheFormsCallPlatformsSendNeedsNoParser() throws {
        for form in ["+14155551234", "14155551234", "+1 (415) 555-1234", "+1-415-555-1234", "+1.415.555.1234",
                     "tel:+1-415-555-1234", "TEL:+14155551234;ext=12", "sip:+14155551234@sip.example.com;user=phone",
                     "sips:+14155551234@host", " +14155551234\t"] {
            #expect(try key(form) == "+14155551234", "\(form)")
            #expect(NumberInput.scanE164(NumberInput.addressPart(form.utf8[...]), plusRequired: false) != nil, "fast path: \(form)")
        }
    }

    @Test("the fast path reads a request's bytes as the handler reads its text, or leaves it to the handler")
    func bytesReadAsText() throws {
        let forms = ["+14155551234", "14155551234", "+1 (415) 555-1234", "tel:+1-415-555-1234", "TEL:+14155551234;ext=12",
                     "sip:+14155551234@sip.example.com;user=phone", " +14155551234\t", "(415) 555-1234", "020 7946 0018",
                     "4155551234", "", "hello", "+12", "+0123456789", "+1234567890123456", "sip:@host", "\u{0}+14155551234",
                     "+1415555１２３４", "sip:+14155551234@hôte", String(repeating: "9", count: 300), "+" + String(repeating: "1", count: 300)]
        var read = 0
        for form in forms {
            for region in ["", "US", "gb", "USA", "1A", "é"] {
                let text = try? NumberInput.key(form, regionHint: region)
                let bytes = Array(form.utf8).withUnsafeBytes { number in
                    Array(region.utf8).withUnsafeBytes { NumberInput.key(bytes: number, regionHint: $0) }
                }
                guard let bytes else { continue }
                #expect(bytes == text, "\(form.debugDescription) with region \(region)")
                read += 1
            }
        }
        #expect(read >= 18, "the fast path read only \(read) of the forms")
        // Plain E.164 and URIs of it, with or without a valid hint, are read without the parser.
        for form in forms.prefix(7) where form.contains("+") {
            let read = Array(form.utf8).withUnsafeBytes { number in
                Array("US".utf8).withUnsafeBytes { NumberInput.key(bytes: number, regionHint: $0) }
            }
            #expect(read?.e164 == "+14155551234", "\(form)")
        }
    }

    @Test func nationalFormsNeedARegionHint() throws {
        #expect(try key("(415) 555-1234", region: "US") == "+14155551234")
        #expect(try key("020 7946 0018", region: "GB") == "+442079460018")
        // With a hint, bare digits are read as a national number, not as E.164.
        #expect(try key("4155551234", region: "US") == "+14155551234")
        #expect(throws: RPCError.self) { try key("(415) 555-1234") }
    }

    @Test func badInputIsRefusedNamingTheField() {
        for bad in ["", "hello", "+12", "+0123456789", "+1234567890123456", "+1' OR 1=1 --", "sip:@host",
                    String(repeating: "9", count: 300), "\u{0}+14155551234"] {
            do {
                _ = try NumberInput.key(bad, regionHint: "")
                Issue.record("accepted \(bad.debugDescription)")
            } catch {
                #expect(error.code == .invalidArgument, "\(bad.debugDescription)")
                #expect(error.fieldViolations.contains { $0.field == "number" } || error.message.contains("number"), "\(error)")
            }
        }
    }

    @Test func keysRoundTripAndOrderByDigits() {
        let key = E164Key(e164: "+442079460018")
        #expect(key?.e164 == "+442079460018")
        #expect(E164Key(e164: "442079460018") == nil)
        #expect(E164Key(e164: "+44207946001x") == nil)
        #expect(E164Key(e164: "+14155551234")! < E164Key(e164: "+442079460018")!)
    }
}

internal import CPhoneNumberShim

/// A phone number that libphonenumber has parsed and found valid.
///
/// The only way to get one is ``init(parsing:defaultRegion:requireDefaultRegion:)``,
/// so holding a `PhoneNumber` means holding a valid number in canonical E.164
/// form; code further in can rely on that instead of re-checking.
///
/// Equality and hashing use ``e164`` alone: every other property is derived
/// from it, and two spellings of one number ("+1 415-555-1234",
/// "(415) 555-1234") must compare equal.
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number in E.164, e.g. `"+14155551234"`: the canonical key to store
    /// and compare numbers by.
    public let e164: String

    /// ISO 3166-1 alpha-2 region the number belongs to, e.g. `"US"`, or
    /// `"001"` for non-geographic numbers such as +800 freephone.
    ///
    /// Within a shared country code this is the region the number range is
    /// assigned to: +1 416 is `"CA"`, +44 7911 12 is `"GG"` (Guernsey).
    public let regionCode: String

    /// Country calling code, e.g. `1` or `44`.
    public let countryCode: Int

    /// National significant number as an integer, e.g. `4155551234`.
    ///
    /// Leading zeros (Italian numbers) are lost here; ``e164`` keeps them,
    /// which is why it, not this, identifies the number.
    public let nationalNumber: UInt64

    /// What kind of line libphonenumber's metadata says the number is.
    public let type: Kind

    /// The English geographic description worked out while parsing, when the
    /// PhoneNumberGeocoding module's `init(parsing:...geocode:)` was asked for
    /// it: the same as its `geocodedDescription(locale: "en")`, i.e. a place
    /// (`"Mountain View, CA"`), else the country (`"United States"`). `nil`
    /// when not asked for, or when there is none (non-geographic numbers).
    public let geocodedRegion: String?

    /// What kind of line a number is, as libphonenumber's metadata says.
    ///
    /// Raw values are stable snake_case names, safe to store or put on the wire.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case fixedLine = "fixed_line"
        case mobile = "mobile"
        /// The region (e.g. the US) cannot tell fixed-line and mobile apart.
        case fixedLineOrMobile = "fixed_line_or_mobile"
        case tollFree = "toll_free"
        case premiumRate = "premium_rate"
        /// Cost shared between caller and callee.
        case sharedCost = "shared_cost"
        case voip = "voip"
        /// A personal number that may route to any line.
        case personalNumber = "personal_number"
        case pager = "pager"
        /// Universal Access Number ("company number").
        case uan = "uan"
        case voicemail = "voicemail"
        /// The metadata does not say; rare for a valid number.
        case unknown = "unknown"
    }

    /// How ``formatted(_:)`` writes a number.
    public enum Format: Sendable, Hashable, CaseIterable {
        /// `+14155551234`
        case e164
        /// `+1 415-555-1234`: for people anywhere.
        case international
        /// `(415) 555-1234`: for people in the number's own country.
        case national
        /// `tel:+1-415-555-1234`: for links (RFC 3966).
        case rfc3966
    }

    /// Parses `text` as a phone number and checks that it is valid.
    ///
    /// Accepts the usual written forms: `+1 (415) 555-1234`,
    /// `+1-415-555-1234`, `tel:+1-415-555-1234`, `0044 20 7946 0958`, and
    /// national forms such as `(415) 555-1234` or `14155551234` when
    /// `defaultRegion` says which country they are in. An extension
    /// (`ext. 12`) is accepted and dropped, as E.164 cannot hold it.
    ///
    /// - Parameters:
    ///   - text: What the user or upstream system wrote.
    ///   - defaultRegion: ISO 3166-1 alpha-2 code (any case) assumed for
    ///     numbers written without a country code. It is only a hint: a
    ///     number with its own country code may belong anywhere.
    ///   - requireDefaultRegion: Make the hint a requirement: throw
    ///     ``PhoneNumberError/Reason/invalidForRegion`` unless the number is
    ///     valid in `defaultRegion` itself. Ignored without a `defaultRegion`.
    /// - Throws: ``PhoneNumberError`` saying what is wrong with `text`.
    public init(
        parsing text: String,
        defaultRegion: String? = nil,
        requireDefaultRegion: Bool = false
    ) throws(PhoneNumberError) {
        try self.init(
            parsing: text, defaultRegion: defaultRegion,
            requireDefaultRegion: requireDefaultRegion, describingPlacesWith: nil
        )
    }

    /// ``init(parsing:defaultRegion:requireDefaultRegion:)``, and with a
    /// `describer` (the geocoder's, from PhoneNumberGeocoding) also the English
    /// description of where the number is, in ``geocodedRegion``, from the same
    /// call into libphonenumber.
    package init(
        parsing text: String,
        defaultRegion: String?,
        requireDefaultRegion: Bool,
        describingPlacesWith describer: PlaceDescriber?
    ) throws(PhoneNumberError) {
        var result = pn_number()
        let flags: UInt32 = requireDefaultRegion ? UInt32(PN_PARSE_REQUIRE_REGION) : 0
        var input = text
        var described: String? = nil
        let status = input.withUTF8 { utf8 in
            withRegion(defaultRegion) { region in
                guard let describer else {
                    return pn_parse(utf8.baseAddress, utf8.count, region, flags, &result)
                }
                let capacity = Int(PN_DESCRIPTION_CAPACITY)
                return withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
                    let base = buffer.baseAddress!
                    let status = pn_parse_geocode(utf8.baseAddress, utf8.count, region, flags, &result, describer, base, capacity)
                    if status == PN_OK, base.pointee != 0 {
                        described = String(cString: base)
                    }
                    return status
                }
            }
        }
        guard status == PN_OK else {
            throw PhoneNumberError(status: status, result: result, input: text, defaultRegion: defaultRegion)
        }
        self.e164 = cString(of: &result.e164)
        self.regionCode = cString(of: &result.region)
        self.countryCode = Int(result.country_code)
        self.nationalNumber = result.national_number
        self.type = Kind(result.type)
        self.geocodedRegion = described
    }

    /// Two values are the same number when their E.164 forms are equal; the
    /// other properties follow from it, so comparing them adds nothing
    /// (``geocodedRegion`` only says whether it was asked for).
    public static func == (lhs: PhoneNumber, rhs: PhoneNumber) -> Bool {
        lhs.e164 == rhs.e164
    }

    /// Hashes the E.164 form only, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(e164)
    }

    /// The number in E.164, so logs and string interpolation show the
    /// canonical form.
    public var description: String { e164 }

    /// The number written in `format`.
    ///
    /// International and national forms come from libphonenumber's per-country
    /// patterns (spaces, dashes, parentheses, national prefix such as the
    /// leading 0 in the UK).
    public func formatted(_ format: Format = .international) -> String {
        let style: pn_format_style
        switch format {
        case .e164: return e164
        case .international: style = PN_FORMAT_INTERNATIONAL
        case .national: style = PN_FORMAT_NATIONAL
        case .rfc3966: style = PN_FORMAT_RFC3966
        }
        // 64 bytes holds any valid number in any style; the E.164 fallback
        // only matters if libphonenumber fails on its own output.
        return withE164(intoBuffer: 64) { e164, buffer, capacity in
            pn_format(e164.baseAddress, e164.count, style, buffer, capacity) == PN_OK
        } ?? e164
    }

    /// Runs `body` with this number's E.164 text and a zeroed buffer of
    /// `capacity` C chars; the C string it wrote, or nil if it returned false.
    package func withE164(
        intoBuffer capacity: Int,
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeMutablePointer<CChar>, Int) -> Bool
    ) -> String? {
        var e164 = self.e164
        return e164.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
                guard let base = buffer.baseAddress else { return nil }
                base.initialize(to: 0)
                guard body(utf8, base, capacity) else { return nil }
                return String(cString: base)
            }
        }
    }

    /// Writes the English place of a number the shim has just parsed
    /// (libphonenumber's own number, untyped) into a buffer of the given
    /// capacity; nonzero when it fit. The geocoder's (PhoneNumberGeocoding) is the one there is: it
    /// is passed in, so this module does not link the geocoder's library.
    package typealias PlaceDescriber = @convention(c) (UnsafeRawPointer?, UnsafeMutablePointer<CChar>?, Int) -> Int32

    // MARK: Regions

    /// The country calling code of an ISO 3166-1 alpha-2 region (`"US"` → 1,
    /// `"gb"` → 44), or nil if libphonenumber does not know the region.
    public static func countryCode(forRegion region: String) -> Int? {
        let code = pn_country_code_for_region(region)
        return code == 0 ? nil : Int(code)
    }

    /// Loads libphonenumber's metadata now rather than during the first
    /// request that parses a number (which would otherwise be markedly
    /// slower); call it while a service starts.
    public static func warmUp() {
        _ = pn_warm_up()
    }
}

extension PhoneNumber.Kind {
    init(_ type: pn_number_type) {
        switch type {
        case PN_TYPE_FIXED_LINE: self = .fixedLine
        case PN_TYPE_MOBILE: self = .mobile
        case PN_TYPE_FIXED_LINE_OR_MOBILE: self = .fixedLineOrMobile
        case PN_TYPE_TOLL_FREE: self = .tollFree
        case PN_TYPE_PREMIUM_RATE: self = .premiumRate
        case PN_TYPE_SHARED_COST: self = .sharedCost
        case PN_TYPE_VOIP: self = .voip
        case PN_TYPE_PERSONAL_NUMBER: self = .personalNumber
        case PN_TYPE_PAGER: self = .pager
        case PN_TYPE_UAN: self = .uan
        case PN_TYPE_VOICEMAIL: self = .voicemail
        default: self = .unknown
        }
    }
}

/// Runs `body` with `region` as a C string, or with NULL when there is none.
private func withRegion<R>(_ region: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let region else { return body(nil) }
    return region.withCString { body($0) }
}

/// Reads a NUL-terminated string out of a fixed-size C char array (which
/// Swift imports as a tuple). Stops at the array's end even without a NUL,
/// so a bug in the shim cannot make this read past it.
func cString<Tuple>(of tuple: inout Tuple) -> String {
    withUnsafeBytes(of: &tuple) { bytes in
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}

internal import CPhoneNumberShim

/// Why ``PhoneNumber/init(parsing:defaultRegion:requireDefaultRegion:)``
/// rejected a piece of text.
///
/// ``reason`` is for code to branch on; ``description`` is a sentence for
/// people (API error messages, logs), e.g.
/// `'+1 555' is too short to be a phone number`.
public struct PhoneNumberError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, finest first where libphonenumber can tell.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Nothing that looks like a phone number (empty, letters, `"+1"`).
        case notANumber
        /// No usable country code: none written and no (known) default
        /// region, or an unassigned code such as +999.
        case invalidCountryCode
        /// Too few digits after the international dialling prefix (`"011 1"`
        /// with default region US).
        case tooShortAfterIDD
        /// Too few digits for the country (or for any country).
        case tooShort
        /// Too many digits for the country (or for any country), or far too
        /// much text.
        case tooLong
        /// A digit count between the country's shortest and longest, but not
        /// one it uses.
        case invalidLength
        /// Plausible length, but not in any number range the country has
        /// assigned (e.g. US area code 555).
        case invalidNumber
        /// Valid, but in another region than the required default region.
        case invalidForRegion
        /// libphonenumber failed unexpectedly; the input may be fine.
        case internalError
    }

    /// What was wrong.
    public let reason: Reason
    /// The text that was rejected, as given.
    public let input: String
    /// The default region the text was parsed with, as given.
    public let defaultRegion: String?
    /// The country calling code the text was read as having, when it got
    /// that far (the ``Reason/tooShort``, ``Reason/invalidNumber`` and
    /// similar cases after a successful parse).
    public let countryCode: Int?
    /// For ``Reason/invalidForRegion``: the region the number is actually in.
    public let actualRegion: String?

    init(status: pn_status, result: pn_number, input: String, defaultRegion: String?) {
        var result = result
        self.input = input
        self.defaultRegion = defaultRegion
        let parsed = status == PN_NOT_VALID || status == PN_WRONG_REGION
        self.countryCode = parsed ? Int(result.country_code) : nil
        self.actualRegion = status == PN_WRONG_REGION ? cString(of: &result.region) : nil
        switch status {
        case PN_INVALID_COUNTRY_CODE: reason = .invalidCountryCode
        case PN_NOT_A_NUMBER: reason = .notANumber
        case PN_TOO_SHORT_AFTER_IDD: reason = .tooShortAfterIDD
        case PN_TOO_SHORT_NSN: reason = .tooShort
        case PN_TOO_LONG_NSN: reason = .tooLong
        case PN_WRONG_REGION: reason = .invalidForRegion
        case PN_NOT_VALID:
            // Parsed but invalid: the length check says whether the digit
            // count is to blame; a "local only" length means the area code
            // is missing, i.e. too short.
            switch result.possibility {
            case PN_POSSIBLE_TOO_SHORT, PN_POSSIBLE_LOCAL_ONLY: reason = .tooShort
            case PN_POSSIBLE_TOO_LONG: reason = .tooLong
            case PN_POSSIBLE_INVALID_LENGTH: reason = .invalidLength
            case PN_POSSIBLE_INVALID_COUNTRY_CODE: reason = .invalidCountryCode
            default: reason = .invalidNumber
            }
        default: reason = .internalError
        }
    }

    /// A sentence saying what is wrong, quoting the input (shortened if long).
    public var description: String {
        let quoted = "'\(Self.abbreviated(input))'"
        let code = countryCode.map { " for country code +\($0)" } ?? ""
        switch reason {
        case .notANumber:
            return "\(quoted) is not a phone number"
        case .invalidCountryCode:
            if countryCode != nil || Self.looksInternational(input) {
                return "\(quoted) does not start with a valid country code"
            }
            guard let defaultRegion, !defaultRegion.isEmpty else {
                return "\(quoted) has no country code; write it as +<country code> <number> or give a default region"
            }
            if PhoneNumber.countryCode(forRegion: defaultRegion) == nil {
                return "\(quoted) has no country code, and the default region '\(Self.abbreviated(defaultRegion))' is not a known region"
            }
            return "\(quoted) does not start with a valid country code"
        case .tooShortAfterIDD:
            return "\(quoted) has too few digits after the international dialling prefix"
        case .tooShort:
            return "\(quoted) is too short to be a phone number"
        case .tooLong:
            return "\(quoted) is too long to be a phone number"
        case .invalidLength:
            return "\(quoted) has the wrong number of digits\(code)"
        case .invalidNumber:
            return "\(quoted) is not a valid phone number\(code)"
        case .invalidForRegion:
            let actual = actualRegion.map { "\($0), not " } ?? "another region than "
            return "\(quoted) is a valid number, but in \(actual)\(defaultRegion ?? "the default region")"
        case .internalError:
            return "\(quoted) could not be checked: libphonenumber failed unexpectedly"
        }
    }

    /// Whether the text starts like an international number, to tell "bad
    /// country code" from "no country code" in the message.
    private static func looksInternational(_ text: String) -> Bool {
        let trimmed = text.drop { $0 == " " || $0 == "\t" }
        return trimmed.hasPrefix("+") || trimmed.hasPrefix("00") || trimmed.hasPrefix("tel:")
    }

    /// Keeps messages readable (and log lines bounded) for absurd inputs.
    private static func abbreviated(_ text: String, limit: Int = 40) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}

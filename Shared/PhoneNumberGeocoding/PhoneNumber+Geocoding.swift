internal import CPhoneNumberGeocoding
internal import CPhoneNumberShim
public import PhoneNumbers

/// Where a number is, from libphonenumber's offline geocoder. A module of its
/// own because the geocoder's library costs every process that loads it
/// 14 MB resident: lookup and assignment parse numbers but never geocode.
extension PhoneNumber {
    /// ``PhoneNumber/init(parsing:defaultRegion:requireDefaultRegion:)``, and
    /// with `geocode` also the English description of where the number is, in
    /// ``PhoneNumber/geocodedRegion``.
    ///
    /// One call into libphonenumber does it all: the text is parsed, and the
    /// number's type and region worked out, once. Parsing and then calling
    /// ``geocodedDescription(locale:)`` gives the same result at about twice
    /// the cost, as that parses the number again. Use this for bulk work such
    /// as imports; ``geocodedDescription(locale:)`` remains for other
    /// languages and for numbers parsed earlier.
    ///
    /// - Throws: ``PhoneNumberError``, exactly as the initialiser without
    ///   `geocode` does.
    public init(
        parsing text: String,
        defaultRegion: String? = nil,
        requireDefaultRegion: Bool = false,
        geocode: Bool
    ) throws(PhoneNumberError) {
        try self.init(
            parsing: text, defaultRegion: defaultRegion, requireDefaultRegion: requireDefaultRegion,
            describingPlacesWith: geocode ? pn_geocoder_place : nil
        )
    }

    /// Where the number is, in words, in the language of `locale`: a place
    /// (`"Mountain View, CA"`) when libphonenumber's prefix data knows one,
    /// otherwise the country (`"United States"`), otherwise `nil` (for
    /// example for non-geographic numbers such as +800).
    ///
    /// - Parameter locale: ICU locale id such as `"en"`, `"de"` or `"zh_Hant"`.
    ///   Languages without data fall back to English where libphonenumber
    ///   allows it.
    public func geocodedDescription(locale: String = "en") -> String? {
        let description = locale.withCString { locale in
            withE164(intoBuffer: 256) { e164, buffer, capacity in
                pn_geocode(e164.baseAddress, e164.count, locale, buffer, capacity) == PN_OK
            }
        }
        guard let description, !description.isEmpty else { return nil }
        return description
    }

    /// Builds the geocoder now rather than during the first request that
    /// geocodes; call it while a service that geocodes starts.
    public static func warmUpGeocoder() {
        _ = pn_warm_up_geocoder()
    }
}

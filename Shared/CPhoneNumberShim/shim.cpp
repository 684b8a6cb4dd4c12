// The C API of phonenumber_shim.h, implemented over libphonenumber.
//
// Every exported function catches all exceptions: a C++ exception unwinding
// into Swift frames is undefined behaviour, so the boundary must be sealed.

#include "phonenumber_shim.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/regex.h>

namespace i18n {
namespace phonenumbers {

// GetNumberType finds the number's region (for a country code shared by
// several regions, such as +1, by matching the number against each region's
// patterns in turn until one fits) and then matches it against that region's
// patterns once more; a caller that also wants the region calls
// GetRegionCodeForNumber, a third pass. The steps they are made of are
// private, but PhoneNumberUtil befriends its unit test class, which the
// library does not define; this class takes that name to reach them (see
// Classify below), so one pattern match gives both region and type.
class PhoneNumberUtilTest {
public:
    static const PhoneMetadata* MetadataForRegion(const PhoneNumberUtil& util,
                                                  const std::string& region) {
        return util.GetMetadataForRegion(region);
    }

    static const PhoneMetadata* MetadataForRegionOrCallingCode(const PhoneNumberUtil& util,
                                                               int country_code,
                                                               const std::string& region) {
        return util.GetMetadataForRegionOrCallingCode(country_code, region);
    }

    // The number's type by the patterns of one region.
    static PhoneNumberUtil::PhoneNumberType TypeByMetadata(const PhoneNumberUtil& util,
                                                           const std::string& national_number,
                                                           const PhoneMetadata& metadata) {
        return util.GetNumberTypeHelper(national_number, metadata);
    }

    // libphonenumber's national-prefix step of parsing; true if it changed `number`.
    static bool StripNationalPrefix(const PhoneNumberUtil& util, const PhoneMetadata& metadata,
                                    std::string* number) {
        std::string carrier_code;
        const std::string before = *number;
        util.MaybeStripNationalPrefixAndCarrierCode(metadata, number, &carrier_code);
        return *number != before;
    }

    // The national number lengths parsing accepts.
    static constexpr size_t kMinNationalLength = PhoneNumberUtil::kMinLengthForNsn;
    static constexpr size_t kMaxNationalLength = PhoneNumberUtil::kMaxLengthForNsn;

    // Records the national number's leading zeros the way parsing does.
    static void SetLeadingZeros(const PhoneNumberUtil& util, const std::string& national_number,
                                PhoneNumber* number) {
        util.SetItalianLeadingZerosForPhoneNumber(national_number, number);
    }

    // Whether the national number starts with `region`'s leading digits.
    static bool MatchesLeadingDigits(const PhoneNumberUtil& util, const PhoneNumber& number,
                                     const std::string& region) {
        std::string matched;
        util.GetRegionCodeForNumberFromRegionList(number, {region}, &matched);
        return matched == region;
    }
};

}  // namespace phonenumbers
}  // namespace i18n

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;
using i18n::phonenumbers::PhoneMetadata;
// The class that reaches PhoneNumberUtil's private steps, by its borrowed name.
using Internals = i18n::phonenumbers::PhoneNumberUtilTest;

// libphonenumber itself gives up on inputs longer than 250 bytes (reporting
// TOO_LONG_NSN); refusing far longer ones here avoids copying megabytes of
// garbage into a std::string only to have them rejected.
constexpr size_t kMaxTextLength = 1024;

// Region codes are two letters ("001" for non-geographic); anything longer
// than this cannot be one, so we do not look further into the C string.
constexpr size_t kMaxRegionLength = 8;

const char kUnknownRegion[] = "ZZ";

const PhoneNumberUtil& Util() {
    // GetInstance() is libphonenumber's thread-safe singleton; the first
    // call loads the metadata.
    return *PhoneNumberUtil::GetInstance();
}

// Copies `value` with its NUL into `buffer`; false (and "") if it does not
// fit, so a caller never sees a silently truncated number.
bool CopyOut(const std::string& value, char* buffer, size_t capacity) {
    if (capacity == 0) return false;
    if (value.size() >= capacity) {
        buffer[0] = '\0';
        return false;
    }
    std::memcpy(buffer, value.data(), value.size());
    buffer[value.size()] = '\0';
    return true;
}

// libphonenumber wants region codes in upper case; callers should not have
// to care. An absent, empty or over-long code becomes "ZZ" (unknown).
std::string NormalizeRegion(const char* region) {
    if (region == nullptr) return kUnknownRegion;
    size_t length = strnlen(region, kMaxRegionLength + 1);
    if (length == 0 || length > kMaxRegionLength) return kUnknownRegion;
    std::string result(region, length);
    for (char& c : result) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return result;
}

pn_status StatusFor(PhoneNumberUtil::ErrorType error) {
    switch (error) {
        case PhoneNumberUtil::NO_PARSING_ERROR: return PN_OK;
        case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return PN_INVALID_COUNTRY_CODE;
        case PhoneNumberUtil::NOT_A_NUMBER: return PN_NOT_A_NUMBER;
        case PhoneNumberUtil::TOO_SHORT_AFTER_IDD: return PN_TOO_SHORT_AFTER_IDD;
        case PhoneNumberUtil::TOO_SHORT_NSN: return PN_TOO_SHORT_NSN;
        case PhoneNumberUtil::TOO_LONG_NSN: return PN_TOO_LONG_NSN;
    }
    return PN_INTERNAL_ERROR;
}

// If the text starts (after blanks) with "00" and then a non-zero digit,
// returns it rewritten as "+..." so it can be tried as an international
// number; otherwise "". libphonenumber only honours the *default region's*
// international prefix, so "0044 ..." fails with no region and means
// nonsense with "US" (whose prefix is 011); "00" is the ITU-recommended
// prefix most of the world writes, so it is a sound second guess.
std::string WithDoubleZeroAsPlus(const std::string& text) {
    size_t i = 0;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i + 2 < text.size() && text[i] == '0' && text[i + 1] == '0' &&
        text[i + 2] >= '1' && text[i + 2] <= '9') {
        return "+" + text.substr(i + 2);
    }
    return std::string();
}

void Clear(pn_number* out) {
    std::memset(out, 0, sizeof *out);
    out->type = PN_TYPE_UNKNOWN;
    out->possibility = PN_POSSIBLE;
}

// Every calling code in use (libphonenumber's list, read once on first use),
// with its metadata, so the shortcut below finds a country code without the
// library's lookup, which builds a list of regions each time.
struct CallingCode {
    bool in_use = false;
    const PhoneMetadata* metadata = nullptr;
};

const std::vector<CallingCode>& CallingCodes() {
    static const std::vector<CallingCode>* const table = [] {
        const PhoneNumberUtil& util = Util();
        auto* codes = new std::vector<CallingCode>(1000);
        std::set<int> supported;
        util.GetSupportedCallingCodes(&supported);
        for (int code : supported) {
            if (code <= 0 || code >= 1000) continue;
            std::string region;
            util.GetRegionCodeForCountryCode(code, &region);
            (*codes)[code] = {true, Internals::MetadataForRegionOrCallingCode(util, code, region)};
        }
        return codes;
    }();
    return *table;
}

// The digits of text written "+<digits>", optionally after "tel:", with only
// ASCII spaces, hyphens, dots and parentheses between the digits, ending in a
// digit ("+1 (415) 555-1234"); false for any other text.
bool PlainInternationalDigits(const char* text, size_t length, std::string* digits) {
    size_t i = 0;
    if (length > 4 && std::memcmp(text, "tel:", 4) == 0) i = 4;
    if (i >= length || text[i] != '+') return false;
    if (text[length - 1] < '0' || text[length - 1] > '9') return false;
    digits->reserve(length - i);
    for (++i; i < length; ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            digits->push_back(c);
        } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
            return false;
        }
    }
    return true;
}

// libphonenumber's Parse spends most of its time in general-purpose regular
// expressions that find where a number starts, strip extensions, and
// normalise punctuation and letters, none of which can change text of the
// plain international shape above. For that shape, this does what Parse
// then does (country code: the first 1-3 digits that are a calling code in
// use; national prefix; leading zeros) with the library's own steps, in a
// quarter of the time. It gives up (false) whenever Parse would fail, or
// would strip a national prefix: Parse itself then decides. A test compares
// the two on every region's example numbers and their neighbours.
bool ParsePlainInternational(const char* text, size_t length, PhoneNumber* number) {
    std::string digits;
    if (!PlainInternationalDigits(text, length, &digits)) return false;
    if (digits.empty() || digits[0] == '0') return false;
    const std::vector<CallingCode>& codes = CallingCodes();
    int code = 0;
    size_t code_length = 0;
    for (size_t i = 1; i <= 3 && i <= digits.size(); ++i) {
        code = code * 10 + (digits[i - 1] - '0');
        if (codes[code].in_use) {
            code_length = i;
            break;
        }
    }
    if (code_length == 0 || codes[code].metadata == nullptr) return false;
    const PhoneMetadata& metadata = *codes[code].metadata;
    std::string national_number = digits.substr(code_length);
    if (national_number.size() < Internals::kMinNationalLength ||
        national_number.size() > Internals::kMaxNationalLength) {
        return false;
    }
    const PhoneNumberUtil& util = Util();
    std::string stripped = national_number;
    if (Internals::StripNationalPrefix(util, metadata, &stripped)) return false;
    number->Clear();
    number->set_country_code(code);
    Internals::SetLeadingZeros(util, national_number, number);
    number->set_national_number(std::strtoull(national_number.c_str(), nullptr, 10));
    return true;
}

// Parse, through the shortcut above where it applies.
PhoneNumberUtil::ErrorType ParseText(const std::string& text, const std::string& region,
                                     uint32_t flags, PhoneNumber* number) {
    if ((flags & PN_PARSE_LIBRARY_ONLY) == 0 && ParsePlainInternational(text.data(), text.size(), number)) {
        return PhoneNumberUtil::NO_PARSING_ERROR;
    }
    return Util().Parse(text, region, number);
}

// Parses E.164 text handed back to us by Swift (originally from pn_parse).
pn_status ParseE164(const char* e164, size_t length, PhoneNumber* number) {
    if (length > kMaxTextLength) return PN_TOO_LONG_NSN;
    return StatusFor(Util().Parse(std::string(e164, length), kUnknownRegion, number));
}

// English, for country names; built once, as constructing an icu::Locale is not free.
const icu::Locale& English() {
    static const icu::Locale* const english = new icu::Locale("en");
    return *english;
}

// Localised country name of a region ("US" -> "United States"), or "" for
// the unknown and non-geographic regions. The same as what the geocoder's
// own fallback computes, minus its second GetRegionCodeForNumber call.
std::string RegionDisplayName(const std::string& region, const icu::Locale& locale) {
    if (region.empty() || region == kUnknownRegion ||
        region == PhoneNumberUtil::kRegionCodeForNonGeoEntity) {
        return std::string();
    }
    icu::UnicodeString name;
    icu::Locale("", region.c_str()).getDisplayCountry(locale, name);
    std::string result;
    name.toUTF8String(result);
    return result;
}

// Writes what PhoneNumberOfflineGeocoder::GetDescriptionForNumber returns,
// for a number whose type and region the caller has already computed, so
// neither is computed again: "" for an unknown type, the country name for a
// non-geographic type (mobile numbers in most countries), otherwise the place
// from `describer` (the geocoder's prefix data, which falls back to the
// country name itself). False when it does not fit.
bool Describe(const PhoneNumber& number, PhoneNumberUtil::PhoneNumberType type,
              const std::string& region, pn_place_describer describer,
              char* description, size_t capacity) {
    if (type == PhoneNumberUtil::UNKNOWN) return true;
    if (!Util().IsNumberGeographical(type, number.country_code())) {
        return CopyOut(RegionDisplayName(region, English()), description, capacity);
    }
    return describer(&number, description, capacity) != 0;
}

// A parsed number's region (GetRegionCodeForNumber) and type (GetNumberType),
// each worked out once. A number is valid (IsValidNumber) exactly when its
// type is not UNKNOWN: both match the national number against the patterns
// of the region GetRegionCodeForNumber finds.
struct Classification {
    std::string region = kUnknownRegion;
    PhoneNumberUtil::PhoneNumberType type = PhoneNumberUtil::UNKNOWN;
};

// libphonenumber's GetNumberTypeHelper (same checks, same order, same
// patterns) with each pattern compiled once per thread. The library finds a
// pattern by hashing its text (hundreds of bytes for some regions) in a
// shared cache and makes a new ICU matcher for every match: eight times
// slower, a quarter of an import's CPU. A test compares the two answers on
// every region's example numbers and their neighbours. Each thread that
// classifies keeps the matchers of the number types it has met, about 12 KB
// each (16 MB if one thread met every region's every type).
class NumberTyper {
public:
    PhoneNumberUtil::PhoneNumberType Type(const std::string& national_number,
                                          const PhoneMetadata& metadata) {
        input_ = icu::UnicodeString::fromUTF8(national_number);
        length_ = static_cast<int>(national_number.size());
        if (!Matches(metadata.general_desc())) return PhoneNumberUtil::UNKNOWN;
        if (Matches(metadata.premium_rate())) return PhoneNumberUtil::PREMIUM_RATE;
        if (Matches(metadata.toll_free())) return PhoneNumberUtil::TOLL_FREE;
        if (Matches(metadata.shared_cost())) return PhoneNumberUtil::SHARED_COST;
        if (Matches(metadata.voip())) return PhoneNumberUtil::VOIP;
        if (Matches(metadata.personal_number())) return PhoneNumberUtil::PERSONAL_NUMBER;
        if (Matches(metadata.pager())) return PhoneNumberUtil::PAGER;
        if (Matches(metadata.uan())) return PhoneNumberUtil::UAN;
        if (Matches(metadata.voicemail())) return PhoneNumberUtil::VOICEMAIL;
        if (Matches(metadata.fixed_line())) {
            if (metadata.same_mobile_and_fixed_line_pattern() || Matches(metadata.mobile())) {
                return PhoneNumberUtil::FIXED_LINE_OR_MOBILE;
            }
            return PhoneNumberUtil::FIXED_LINE;
        }
        if (!metadata.same_mobile_and_fixed_line_pattern() && Matches(metadata.mobile())) {
            return PhoneNumberUtil::MOBILE;
        }
        return PhoneNumberUtil::UNKNOWN;
    }

private:
    // IsNumberMatchingDesc: a possible length, then a full match of the pattern.
    bool Matches(const PhoneNumberDesc& desc) {
        if (desc.possible_length_size() > 0 &&
            std::find(desc.possible_length().begin(), desc.possible_length().end(), length_) ==
                desc.possible_length().end()) {
            return false;
        }
        if (desc.national_number_pattern().empty()) return false;
        icu::RegexMatcher* matcher = MatcherFor(desc);
        if (matcher == nullptr) return false;  // the library's matcher fails the same way
        matcher->reset(input_);
        UErrorCode status = U_ZERO_ERROR;
        const bool matched = matcher->matches(status);
        return U_SUCCESS(status) && matched;
    }

    icu::RegexMatcher* MatcherFor(const PhoneNumberDesc& desc) {
        auto found = matchers_.find(&desc);
        if (found == matchers_.end()) {
            UErrorCode status = U_ZERO_ERROR;
            auto matcher = std::make_unique<icu::RegexMatcher>(
                icu::UnicodeString::fromUTF8(desc.national_number_pattern()), 0, status);
            if (U_FAILURE(status)) matcher.reset();
            found = matchers_.emplace(&desc, std::move(matcher)).first;
        }
        return found->second.get();
    }

    // Keyed by address: metadata lives, unchanged, as long as the process.
    std::unordered_map<const PhoneNumberDesc*, std::unique_ptr<icu::RegexMatcher>> matchers_;
    icu::UnicodeString input_;
    int length_ = 0;
};

// The number's type by one region's patterns, through NumberTyper unless the
// caller asked for the library's own steps.
PhoneNumberUtil::PhoneNumberType TypeByMetadata(const std::string& national_number,
                                                const PhoneMetadata& metadata, uint32_t flags) {
    if ((flags & PN_PARSE_LIBRARY_ONLY) != 0) {
        return Internals::TypeByMetadata(Util(), national_number, metadata);
    }
    thread_local NumberTyper typer;
    return typer.Type(national_number, metadata);
}

Classification Classify(const PhoneNumber& number, uint32_t flags) {
    const PhoneNumberUtil& util = Util();
    Classification result;
    std::list<std::string> regions;
    util.GetRegionCodesForCountryCallingCode(number.country_code(), &regions);
    if (regions.empty()) return result;
    std::string national_number;
    util.GetNationalSignificantNumber(number, &national_number);
    if (regions.size() == 1) {
        // The only region, or "001" for a non-geographic country code.
        result.region = regions.front();
        const PhoneMetadata* metadata = Internals::MetadataForRegionOrCallingCode(
            util, number.country_code(), result.region);
        if (metadata != nullptr) result.type = TypeByMetadata(national_number, *metadata, flags);
        return result;
    }
    // GetRegionCodeForNumberFromRegionList's search, keeping the type it computes.
    for (const std::string& region : regions) {
        const PhoneMetadata& metadata = *Internals::MetadataForRegion(util, region);
        PhoneNumberUtil::PhoneNumberType type;
        if (metadata.has_leading_digits()) {
            if (!Internals::MatchesLeadingDigits(util, number, region)) continue;
            type = TypeByMetadata(national_number, metadata, flags);
        } else {
            type = TypeByMetadata(national_number, metadata, flags);
            if (type == PhoneNumberUtil::UNKNOWN) continue;
        }
        result.region = region;
        result.type = type;
        return result;
    }
    return result;
}

// Parses and validates; on success also fills in type and region. Each of
// libphonenumber's costly steps runs once per reading of the text (see
// Classify): validity comes from the type, not a separate IsValidNumber call.
pn_status Parse(const char* text, size_t text_len, const char* default_region,
                uint32_t flags, pn_number* out, PhoneNumber* parsed,
                PhoneNumberUtil::PhoneNumberType* parsed_type,
                std::string* parsed_region) {
    if (text_len > kMaxTextLength) return PN_TOO_LONG_NSN;
    const PhoneNumberUtil& util = Util();
    const std::string input(text, text_len);
    const std::string region = NormalizeRegion(default_region);

    PhoneNumber& number = *parsed;
    PhoneNumberUtil::ErrorType error = ParseText(input, region, flags, &number);
    Classification found;
    if (error == PhoneNumberUtil::NO_PARSING_ERROR) found = Classify(number, flags);
    bool valid = error == PhoneNumberUtil::NO_PARSING_ERROR && found.type != PhoneNumberUtil::UNKNOWN;

    if (!valid) {
        // The "00" reading wins if it is valid, or if it at least parses
        // where the first reading found no country code (its failure reason
        // is then the more telling one, e.g. "too short" rather than "no
        // country code"). Other first-reading errors stand: they mean
        // libphonenumber did recognise a prefix, e.g. Australia's "0011".
        const std::string alternative = WithDoubleZeroAsPlus(input);
        PhoneNumber retry;
        if (!alternative.empty() &&
            ParseText(alternative, region, flags, &retry) == PhoneNumberUtil::NO_PARSING_ERROR) {
            Classification retry_found = Classify(retry, flags);
            const bool retry_valid = retry_found.type != PhoneNumberUtil::UNKNOWN;
            if (retry_valid || error == PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR) {
                number = retry;
                error = PhoneNumberUtil::NO_PARSING_ERROR;
                valid = retry_valid;
                found = std::move(retry_found);
            }
        }
    }
    if (error != PhoneNumberUtil::NO_PARSING_ERROR) return StatusFor(error);

    // E.164 is only "+", the country code and the national significant
    // number (leading zeros included); no pattern matching is involved.
    std::string e164;
    util.GetNationalSignificantNumber(number, &e164);
    e164.insert(0, "+" + std::to_string(number.country_code()));
    if (!CopyOut(e164, out->e164, sizeof out->e164)) return PN_TOO_LONG_NSN;
    out->country_code = number.country_code();
    out->national_number = number.national_number();

    std::string& number_region = *parsed_region;
    if (!valid) {
        // Say why: the length check distinguishes "too short" from "right
        // length but no such number range". The region is only a hint for
        // the message, since an invalid number has no region of its own.
        out->possibility =
            static_cast<pn_possibility>(util.IsPossibleNumberWithReason(number));
        util.GetRegionCodeForCountryCode(number.country_code(), &number_region);
        CopyOut(number_region, out->region, sizeof out->region);
        return PN_NOT_VALID;
    }

    number_region = std::move(found.region);
    CopyOut(number_region, out->region, sizeof out->region);
    out->type = static_cast<pn_number_type>(found.type);
    *parsed_type = found.type;

    if ((flags & PN_PARSE_REQUIRE_REGION) != 0 && region != kUnknownRegion &&
        !util.IsValidNumberForRegion(number, region)) {
        return PN_WRONG_REGION;
    }
    return PN_OK;
}

// pn_parse and pn_parse_geocode: `describer` or `description` may be NULL
// (no geocoding).
pn_status ParseAndDescribe(const char* text, size_t text_len, const char* default_region,
                           uint32_t flags, pn_number* out, pn_place_describer describer,
                           char* description, size_t description_capacity) {
    if (out == nullptr) return PN_INVALID_ARGUMENT;
    Clear(out);
    if (description != nullptr) {
        if (description_capacity == 0) return PN_INVALID_ARGUMENT;
        description[0] = '\0';
    }
    if (text == nullptr) return text_len == 0 ? PN_NOT_A_NUMBER : PN_INVALID_ARGUMENT;
    try {
        PhoneNumber number;
        PhoneNumberUtil::PhoneNumberType type = PhoneNumberUtil::UNKNOWN;
        std::string region;
        pn_status status = Parse(text, text_len, default_region, flags, out,
                                 &number, &type, &region);
        if (status != PN_OK && status != PN_NOT_VALID && status != PN_WRONG_REGION) {
            Clear(out);
        }
        if (status != PN_OK || description == nullptr || describer == nullptr) return status;
        if (!Describe(number, type, region, describer, description, description_capacity)) {
            description[0] = '\0';
            return PN_BUFFER_TOO_SMALL;
        }
        return PN_OK;
    } catch (...) {
        Clear(out);
        if (description != nullptr) description[0] = '\0';
        return PN_INTERNAL_ERROR;
    }
}

}  // namespace

extern "C" {

pn_status pn_parse(const char* text, size_t text_len, const char* default_region,
                   uint32_t flags, pn_number* out) {
    return ParseAndDescribe(text, text_len, default_region, flags, out, nullptr, nullptr, 0);
}

pn_status pn_parse_geocode(const char* text, size_t text_len, const char* default_region,
                           uint32_t flags, pn_number* out, pn_place_describer describer,
                           char* description, size_t description_capacity) {
    return ParseAndDescribe(text, text_len, default_region, flags, out, describer,
                            description, description_capacity);
}

pn_status pn_format(const char* e164, size_t e164_len, pn_format_style style,
                    char* buffer, size_t capacity) {
    if (buffer == nullptr || capacity == 0) return PN_INVALID_ARGUMENT;
    buffer[0] = '\0';
    if (e164 == nullptr) return PN_INVALID_ARGUMENT;
    try {
        PhoneNumberUtil::PhoneNumberFormat format;
        switch (style) {
            case PN_FORMAT_E164: format = PhoneNumberUtil::E164; break;
            case PN_FORMAT_INTERNATIONAL: format = PhoneNumberUtil::INTERNATIONAL; break;
            case PN_FORMAT_NATIONAL: format = PhoneNumberUtil::NATIONAL; break;
            case PN_FORMAT_RFC3966: format = PhoneNumberUtil::RFC3966; break;
            default: return PN_INVALID_ARGUMENT;
        }
        PhoneNumber number;
        pn_status status = ParseE164(e164, e164_len, &number);
        if (status != PN_OK) return status;
        std::string formatted;
        Util().Format(number, format, &formatted);
        return CopyOut(formatted, buffer, capacity) ? PN_OK : PN_BUFFER_TOO_SMALL;
    } catch (...) {
        buffer[0] = '\0';
        return PN_INTERNAL_ERROR;
    }
}

int32_t pn_country_code_for_region(const char* region) {
    try {
        const std::string code = NormalizeRegion(region);
        if (code == kUnknownRegion) return 0;
        return Util().GetCountryCodeForRegion(code);
    } catch (...) {
        return 0;
    }
}

pn_status pn_example_number(const char* region, int32_t calling_code, pn_number_type type,
                            char* buffer, size_t capacity) {
    if (buffer == nullptr || capacity == 0) return PN_INVALID_ARGUMENT;
    buffer[0] = '\0';
    if (type < PN_TYPE_FIXED_LINE || type > PN_TYPE_UNKNOWN) return PN_INVALID_ARGUMENT;
    try {
        const PhoneNumberUtil& util = Util();
        const std::string code = NormalizeRegion(region);
        PhoneNumber number;
        const bool found = code == PhoneNumberUtil::kRegionCodeForNonGeoEntity
            ? util.GetExampleNumberForNonGeoEntity(calling_code, &number)
            : util.GetExampleNumberForType(code, static_cast<PhoneNumberUtil::PhoneNumberType>(type), &number);
        if (!found) return PN_INVALID_ARGUMENT;
        std::string e164;
        util.Format(number, PhoneNumberUtil::E164, &e164);
        return CopyOut(e164, buffer, capacity) ? PN_OK : PN_BUFFER_TOO_SMALL;
    } catch (...) {
        buffer[0] = '\0';
        return PN_INTERNAL_ERROR;
    }
}

pn_status pn_warm_up(void) {
    // Parsing one number loads the metadata and compiles the common regular
    // expressions.
    pn_number number;
    return pn_parse("+16502530000", 12, nullptr, 0, &number);
}

}  // extern "C"

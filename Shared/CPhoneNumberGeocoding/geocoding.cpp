// The C API of phonenumber_geocoding.h, over libphonenumber's geocoder.

#include "phonenumber_geocoding.h"

#include <cstring>
#include <string>

#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
using i18n::phonenumbers::PhoneNumberUtil;

// ICU locale ids are short; this bounds the scan of an untrusted C string.
constexpr size_t kMaxLocaleLength = 64;

// The geocoder is costly to build, so there is one, created on first use.
// A function-local static is initialised exactly once even when several
// threads get here at the same time (C++11). It is deliberately never
// deleted, so a thread still geocoding while the process exits cannot touch
// a destroyed object.
//
// Using it from many threads is safe without a lock of our own: the header
// shows its only mutable state (the map of lazily loaded prefix files) is
// guarded by its own absl::Mutex, and the public methods are const.
const PhoneNumberOfflineGeocoder& Geocoder() {
    static const PhoneNumberOfflineGeocoder* const geocoder =
        new PhoneNumberOfflineGeocoder();
    return *geocoder;
}

// Built once, as constructing an icu::Locale is not free.
const icu::Locale& English() {
    static const icu::Locale* const english = new icu::Locale("en");
    return *english;
}

// Copies `value` with its NUL into `buffer`; false (and "") if it does not fit.
bool CopyOut(const std::string& value, char* buffer, size_t capacity) {
    if (value.size() >= capacity) {
        buffer[0] = '\0';
        return false;
    }
    std::memcpy(buffer, value.c_str(), value.size() + 1);
    return true;
}

}  // namespace

extern "C" {

int pn_geocoder_place(const void* number, char* place, size_t capacity) {
    if (number == nullptr || place == nullptr || capacity == 0) return 0;
    try {
        // For a valid number: GetDescriptionForNumber less its re-validation.
        const PhoneNumber& parsed = *static_cast<const PhoneNumber*>(number);
        return CopyOut(Geocoder().GetDescriptionForValidNumber(parsed, English()), place, capacity) ? 1 : 0;
    } catch (...) {
        place[0] = '\0';
        return 0;
    }
}

pn_status pn_geocode(const char* e164, size_t e164_len, const char* locale,
                     char* buffer, size_t capacity) {
    if (buffer == nullptr || capacity == 0) return PN_INVALID_ARGUMENT;
    buffer[0] = '\0';
    if (e164 == nullptr) return PN_INVALID_ARGUMENT;
    try {
        PhoneNumber parsed;
        if (PhoneNumberUtil::GetInstance()->Parse(std::string(e164, e164_len), "ZZ", &parsed) !=
            PhoneNumberUtil::NO_PARSING_ERROR) {
            return PN_NOT_A_NUMBER;
        }
        std::string locale_id = "en";
        if (locale != nullptr) {
            size_t length = strnlen(locale, kMaxLocaleLength + 1);
            if (length > 0 && length <= kMaxLocaleLength) locale_id.assign(locale, length);
        }
        // GetDescriptionForNumber checks validity itself: an invalid number has no place ("").
        const std::string description =
            Geocoder().GetDescriptionForNumber(parsed, icu::Locale(locale_id.c_str()));
        return CopyOut(description, buffer, capacity) ? PN_OK : PN_BUFFER_TOO_SMALL;
    } catch (...) {
        buffer[0] = '\0';
        return PN_INTERNAL_ERROR;
    }
}

pn_status pn_warm_up_geocoder(void) {
    char description[PN_DESCRIPTION_CAPACITY];
    return pn_geocode("+16502530000", 12, "en", description, sizeof description);
}

}  // extern "C"

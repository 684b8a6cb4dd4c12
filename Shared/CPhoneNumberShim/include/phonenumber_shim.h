/*
 * A plain C API over libphonenumber (C++).
 *
 * Swift imports this header as C, so nothing C++ may appear here. Every
 * output is written into memory the caller owns (a pn_number struct or a
 * caller-provided buffer), so there is never a question of who frees what.
 * No function lets a C++ exception escape; a caught exception becomes
 * PN_INTERNAL_ERROR.
 *
 * All functions are safe to call from any number of threads at once.
 */
#ifndef PHONENUMBER_SHIM_H
#define PHONENUMBER_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Outcome of a shim call. The first six values mirror libphonenumber's
 * PhoneNumberUtil::ErrorType one to one, so a parse failure keeps its exact
 * reason; the rest are the shim's own.
 */
typedef enum pn_status {
    PN_OK = 0,
    /* No valid country calling code: none given and no (known) default
     * region, or an unassigned one such as +999. */
    PN_INVALID_COUNTRY_CODE = 1,
    /* Does not look like a phone number at all (letters, empty, "+1"). */
    PN_NOT_A_NUMBER = 2,
    /* Nothing usable follows the international dialling prefix ("011 1"). */
    PN_TOO_SHORT_AFTER_IDD = 3,
    /* The national significant number has fewer than two digits. */
    PN_TOO_SHORT_NSN = 4,
    /* The national significant number has more than 17 digits, or the input
     * is longer than libphonenumber will look at. */
    PN_TOO_LONG_NSN = 5,
    /* Parsed, but libphonenumber's IsValidNumber() says no. The pn_number
     * then holds what was parsed and `possibility` says whether the length
     * was the problem. */
    PN_NOT_VALID = 6,
    /* Valid, but not in the default region, and PN_PARSE_REQUIRE_REGION was
     * set. The pn_number holds the number and its actual region. */
    PN_WRONG_REGION = 7,
    /* An output buffer was too small; the buffer holds an empty string. */
    PN_BUFFER_TOO_SMALL = 8,
    /* A required pointer was NULL. */
    PN_INVALID_ARGUMENT = 9,
    /* libphonenumber (or ICU) threw; the call had no effect. */
    PN_INTERNAL_ERROR = 10
} pn_status;

/* libphonenumber's PhoneNumberUtil::PhoneNumberType, in the same order. */
typedef enum pn_number_type {
    PN_TYPE_FIXED_LINE = 0,
    PN_TYPE_MOBILE = 1,
    /* Regions such as the US cannot tell fixed-line and mobile apart. */
    PN_TYPE_FIXED_LINE_OR_MOBILE = 2,
    PN_TYPE_TOLL_FREE = 3,
    PN_TYPE_PREMIUM_RATE = 4,
    PN_TYPE_SHARED_COST = 5,
    PN_TYPE_VOIP = 6,
    PN_TYPE_PERSONAL_NUMBER = 7,
    PN_TYPE_PAGER = 8,
    /* Universal Access Number ("company number"). */
    PN_TYPE_UAN = 9,
    PN_TYPE_VOICEMAIL = 10,
    PN_TYPE_UNKNOWN = 11
} pn_number_type;

/* libphonenumber's PhoneNumberUtil::ValidationResult (length check only). */
typedef enum pn_possibility {
    PN_POSSIBLE = 0,
    /* Only diallable locally: the area code seems to be missing. */
    PN_POSSIBLE_LOCAL_ONLY = 1,
    PN_POSSIBLE_INVALID_COUNTRY_CODE = 2,
    PN_POSSIBLE_TOO_SHORT = 3,
    /* Between the shortest and longest lengths the region uses, but matches
     * none of them. */
    PN_POSSIBLE_INVALID_LENGTH = 4,
    PN_POSSIBLE_TOO_LONG = 5
} pn_possibility;

typedef enum pn_format_style {
    /* "+14155551234" */
    PN_FORMAT_E164 = 0,
    /* "+1 415-555-1234" */
    PN_FORMAT_INTERNATIONAL = 1,
    /* "(415) 555-1234" */
    PN_FORMAT_NATIONAL = 2,
    /* "tel:+1-415-555-1234" */
    PN_FORMAT_RFC3966 = 3
} pn_format_style;

/* Flags for pn_parse. */
enum {
    /* Fail with PN_WRONG_REGION unless the number is valid for the default
     * region itself (not merely parsed with its help). Ignored when no
     * default region is given. */
    PN_PARSE_REQUIRE_REGION = 1u << 0,
    /* Use libphonenumber's own parser and number-type check throughout,
     * not the shim's faster equivalents (a shortcut for plain "+<digits>"
     * text, patterns compiled once per thread); the results are the same
     * (tests compare the two), only slower. */
    PN_PARSE_LIBRARY_ONLY = 1u << 1
};

/* '+', a country code (up to 3 digits) and a national number (up to 17
 * digits, libphonenumber's limit), NUL: 22 bytes; rounded up. */
#define PN_E164_CAPACITY 24
/* Two-letter ISO 3166-1 region, or "001" for non-geographic numbers
 * (+800, +979, ...), NUL. */
#define PN_REGION_CAPACITY 4

/*
 * One parsed number. Every string is NUL-terminated and fits its array by
 * construction; an empty string means "unknown".
 */
typedef struct pn_number {
    /* Canonical E.164, e.g. "+14155551234". */
    char e164[PN_E164_CAPACITY];
    /* Region the number belongs to, e.g. "US"; "001" for non-geographic
     * numbers. After PN_NOT_VALID, the main region of the country code
     * (or "ZZ" if the code is unassigned), for error messages only. */
    char region[PN_REGION_CAPACITY];
    /* Country calling code, e.g. 1 or 44. */
    int32_t country_code;
    /* Type of the number; PN_TYPE_UNKNOWN unless the number is valid. */
    pn_number_type type;
    /* National significant number as an integer. Leading zeros (Italy) are
     * not represented here; e164 keeps them. */
    uint64_t national_number;
    /* Result of the length check; meaningful after PN_NOT_VALID. */
    pn_possibility possibility;
} pn_number;

/*
 * Parses `text` (UTF-8, `text_len` bytes, need not be NUL-terminated, may
 * contain NULs) as a phone number and checks that it is valid.
 *
 * Accepts the usual written forms: "+1 (415) 555-1234", "+1-415-555-1234",
 * "tel:+1-415-555-1234", national forms with a default region
 * ("(415) 555-1234", "14155551234" for "US", "020 7946 0958" for "GB"), and
 * international forms with the default region's dialling prefix. A leading
 * "00" is also accepted as an international prefix when the default region
 * does not make sense of the number ("0044 20 7946 0958" with no region or
 * with "US"), because "00" is what most of the world writes. Extensions
 * ("ext. 12") are accepted and dropped: E.164 has no place for them.
 *
 * `default_region` is an ISO 3166-1 alpha-2 code (case-insensitive) used for
 * numbers written without a country code; NULL or "" means none.
 * `flags` is a combination of PN_PARSE_* values.
 *
 * Returns PN_OK and fills `*out`, or the reason for failure. `*out` is
 * always fully initialised (zeros and empty strings where nothing is known).
 */
pn_status pn_parse(const char *text, size_t text_len,
                   const char *default_region, uint32_t flags,
                   pn_number *out);

/* Room for any English description pn_parse_geocode writes, with its NUL. */
#define PN_DESCRIPTION_CAPACITY 256

/*
 * Writes the English place of a valid, geographical number that pn_parse
 * has just filled in (a town, "Mountain View, CA", else its country) into
 * `place` of `capacity` bytes, NUL-terminated; returns 0 when it does not
 * fit. The geocoder's prefix tables are a library of their own
 * (libgeocoding, 14 MB of tables relocated when it loads), so it lives in
 * the CPhoneNumberGeocoding module, whose pn_geocoder_place is the one
 * describer: services that never geocode never load it. `number` is
 * libphonenumber's own parsed number (an i18n::phonenumbers::PhoneNumber,
 * untyped here, as C and Swift have no such type), so the geocoder neither
 * parses the text again nor rebuilds the number from pn_parse's fields.
 */
typedef int (*pn_place_describer)(const void *number, char *place, size_t capacity);

/*
 * pn_parse, and for a valid number also its English geographic description
 * in the same call, so the number is parsed, validated and classified only
 * once (pn_parse followed by pn_geocode parses it twice and works out its
 * type and region three times).
 *
 * `description` (capacity `description_capacity`, PN_DESCRIPTION_CAPACITY is
 * ample) receives what pn_geocode(e164, ..., "en", ...) would give: a place
 * ("Mountain View, CA", from `describer`), else the country name, else ""
 * (non-geographic numbers). It is always NUL-terminated, and "" unless
 * PN_OK is returned. A NULL `description` or `describer` skips geocoding and
 * makes this exactly pn_parse. Returns pn_parse's statuses, or
 * PN_BUFFER_TOO_SMALL (with `*out` filled) when the description does not fit.
 */
pn_status pn_parse_geocode(const char *text, size_t text_len,
                           const char *default_region, uint32_t flags,
                           pn_number *out, pn_place_describer describer,
                           char *description, size_t description_capacity);

/*
 * Formats a number given in E.164 (as produced by pn_parse) in `style`,
 * writing a NUL-terminated string into `buffer` of `capacity` bytes.
 * 64 bytes is ample for every valid number.
 */
pn_status pn_format(const char *e164, size_t e164_len, pn_format_style style,
                    char *buffer, size_t capacity);

/*
 * Country calling code of a region ("US" -> 1, case-insensitive), or 0 when
 * the region is unknown to libphonenumber.
 */
int32_t pn_country_code_for_region(const char *region);

/*
 * Writes libphonenumber's example number of `type` for `region` (e.g. "GB",
 * or "001" with `calling_code` for a non-geographic entity such as +800) in
 * E.164 into `buffer`. PN_INVALID_ARGUMENT when the region or type has no
 * example. Tests use these to cover every region's number plan.
 */
pn_status pn_example_number(const char *region, int32_t calling_code, pn_number_type type,
                            char *buffer, size_t capacity);

/*
 * Loads libphonenumber's metadata now instead of on the first request that
 * needs it, so that request does not pay for it (pn_warm_up_geocoder does
 * the same for the geocoder).
 */
pn_status pn_warm_up(void);

#ifdef __cplusplus
}
#endif

#endif /* PHONENUMBER_SHIM_H */

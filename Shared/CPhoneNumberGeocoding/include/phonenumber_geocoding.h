/*
 * libphonenumber's offline geocoder behind a C API, apart from the rest of
 * the shim: linking it loads libgeocoding, whose prefix tables cost every
 * process 14 MB resident at start-up (458,000 relocations), so only the
 * services that geocode (inventory) link this module.
 *
 * Every function catches all exceptions, as the shim's do.
 */
#ifndef PHONENUMBER_GEOCODING_H
#define PHONENUMBER_GEOCODING_H

#include "phonenumber_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The describer pn_parse_geocode takes: the English place of a valid,
 * geographical number it has just parsed (see pn_place_describer):
 * "Mountain View, CA", or the country name when the prefix data knows no
 * place. 0 when it does not fit.
 */
int pn_geocoder_place(const void *number, char *place, size_t capacity);

/*
 * Writes a geographic description of the number (given in E.164) in the
 * language of `locale` (ICU locale id such as "en", "de", "zh_Hant"; NULL
 * means "en"): a place ("Mountain View, CA") when the prefix data knows one,
 * else the country name ("United States"), else "" (for example for
 * non-geographic numbers and invalid ones). UTF-8, NUL-terminated; 256
 * bytes is ample. PN_NOT_A_NUMBER when libphonenumber cannot parse the text.
 *
 * The geocoder loads its data lazily on first use; see pn_warm_up_geocoder.
 */
pn_status pn_geocode(const char *e164, size_t e164_len, const char *locale,
                     char *buffer, size_t capacity);

/*
 * Builds the geocoder and its English table for +1 now (tables for other
 * country codes and languages are still built on first use).
 */
pn_status pn_warm_up_geocoder(void);

#ifdef __cplusplus
}
#endif

#endif /* PHONENUMBER_GEOCODING_H */

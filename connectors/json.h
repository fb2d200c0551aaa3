/* Reading what the IdP sends: JSON objects that are valid UTF-8 with no NUL anywhere (a NUL,
 * raw or as \u0000, would silently cut a C string short), numbers as bounded times, and
 * documents that may hold tokens freed with their strings wiped. */
#ifndef IDG_CONNECTORS_JSON_H
#define IDG_CONNECTORS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* A JSON object, the whole of s[0..n) (whitespace around it allowed): IDG_ERR_PROTO for
 * anything else, IDG_ERR_NOMEM. */
int idg_json_parse(const char *s, size_t n, cJSON **out);
/* Free j after wiping every string in it (token responses hold secrets); accepts NULL. */
void idg_json_free_wipe(cJSON *j);
/* True when no two members of the object have the same name. Parsers disagree on which of
 * two duplicates wins, so a document with any is refused where it matters (JWT headers). */
bool idg_json_members_unique(const cJSON *obj);
/* A NumericDate (RFC 7519): a JSON number of seconds in [0, year 9999]; IDG_ERR_INVAL else. */
int idg_json_time(const cJSON *item, int64_t *out);

/* Strict UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF) without NUL. */
bool idg_utf8_valid(const char *s, size_t n);

#endif

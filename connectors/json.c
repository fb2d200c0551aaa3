/* JSON from the IdP (see json.h). cJSON passes invalid UTF-8 through and turns \u0000 into a
 * string terminator, so both are caught here, before cJSON sees the text. */
#include "config.h"

#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "connectors/json.h"

#define NUMERICDATE_MAX 253402300799.0	/* 9999-12-31T23:59:59Z */

bool
idg_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	while (n > 0) {
		uint32_t cp;
		size_t len = idg_utf8_char(p, n, &cp);

		if (len == 0)
			return false;
		p += len;
		n -= len;
	}
	return true;
}

/* A \u0000 escape inside a JSON string (an escaped backslash followed by "u0000" is not). */
static bool
has_nul_escape(const char *s, size_t n)
{
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		if (!in_str) {
			in_str = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_str = false;
		} else if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
				return true;
			i++;	/* the escaped character */
		}
	}
	return false;
}

int
idg_json_parse(const char *s, size_t n, cJSON **out)
{
	const char *end = NULL;
	cJSON *j;

	if (s == NULL || n == 0 || !idg_utf8_valid(s, n) || has_nul_escape(s, n))
		return IDG_ERR_PROTO;
	if ((j = cJSON_ParseWithLengthOpts(s, n, &end, 0)) == NULL)
		return IDG_ERR_PROTO;
	/* Only whitespace may follow the value: cJSON itself ignores trailing bytes. */
	while (end && end < s + n && strchr(" \t\r\n", *end) && *end)
		end++;
	if (!cJSON_IsObject(j) || end != s + n) {
		idg_json_free_wipe(j);
		return IDG_ERR_PROTO;
	}
	*out = j;
	return 0;
}

static void
wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		if (j->string)
			explicit_bzero(j->string, strlen(j->string));
		wipe(j->child);
	}
}

void
idg_json_free_wipe(cJSON *j)
{
	if (j == NULL)
		return;
	wipe(j->child);
	if (j->valuestring)
		explicit_bzero(j->valuestring, strlen(j->valuestring));
	cJSON_Delete(j);
}

bool
idg_json_members_unique(const cJSON *obj)
{
	for (const cJSON *a = obj ? obj->child : NULL; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (a->string && b->string && strcmp(a->string, b->string) == 0)
				return false;
	return true;
}

int
idg_json_time(const cJSON *item, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return IDG_ERR_INVAL;
	d = item->valuedouble;
	/* Written so that NaN fails too; the cast is in range afterwards. */
	if (!(d >= 0 && d <= NUMERICDATE_MAX))
		return IDG_ERR_INVAL;
	*out = (int64_t)d;
	return 0;
}

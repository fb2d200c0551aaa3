/* Strict base64url decoding (see b64.h). Not crypto: the alphabet of RFC 4648 §5. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "connectors/b64.h"

static int
val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

bool
idg_b64url_valid(const char *s, size_t n)
{
	int last;

	if (n % 4 == 1)
		return false;	/* 6 bits cannot end a byte */
	for (size_t i = 0; i < n; i++)
		if (val((unsigned char)s[i]) < 0)
			return false;
	if (n == 0)
		return true;
	/* The bits past the last whole byte must be zero, or two texts decode alike. */
	last = val((unsigned char)s[n - 1]);
	if (n % 4 == 2)
		return (last & 0x0f) == 0;
	if (n % 4 == 3)
		return (last & 0x03) == 0;
	return true;
}

size_t
idg_b64url_declen(size_t n)
{
	return n / 4 * 3 + (n % 4 == 2 ? 1 : n % 4 == 3 ? 2 : 0);
}

int
idg_b64url_decode(const char *s, size_t n, unsigned char **out, size_t *len_out)
{
	unsigned char *d;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (!idg_b64url_valid(s, n))
		return IDG_ERR_INVAL;
	if ((d = malloc(idg_b64url_declen(n) + 1)) == NULL)
		return IDG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 6) | (uint32_t)val((unsigned char)s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	d[o] = '\0';
	*out = d;
	*len_out = o;
	return 0;
}

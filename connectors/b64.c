/* Strict base64url decoding (see b64.h). Not crypto: the alphabet of RFC 4648 §5. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "connectors/b64.h"

/* The value of each byte in the alphabet "A-Za-z0-9-_", X (0xff) for every other byte. */
#define X 0xff
static const unsigned char values[256] = {
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, 62, X, X,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, 63,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
#undef X

/* The bits past the last whole byte must be zero, or two texts decode alike. */
static bool
canonical_end(const unsigned char *v, const char *s, size_t n)
{
	unsigned last;

	if (n % 4 == 1)
		return false;	/* 6 bits cannot end a byte */
	if (n == 0 || n % 4 == 0)
		return true;
	last = v[(unsigned char)s[n - 1]];
	return n % 4 == 2 ? (last & 0x0f) == 0 : (last & 0x03) == 0;
}

bool
idg_b64url_valid(const char *s, size_t n)
{
	const unsigned char *v = values;

	for (size_t i = 0; i < n; i++)
		if (v[(unsigned char)s[i]] == 0xff)
			return false;
	return canonical_end(v, s, n);
}

size_t
idg_b64url_declen(size_t n)
{
	return n / 4 * 3 + (n % 4 == 2 ? 1 : n % 4 == 3 ? 2 : 0);
}

int
idg_b64url_decode(const char *s, size_t n, unsigned char **out, size_t *len_out)
{
	const unsigned char *v = values;
	unsigned char *d;
	size_t o = 0, i = 0;
	uint32_t acc;

	if (!canonical_end(v, s, n))
		return IDG_ERR_INVAL;
	if ((d = malloc(idg_b64url_declen(n) + 1)) == NULL)
		return IDG_ERR_NOMEM;
	for (; i + 4 <= n; i += 4) {
		unsigned a = v[(unsigned char)s[i]], b = v[(unsigned char)s[i + 1]];
		unsigned c = v[(unsigned char)s[i + 2]], e = v[(unsigned char)s[i + 3]];

		if ((a | b | c | e) & 0xc0)
			goto bad;	/* 0xff: not in the alphabet */
		acc = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | e;
		d[o++] = (unsigned char)(acc >> 16);
		d[o++] = (unsigned char)(acc >> 8);
		d[o++] = (unsigned char)acc;
	}
	if (n - i >= 2) {
		acc = 0;
		for (size_t k = 0; k < 4; k++) {
			unsigned c = i + k < n ? v[(unsigned char)s[i + k]] : 0;

			if (c == 0xff)
				goto bad;
			acc = acc << 6 | c;
		}
		d[o++] = (unsigned char)(acc >> 16);
		if (n - i == 3)
			d[o++] = (unsigned char)(acc >> 8);
	}
	d[o] = '\0';
	*out = d;
	*len_out = o;
	return 0;
bad:
	explicit_bzero(d, o);
	free(d);
	return IDG_ERR_INVAL;
}

/* Offline credential verifiers: scrypt (OpenSSL's EVP_PBE_scrypt) over the password with a
 * 16-byte random salt, the parameters written into the verifier. Pure: no daemon state, so
 * the worker thread may run it (offline.c) and the unit tests may run it alone. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "common/util.h"
#include "daemon/offline.h"

const struct idg_offline_params idg_offline_default = { .log2_n = 15, .r = 8, .p = 1 };

#define PREFIX "scrypt$"
#define MEM_MAX (256ull << 20)

static bool
params_ok(const struct idg_offline_params *pp)
{
	return pp->log2_n >= 10 && pp->log2_n <= 20 && pp->r >= 1 && pp->r <= 32 &&
	    pp->p >= 1 && pp->p <= 16 && (128ull * pp->r << pp->log2_n) <= MEM_MAX;
}

static bool
password_ok(const char *password)
{
	return password && password[0] != '\0' &&
	    strnlen(password, IDG_OFFLINE_PASSWORD_MAX + 1) <= IDG_OFFLINE_PASSWORD_MAX;
}

/* scrypt into hash; what OpenSSL needs (V: 128 r N, B: 128 r p, and a little) is allowed. */
static int
derive(const struct idg_offline_params *pp, const char *password, const uint8_t *salt,
    uint8_t hash[IDG_OFFLINE_HASH_LEN])
{
	uint64_t n = 1ull << pp->log2_n;
	uint64_t maxmem = 128ull * pp->r * (n + 2) + 128ull * pp->r * pp->p + 65536;

	if (EVP_PBE_scrypt(password, strlen(password), salt, IDG_OFFLINE_SALT_LEN, n, pp->r, pp->p,
	    maxmem, hash, IDG_OFFLINE_HASH_LEN) != 1)
		return IDG_ERR_NOMEM;
	return 0;
}

int
idg_offline_hash(const struct idg_offline_params *pp, const char *password, char *out,
    size_t outlen)
{
	uint8_t salt[IDG_OFFLINE_SALT_LEN], hash[IDG_OFFLINE_HASH_LEN];
	char salt_hex[2 * IDG_OFFLINE_SALT_LEN + 1], hash_hex[2 * IDG_OFFLINE_HASH_LEN + 1];
	char buf[IDG_OFFLINE_VERIFIER_MAX + 1];
	int rc, n;

	if (!params_ok(pp) || !password_ok(password))
		return IDG_ERR_INVAL;
	if ((rc = idg_random(salt, sizeof(salt))) < 0)
		return rc;
	if ((rc = derive(pp, password, salt, hash)) < 0)
		goto out;
	idg_hex(salt, sizeof(salt), salt_hex);
	idg_hex(hash, sizeof(hash), hash_hex);
	n = snprintf(buf, sizeof(buf), PREFIX "%u$%u$%u$%s$%s", pp->log2_n, pp->r, pp->p, salt_hex,
	    hash_hex);
	if (n < 0 || (size_t)n >= outlen) {
		rc = IDG_ERR_TOOBIG;
		goto out;
	}
	memcpy(out, buf, (size_t)n + 1);
out:
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(hash_hex, sizeof(hash_hex));
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* A decimal number of 1 to 3 digits without a leading zero, then sep; *p moves past it. */
static bool
number(const char **p, char sep, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;

	if (*s == '0')
		return false;
	for (; *s >= '0' && *s <= '9' && n < 3; s++, n++)
		v = v * 10 + (unsigned)(*s - '0');
	if (n == 0 || *s != sep)
		return false;
	*out = v;
	*p = s + 1;
	return true;
}

/* Exactly 2 * len lower-case hex digits, then sep ('\0': the end). */
static bool
hexbytes(const char **p, char sep, uint8_t *out, size_t len)
{
	const char *s = *p;

	for (size_t i = 0; i < 2 * len; i++) {
		char c = s[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	if (s[2 * len] != sep)
		return false;
	*p = s + 2 * len + (sep ? 1 : 0);
	return true;
}

int
idg_offline_parse(const char *verifier, struct idg_offline_params *pp,
    uint8_t salt[IDG_OFFLINE_SALT_LEN], uint8_t hash[IDG_OFFLINE_HASH_LEN])
{
	struct idg_offline_params q;
	const char *s = verifier;

	if (s == NULL || strnlen(s, IDG_OFFLINE_VERIFIER_MAX + 1) > IDG_OFFLINE_VERIFIER_MAX ||
	    strncmp(s, PREFIX, strlen(PREFIX)) != 0)
		return IDG_ERR_CORRUPT;
	s += strlen(PREFIX);
	if (!number(&s, '$', &q.log2_n) || !number(&s, '$', &q.r) || !number(&s, '$', &q.p) ||
	    !params_ok(&q) || !hexbytes(&s, '$', salt, IDG_OFFLINE_SALT_LEN) ||
	    !hexbytes(&s, '\0', hash, IDG_OFFLINE_HASH_LEN))
		return IDG_ERR_CORRUPT;
	*pp = q;
	return 0;
}

int
idg_offline_verify(const char *verifier, const char *password)
{
	struct idg_offline_params pp;
	uint8_t salt[IDG_OFFLINE_SALT_LEN], want[IDG_OFFLINE_HASH_LEN], got[IDG_OFFLINE_HASH_LEN];
	int rc;

	if (!password_ok(password))
		return IDG_ERR_INVAL;
	if ((rc = idg_offline_parse(verifier, &pp, salt, want)) < 0)
		return rc;
	if ((rc = derive(&pp, password, salt, got)) == 0)
		rc = CRYPTO_memcmp(got, want, sizeof(got)) == 0 ? 0 : IDG_ERR_DENIED;
	explicit_bzero(got, sizeof(got));
	explicit_bzero(want, sizeof(want));
	return rc;
}

/* The JWKS key set: which JWS algorithms exist, which JWKs may verify them, and turning a
 * JWKS document into ready verifiers once per key (a key that is still there after a refresh
 * keeps its parsed public key). Keys are imported into OpenSSL (EVP_PKEY_fromdata, which
 * checks that an EC point is on its curve) and a verification context is prepared per
 * algorithm; nothing here does arithmetic on keys. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "common/err.h"
#include "common/log.h"
#include "connectors/b64.h"
#include "connectors/json.h"
#include "connectors/oidc_int.h"

#define JWKS_ENTRIES_MAX 1024	/* entries looked at in one document */
#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 16384

static const struct idg_alg algs[IDG_ALG_COUNT] = {
	{ "RS256", IDG_KTY_RSA, IDG_CRV_NONE, 1u << 0, "SHA256", RSA_PKCS1_PADDING },
	{ "RS384", IDG_KTY_RSA, IDG_CRV_NONE, 1u << 1, "SHA384", RSA_PKCS1_PADDING },
	{ "RS512", IDG_KTY_RSA, IDG_CRV_NONE, 1u << 2, "SHA512", RSA_PKCS1_PADDING },
	{ "PS256", IDG_KTY_RSA, IDG_CRV_NONE, 1u << 3, "SHA256", RSA_PKCS1_PSS_PADDING },
	{ "PS384", IDG_KTY_RSA, IDG_CRV_NONE, 1u << 4, "SHA384", RSA_PKCS1_PSS_PADDING },
	{ "PS512", IDG_KTY_RSA, IDG_CRV_NONE, 1u << 5, "SHA512", RSA_PKCS1_PSS_PADDING },
	{ "ES256", IDG_KTY_EC, IDG_CRV_P256, 1u << 6, "SHA256", 0 },
	{ "ES384", IDG_KTY_EC, IDG_CRV_P384, 1u << 7, "SHA384", 0 },
	{ "ES512", IDG_KTY_EC, IDG_CRV_P521, 1u << 8, "SHA512", 0 },
	{ "EdDSA", IDG_KTY_OKP, IDG_CRV_NONE, 1u << 9, NULL, 0 },
};

static const struct {
	const char *name;	/* the JWK "crv" */
	const char *group;	/* OpenSSL's name (EC) */
	enum idg_kty kty;
	enum idg_crv crv;
	size_t coord;		/* bytes of a coordinate (EC) or of the public key (OKP) */
	size_t siglen;
	int evp_type;		/* OKP only */
} curves[] = {
	{ "P-256", "prime256v1", IDG_KTY_EC, IDG_CRV_P256, 32, 64, 0 },
	{ "P-384", "secp384r1", IDG_KTY_EC, IDG_CRV_P384, 48, 96, 0 },
	{ "P-521", "secp521r1", IDG_KTY_EC, IDG_CRV_P521, 66, 132, 0 },
	{ "Ed25519", NULL, IDG_KTY_OKP, IDG_CRV_ED25519, 32, 64, EVP_PKEY_ED25519 },
	{ "Ed448", NULL, IDG_KTY_OKP, IDG_CRV_ED448, 57, 114, EVP_PKEY_ED448 },
};

unsigned
idg_alg_index(const struct idg_alg *a)
{
	return (unsigned)(a - algs);
}

const struct idg_alg *
idg_alg_by_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

int
idg_alg_parse_list(const char *list, unsigned *mask_out, char *err, size_t errlen)
{
	unsigned mask = 0;
	const char *p = list;

	while (p && *p) {
		char name[32];
		size_t n = strcspn(p, ","), b = 0, e = n;
		const struct idg_alg *a = NULL;

		while (b < e && isspace((unsigned char)p[b]))
			b++;
		while (e > b && isspace((unsigned char)p[e - 1]))
			e--;
		if (e > b) {
			if (e - b >= sizeof(name)) {
				snprintf(err, errlen, "unknown signature algorithm in the list");
				return IDG_ERR_CONFIG;
			}
			memcpy(name, p + b, e - b);
			name[e - b] = '\0';
			/* Never trusted for IdP tokens: "none" is no signature, and an HMAC key
			 * would be the client secret, or an RSA public key an attacker knows. */
			if (strcasecmp(name, "none") == 0 || strncasecmp(name, "HS", 2) == 0) {
				log_warn("connector: signature algorithm %s is never accepted for IdP "
				    "tokens; ignored", name);
			} else {
				for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
					if (strcasecmp(algs[i].name, name) == 0)
						a = &algs[i];
				if (a == NULL) {
					snprintf(err, errlen, "unknown signature algorithm '%s'", name);
					return IDG_ERR_CONFIG;
				}
				mask |= a->bit;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (mask == 0) {
		snprintf(err, errlen, "no usable signature algorithm is allowed");
		return IDG_ERR_CONFIG;
	}
	*mask_out = mask;
	return 0;
}

bool
idg_key_fits(const struct idg_key *k, const struct idg_alg *a)
{
	if (k->kty != a->kty || (a->crv != IDG_CRV_NONE && k->crv != a->crv))
		return false;
	return k->alg == NULL || strcmp(k->alg, a->name) == 0;
}

static void
key_clear(struct idg_key *k)
{
	free(k->kid);
	free(k->alg);
	free(k->json);
	for (size_t i = 0; i < IDG_ALG_COUNT; i++) {
		EVP_PKEY_CTX_free(k->vctx[i]);
		EVP_MD_free(k->md[i]);
	}
	EVP_PKEY_free(k->pk);
	memset(k, 0, sizeof(*k));
}

void
idg_jwks_clear(struct idg_jwks *j)
{
	for (size_t i = 0; j && i < j->n; i++)
		key_clear(&j->keys[i]);
	if (j) {
		free(j->keys);
		free(j->doc);
		j->keys = NULL;
		j->doc = NULL;
		j->n = 0;
	}
}

static const char *
str_member(const cJSON *k, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, name));
}

/* Decoded length of a base64url member, or 0 when absent or not canonical. */
static size_t
b64_member_len(const cJSON *k, const char *name)
{
	const char *s = str_member(k, name);

	if (s == NULL || !idg_b64url_valid(s, strlen(s)))
		return 0;
	return idg_b64url_declen(strlen(s));
}

/* The RSA modulus size in bytes (its leading zero bytes do not count), or 0. */
static size_t
rsa_modulus_bytes(const cJSON *k)
{
	const char *s = str_member(k, "n");
	unsigned char *n = NULL;
	size_t len = 0, i = 0;

	if (s == NULL || idg_b64url_decode(s, strlen(s), &n, &len) < 0)
		return 0;
	while (i < len && n[i] == 0)
		i++;
	free(n);
	return len - i;
}

/* What kind of key k is, whether it may verify signatures at all, and its exact signature
 * length. NULL when usable, else why not (for the log). */
static const char *
key_check(const cJSON *k, struct idg_key *key)
{
	static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "k" };
	const char *kty = str_member(k, "kty"), *use = str_member(k, "use");
	const char *alg = str_member(k, "alg"), *crv = str_member(k, "crv");
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(k, "kid");
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(k, "key_ops"), *op;
	const struct idg_alg *a = NULL;
	bool verify = false;

	static const char *const string_members[] = { "kty", "use", "alg", "crv", "n", "e", "x",
		"y" };

	for (size_t i = 0; i < sizeof(string_members) / sizeof(string_members[0]); i++) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(k, string_members[i]);

		if (m && !cJSON_IsString(m))
			return "a member that must be a string is not";
	}
	if (kid && (!cJSON_IsString(kid) || strlen(kid->valuestring) > IDG_OIDC_KID_MAX))
		return "its kid is not a short string";
	if (kty == NULL)
		return "no kty";
	if (use && strcmp(use, "sig") != 0)
		return "not a signing key";
	if (ops) {
		cJSON_ArrayForEach(op, ops)
			if (cJSON_IsString(op) && strcmp(op->valuestring, "verify") == 0)
				verify = true;
		if (!verify)
			return "its key_ops do not include verify";
	}
	for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(k, private_members[i]))
			return "it publishes private or secret key material";
	if (strcmp(kty, "RSA") == 0) {
		size_t bytes = rsa_modulus_bytes(k);

		key->kty = IDG_KTY_RSA;
		if (b64_member_len(k, "e") == 0 || b64_member_len(k, "e") > 8)
			return "no valid RSA exponent";
		if (bytes * 8 < RSA_BITS_MIN || bytes * 8 > RSA_BITS_MAX)
			return "RSA modulus missing, or shorter than 2048 bits";
		key->siglen = bytes;
	} else if (strcmp(kty, "EC") == 0 || strcmp(kty, "OKP") == 0) {
		size_t i;

		key->kty = strcmp(kty, "EC") == 0 ? IDG_KTY_EC : IDG_KTY_OKP;
		for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
			if (crv && strcmp(curves[i].name, crv) == 0 && curves[i].kty == key->kty)
				break;
		if (i == sizeof(curves) / sizeof(curves[0]))
			return "unsupported curve";
		key->crv = curves[i].crv;
		key->siglen = curves[i].siglen;
		if (b64_member_len(k, "x") != curves[i].coord ||
		    (key->kty == IDG_KTY_EC && b64_member_len(k, "y") != curves[i].coord))
			return "its coordinates do not fit its curve";
	} else {
		return "unsupported kty (only RSA, EC and OKP keys verify IdP tokens)";
	}
	if (alg) {
		struct idg_key probe = { .kty = key->kty, .crv = key->crv };

		if ((a = idg_alg_by_name(alg)) == NULL || !idg_key_fits(&probe, a))
			return "its alg is unknown or does not fit the key";
	}
	return NULL;
}

/* A base64url member, decoded. */
static int
member_bytes(const cJSON *k, const char *name, unsigned char **out, size_t *len)
{
	const char *s = str_member(k, name);

	return s ? idg_b64url_decode(s, strlen(s), out, len) : IDG_ERR_INVAL;
}

static int
import_okp(const cJSON *k, struct idg_key *key)
{
	unsigned char *x = NULL;
	size_t len = 0;
	int rc;

	if ((rc = member_bytes(k, "x", &x, &len)) < 0)
		return rc;
	key->pk = EVP_PKEY_new_raw_public_key(key->crv == IDG_CRV_ED25519 ? EVP_PKEY_ED25519 :
	    EVP_PKEY_ED448, NULL, x, len);
	free(x);
	return key->pk ? 0 : IDG_ERR_INVAL;
}

/* RSA (n, e) or EC (crv, x, y) through OSSL_PARAMs: OpenSSL checks what it is given. */
static int
import_params(const cJSON *k, struct idg_key *key)
{
	unsigned char *a = NULL, *b = NULL, *pt = NULL;
	size_t alen = 0, blen = 0;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int rc = IDG_ERR_INVAL;

	if (bld == NULL)
		return IDG_ERR_NOMEM;
	if (key->kty == IDG_KTY_RSA) {
		if (member_bytes(k, "n", &a, &alen) < 0 || member_bytes(k, "e", &b, &blen) < 0 ||
		    (n = BN_bin2bn(a, (int)alen, NULL)) == NULL ||
		    (e = BN_bin2bn(b, (int)blen, NULL)) == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
			goto out;
	} else {
		const char *group = NULL;

		for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
			if (curves[i].crv == key->crv)
				group = curves[i].group;
		/* The uncompressed point: 0x04 || x || y (SEC 1 §2.3.3). */
		if (group == NULL || member_bytes(k, "x", &a, &alen) < 0 ||
		    member_bytes(k, "y", &b, &blen) < 0 || (pt = malloc(1 + alen + blen)) == NULL)
			goto out;
		pt[0] = 0x04;
		memcpy(pt + 1, a, alen);
		memcpy(pt + 1 + alen, b, blen);
		if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
		    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
		    1 + alen + blen) != 1)
			goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, key->kty == IDG_KTY_RSA ? "RSA" : "EC",
	    NULL)) == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key->pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	rc = 0;
out:
	free(a);
	free(b);
	free(pt);
	BN_free(n);
	BN_free(e);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* A verification context and digest for each algorithm the key may verify (RFC 7518:
 * RS* PKCS #1 v1.5; PS* PSS with MGF1 of the same digest and a salt as long as the digest;
 * ES* ECDSA). EdDSA needs none: it is verified in one call per token. */
static int
prepare(struct idg_key *key)
{
	for (size_t i = 0; i < IDG_ALG_COUNT; i++) {
		const struct idg_alg *a = &algs[i];
		EVP_PKEY_CTX *c;

		if (a->md == NULL || !idg_key_fits(key, a))
			continue;
		if ((key->md[i] = EVP_MD_fetch(NULL, a->md, NULL)) == NULL ||
		    (c = key->vctx[i] = EVP_PKEY_CTX_new_from_pkey(NULL, key->pk, NULL)) == NULL ||
		    EVP_PKEY_verify_init(c) != 1 || EVP_PKEY_CTX_set_signature_md(c, key->md[i]) != 1)
			return IDG_ERR_INVAL;
		if (a->padding && EVP_PKEY_CTX_set_rsa_padding(c, a->padding) != 1)
			return IDG_ERR_INVAL;
		if (a->padding == RSA_PKCS1_PSS_PADDING &&
		    (EVP_PKEY_CTX_set_rsa_mgf1_md(c, key->md[i]) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) != 1))
			return IDG_ERR_INVAL;
	}
	return 0;
}

/* Make key ready: share the public key of the same key in old, or import it now. */
static int
key_ready(const cJSON *k, struct idg_key *key, const struct idg_jwks *old)
{
	int rc;

	for (size_t i = 0; old && i < old->n; i++) {
		const struct idg_key *o = &old->keys[i];

		if (o->pk == NULL || strcmp(o->json, key->json) != 0)
			continue;
		if (EVP_PKEY_up_ref(o->pk) != 1)
			return IDG_ERR_NOMEM;
		key->pk = o->pk;
		return prepare(key);
	}
	rc = key->kty == IDG_KTY_OKP ? import_okp(k, key) : import_params(k, key);
	return rc < 0 ? rc : prepare(key);
}

/* One JWK into *key, ready to verify: 0; IDG_ERR_INVAL with a reason in *why (skip it);
 * IDG_ERR_NOMEM. *key holds nothing to free unless 0 is returned. */
static int
key_build(const cJSON *k, const struct idg_jwks *old, struct idg_key *key,
    const char **why)
{
	const char *kid = str_member(k, "kid"), *alg = str_member(k, "alg");
	int rc;

	memset(key, 0, sizeof(*key));
	if ((*why = key_check(k, key)) != NULL)
		return IDG_ERR_INVAL;
	if ((key->json = cJSON_PrintUnformatted(k)) == NULL ||
	    (kid && (key->kid = strdup(kid)) == NULL) || (alg && (key->alg = strdup(alg)) == NULL)) {
		rc = IDG_ERR_NOMEM;
	} else if ((rc = key_ready(k, key, old)) < 0) {
		*why = "its public key cannot be imported";
	}
	if (rc < 0)
		key_clear(key);
	return rc;
}

static bool
kid_printable(const char *kid)
{
	for (const unsigned char *p = (const unsigned char *)kid; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return false;
	return idg_utf8_valid(kid, strlen(kid));
}

int
idg_jwks_parse(const char *json, size_t len, const struct idg_jwks *old,
    struct idg_jwks *out, char *err, size_t errlen)
{
	struct idg_jwks j = { 0 };
	cJSON *doc = NULL, *keys, *k, *outdoc = NULL, *outkeys;
	size_t seen = 0;
	int rc;

	if (idg_json_parse(json, len, &doc) < 0 ||
	    !cJSON_IsArray(keys = cJSON_GetObjectItemCaseSensitive(doc, "keys"))) {
		snprintf(err, errlen, "malformed JWKS from IdP");
		rc = IDG_ERR_PROTO;
		goto out;
	}
	rc = IDG_ERR_NOMEM;
	if ((j.keys = calloc(IDG_OIDC_KEYS_MAX, sizeof(*j.keys))) == NULL ||
	    (outdoc = cJSON_CreateObject()) == NULL ||
	    (outkeys = cJSON_AddArrayToObject(outdoc, "keys")) == NULL)
		goto out;
	cJSON_ArrayForEach(k, keys) {
		const char *why = NULL, *kid;
		cJSON *dup;

		if (++seen > JWKS_ENTRIES_MAX || j.n == IDG_OIDC_KEYS_MAX) {
			log_notice("connector: the IdP's JWKS has more than %d usable keys; the rest "
			    "are ignored", IDG_OIDC_KEYS_MAX);
			break;
		}
		kid = cJSON_IsObject(k) ? str_member(k, "kid") : NULL;
		if (!cJSON_IsObject(k))
			why = "not a JSON object";
		else if ((rc = key_build(k, old, &j.keys[j.n], &why)) == IDG_ERR_NOMEM)
			goto out;
		if (why) {
			log_notice("connector: JWKS key %s skipped: %s",
			    kid && kid_printable(kid) ? kid : "(without a usable kid)", why);
			continue;
		}
		if ((dup = cJSON_Duplicate(k, 1)) == NULL) {
			key_clear(&j.keys[j.n]);
			rc = IDG_ERR_NOMEM;
			goto out;
		}
		cJSON_AddItemToArray(outkeys, dup);
		j.n++;
	}
	if (j.n == 0) {
		snprintf(err, errlen, "the IdP's JWKS has no usable signing key");
		rc = IDG_ERR_PROTO;
		goto out;
	}
	if ((j.doc = cJSON_PrintUnformatted(outdoc)) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto out;
	}
	*out = j;
	memset(&j, 0, sizeof(j));
	rc = 0;
out:
	if (rc == IDG_ERR_NOMEM)
		snprintf(err, errlen, "out of memory reading the IdP's keys");
	idg_jwks_clear(&j);
	cJSON_Delete(doc);
	cJSON_Delete(outdoc);
	return rc;
}

bool
idg_jwks_same(const struct idg_jwks *a, const struct idg_jwks *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->keys[i].json, b->keys[i].json) != 0)
			return false;
	return true;
}

const struct idg_key *
idg_jwks_find(const struct idg_jwks *j, const char *kid, const struct idg_alg *alg,
    bool *mismatch_out)
{
	const struct idg_key *only = NULL;
	size_t fitting = 0;

	*mismatch_out = false;
	for (size_t i = 0; i < j->n; i++) {
		const struct idg_key *k = &j->keys[i];

		if (kid) {
			if (k->kid == NULL || strcmp(k->kid, kid) != 0)
				continue;
			if (idg_key_fits(k, alg))
				return k;
			*mismatch_out = true;
		} else if (idg_key_fits(k, alg)) {
			only = k;
			fitting++;
		}
	}
	/* Without a kid, only a single candidate is tried: never one verification per key. */
	return fitting == 1 ? only : NULL;
}

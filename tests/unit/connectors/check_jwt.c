/* jwt.c, jwks.c and the key cache in oidc.c: a table of tokens signed here with OpenSSL
 * (RS256, RS384, PS256, ES256, ES384, EdDSA, HS256, none) against keys loaded from a JWKS
 * built here, each with the verdict worked out by hand; then the key cache against the HTTPS
 * fixture: unknown kids and their rate limit (fetches counted at the server), rotation, the
 * JWKS endpoint down, the schedule, persisted keys with the IdP gone, keys parsed once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "connectors/oidc.h"
#include "connectors/oidc_int.h"
#include "fixture.h"

#define CLIENT "idgate"
#define T0 ((time_t)1900000000)	/* the tests' "now" */
#define LEEWAY 60

static struct fx_server *srv;
static EVP_PKEY *k_rsa, *k_ec, *k_ec384, *k_ed, *k_rogue, *k_rsa1024;
static char *jwks_all;		/* rsa1, rsa-rs (alg RS256), ec1, ec384, ed1, rsa1024 */
static time_t now_value = T0;

static time_t
test_clock(void *arg)
{
	(void)arg;
	return now_value;
}

/* Expand $ISS and $NOW, $NOW+N, $NOW-N (the test clock's now) in a payload template. */
static char *
expand(const char *tpl)
{
	char *out = calloc(1, strlen(tpl) + 512);
	size_t o = 0;

	assert_non_null(out);
	for (const char *p = tpl; *p; ) {
		if (strncmp(p, "$ISS", 4) == 0) {
			o += (size_t)sprintf(out + o, "%s", fx_issuer(srv));
			p += 4;
		} else if (strncmp(p, "$NOW", 4) == 0) {
			long long off = 0;
			char *end;

			p += 4;
			if (*p == '+' || *p == '-') {
				off = strtoll(p, &end, 10);
				p = end;
			}
			o += (size_t)sprintf(out + o, "%lld", (long long)now_value + off);
		} else {
			out[o++] = *p++;
		}
	}
	return out;
}

static struct idg_oidc *
make_oidc(const char *algs)
{
	struct idg_oidc_cfg c = { 0 };
	struct idg_oidc *o = NULL;

	c.profile = IDG_OIDC_KEYCLOAK;
	c.issuer = fx_issuer(srv);
	c.client_id = CLIENT;
	c.ca_file = fx_ca_file(srv);
	c.leeway_s = LEEWAY;
	c.algs = algs;
	c.connect_timeout_ms = 2000;
	c.timeout_ms = 3000;
	assert_int_equal(idg_oidc_new(&c, &o), 0);
	idg_oidc_set_clock(o, test_clock, NULL);
	return o;
}

static int
setup(void **state)
{
	const char *jwk[6];
	char *j[6];

	(void)state;
	srv = fx_start();
	fx_idp(srv, "/realms/test");
	k_rsa = fx_key(FX_RSA);
	k_ec = fx_key(FX_EC);
	k_ec384 = fx_key(FX_EC384);
	k_ed = fx_key(FX_ED);
	k_rogue = fx_key(FX_RSA);
	k_rsa1024 = fx_key(FX_RSA1024);
	j[0] = fx_jwk(k_rsa, "rsa1", NULL);
	j[1] = fx_jwk(k_rsa, "rsa-rs", "RS256");
	j[2] = fx_jwk(k_ec, "ec1", NULL);
	j[3] = fx_jwk(k_ec384, "ec384", "ES384");
	j[4] = fx_jwk(k_ed, "ed1", "EdDSA");
	j[5] = fx_jwk(k_rsa1024, "rsa1024", NULL);
	for (int i = 0; i < 6; i++)
		jwk[i] = j[i];
	jwks_all = fx_jwks(jwk, 6);
	for (int i = 0; i < 6; i++)
		free(j[i]);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fx_stop(srv);
	EVP_PKEY_free(k_rsa);
	EVP_PKEY_free(k_ec);
	EVP_PKEY_free(k_ec384);
	EVP_PKEY_free(k_ed);
	EVP_PKEY_free(k_rogue);
	EVP_PKEY_free(k_rsa1024);
	free(jwks_all);
	return 0;
}

/* ---------- the table ---------- */

enum signer { S_RSA, S_EC, S_EC384, S_ED, S_ROGUE, S_RSA1024, S_HS_PUBKEY };
enum mutate { M_NONE, M_TAMPER, M_SHORT_SIG, M_NO_SIG, M_CUT, M_TWO_PARTS, M_PLUS, M_PAD, M_HUGE, M_EMPTY,
	M_SPACE };

struct jcase {
	const char *name;
	enum signer signer;
	const char *header;	/* the whole header JSON */
	const char *payload;	/* template: $ISS, $NOW[+-N] */
	enum mutate mutate;
	int want;
	const char *why;	/* a substring of the reason */
};

#define OKP "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"alice\"," \
	"\"iat\":$NOW,\"exp\":$NOW+300}"
#define H(alg, kid) "{\"alg\":\"" alg "\",\"typ\":\"JWT\",\"kid\":\"" kid "\"}"

static const struct jcase cases[] = {
	{ "RS256 valid", S_RSA, H("RS256", "rsa1"), OKP, M_NONE, 0, NULL },
	{ "RS384 valid", S_RSA, H("RS384", "rsa1"), OKP, M_NONE, 0, NULL },
	{ "RS512 valid", S_RSA, H("RS512", "rsa1"), OKP, M_NONE, 0, NULL },
	{ "PS256 valid", S_RSA, H("PS256", "rsa1"), OKP, M_NONE, 0, NULL },
	{ "ES256 valid", S_EC, H("ES256", "ec1"), OKP, M_NONE, 0, NULL },
	{ "ES384 valid", S_EC384, H("ES384", "ec384"), OKP, M_NONE, 0, NULL },
	{ "EdDSA valid", S_ED, H("EdDSA", "ed1"), OKP, M_NONE, 0, NULL },
	{ "RS256 under a key whose JWK says RS256", S_RSA, H("RS256", "rsa-rs"), OKP, M_NONE, 0,
	    NULL },
	/* times: leeway 60 */
	{ "expired past the leeway", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"exp\":$NOW-61}", M_NONE, IDG_ERR_EXPIRED, "token expired 61 s ago (allowed clock "
	    "skew 60 s)" },
	{ "expired exactly at exp + leeway", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"exp\":$NOW-60}", M_NONE, IDG_ERR_EXPIRED, "expired" },
	{ "expired within the leeway is accepted", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"exp\":$NOW-59}", M_NONE, 0, NULL },
	{ "nbf in the future past the leeway", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"nbf\":$NOW+61,\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "token not yet valid "
	    "(nbf 61 s ahead of this host's clock, allowed skew 60 s): this host's clock may be "
	    "wrong" },
	{ "nbf in the future within the leeway", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"nbf\":$NOW+60,\"exp\":$NOW+300}", M_NONE, 0, NULL },
	{ "iat in the future past the leeway", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"iat\":$NOW+120,\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "token issued in the "
	    "future (iat 120 s ahead of this host's clock, allowed skew 60 s): this host's clock "
	    "may be wrong" },
	{ "iat in the future within the leeway", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"iat\":$NOW+30,\"exp\":$NOW+300}", M_NONE, 0, NULL },
	{ "no exp", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"preferred_username\":\"a\"}",
	    M_NONE, IDG_ERR_DENIED, "expiry" },
	{ "exp as a string", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"exp\":\"$NOW+300\"}",
	    M_NONE, IDG_ERR_DENIED, "expiry" },
	{ "exp past year 9999", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"exp\":1e300}",
	    M_NONE, IDG_ERR_DENIED, "expiry" },
	{ "iat not a number", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\",\"iat\":true,\"exp\":$NOW+300}",
	    M_NONE, IDG_ERR_DENIED, "iat" },
	/* audience and issuer */
	{ "wrong aud", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"other\",\"sub\":\"u1\",\"exp\":$NOW+300}",
	    M_NONE, IDG_ERR_DENIED, "audience" },
	{ "no aud", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"sub\":\"u1\",\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED,
	    "audience" },
	{ "aud as a number", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":7,\"sub\":\"u1\",\"exp\":$NOW+300}", M_NONE,
	    IDG_ERR_DENIED, "audience" },
	{ "several aud without azp", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":[\"idgate\",\"other\"],\"sub\":\"u1\",\"exp\":$NOW+300}",
	    M_NONE, IDG_ERR_DENIED, "azp" },
	{ "several aud, azp another client", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":[\"idgate\",\"other\"],\"azp\":\"other\",\"sub\":\"u1\","
	    "\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "azp" },
	{ "several aud, azp this client", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":[\"other\",\"idgate\"],\"azp\":\"idgate\",\"sub\":\"u1\","
	    "\"preferred_username\":\"a\",\"exp\":$NOW+300}", M_NONE, 0, NULL },
	{ "aud array of one", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":[\"idgate\"],\"sub\":\"u1\",\"preferred_username\":\"a\","
	    "\"exp\":$NOW+300}", M_NONE, 0, NULL },
	/* issue 13: azp is judged whatever the shape of aud */
	{ "one aud, azp another client", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"azp\":\"other-client\",\"sub\":\"u1\","
	    "\"preferred_username\":\"a\",\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "azp" },
	{ "aud array of one, azp another client", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":[\"idgate\"],\"azp\":\"other-client\",\"sub\":\"u1\","
	    "\"preferred_username\":\"a\",\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "azp" },
	{ "one aud, azp not a string", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"azp\":1,\"sub\":\"u1\","
	    "\"preferred_username\":\"a\",\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "azp" },
	{ "one aud, azp empty", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"azp\":\"\",\"sub\":\"u1\","
	    "\"preferred_username\":\"a\",\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "azp" },
	{ "one aud, azp this client", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"azp\":\"idgate\",\"sub\":\"u1\","
	    "\"preferred_username\":\"a\",\"exp\":$NOW+300}", M_NONE, 0, NULL },
	{ "aud array with a non-string", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":[\"idgate\",1],\"azp\":\"idgate\",\"sub\":\"u1\","
	    "\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "audience" },
	{ "wrong iss (one more slash)", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS/\",\"aud\":\"idgate\",\"sub\":\"u1\",\"exp\":$NOW+300}",
	    M_NONE, IDG_ERR_DENIED, "issuer" },
	{ "no iss", S_RSA, H("RS256", "rsa1"),
	    "{\"aud\":\"idgate\",\"sub\":\"u1\",\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED,
	    "issuer" },
	/* algorithms */
	{ "alg none", S_RSA, "{\"alg\":\"none\",\"typ\":\"JWT\"}", OKP, M_NONE, IDG_ERR_DENIED,
	    "alg none" },
	{ "alg None", S_RSA, "{\"alg\":\"None\",\"kid\":\"rsa1\"}", OKP, M_NONE,
	    IDG_ERR_DENIED, "alg none" },
	{ "HS256 keyed with the RSA public key PEM", S_HS_PUBKEY, H("HS256", "rsa1"), OKP,
	    M_NONE, IDG_ERR_DENIED, "HMAC" },
	{ "HS256 without kid", S_HS_PUBKEY, "{\"alg\":\"HS256\"}", OKP, M_NONE,
	    IDG_ERR_DENIED, "HMAC" },
	{ "ES512 is not in the default list", S_EC, H("ES512", "ec1"), OKP, M_NONE,
	    IDG_ERR_DENIED, "not allowed" },
	{ "an unknown alg", S_RSA, H("XS256", "rsa1"), OKP, M_NONE, IDG_ERR_DENIED,
	    "not allowed" },
	{ "no alg", S_RSA, "{\"kid\":\"rsa1\"}", OKP, M_NONE, IDG_ERR_DENIED, "no alg" },
	{ "RS256 header naming an EC key", S_RSA, H("RS256", "ec1"), OKP, M_NONE,
	    IDG_ERR_DENIED, "does not fit" },
	{ "ES256 header naming an RSA key", S_EC, H("ES256", "rsa1"), OKP, M_NONE,
	    IDG_ERR_DENIED, "does not fit" },
	{ "ES384 header naming a P-256 key", S_EC, H("ES384", "ec1"), OKP, M_NONE,
	    IDG_ERR_DENIED, "does not fit" },
	{ "PS256 under a key whose JWK says RS256", S_RSA, H("PS256", "rsa-rs"), OKP, M_NONE,
	    IDG_ERR_DENIED, "does not fit" },
	{ "EdDSA header naming an RSA key", S_ED, H("EdDSA", "rsa1"), OKP, M_NONE,
	    IDG_ERR_DENIED, "does not fit" },
	{ "crit header", S_RSA, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],"
	    "\"exp\":1}", OKP, M_NONE, IDG_ERR_DENIED, "critical" },
	{ "two alg members in the header", S_RSA, "{\"alg\":\"RS256\",\"kid\":\"rsa1\","
	    "\"alg\":\"none\"}", OKP, M_NONE, IDG_ERR_INVAL, "header" },
	{ "kid not a string", S_RSA, "{\"alg\":\"RS256\",\"kid\":5}", OKP, M_NONE,
	    IDG_ERR_DENIED, "kid" },
	{ "no kid and several keys", S_RSA, "{\"alg\":\"RS256\"}", OKP, M_NONE,
	    IDG_ERR_DENIED, "names no signing key" },
	/* keys and signatures */
	{ "unknown kid", S_ROGUE, H("RS256", "rogue"), OKP, M_NONE, IDG_ERR_DENIED,
	    "unknown signing key" },
	{ "known kid, signed by another key", S_ROGUE, H("RS256", "rsa1"), OKP, M_NONE,
	    IDG_ERR_DENIED, "signature" },
	{ "1024-bit RSA key is never loaded", S_RSA1024, H("RS256", "rsa1024"), OKP, M_NONE,
	    IDG_ERR_DENIED, "unknown signing key" },
	{ "tampered payload", S_RSA, H("RS256", "rsa1"), OKP, M_TAMPER, IDG_ERR_DENIED,
	    "signature" },
	{ "tampered EdDSA payload", S_ED, H("EdDSA", "ed1"), OKP, M_TAMPER, IDG_ERR_DENIED,
	    "signature" },
	{ "tampered ES256 payload", S_EC, H("ES256", "ec1"), OKP, M_TAMPER, IDG_ERR_DENIED,
	    "signature" },
	{ "truncated signature", S_RSA, H("RS256", "rsa1"), OKP, M_SHORT_SIG,
	    IDG_ERR_DENIED, "signature" },
	{ "truncated ES256 signature", S_EC, H("ES256", "ec1"), OKP, M_SHORT_SIG,
	    IDG_ERR_DENIED, "signature" },
	{ "signature cut off", S_RSA, H("RS256", "rsa1"), OKP, M_NO_SIG, IDG_ERR_DENIED,
	    "no signature" },
	{ "cut inside the payload", S_RSA, H("RS256", "rsa1"), OKP, M_CUT, IDG_ERR_INVAL,
	    "malformed" },
	{ "truncated to two parts", S_RSA, H("RS256", "rsa1"), OKP, M_TWO_PARTS, IDG_ERR_INVAL,
	    "malformed" },
	{ "not base64url ('+')", S_RSA, H("RS256", "rsa1"), OKP, M_PLUS, IDG_ERR_INVAL,
	    "malformed" },
	{ "padded base64", S_RSA, H("RS256", "rsa1"), OKP, M_PAD, IDG_ERR_INVAL, "malformed" },
	{ "a space inside", S_RSA, H("RS256", "rsa1"), OKP, M_SPACE, IDG_ERR_INVAL,
	    "malformed" },
	{ "1 MB token", S_RSA, H("RS256", "rsa1"), OKP, M_HUGE, IDG_ERR_TOOBIG, "too large" },
	{ "empty token", S_RSA, H("RS256", "rsa1"), OKP, M_EMPTY, IDG_ERR_INVAL, "no token" },
	{ "header not JSON", S_RSA, "not json", OKP, M_NONE, IDG_ERR_INVAL, "header" },
	{ "payload not JSON", S_RSA, H("RS256", "rsa1"), "[1,2,3]", M_NONE, IDG_ERR_DENIED,
	    "payload" },
	{ "payload with a NUL escape", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"aud\":\"idgate\",\"sub\":\"u1\\u0000admin\","
	    "\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "payload" },
	{ "payload with two iss members", S_RSA, H("RS256", "rsa1"),
	    "{\"iss\":\"$ISS\",\"iss\":\"https://evil\",\"aud\":\"idgate\",\"sub\":\"u1\","
	    "\"exp\":$NOW+300}", M_NONE, IDG_ERR_DENIED, "payload" },
};

static char *
make_token(const struct jcase *c)
{
	char *payload = expand(c->payload), *t = NULL, *pem, *dot, *big;
	EVP_PKEY *k = NULL;

	switch (c->signer) {
	case S_RSA: k = k_rsa; break;
	case S_EC: k = k_ec; break;
	case S_EC384: k = k_ec384; break;
	case S_ED: k = k_ed; break;
	case S_ROGUE: k = k_rogue; break;
	case S_RSA1024: k = k_rsa1024; break;
	case S_HS_PUBKEY:
		pem = fx_pubkey_pem(k_rsa);
		t = fx_hs256(pem, strlen(pem), c->header, payload);
		free(pem);
		break;
	}
	if (t == NULL) {
		const char *alg = strstr(c->header, "\"alg\":\"none\"") ||
		    strstr(c->header, "\"alg\":\"None\"") ? "none" :
		    strstr(c->header, "ES384") ? "ES384" : strstr(c->header, "RS384") ? "RS384" :
		    strstr(c->header, "RS512") ? "RS512" : strstr(c->header, "PS256") ? "PS256" :
		    c->signer == S_EC ? "ES256" : c->signer == S_ED ? "EdDSA" : "RS256";

		t = fx_sign(k, alg, c->header, payload);
	}
	switch (c->mutate) {
	case M_NONE:
		break;
	case M_TAMPER: {
		/* Same header and signature, another payload (sub u2). */
		char *other = strdup(payload), *p64, *sig = strrchr(t, '.'), *nt;

		*strstr(other, "\"u1\"") = '\0';
		nt = fx_printf("%s\"u2\"%s", other, strstr(payload, "\"u1\"") + 4);
		p64 = fx_b64url(nt, strlen(nt));
		*strchr(t, '.') = '\0';
		free(other);
		other = fx_printf("%s.%s%s", t, p64, sig);
		free(t);
		free(p64);
		free(nt);
		t = other;
		break;
	}
	case M_SHORT_SIG:
		/* Four characters (three bytes) less at its start: still canonical base64url. */
		dot = strrchr(t, '.');
		memmove(dot + 1, dot + 5, strlen(dot + 5) + 1);
		break;
	case M_TWO_PARTS:
		*strrchr(t, '.') = '\0';
		break;
	case M_NO_SIG:
		strrchr(t, '.')[1] = '\0';
		break;
	case M_CUT:
		strchr(t, '.')[12] = '\0';
		break;
	case M_PLUS:
		dot = strchr(t, '.');
		dot[3] = '+';
		break;
	case M_PAD:
		big = fx_printf("%s==", t);
		free(t);
		t = big;
		break;
	case M_SPACE:
		dot = strchr(t, '.');
		dot[5] = ' ';
		break;
	case M_HUGE:
		big = malloc(1024 * 1024 + 1);
		assert_non_null(big);
		memset(big, 'A', 1024 * 1024);
		big[1024 * 1024] = '\0';
		memcpy(big, t, strlen(t));
		free(t);
		t = big;
		break;
	case M_EMPTY:
		t[0] = '\0';
		break;
	}
	free(payload);
	return t;
}

static void
token_table(void **state)
{
	struct idg_oidc *o = make_oidc(NULL);
	char err[256];

	(void)state;
	fx_set_jwks(srv, jwks_all);	/* unknown kids may be looked up: the same keys */
	assert_int_equal(idg_oidc_jwks_load(o, jwks_all, err, sizeof(err)), 0);
	for (size_t i = 0; i < IDG_ARRAY_SIZE(cases); i++) {
		const struct jcase *c = &cases[i];
		struct idg_oidc_identity id = { 0 };
		char *t = make_token(c);
		int rc;

		err[0] = '\0';
		rc = idg_oidc_token(o, t, &id, err, sizeof(err));
		if (rc != c->want)
			fail_msg("%s: got %d (%s), want %d", c->name, rc, err, c->want);
		if (c->why && strstr(err, c->why) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", c->name, err, c->why);
		if (rc == 0) {
			assert_string_equal(id.sub, "u1");
			assert_string_equal(id.iss, fx_issuer(srv));
		} else {
			assert_null(id.sub);	/* untouched on failure */
		}
		idg_oidc_identity_clear(&id);
		free(t);
	}
	idg_oidc_free(o);
}

/* An allow-list that names HS256 and none still refuses them; one that names only ES256
 * refuses RS256. */
static void
allow_list_is_honoured(void **state)
{
	struct idg_oidc *o = make_oidc("RS256, HS256,none");
	struct idg_oidc_identity id = { 0 };
	char err[256], *pem = fx_pubkey_pem(k_rsa), *payload = expand(OKP), *t;

	(void)state;
	assert_int_equal(idg_oidc_jwks_load(o, jwks_all, err, sizeof(err)), 0);
	t = fx_hs256(pem, strlen(pem), H("HS256", "rsa1"), payload);
	assert_int_equal(idg_oidc_token(o, t, &id, err, sizeof(err)), IDG_ERR_DENIED);
	free(t);
	t = fx_sign(k_rsa, "none", "{\"alg\":\"none\"}", payload);
	assert_int_equal(idg_oidc_token(o, t, &id, err, sizeof(err)), IDG_ERR_DENIED);
	free(t);
	t = fx_sign(k_rsa, "RS256", H("RS256", "rsa1"), payload);
	assert_int_equal(idg_oidc_token(o, t, &id, err, sizeof(err)), 0);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);

	o = make_oidc("ES256");
	assert_int_equal(idg_oidc_jwks_load(o, jwks_all, err, sizeof(err)), 0);
	assert_int_equal(idg_oidc_token(o, t, &id, err, sizeof(err)), IDG_ERR_DENIED);
	assert_non_null(strstr(err, "not allowed"));
	free(t);
	t = fx_sign(k_ec, "ES256", H("ES256", "ec1"), payload);
	assert_int_equal(idg_oidc_token(o, t, &id, err, sizeof(err)), 0);
	idg_oidc_identity_clear(&id);
	free(t);
	idg_oidc_free(o);
	free(pem);
	free(payload);
}

/* A token without kid is verified with the only key that fits its alg. */
static void
no_kid_uses_the_single_fitting_key(void **state)
{
	const char *one[1];
	char *jwk = fx_jwk(k_rsa, NULL, NULL), *jwks, *payload = expand(OKP), *t, err[256];
	struct idg_oidc *o = make_oidc(NULL);
	struct idg_oidc_identity id = { 0 };

	(void)state;
	one[0] = jwk;
	jwks = fx_jwks(one, 1);
	assert_int_equal(idg_oidc_jwks_load(o, jwks, err, sizeof(err)), 0);
	t = fx_sign(k_rsa, "RS256", "{\"alg\":\"RS256\"}", payload);
	assert_int_equal(idg_oidc_token(o, t, &id, err, sizeof(err)), 0);
	idg_oidc_identity_clear(&id);
	free(t);
	t = fx_sign(k_rogue, "RS256", "{\"alg\":\"RS256\"}", payload);
	assert_int_equal(idg_oidc_token(o, t, &id, err, sizeof(err)), IDG_ERR_DENIED);
	free(t);
	idg_oidc_free(o);
	free(jwk);
	free(jwks);
	free(payload);
}

/* JWKS entries that must never become keys. */
static void
jwks_skips_unusable_keys(void **state)
{
	char *good = fx_jwk(k_rsa, "good", NULL), *doc, err[256];
	char *enc, *priv, *oct, *ops, *badalg, *smallec;
	struct idg_oidc *o = make_oidc(NULL);
	const char *keys[7];

	(void)state;
	enc = strdup(good);
	memcpy(strstr(enc, "\"use\":\"sig\""), "\"use\":\"enc\"", 11);
	memcpy(strstr(enc, "good"), "encr", 4);
	priv = fx_printf("%.*s,\"d\":\"AQAB\"}", (int)strlen(good) - 1, good);
	memcpy(strstr(priv, "good"), "priv", 4);
	oct = strdup("{\"kty\":\"oct\",\"kid\":\"sym\",\"k\":\"c2VjcmV0\"}");
	ops = fx_printf("%.*s,\"key_ops\":[\"sign\"]}", (int)strlen(good) - 1, good);
	memcpy(strstr(ops, "good"), "opsx", 4);
	badalg = fx_jwk(k_ec, "ecrs", "RS256");
	smallec = strdup("{\"kty\":\"EC\",\"kid\":\"short\",\"crv\":\"P-256\",\"x\":\"AQAB\","
	    "\"y\":\"AQAB\"}");
	keys[0] = enc;
	keys[1] = priv;
	keys[2] = oct;
	keys[3] = ops;
	keys[4] = badalg;
	keys[5] = smallec;
	keys[6] = good;
	doc = fx_jwks(keys, 7);
	assert_int_equal(idg_oidc_jwks_load(o, doc, err, sizeof(err)), 0);
	assert_int_equal(o->jwks.n, 1);
	assert_string_equal(o->jwks.keys[0].kid, "good");
	/* A document of unusable keys only changes nothing. */
	free(doc);
	doc = fx_jwks(keys, 6);
	assert_int_equal(idg_oidc_jwks_load(o, doc, err, sizeof(err)), IDG_ERR_PROTO);
	assert_int_equal(o->jwks.n, 1);
	assert_int_equal(idg_oidc_jwks_load(o, "{\"keys\":5}", err, sizeof(err)), IDG_ERR_PROTO);
	assert_int_equal(idg_oidc_jwks_load(o, "not json", err, sizeof(err)), IDG_ERR_PROTO);
	assert_int_equal(o->jwks.n, 1);
	idg_oidc_free(o);
	free(good);
	free(enc);
	free(priv);
	free(oct);
	free(ops);
	free(badalg);
	free(smallec);
	free(doc);
}

/* ---------- the key cache against the fixture ---------- */

static char *
rsa_token(EVP_PKEY *k, const char *kid)
{
	char *h = fx_printf("{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid), *p = expand(OKP);
	char *t = fx_sign(k, "RS256", h, p);

	free(h);
	free(p);
	return t;
}

static int
validate(struct idg_oidc *o, const char *t, char *err, size_t errlen)
{
	struct idg_oidc_identity id = { 0 };
	int rc = idg_oidc_token(o, t, &id, err, errlen);

	idg_oidc_identity_clear(&id);
	return rc;
}

static void
unknown_kids_are_rate_limited(void **state)
{
	const char *one[1], *two[2];
	char *j1 = fx_jwk(k_rsa, "rsa1", NULL), *j2 = fx_jwk(k_rogue, "rsa2", NULL);
	char *doc1, *doc2, *t1, *t2, err[256];
	unsigned base;
	struct idg_oidc *o;
	uint64_t gen1, gen2;

	(void)state;
	now_value = T0;
	one[0] = j1;
	two[0] = j1;
	two[1] = j2;
	doc1 = fx_jwks(one, 1);
	doc2 = fx_jwks(two, 2);
	fx_set_jwks(srv, doc1);
	o = make_oidc(NULL);
	base = fx_hits(srv, "/jwks");
	t1 = rsa_token(k_rsa, "rsa1");
	t2 = rsa_token(k_rogue, "rsa2");

	/* No keys yet: the first token fetches discovery and the keys. */
	assert_int_equal(validate(o, t1, err, sizeof(err)), 0);
	assert_int_equal(fx_hits(srv, "/jwks") - base, 1);
	assert_int_equal(idg_oidc_jwks_fetches(o), 1);
	(void)idg_oidc_jwks_json(o, &gen1);

	/* 100 made-up kids inside the interval: no fetch at all. */
	for (int i = 0; i < 100; i++) {
		char kid[32], *t;

		snprintf(kid, sizeof(kid), "bogus-%d", i);
		t = rsa_token(k_rogue, kid);
		assert_int_equal(validate(o, t, err, sizeof(err)), IDG_ERR_DENIED);
		assert_non_null(strstr(err, "unknown signing key"));
		free(t);
	}
	assert_int_equal(fx_hits(srv, "/jwks") - base, 1);
	/* After the interval, 100 more: exactly one fetch. */
	now_value += 60;
	for (int i = 0; i < 100; i++) {
		char kid[32], *t;

		snprintf(kid, sizeof(kid), "bogus2-%d", i);
		t = rsa_token(k_rogue, kid);
		assert_int_equal(validate(o, t, err, sizeof(err)), IDG_ERR_DENIED);
		free(t);
	}
	assert_int_equal(fx_hits(srv, "/jwks") - base, 2);
	assert_int_equal(idg_oidc_jwks_fetches(o), 2);
	(void)idg_oidc_jwks_json(o, &gen2);
	assert_true(gen2 == gen1);	/* same keys: nothing new to persist */

	/* Rotation: the IdP adds rsa2; a token with it is taken after the interval. */
	fx_set_jwks(srv, doc2);
	assert_int_equal(validate(o, t2, err, sizeof(err)), IDG_ERR_DENIED);	/* too soon */
	now_value += 60;
	assert_int_equal(validate(o, t2, err, sizeof(err)), 0);
	(void)idg_oidc_jwks_json(o, &gen2);
	assert_true(gen2 == gen1 + 1);
	assert_int_equal(fx_hits(srv, "/jwks") - base, 3);
	/* Known kids never fetch. */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(validate(o, t1, err, sizeof(err)), 0);
		assert_int_equal(validate(o, t2, err, sizeof(err)), 0);
	}
	assert_int_equal(fx_hits(srv, "/jwks") - base, 3);

	free(j1);
	free(j2);
	free(doc1);
	free(doc2);
	free(t1);
	free(t2);
	idg_oidc_free(o);
}

static void
cached_keys_survive_a_jwks_outage(void **state)
{
	char *j1 = fx_jwk(k_rsa, "rsa1", NULL), *doc, *t1, *tu, err[256];
	const char *one[1];
	struct idg_oidc *o;
	const EVP_PKEY *pk;

	(void)state;
	now_value = T0;
	one[0] = j1;
	doc = fx_jwks(one, 1);
	fx_set_jwks(srv, doc);
	o = make_oidc(NULL);
	t1 = rsa_token(k_rsa, "rsa1");
	tu = rsa_token(k_rogue, "later");
	assert_int_equal(idg_oidc_discover(o, err, sizeof(err)), 0);
	assert_int_equal(idg_oidc_jwks_fetches(o), 1);
	pk = o->jwks.keys[0].pk;

	/* The schedule: nothing due before jwks_refresh (3600 s), a fetch after. */
	assert_int_equal(idg_oidc_jwks_tick(o, now_value + 100, err, sizeof(err)), 0);
	assert_int_equal(idg_oidc_jwks_fetches(o), 1);
	now_value += 3600;
	assert_int_equal(idg_oidc_jwks_tick(o, now_value, err, sizeof(err)), 1);
	assert_int_equal(idg_oidc_jwks_fetches(o), 2);
	/* The same key after a refresh: the key parsed the first time is kept. */
	assert_ptr_equal(o->jwks.keys[0].pk, pk);

	/* The JWKS endpoint goes down: cached keys keep validating. */
	fx_set_jwks(srv, NULL);
	now_value += 3600;
	free(t1);
	t1 = rsa_token(k_rsa, "rsa1");
	assert_true(idg_oidc_jwks_tick(o, now_value, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "HTTP 503"));
	assert_int_equal(validate(o, t1, err, sizeof(err)), 0);
	/* ... a failed tick does not retry before the interval ... */
	assert_int_equal(idg_oidc_jwks_tick(o, now_value + 10, err, sizeof(err)), 0);
	now_value += 60;
	assert_int_equal(validate(o, tu, err, sizeof(err)), IDG_ERR_DENIED);
	assert_non_null(strstr(err, "unknown signing key"));
	assert_int_equal(validate(o, t1, err, sizeof(err)), 0);
	/* ... and comes back. */
	fx_set_jwks(srv, doc);
	now_value += 60;
	assert_int_equal(idg_oidc_jwks_tick(o, now_value, err, sizeof(err)), 1);

	free(j1);
	free(doc);
	free(t1);
	free(tu);
	idg_oidc_free(o);
}

/* Keys persisted by one connector validate in the next while the IdP is gone; a key that
 * left the set stops validating at once (no verdict is cached anywhere). */
static void
persisted_keys_work_offline_and_nothing_is_cached(void **state)
{
	struct idg_oidc_cfg c = { 0 };
	struct idg_oidc *o = make_oidc(NULL), *o2 = NULL;
	char *j1 = fx_jwk(k_rsa, "rsa1", NULL), *j2 = fx_jwk(k_ec, "ec1", NULL), *d1, *d12;
	char *t1, *p, *t2, err[256], *saved;
	const char *keys[2];
	struct fx_server *gone = fx_start();
	char *gone_iss;
	uint64_t gen;

	(void)state;
	now_value = T0;
	p = expand(OKP);
	keys[0] = j1;
	keys[1] = j2;
	d12 = fx_jwks(keys, 2);
	d1 = fx_jwks(keys, 1);
	fx_set_jwks(srv, d12);
	t1 = rsa_token(k_rsa, "rsa1");
	t2 = fx_sign(k_ec, "ES256", H("ES256", "ec1"), p);
	assert_int_equal(idg_oidc_discover(o, err, sizeof(err)), 0);
	saved = strdup(idg_oidc_jwks_json(o, &gen));
	assert_true(gen > 0);

	/* A restart with the IdP unreachable (a server that has stopped). */
	fx_idp(gone, "/realms/test");
	c.profile = IDG_OIDC_KEYCLOAK;
	gone_iss = strdup(fx_issuer(gone));
	c.issuer = gone_iss;
	c.client_id = CLIENT;
	c.ca_file = fx_ca_file(srv);
	c.leeway_s = LEEWAY;
	c.connect_timeout_ms = 1000;
	c.timeout_ms = 2000;
	fx_stop(gone);
	assert_int_equal(idg_oidc_new(&c, &o2), 0);
	idg_oidc_set_clock(o2, test_clock, NULL);
	assert_int_equal(idg_oidc_jwks_load(o2, saved, err, sizeof(err)), 0);
	free(saved);
	{
		/* The issuer differs: tokens of the first IdP are refused for it, but the keys
		 * themselves load and verify (checked by a token minted for the new issuer). */
		char *pl = fx_printf("{\"iss\":\"%s\",\"aud\":\"idgate\",\"sub\":\"u1\","
		    "\"preferred_username\":\"a\",\"exp\":%lld}", c.issuer, (long long)T0 + 300);
		char *tk = fx_sign(k_rsa, "RS256", H("RS256", "rsa1"), pl);

		assert_int_equal(validate(o2, tk, err, sizeof(err)), 0);
		assert_true(idg_oidc_jwks_tick(o2, now_value, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "IdP unreachable"));
		assert_int_equal(validate(o2, tk, err, sizeof(err)), 0);
		free(pl);
		free(tk);
	}
	idg_oidc_free(o2);
	free(gone_iss);

	/* The same token twice, with its key removed in between: refused the second time. */
	assert_int_equal(validate(o, t2, err, sizeof(err)), 0);
	assert_int_equal(idg_oidc_jwks_load(o, d1, err, sizeof(err)), 0);
	fx_set_jwks(srv, d1);
	assert_int_equal(validate(o, t1, err, sizeof(err)), 0);
	assert_int_equal(validate(o, t2, err, sizeof(err)), IDG_ERR_DENIED);

	free(j1);
	free(j2);
	free(d1);
	free(d12);
	free(t1);
	free(t2);
	free(p);
	idg_oidc_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_table),
		cmocka_unit_test(allow_list_is_honoured),
		cmocka_unit_test(no_kid_uses_the_single_fitting_key),
		cmocka_unit_test(jwks_skips_unusable_keys),
		cmocka_unit_test(unknown_kids_are_rate_limited),
		cmocka_unit_test(cached_keys_survive_a_jwks_outage),
		cmocka_unit_test(persisted_keys_work_offline_and_nothing_is_cached),
	};

	return cmocka_run_group_tests_name("connectors/jwt", tests, setup, teardown);
}

/* Fuzz target for JWT/JOSE validation and the claims mapping (connectors/jwt.c, claims.c,
 * json.c, b64.c and the profiles), offline: a fixed JWKS (RSA, EC, Ed25519) loaded into one
 * connector per profile, a fixed clock, and no key refresh (the last fetch is "now"). The
 * first input byte picks the profile (bits 0-1) and the mode (bit 2): raw, the rest is the
 * token as presented; signed, the rest is HEADER-JSON '\n' PAYLOAD-JSON, which this target
 * encodes and signs with the Ed25519 key, so the payload's parsing, iss/aud/azp/exp checks
 * and the mapping to an identity are reached. libFuzzer by run.sh; fuzz_jwt_det for make
 * check (tests/unit/connectors/fixture.c makes the keys). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "connectors/oidc.h"
#include "connectors/oidc_int.h"
#include "../unit/connectors/fixture.h"

#define T_NOW ((time_t)1900000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct idg_oidc *conns[4];
static EVP_PKEY *k_ed;
static volatile size_t sink;

static time_t
fixed_clock(void *arg)
{
	(void)arg;
	return T_NOW;
}

static struct idg_oidc *
make(enum idg_oidc_profile p, const char *jwks)
{
	static const char *const iss[] = { "https://idp.example.com", "https://idp.example.com/"
	    "realms/test", "https://idp.example.com/", "https://idp.example.com/oauth2/default" };
	struct idg_oidc_cfg c = { .profile = p, .issuer = iss[p], .client_id = "idgate",
		.leeway_s = 60, .jwks_min_interval_s = 3600 };
	struct idg_oidc *o = NULL;
	char err[256];

	switch (p) {
	case IDG_OIDC_GENERIC:
		c.username_claim = "preferred_username";
		c.groups_claim = "/https:~1~1example.com~1groups";
		c.group_prefix_strip = "idg-";
		break;
	case IDG_OIDC_KEYCLOAK:
		c.keycloak_realm_roles = true;
		c.keycloak_client_roles = "idgate";
		break;
	case IDG_OIDC_AUTH0:
		c.audience = "https://api.example.com";
		c.groups_claim = "https://example.com/groups";
		break;
	default:
		break;
	}
	if (idg_oidc_new(&c, &o) < 0 || idg_oidc_jwks_load(o, jwks, err, sizeof(err)) < 0)
		abort();
	idg_oidc_set_clock(o, fixed_clock, NULL);
	o->jwks_tried = T_NOW;	/* an unknown kid never makes a request */
	return o;
}

static void
init(void)
{
	EVP_PKEY *k_rsa = fx_key(FX_RSA), *k_ec = fx_key(FX_EC);
	char *j[3], *jwks;

	idg_log_open("fuzz", IDG_LOG_STDERR, LOG_ERR);
	k_ed = fx_key(FX_ED);
	j[0] = fx_jwk(k_rsa, "rsa1", NULL);
	j[1] = fx_jwk(k_ec, "ec1", NULL);
	j[2] = fx_jwk(k_ed, "ed1", "EdDSA");
	jwks = fx_jwks((const char *const *)j, 3);
	for (int p = 0; p < 4; p++)
		conns[p] = make((enum idg_oidc_profile)p, jwks);
	for (int i = 0; i < 3; i++)
		free(j[i]);
	free(jwks);
	EVP_PKEY_free(k_rsa);
	EVP_PKEY_free(k_ec);
}

/* HEADER '\n' PAYLOAD (a missing header: EdDSA with kid ed1), encoded and signed. */
static char *
signed_token(const uint8_t *d, size_t n)
{
	static const char def[] = "{\"alg\":\"EdDSA\",\"kid\":\"ed1\"}";
	const uint8_t *nl = memchr(d, '\n', n);
	char *h, *p, *in, *s, *tok;
	unsigned char sig[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	h = nl ? fx_b64url(d, (size_t)(nl - d)) : fx_b64url(def, sizeof(def) - 1);
	p = nl ? fx_b64url(nl + 1, n - (size_t)(nl + 1 - d)) : fx_b64url(d, n);
	in = fx_printf("%s.%s", h, p);
	if (md == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, k_ed) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)in, strlen(in)) != 1)
		abort();
	s = fx_b64url(sig, siglen);
	tok = fx_printf("%s.%s", in, s);
	EVP_MD_CTX_free(md);
	free(h);
	free(p);
	free(in);
	free(s);
	return tok;
}

static void
check_identity(const struct idg_oidc_identity *id)
{
	/* What the parent is promised: strings, bounded; groups bounded and present. */
	if (id->iss == NULL || id->sub == NULL || id->username == NULL ||
	    strlen(id->sub) > IDG_OIDC_CLAIM_MAX || strlen(id->username) > IDG_OIDC_CLAIM_MAX ||
	    id->ngroups > IDG_OIDC_GROUPS_MAX)
		abort();
	for (size_t i = 0; i < id->ngroups; i++)
		sink += strlen(id->groups[i]);
	sink += id->name ? strlen(id->name) : 0;
	sink += id->email ? strlen(id->email) : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idg_oidc_identity id = { 0 };
	struct idg_oidc *o;
	char err[512], *tok;
	int rc;

	if (conns[0] == NULL)
		init();
	if (size < 1 || size > 64 * 1024)
		return 0;
	o = conns[data[0] & 3];
	if (data[0] & 4) {
		tok = fx_printf("%.*s", (int)(size - 1), (const char *)data + 1);
		sink += idg_jwt_looks_like(tok);
	} else {
		tok = signed_token(data + 1, size - 1);
	}
	err[0] = '\0';
	rc = idg_oidc_token(o, tok, &id, err, sizeof(err));
	if (getenv("FUZZ_DEBUG"))	/* for writing seeds: what each one reached */
		fprintf(stderr, "profile %d: %d %s (%zu groups)\n", data[0] & 3, rc, err,
		    id.ngroups);
	if (rc == 0)
		check_identity(&id);
	else if (id.sub != NULL)
		abort();	/* untouched on failure */
	sink += strlen(err);
	idg_oidc_identity_clear(&id);
	free(tok);
	return 0;
}

/* Fuzz target for the JSON an OIDC IdP serves before any token: the discovery document
 * (connectors/oidc.c, idg_oidc_discovery_apply after json.c's parser) and the JWKS
 * (connectors/jwks.c). The first input byte picks: 0, discovery; 1, a JWKS parsed alone and
 * installed into a connector; 2, a JWKS parsed, then parsed again against its first parse
 * (the keys shared across refreshes). A JWKS that parses must round-trip: its persisted form
 * parses to the same keys. libFuzzer by run.sh; fuzz_oidc_json_det for make check. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "connectors/json.h"
#include "connectors/oidc.h"
#include "connectors/oidc_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct idg_oidc *conn;
static volatile size_t sink;

static void
walk(const struct idg_jwks *j)
{
	static const char *const names[] = { "RS256", "PS256", "ES256", "ES384", "ES512",
		"EdDSA", "RS512" };
	bool mismatch;

	for (size_t i = 0; i < j->n; i++)
		for (size_t a = 0; a < sizeof(names) / sizeof(names[0]); a++) {
			const struct idg_alg *alg = idg_alg_by_name(names[a]);

			sink += idg_jwks_find(j, j->keys[i].kid, alg, &mismatch) != NULL;
			sink += idg_jwks_find(j, NULL, alg, &mismatch) != NULL;
			sink += idg_key_fits(&j->keys[i], alg);
		}
}

static void
jwks(const char *s, size_t n, bool twice)
{
	struct idg_jwks a = { 0 }, b = { 0 }, c = { 0 };
	char err[256];

	if (idg_jwks_parse(s, n, NULL, &a, err, sizeof(err)) < 0)
		return;
	walk(&a);
	/* what is persisted must give the same keys back */
	if (a.doc == NULL || idg_jwks_parse(a.doc, strlen(a.doc), &a, &b, err, sizeof(err)) < 0 ||
	    !idg_jwks_same(&a, &b))
		abort();
	if (twice) {
		if (idg_jwks_parse(s, n, &b, &c, err, sizeof(err)) < 0 || !idg_jwks_same(&b, &c))
			abort();
		walk(&c);
	}
	idg_jwks_clear(&a);
	idg_jwks_clear(&b);
	idg_jwks_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idg_oidc_cfg cfg = { .issuer = "https://idp.example.com/realms/test",
		.client_id = "idgate", .profile = IDG_OIDC_KEYCLOAK };
	char err[256], *s;
	cJSON *doc = NULL;

	if (size < 1 || size > IDG_OIDC_RESPONSE_MAX_DEFAULT)
		return 0;
	if (conn == NULL) {
		idg_log_open("fuzz", IDG_LOG_STDERR, LOG_ERR);	/* skipped keys are noticed */
		if (idg_oidc_new(&cfg, &conn) < 0)
			abort();
	}
	switch (data[0] % 3) {
	case 0:
		if (idg_json_parse((const char *)data + 1, size - 1, &doc) == 0) {
			if (idg_oidc_discovery_apply(conn, doc, err, sizeof(err)) == 0 &&
			    (conn->token_ep == NULL || conn->jwks_uri == NULL))
				abort();
			cJSON_Delete(doc);
		}
		break;
	case 1:
		jwks((const char *)data + 1, size - 1, false);
		/* installed as persisted keys are: a NUL-terminated copy */
		if ((s = malloc(size)) == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		(void)idg_oidc_jwks_load(conn, s, err, sizeof(err));
		free(s);
		break;
	default:
		jwks((const char *)data + 1, size - 1, true);
	}
	return 0;
}

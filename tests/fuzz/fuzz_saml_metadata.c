/* Fuzz target for the IdP's SAML metadata (connectors/saml.c): the document through
 * idg_saml_new (the configured metadata) and idg_saml_set_metadata (a refresh from the IdP's
 * URL) on a new SP that has good metadata, which must keep it whole when the refresh is refused;
 * a metadata document that is taken must give a usable SSO URL for a new AuthnRequest.
 * libFuzzer by run.sh; fuzz_saml_metadata_det for make check. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "connectors/saml.h"
#include "saml_cred.h"

#define SP "https://node1.example.com/saml/metadata"
#define ACS "https://node1.example.com:8443/saml/acs"
#define IDP "https://idp.example.com/saml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *good_md;
static volatile size_t sink;

static void
start(struct idg_saml *s)
{
	char id[IDG_SAML_ID_MAX + 1], err[256], *url = NULL;

	if (idg_saml_start(s, "relay", &url, id, err, sizeof(err)) < 0 ||
	    strncmp(url, "https://", 8) != 0)
		abort();
	free(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idg_saml_cfg cfg = { .sp_entity_id = SP, .acs_url = ACS };
	struct idg_saml *s = NULL, *sp = NULL;
	char err[512], *md;

	if (good_md == NULL) {
		struct fz_cred c;

		fz_cred_make(&c);
		good_md = fz_metadata(IDP, &c);
		fz_cred_free(&c);
	}
	if (size > IDG_SAML_METADATA_MAX + 1 || (md = malloc(size + 1)) == NULL)
		return 0;
	memcpy(md, data, size);
	md[size] = '\0';
	cfg.idp_metadata = md;
	if (idg_saml_new(&cfg, &s, err, sizeof(err)) == 0) {
		sink += strlen(idg_saml_idp_entity_id(s)) + strlen(idg_saml_idp_sso_url(s));
		start(s);
		idg_saml_free(s);
	}
	/* a refresh, on an SP of its own (AuthnRequests pending are bounded) */
	cfg.idp_metadata = good_md;
	if (idg_saml_new(&cfg, &sp, err, sizeof(err)) < 0)
		abort();
	if (idg_saml_set_metadata(sp, md, err, sizeof(err)) < 0 &&
	    strcmp(idg_saml_idp_entity_id(sp), IDP) != 0)
		abort();	/* a refused refresh changed something */
	start(sp);
	idg_saml_free(sp);
	free(md);
	return 0;
}

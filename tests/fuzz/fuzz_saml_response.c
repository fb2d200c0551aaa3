/* Fuzz target for SAML Responses as the browser posts them (connectors/saml.c,
 * idg_saml_response: base64, the strict XML parse, signature verification by libxmlsec1,
 * then every check behind it) against an SP set up from fixed metadata and a fixed clock,
 * new for each input (so no input is a replay of another's assertion).
 * An input that starts with '<' is a Response's XML: "@IRT@" in it becomes the ID of a
 * request just started (so InResponseTo can match), and its empty ds:Signature templates
 * are signed with the IdP's key (so the checks after the signature are reached); any other
 * input is posted as it is (the base64 text). libFuzzer by run.sh; fuzz_saml_response_det
 * for make check. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlmemory.h>
#include <xmlsec/base64.h>

#include "common/err.h"
#include "connectors/saml.h"
#include "saml_cred.h"

#define T0 ((time_t)1900000000)
#define SP "https://node1.example.com/saml/metadata"
#define ACS "https://node1.example.com:8443/saml/acs"
#define IDP "https://idp.example.com/saml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct idg_saml *sp;
static struct fz_cred idp;
static volatile size_t sink;

static time_t
fixed_clock(void *arg)
{
	(void)arg;
	return T0;
}

static char *md;

static void
new_sp(void)
{
	struct idg_saml_cfg cfg = { .sp_entity_id = SP, .acs_url = ACS, .groups_attr = "groups",
		.leeway_s = 60 };
	char err[256];

	if (md == NULL) {
		fz_cred_make(&idp);
		md = fz_metadata(IDP, &idp);
	}
	cfg.idp_metadata = md;
	if (idg_saml_new(&cfg, &sp, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_saml_response: %s\n", err);
		abort();
	}
	idg_saml_set_clock(sp, fixed_clock, NULL);
}

/* xml (n bytes) with every "@IRT@" replaced by irt; NUL-terminated. */
static char *
with_irt(const char *xml, size_t n, const char *irt)
{
	size_t il = strlen(irt), cap = n + 1, len = 0;
	char *out;

	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(xml + i, "@IRT@", 5) == 0)
			cap += il;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		if (i + 5 <= n && memcmp(xml + i, "@IRT@", 5) == 0) {
			memcpy(out + len, irt, il);
			len += il;
			i += 5;
		} else {
			out[len++] = xml[i++];
		}
	}
	out[len] = '\0';
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idg_oidc_identity id = { 0 };
	char irt[IDG_SAML_ID_MAX + 1], rid[IDG_SAML_ID_MAX + 1], err[512], *url = NULL;
	char *xml = NULL, *signed_xml = NULL, *post;
	size_t plen;
	int rc;

	if (size > 300 * 1024)
		return 0;
	new_sp();
	if (idg_saml_start(sp, NULL, &url, irt, err, sizeof(err)) < 0)
		abort();
	free(url);
	if (size > 0 && data[0] == '<') {
		xml = with_irt((const char *)data, size, irt);
		/* DTDs are refused unread by the SP; the signer here should not expand them */
		if (xml && strstr(xml, "<!") == NULL)
			signed_xml = fz_sign(xml, strlen(xml), &idp);
		post = (char *)xmlSecBase64Encode((const xmlSecByte *)(signed_xml ? signed_xml : xml),
		    (xmlSecSize)strlen(signed_xml ? signed_xml : xml), 0);
	} else {
		post = (char *)xmlMalloc(size + 1);
		if (post) {
			memcpy(post, data, size);
			post[size] = '\0';
		}
	}
	if (post == NULL)
		goto out;
	plen = strlen(post);
	err[0] = '\0';
	rc = idg_saml_response(sp, post, plen, &id, rid, err, sizeof(err));
	if (getenv("FUZZ_DEBUG"))	/* for writing seeds: what each one reached */
		fprintf(stderr, "%d %s\n", rc, err);
	if (rc == 0) {
		if (id.sub == NULL || id.iss == NULL || strcmp(rid, irt) != 0)
			abort();
		for (size_t i = 0; i < id.ngroups; i++)
			sink += strlen(id.groups[i]);
	} else if (id.sub != NULL) {
		abort();	/* untouched on failure */
	}
	idg_oidc_identity_clear(&id);
	xmlFree(post);
out:
	free(signed_xml);
	free(xml);
	idg_saml_free(sp);
	sp = NULL;
	return 0;
}

/* The SAML 2.0 service-provider core: the IdP's metadata, AuthnRequests (HTTP-Redirect
 * binding) and the verification of the signed Responses the browser posts back (HTTP-POST
 * binding). XML is parsed only by libxml2 and signatures are checked only by libxmlsec1; no
 * signature code is written here. Used only inside idgated's unprivileged connector child,
 * as the OIDC core is. Not thread-safe: one idg_saml per process, used from one thread.
 * See connectors/README.md, "SAML". */
#ifndef IDG_CONNECTORS_SAML_H
#define IDG_CONNECTORS_SAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "connectors/oidc.h"

#define IDG_SAML_RESPONSE_MAX_DEFAULT (256 * 1024)	/* bytes of a decoded Response */
#define IDG_SAML_METADATA_MAX (1024 * 1024)	/* bytes of the IdP's metadata */
#define IDG_SAML_CERTS_MAX 8		/* signing certificates kept (rollover) */
#define IDG_SAML_PENDING_MAX 256	/* AuthnRequests awaiting their Response */
#define IDG_SAML_SEEN_MAX 4096		/* assertion IDs remembered against replay */
#define IDG_SAML_REQUEST_TTL 600	/* seconds an AuthnRequest stays answerable */
#define IDG_SAML_ID_MAX 128		/* bytes of an ID attribute */

/* Strings are copied by idg_saml_new. */
struct idg_saml_cfg {
	const char *sp_entity_id;	/* ours: the Audience the IdP must name */
	const char *acs_url;		/* ours: Destination and Recipient must be exactly this */
	const char *idp_metadata;	/* the IdP's metadata document (XML text) */
	const char *username_attr;	/* NULL or "": the NameID */
	const char *groups_attr;	/* NULL or "": no groups */
	const char *link_attr;		/* NULL: none; else the attribute whose first value is
					 * returned as the identity's link (the user's subject at an
					 * OIDC issuer of the same directory); "NameID": the NameID */
	unsigned leeway_s;		/* clock skew allowed on NotBefore/NotOnOrAfter */
	size_t response_max;		/* decoded bytes; default IDG_SAML_RESPONSE_MAX_DEFAULT */
	const char *sp_key_pem;		/* NULL: AuthnRequests unsigned; else an RSA private key
					 * (PEM) that signs them (HTTP-Redirect binding, RSA-SHA256);
					 * wiped from memory on free */
	bool requests_elsewhere;	/* true: the caller keeps the AuthnRequests it made and
					 * checks that a verified response's request ID (request_id_out)
					 * names one of them, answered once (idgated's parent does, so
					 * that any of several verifier processes can check any response);
					 * false: this object remembers them and refuses others */
};

struct idg_saml;

/* Parses the metadata: the IdP's entity ID, its HTTP-Redirect SSO URL, its signing
 * certificates (1..IDG_SAML_CERTS_MAX). IDG_ERR_CONFIG with the reason in err. */
int idg_saml_new(const struct idg_saml_cfg *cfg, struct idg_saml **out, char *err,
    size_t errlen);
void idg_saml_free(struct idg_saml *s);

/* Tests only: the wall clock. */
void idg_saml_set_clock(struct idg_saml *s, time_t (*now)(void *arg), void *arg);

/* A new AuthnRequest, remembered as pending: *url_out is the IdP's SSO URL with SAMLRequest
 * (and RelayState, when relay is not NULL) — where the browser is sent; id_out gets the
 * request's ID (at least IDG_SAML_ID_MAX + 1 bytes). *url_out is the caller's to free. */
int idg_saml_start(struct idg_saml *s, const char *relay, char **url_out, char *id_out,
    char *err, size_t errlen);

/* Verify the base64 SAMLResponse as posted (b64, n bytes). On 0, *id_out holds the identity
 * (iss = the IdP's entity ID, sub = the NameID, username from the NameID or username_attr,
 * groups from groups_attr, exp = the assertion's end of life) and request_id_out (at least
 * IDG_SAML_ID_MAX + 1 bytes) the AuthnRequest it answers, which is no longer pending; the
 * assertion's ID is remembered until it expires. Otherwise a negative IDG_ERR_* with a short
 * reason in err (never the assertion's contents), and nothing remembered: IDG_ERR_DENIED
 * (a signature, issuer, audience, destination or request that does not match; a replay),
 * IDG_ERR_EXPIRED, IDG_ERR_TOOBIG, IDG_ERR_INVAL / IDG_ERR_PROTO (malformed, a DTD). */
int idg_saml_response(struct idg_saml *s, const char *b64, size_t n,
    struct idg_oidc_identity *id_out, char *request_id_out, char *err, size_t errlen);

/* Replace the IdP's metadata (a refresh from its URL): entity ID, SSO URL and certificates
 * change together, or nothing does (IDG_ERR_CONFIG with why); pending requests and the
 * assertion IDs remembered stay. */
int idg_saml_set_metadata(struct idg_saml *s, const char *xml, char *err, size_t errlen);

/* The IdP's entity ID and SSO URL from its metadata. */
const char *idg_saml_idp_entity_id(const struct idg_saml *s);
const char *idg_saml_idp_sso_url(const struct idg_saml *s);

/* Our SP metadata (EntityDescriptor with the ACS, HTTP-POST), for registering the node at the
 * IdP; cert_b64, when not NULL, is the certificate (DER, base64) whose key signs our
 * AuthnRequests. Needs no idg_saml; *xml_out is the caller's to free. */
int idg_saml_sp_metadata(const char *sp_entity_id, const char *acs_url, const char *cert_b64,
    char **xml_out);

/* The query string's signature algorithm for signed AuthnRequests. */
#define IDG_SAML_SIGALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

#endif

/* SAML 2.0 SP core (saml.h): the IdP's metadata, AuthnRequests, and the verification of the
 * Responses the browser posts. The rules against the known attacks, in the order applied:
 *   - the body is bounded, UTF-8 (no NUL), and has no DTD at all (so no entity of any kind);
 *     libxml2 never touches the network and its entity loader refuses everything;
 *   - the root is one samlp:Response holding exactly one saml:Assertion (anywhere in the
 *     document), as its direct child; EncryptedAssertion is not supported;
 *   - IDs are only what we declare (xmlAddID on the ID attribute of the Response and of the
 *     Assertion): no DTD, and xml:id or a duplicate makes the declaration fail (refused);
 *   - a signature counts only when it is a direct child of the Response or of the Assertion,
 *     has exactly one Reference, whose URI is "#" + that element's ID, resolved through the
 *     declared ID to that very element; transforms and algorithms from a short allow-list;
 *     the key is one of the metadata's certificates (KeyInfo in the message is ignored);
 *   - everything used afterwards is read from the Assertion node that the checked signature
 *     covers (itself, or the Response containing it), and any text we read must be plain
 *     text: a comment, entity or element inside a NameID or value is refused, never skipped.
 * Verification is libxmlsec1's (xmlSecDSigCtxVerify); nothing here computes a digest. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/base64.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <zlib.h>

#include "common/err.h"
#include "common/log.h"
#include "connectors/saml.h"

#define NS_P "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_A "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_MD "urn:oasis:names:tc:SAML:2.0:metadata"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define BIND_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
#define BIND_POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define STATUS_SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"
#define NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#define TEXT_MAX IDG_OIDC_CLAIM_MAX
#define URL_MAX 2048

struct pending {
	char id[IDG_SAML_ID_MAX + 1];	/* "": free */
	time_t expires;
};

struct seen {
	char id[IDG_SAML_ID_MAX + 1];
	time_t expires;
};

struct idg_saml {
	char *sp_entity_id, *acs_url, *username_attr, *groups_attr, *link_attr;
	char *idp_entity_id, *idp_sso_url;
	xmlSecKeyPtr keys[IDG_SAML_CERTS_MAX];
	size_t nkeys;
	unsigned leeway_s;
	size_t response_max;
	bool requests_elsewhere;	/* the caller checks InResponseTo (idg_saml_cfg) */
	EVP_PKEY *sp_key;	/* signs AuthnRequests, or NULL */
	time_t (*now)(void *);
	void *now_arg;
	struct pending pending[IDG_SAML_PENDING_MAX];
	struct seen *seen;	/* IDG_SAML_SEEN_MAX */
};

/* ---------- the libraries, once per process ---------- */

static void
quiet_xml(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void
quiet_xmlsec(const char *file, int line, const char *func, const char *obj, const char *subj,
    int reason, const char *msg)
{
	log_debug("xmlsec: %s: %s%s%s (reason %d)", func ? func : "?", subj ? subj : "",
	    msg ? ": " : "", msg ? msg : "", reason);
	(void)file;
	(void)line;
	(void)obj;
}

/* No external anything: every DTD, entity or XInclude load fails. */
static xmlParserInputPtr
no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

static int
libs_init(void)
{
	static int state;	/* 0 not yet, 1 ready, -1 failed */

	if (state != 0)
		return state > 0 ? 0 : IDG_ERR_INTERNAL;
	state = -1;
	xmlInitParser();
	xmlSetExternalEntityLoader(no_loader);
	xmlSetGenericErrorFunc(NULL, quiet_xml);
	xmlSecErrorsSetCallback(quiet_xmlsec);
	if (xmlSecInit() < 0)
		return IDG_ERR_INTERNAL;
	if (xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0)
		return IDG_ERR_INTERNAL;
	state = 1;
	return 0;
}

/* ---------- small helpers ---------- */

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static time_t
now_of(const struct idg_saml *s)
{
	return s->now ? s->now(s->now_arg) : time(NULL);
}

static bool
is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	    strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* The only element child named ns:name; NULL when none or several (*count_out: how many). */
static xmlNode *
only_child(const xmlNode *parent, const char *ns, const char *name, size_t *count_out)
{
	xmlNode *found = NULL;
	size_t n = 0;

	for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
		if (is_el(c, ns, name)) {
			found = c;
			n++;
		}
	if (count_out)
		*count_out = n;
	return n == 1 ? found : NULL;
}

/* Elements named ns:name anywhere below (and including) n. */
static size_t
count_all(const xmlNode *n, const char *ns, const char *name)
{
	size_t k = 0;

	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(n, ns, name))
			k++;
		k += count_all(n->children, ns, name);
	}
	return k;
}

/* An attribute without a namespace, read in place (nothing is allocated, so running out of
 * memory can never make a present attribute look absent): NULL when absent. Without a DTD,
 * libxml2 gives an attribute's value as one text node; anything else reads as BAD_ATTR, which
 * equals nothing we compare with and parses as no time. */
static const char BAD_ATTR[] = "\x01";

static const char *
attr(const xmlNode *n, const char *name)
{
	xmlAttrPtr a = xmlHasNsProp(n, (const xmlChar *)name, NULL);

	if (a == NULL)
		return NULL;
	if (a->children == NULL)
		return "";
	if (a->children->type != XML_TEXT_NODE || a->children->next != NULL ||
	    a->children->content == NULL)
		return BAD_ATTR;
	return (const char *)a->children->content;
}

static bool
attr_is(const xmlNode *n, const char *name, const char *want)
{
	const char *v = attr(n, name);

	return v && strcmp(v, want) == 0;
}

/* The text of an element that must hold text only: text and CDATA children, nothing else — a
 * comment, processing instruction, entity reference or element inside is refused rather
 * than skipped (a comment splits a NameID's text: "alice@example.com<!---->.evil.com").
 * Bounded by TEXT_MAX, no control characters. *out is malloc'd. */
static int
plain_text(const xmlNode *n, char **out)
{
	char buf[TEXT_MAX + 1];
	size_t len = 0;

	for (const xmlNode *c = n->children; c; c = c->next) {
		size_t k;

		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return IDG_ERR_INVAL;
		k = c->content ? strlen((const char *)c->content) : 0;
		if (len + k > TEXT_MAX)
			return IDG_ERR_TOOBIG;
		memcpy(buf + len, c->content, k);
		len += k;
	}
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return IDG_ERR_INVAL;
	/* Surrounding white space is layout, not part of the value. */
	size_t b = 0, e = len;

	while (b < e && (buf[b] == ' ' || buf[b] == '\t' || buf[b] == '\n' || buf[b] == '\r'))
		b++;
	while (e > b && (buf[e - 1] == ' ' || buf[e - 1] == '\t' || buf[e - 1] == '\n' ||
	    buf[e - 1] == '\r'))
		e--;
	if ((*out = strndup(buf + b, e - b)) == NULL)
		return IDG_ERR_NOMEM;
	return 0;
}

/* Plain text of the element, which must exist and not be empty, compared with want. */
static bool
text_is(const xmlNode *n, const char *want)
{
	char *t = NULL;
	bool ok = n && plain_text(n, &t) == 0 && strcmp(t, want) == 0;

	free(t);
	return ok;
}

/* xs:dateTime, UTC ("Z") or with an offset; fractions of a second are dropped. */
static int
parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0;
	long off = 0;
	const char *p;
	time_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return IDG_ERR_INVAL;
	p = s + n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return IDG_ERR_INVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
	    isdigit((unsigned char)p[5]) && p[6] == '\0') {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
		if (*p == '-')
			off = -off;
	} else {
		return IDG_ERR_INVAL;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return IDG_ERR_INVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return IDG_ERR_INVAL;
	*out = t - off;
	return 0;
}

/* A time attribute; missing is *out untouched and 1. */
static int
time_attr(const xmlNode *n, const char *name, time_t *out)
{
	const char *v = attr(n, name);

	return v == NULL ? 1 : parse_time(v, out);
}

static void
fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* XML-escape s into a new string. */
static char *
xml_escape(const char *s)
{
	size_t n = 0;
	char *out, *p;

	for (const char *c = s; *c; c++)
		n += *c == '&' ? 5 : *c == '<' || *c == '>' ? 4 : *c == '"' || *c == '\'' ? 6 : 1;
	if ((out = p = malloc(n + 1)) == NULL)
		return NULL;
	for (const char *c = s; *c; c++) {
		const char *r = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" :
		    *c == '"' ? "&quot;" : *c == '\'' ? "&apos;" : NULL;

		if (r) {
			memcpy(p, r, strlen(r));
			p += strlen(r);
		} else {
			*p++ = *c;
		}
	}
	*p = '\0';
	return out;
}

/* Parse XML that must have no DTD (so no entities), no NUL, at most max bytes. */
static int
parse_strict(const char *buf, size_t len, size_t max, xmlDocPtr *out, char *err, size_t errlen)
{
	xmlDocPtr doc;

	if (len > max)
		return fail(err, errlen, IDG_ERR_TOOBIG, "the document is %zu bytes: at most %zu "
		    "are read", len, max);
	if (memchr(buf, '\0', len) != NULL)
		return fail(err, errlen, IDG_ERR_INVAL, "the document is not UTF-8 text");
	/* Refused before the parser sees it; checked again on the tree below. */
	if (memmem(buf, len, "<!DOCTYPE", 9) != NULL || memmem(buf, len, "<!ENTITY", 8) != NULL)
		return fail(err, errlen, IDG_ERR_INVAL, "the document has a DTD (refused)");
	doc = xmlReadMemory(buf, (int)len, "noname.xml", NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return fail(err, errlen, IDG_ERR_INVAL, "the document is not well-formed XML");
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return fail(err, errlen, IDG_ERR_INVAL, "the document has a DTD (refused)");
	}
	*out = doc;
	return 0;
}

/* ---------- metadata ---------- */

static int
add_cert(struct idg_saml *s, const xmlNode *certnode, char *err, size_t errlen)
{
	char *b64 = NULL;
	xmlSecByte *der = NULL;
	xmlSecSize dlen = 0;
	xmlSecKeyPtr key;
	size_t n;
	int rc = IDG_ERR_CONFIG;

	if (s->nkeys >= IDG_SAML_CERTS_MAX)
		return fail(err, errlen, IDG_ERR_CONFIG, "the IdP metadata has more than %d "
		    "signing certificates", IDG_SAML_CERTS_MAX);
	b64 = (char *)xmlNodeGetContent(certnode);
	if (b64 == NULL || (n = strlen(b64)) == 0 || n > 64 * 1024 ||
	    (der = malloc(n)) == NULL) {
		fail(err, errlen, IDG_ERR_CONFIG, "an X509Certificate in the IdP metadata is empty "
		    "or too long");
		goto out;
	}
	if (xmlSecBase64Decode_ex((const xmlChar *)b64, der, (xmlSecSize)n, &dlen) < 0 ||
	    dlen == 0) {
		fail(err, errlen, IDG_ERR_CONFIG, "an X509Certificate in the IdP metadata is not "
		    "base64");
		goto out;
	}
	key = xmlSecCryptoAppKeyLoadMemory(der, dlen, xmlSecKeyDataFormatCertDer, NULL, NULL, NULL);
	if (key == NULL) {
		fail(err, errlen, IDG_ERR_CONFIG, "an X509Certificate in the IdP metadata is not "
		    "a usable certificate");
		goto out;
	}
	s->keys[s->nkeys++] = key;
	rc = 0;
out:
	xmlFree(b64);
	free(der);
	return rc;
}

static int
read_metadata(struct idg_saml *s, const char *xml, char *err, size_t errlen)
{
	xmlDocPtr doc = NULL;
	xmlNode *root, *idp;
	const char *eid = NULL;
	int rc;

	if ((rc = parse_strict(xml, strlen(xml), IDG_SAML_METADATA_MAX, &doc, err, errlen)) < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		return fail(err, errlen, IDG_ERR_CONFIG, "the IdP metadata: %s", why);
	}
	rc = IDG_ERR_CONFIG;
	root = xmlDocGetRootElement(doc);
	if (!is_el(root, NS_MD, "EntityDescriptor") || (eid = attr(root, "entityID")) == NULL ||
	    *eid == '\0') {
		fail(err, errlen, rc, "the IdP metadata is not an md:EntityDescriptor with an "
		    "entityID");
		goto out;
	}
	if ((idp = only_child(root, NS_MD, "IDPSSODescriptor", NULL)) == NULL) {
		fail(err, errlen, rc, "the IdP metadata has no (or several) md:IDPSSODescriptor");
		goto out;
	}
	for (xmlNode *c = idp->children; c; c = c->next) {
		if (is_el(c, NS_MD, "SingleSignOnService") && attr_is(c, "Binding", BIND_REDIRECT) &&
		    s->idp_sso_url == NULL) {
			const char *loc = attr(c, "Location");

			if (loc && strncmp(loc, "https://", 8) == 0 && strlen(loc) < URL_MAX)
				s->idp_sso_url = strdup(loc);
		} else if (is_el(c, NS_MD, "KeyDescriptor")) {
			const char *use = attr(c, "use");
			bool signing = use == NULL || strcmp(use, "signing") == 0;
			xmlNode *ki, *xd;

			if (!signing)
				continue;
			if ((ki = only_child(c, NS_DS, "KeyInfo", NULL)) == NULL ||
			    (xd = only_child(ki, NS_DS, "X509Data", NULL)) == NULL)
				continue;
			for (xmlNode *x = xd->children; x; x = x->next)
				if (is_el(x, NS_DS, "X509Certificate") &&
				    (rc = add_cert(s, x, err, errlen)) < 0)
					goto out;
			rc = IDG_ERR_CONFIG;
		}
	}
	if (s->idp_sso_url == NULL) {
		fail(err, errlen, rc, "the IdP metadata has no https SingleSignOnService with the "
		    "HTTP-Redirect binding");
		goto out;
	}
	if (s->nkeys == 0) {
		fail(err, errlen, rc, "the IdP metadata has no signing certificate");
		goto out;
	}
	if (strlen(eid) > URL_MAX || (s->idp_entity_id = strdup(eid)) == NULL) {
		fail(err, errlen, rc, "the IdP's entityID is too long");
		goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

/* ---------- the object ---------- */

/* The SP's RSA key for signing AuthnRequests (at least 2048 bits). */
static int
load_sp_key(struct idg_saml *s, const char *pem, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(pem, -1);

	s->sp_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (s->sp_key == NULL || EVP_PKEY_get_base_id(s->sp_key) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(s->sp_key) < 2048)
		return fail(err, errlen, IDG_ERR_CONFIG, "the SP key is not an RSA private key of "
		    "at least 2048 bits (PEM)");
	return 0;
}

static char *
dup_opt(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int
idg_saml_new(const struct idg_saml_cfg *cfg, struct idg_saml **out, char *err, size_t errlen)
{
	struct idg_saml *s;
	int rc;

	if ((rc = libs_init()) < 0)
		return fail(err, errlen, rc, "libxmlsec1 could not be initialised");
	if (cfg->sp_entity_id == NULL || *cfg->sp_entity_id == '\0' || cfg->acs_url == NULL ||
	    strncmp(cfg->acs_url, "https://", 8) != 0 || cfg->idp_metadata == NULL)
		return fail(err, errlen, IDG_ERR_CONFIG, "the SP entity ID, an https ACS URL and "
		    "the IdP metadata are all needed");
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->seen = calloc(IDG_SAML_SEEN_MAX, sizeof(*s->seen))) == NULL ||
	    (s->sp_entity_id = strdup(cfg->sp_entity_id)) == NULL ||
	    (s->acs_url = strdup(cfg->acs_url)) == NULL) {
		idg_saml_free(s);
		return fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
	}
	s->username_attr = dup_opt(cfg->username_attr);
	s->groups_attr = dup_opt(cfg->groups_attr);
	if (cfg->link_attr && *cfg->link_attr && (s->link_attr = strdup(cfg->link_attr)) == NULL) {
		idg_saml_free(s);
		return fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
	}
	s->leeway_s = cfg->leeway_s;
	s->requests_elsewhere = cfg->requests_elsewhere;
	s->response_max = cfg->response_max ? cfg->response_max : IDG_SAML_RESPONSE_MAX_DEFAULT;
	if ((rc = read_metadata(s, cfg->idp_metadata, err, errlen)) < 0 ||
	    (cfg->sp_key_pem && (rc = load_sp_key(s, cfg->sp_key_pem, err, errlen)) < 0)) {
		idg_saml_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
idg_saml_free(struct idg_saml *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nkeys; i++)
		xmlSecKeyDestroy(s->keys[i]);
	free(s->sp_entity_id);
	free(s->acs_url);
	free(s->username_attr);
	free(s->groups_attr);
	free(s->link_attr);
	free(s->idp_entity_id);
	free(s->idp_sso_url);
	free(s->seen);
	EVP_PKEY_free(s->sp_key);
	free(s);
}

int
idg_saml_set_metadata(struct idg_saml *s, const char *xml, char *err, size_t errlen)
{
	struct idg_saml t = { 0 };
	int rc;

	if ((rc = read_metadata(&t, xml, err, errlen)) < 0) {
		for (size_t i = 0; i < t.nkeys; i++)
			xmlSecKeyDestroy(t.keys[i]);
		free(t.idp_entity_id);
		free(t.idp_sso_url);
		return rc;
	}
	for (size_t i = 0; i < s->nkeys; i++)
		xmlSecKeyDestroy(s->keys[i]);
	free(s->idp_entity_id);
	free(s->idp_sso_url);
	memcpy(s->keys, t.keys, sizeof(s->keys));
	s->nkeys = t.nkeys;
	s->idp_entity_id = t.idp_entity_id;
	s->idp_sso_url = t.idp_sso_url;
	return 0;
}

void
idg_saml_set_clock(struct idg_saml *s, time_t (*now)(void *arg), void *arg)
{
	s->now = now;
	s->now_arg = arg;
}

const char *
idg_saml_idp_entity_id(const struct idg_saml *s)
{
	return s->idp_entity_id;
}

const char *
idg_saml_idp_sso_url(const struct idg_saml *s)
{
	return s->idp_sso_url;
}

/* ---------- AuthnRequest (HTTP-Redirect: raw DEFLATE, base64, URL-encoded) ---------- */

static char *
url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

static int
deflate_raw(const char *in, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
	z_stream z = { 0 };
	int zr;

	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return IDG_ERR_NOMEM;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	zr = deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : IDG_ERR_TOOBIG;
}

/* The query string: SAMLRequest, RelayState, and — with an SP key — SigAlg and Signature
 * over exactly those bytes (SAML bindings 3.4.4.1: RSA-SHA256 by OpenSSL). */
static int
signed_query(const struct idg_saml *s, const char *enc, const char *renc, char **out)
{
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	char *q = NULL, *sigalg = NULL, *sb64 = NULL, *senc = NULL;
	EVP_MD_CTX *md = NULL;
	int rc = IDG_ERR_NOMEM;

	if (asprintf(&q, "SAMLRequest=%s%s%s", enc, renc ? "&RelayState=" : "", renc ? renc :
	    "") < 0) {
		q = NULL;
		goto out;
	}
	if (s->sp_key == NULL) {
		*out = q;
		return 0;
	}
	if ((sigalg = url_encode(IDG_SAML_SIGALG_RSA_SHA256)) == NULL)
		goto out;
	{
		char *t = NULL;

		if (asprintf(&t, "%s&SigAlg=%s", q, sigalg) < 0)
			goto out;
		free(q);
		q = t;
	}
	rc = IDG_ERR_INTERNAL;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->sp_key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)q, strlen(q)) != 1)
		goto out;
	rc = IDG_ERR_NOMEM;
	if ((sb64 = (char *)xmlSecBase64Encode(sig, (xmlSecSize)siglen, 0)) == NULL ||
	    (senc = url_encode(sb64)) == NULL)
		goto out;
	{
		char *t = NULL;

		if (asprintf(&t, "%s&Signature=%s", q, senc) < 0)
			goto out;
		free(q);
		q = t;
	}
	*out = q;
	q = NULL;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(q);
	free(sigalg);
	xmlFree(sb64);
	free(senc);
	return rc;
}

static void
pending_purge(struct idg_saml *s, time_t now)
{
	for (size_t i = 0; i < IDG_SAML_PENDING_MAX; i++)
		if (s->pending[i].id[0] && s->pending[i].expires < now)
			s->pending[i].id[0] = '\0';
}

static struct pending *
pending_find(struct idg_saml *s, const char *id)
{
	for (size_t i = 0; i < IDG_SAML_PENDING_MAX; i++)
		if (s->pending[i].id[0] && strcmp(s->pending[i].id, id) == 0)
			return &s->pending[i];
	return NULL;
}

int
idg_saml_start(struct idg_saml *s, const char *relay, char **url_out, char *id_out, char *err,
    size_t errlen)
{
	unsigned char rnd[20], z[8192];
	char id[IDG_SAML_ID_MAX + 1], when[32], xml[6144];
	char *sp = NULL, *acs = NULL, *dest = NULL, *b64 = NULL, *enc = NULL, *renc = NULL, *url;
	char *query = NULL;
	struct pending *slot = NULL;
	time_t now = now_of(s);
	size_t zlen, ulen;
	int n, rc = IDG_ERR_NOMEM;

	pending_purge(s, now);
	for (size_t i = 0; i < IDG_SAML_PENDING_MAX && slot == NULL; i++)
		if (s->pending[i].id[0] == '\0')
			slot = &s->pending[i];
	if (slot == NULL)
		return fail(err, errlen, IDG_ERR_TOOBIG, "too many SAML logins in progress; try "
		    "again later");
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return fail(err, errlen, IDG_ERR_INTERNAL, "no random bytes");
	/* An ID is an xs:ID (an NCName): it must not start with a digit. */
	id[0] = '_';
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 1 + 2 * i, 3, "%02x", rnd[i]);
	fmt_time(now, when, sizeof(when));
	if ((sp = xml_escape(s->sp_entity_id)) == NULL || (acs = xml_escape(s->acs_url)) == NULL ||
	    (dest = xml_escape(s->idp_sso_url)) == NULL)
		goto out;
	n = snprintf(xml, sizeof(xml), "<samlp:AuthnRequest xmlns:samlp=\"" NS_P "\" "
	    "xmlns:saml=\"" NS_A "\" ID=\"%s\" Version=\"2.0\" IssueInstant=\"%s\" "
	    "Destination=\"%s\" AssertionConsumerServiceURL=\"%s\" ProtocolBinding=\"" BIND_POST
	    "\"><saml:Issuer>%s</saml:Issuer><samlp:NameIDPolicy AllowCreate=\"true\"/>"
	    "</samlp:AuthnRequest>", id, when, dest, acs, sp);
	if (n < 0 || (size_t)n >= sizeof(xml)) {
		rc = fail(err, errlen, IDG_ERR_TOOBIG, "the AuthnRequest is too long");
		goto out;
	}
	if ((rc = deflate_raw(xml, (size_t)n, z, sizeof(z), &zlen)) < 0) {
		fail(err, errlen, rc, "the AuthnRequest could not be compressed");
		goto out;
	}
	rc = IDG_ERR_NOMEM;
	if ((b64 = (char *)xmlSecBase64Encode(z, (xmlSecSize)zlen, 0)) == NULL ||
	    (enc = url_encode(b64)) == NULL || (relay && (renc = url_encode(relay)) == NULL))
		goto out;
	if ((rc = signed_query(s, enc, renc, &query)) < 0) {
		fail(err, errlen, rc, "the AuthnRequest could not be signed");
		goto out;
	}
	rc = IDG_ERR_NOMEM;
	ulen = strlen(s->idp_sso_url) + strlen(query) + 2;
	if ((url = malloc(ulen)) == NULL)
		goto out;
	snprintf(url, ulen, "%s%c%s", s->idp_sso_url, strchr(s->idp_sso_url, '?') ? '&' : '?',
	    query);
	snprintf(slot->id, sizeof(slot->id), "%s", id);
	slot->expires = now + IDG_SAML_REQUEST_TTL;
	snprintf(id_out, IDG_SAML_ID_MAX + 1, "%s", id);
	*url_out = url;
	rc = 0;
out:
	if (rc == IDG_ERR_NOMEM)
		fail(err, errlen, rc, "out of memory");
	free(sp);
	free(acs);
	free(dest);
	xmlFree(b64);
	free(enc);
	free(renc);
	free(query);
	return rc;
}

/* ---------- SP metadata ---------- */

int
idg_saml_sp_metadata(const char *sp_entity_id, const char *acs_url, const char *cert_b64,
    char **xml_out)
{
	char *eid = xml_escape(sp_entity_id), *acs = xml_escape(acs_url), *out = NULL;
	char *kd = NULL;
	int rc = IDG_ERR_NOMEM;

	if (cert_b64 && asprintf(&kd, "    <md:KeyDescriptor use=\"signing\"><ds:KeyInfo "
	    "xmlns:ds=\"" NS_DS "\"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate>"
	    "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n", cert_b64) < 0)
		kd = NULL;
	if (eid && acs && (cert_b64 == NULL || kd) && asprintf(&out,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<md:EntityDescriptor xmlns:md=\"" NS_MD "\" entityID=\"%s\">\n"
	    "  <md:SPSSODescriptor AuthnRequestsSigned=\"%s\" WantAssertionsSigned=\"true\" "
	    "protocolSupportEnumeration=\"" NS_P "\">\n%s"
	    "    <md:AssertionConsumerService Binding=\"" BIND_POST "\" Location=\"%s\" "
	    "index=\"0\" isDefault=\"true\"/>\n"
	    "  </md:SPSSODescriptor>\n"
	    "</md:EntityDescriptor>\n", eid, cert_b64 ? "true" : "false", kd ? kd : "", acs) >= 0) {
		*xml_out = out;
		rc = 0;
	}
	free(kd);
	free(eid);
	free(acs);
	return rc;
}

/* ---------- verification ---------- */

/* Declare el's ID attribute as its ID (no DTD declares any). Fails — refused — on a missing or
 * over-long ID, or when the value is already an ID (xml:id, or a duplicate). */
static int
declare_id(xmlDocPtr doc, xmlNode *el, char *id_out)
{
	xmlAttrPtr a = xmlHasNsProp(el, (const xmlChar *)"ID", NULL);
	const char *v = attr(el, "ID");

	if (a == NULL || v == NULL || *v == '\0' || v == BAD_ATTR ||
	    strlen(v) > IDG_SAML_ID_MAX || xmlGetID(doc, (const xmlChar *)v) != NULL ||
	    xmlAddID(NULL, doc, (const xmlChar *)v, a) == NULL ||
	    xmlGetID(doc, (const xmlChar *)v) != a)
		return IDG_ERR_DENIED;
	snprintf(id_out, IDG_SAML_ID_MAX + 1, "%s", v);
	return 0;
}

static int
enable_transforms(xmlSecDSigCtxPtr c)
{
	xmlSecTransformId ids[] = {
		xmlSecTransformInclC14NId, xmlSecTransformExclC14NId, xmlSecTransformEnvelopedId,
		xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id,
		xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha384Id, xmlSecTransformRsaSha512Id,
		xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id,
		xmlSecTransformEcdsaSha512Id,
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (xmlSecDSigCtxEnableReferenceTransform(c, ids[i]) < 0 ||
		    xmlSecDSigCtxEnableSignatureTransform(c, ids[i]) < 0)
			return IDG_ERR_INTERNAL;
	return 0;
}

/* Is sig (a direct child of el, whose declared ID is id) a signature over el alone, by one of
 * the metadata's keys? */
static bool
signed_by_idp(const struct idg_saml *s, xmlDocPtr doc, xmlNode *el, const char *id,
    xmlNode *sig)
{
	xmlNode *si, *ref;
	xmlAttrPtr target;
	char want[IDG_SAML_ID_MAX + 2];
	size_t nref = 0;

	if (sig->parent != el || (si = only_child(sig, NS_DS, "SignedInfo", NULL)) == NULL ||
	    (ref = only_child(si, NS_DS, "Reference", &nref)) == NULL || nref != 1)
		return false;
	snprintf(want, sizeof(want), "#%s", id);
	if (!attr_is(ref, "URI", want))
		return false;
	target = xmlGetID(doc, (const xmlChar *)id);
	if (target == NULL || target->parent != el)
		return false;
	for (size_t k = 0; k < s->nkeys; k++) {
		xmlSecDSigCtxPtr c = xmlSecDSigCtxCreate(NULL);
		bool ok = false;

		if (c == NULL)
			return false;
		c->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
		if (enable_transforms(c) == 0 && (c->signKey = xmlSecKeyDuplicate(s->keys[k])) &&
		    xmlSecDSigCtxVerify(c, sig) == 0 && c->status == xmlSecDSigStatusSucceeded &&
		    xmlSecPtrListGetSize(&c->signedInfoReferences) == 1) {
			xmlSecDSigReferenceCtxPtr r = xmlSecPtrListGetItem(&c->signedInfoReferences,
			    0);

			ok = r && r->uri && strcmp((const char *)r->uri, want) == 0 &&
			    r->status == xmlSecDSigStatusSucceeded;
		}
		xmlSecDSigCtxDestroy(c);
		if (ok)
			return true;
	}
	return false;
}

/* The one ds:Signature child of el, or NULL (none or several: *several set). */
static xmlNode *
sig_of(const xmlNode *el, bool *several)
{
	size_t n = 0;
	xmlNode *sig = only_child(el, NS_DS, "Signature", &n);

	if (n > 1)
		*several = true;
	return sig;
}

struct checked {
	xmlNode *assertion;
	char irt[IDG_SAML_ID_MAX + 1];	/* InResponseTo */
	char aid[IDG_SAML_ID_MAX + 1];	/* the Assertion's ID */
	time_t expires;			/* remember the assertion ID until then */
	time_t exp;			/* the assertion's end of life (Conditions) */
};

/* The Response's envelope, before any signature: structure, IDs, the signature. */
static int
check_signed(const struct idg_saml *s, xmlDocPtr doc, struct checked *ck, char *err,
    size_t errlen)
{
	xmlNode *resp = xmlDocGetRootElement(doc), *as, *sig;
	char rid[IDG_SAML_ID_MAX + 1];
	bool several = false, ok = false;
	size_t n;

	if (!is_el(resp, NS_P, "Response"))
		return fail(err, errlen, IDG_ERR_INVAL, "not a SAML Response");
	if (count_all(resp, NS_A, "EncryptedAssertion") > 0)
		return fail(err, errlen, IDG_ERR_DENIED, "encrypted assertions are not supported");
	if ((n = count_all(resp, NS_A, "Assertion")) != 1)
		return fail(err, errlen, IDG_ERR_DENIED, "the response holds %zu assertions: "
		    "exactly one is accepted", n);
	if ((as = only_child(resp, NS_A, "Assertion", NULL)) == NULL)
		return fail(err, errlen, IDG_ERR_DENIED, "the assertion is not a child of the "
		    "response");
	if (declare_id(doc, resp, rid) < 0 || declare_id(doc, as, ck->aid) < 0)
		return fail(err, errlen, IDG_ERR_DENIED, "the response or assertion has no usable "
		    "ID (missing, duplicated or too long)");
	/* The assertion's own signature, else the response's (covering its only assertion). */
	if ((sig = sig_of(as, &several)) != NULL)
		ok = signed_by_idp(s, doc, as, ck->aid, sig);
	if (!ok && !several && (sig = sig_of(resp, &several)) != NULL)
		ok = signed_by_idp(s, doc, resp, rid, sig);
	if (several)
		return fail(err, errlen, IDG_ERR_DENIED, "more than one signature on one element");
	if (!ok)
		return fail(err, errlen, IDG_ERR_DENIED, "no valid IdP signature over the "
		    "assertion (unsigned, wrong key, or not covering it)");
	ck->assertion = as;
	return 0;
}

/* Status, Destination, Issuer, InResponseTo of the (now trusted) Response. */
static int
check_response(struct idg_saml *s, xmlNode *resp, struct checked *ck, char *err,
    size_t errlen)
{
	xmlNode *st, *code, *iss;
	const char *irt;

	if (!attr_is(resp, "Version", "2.0"))
		return fail(err, errlen, IDG_ERR_INVAL, "not a SAML 2.0 response");
	if ((st = only_child(resp, NS_P, "Status", NULL)) == NULL ||
	    (code = only_child(st, NS_P, "StatusCode", NULL)) == NULL ||
	    !attr_is(code, "Value", STATUS_SUCCESS))
		return fail(err, errlen, IDG_ERR_DENIED, "the IdP did not report success");
	if (!attr_is(resp, "Destination", s->acs_url))
		return fail(err, errlen, IDG_ERR_DENIED, "the response's Destination is not this "
		    "node's ACS URL");
	if ((iss = only_child(resp, NS_A, "Issuer", NULL)) != NULL &&
	    !text_is(iss, s->idp_entity_id))
		return fail(err, errlen, IDG_ERR_DENIED, "the response's Issuer is not the IdP");
	irt = attr(resp, "InResponseTo");
	if (irt == NULL || *irt == '\0' || strlen(irt) > IDG_SAML_ID_MAX ||
	    (!s->requests_elsewhere && pending_find(s, irt) == NULL))
		return fail(err, errlen, IDG_ERR_DENIED, "the response answers no login of ours "
		    "(InResponseTo unknown, expired or missing)");
	snprintf(ck->irt, sizeof(ck->irt), "%s", irt);
	return 0;
}

/* A window [nb, noa) with leeway against now. */
static int
in_window(const struct idg_saml *s, const xmlNode *n, bool need_end, time_t *end_out,
    const char *what, char *err, size_t errlen)
{
	time_t now = now_of(s), nb = 0, noa = 0;
	int r1 = time_attr(n, "NotBefore", &nb), r2 = time_attr(n, "NotOnOrAfter", &noa);

	if (r1 < 0 || r2 < 0)
		return fail(err, errlen, IDG_ERR_INVAL, "%s has a malformed time", what);
	if (r2 == 1 && need_end)
		return fail(err, errlen, IDG_ERR_INVAL, "%s has no NotOnOrAfter", what);
	if (r1 == 0 && now + (time_t)s->leeway_s < nb)
		return fail(err, errlen, IDG_ERR_EXPIRED, "%s is not valid yet", what);
	if (r2 == 0 && now - (time_t)s->leeway_s >= noa)
		return fail(err, errlen, IDG_ERR_EXPIRED, "%s has expired", what);
	if (end_out && r2 == 0)
		*end_out = noa;
	return 0;
}

static int
check_subject(const struct idg_saml *s, xmlNode *subj, struct checked *ck, char *err,
    size_t errlen)
{
	bool bearer_ok = false;
	int rc;

	for (xmlNode *c = subj->children; c; c = c->next) {
		xmlNode *d;
		const char *irt;

		if (!is_el(c, NS_A, "SubjectConfirmation") || !attr_is(c, "Method", CM_BEARER) ||
		    (d = only_child(c, NS_A, "SubjectConfirmationData", NULL)) == NULL)
			continue;
		if (!attr_is(d, "Recipient", s->acs_url))
			return fail(err, errlen, IDG_ERR_DENIED, "the assertion's Recipient is not "
			    "this node's ACS URL");
		irt = attr(d, "InResponseTo");
		if (irt == NULL || strcmp(irt, ck->irt) != 0)
			return fail(err, errlen, IDG_ERR_DENIED, "the assertion's InResponseTo does "
			    "not match the response's");
		time_t end = 0;

		if ((rc = in_window(s, d, true, &end, "the subject confirmation", err, errlen)) < 0)
			return rc;
		if (end > ck->expires)
			ck->expires = end;
		bearer_ok = true;
	}
	return bearer_ok ? 0 : fail(err, errlen, IDG_ERR_DENIED, "the assertion has no bearer "
	    "subject confirmation");
}

static int
check_conditions(const struct idg_saml *s, xmlNode *as, struct checked *ck, char *err,
    size_t errlen)
{
	xmlNode *cond = only_child(as, NS_A, "Conditions", NULL);
	size_t restrictions = 0;
	int rc;

	if (cond == NULL)
		return fail(err, errlen, IDG_ERR_DENIED, "the assertion has no Conditions");
	if ((rc = in_window(s, cond, true, &ck->exp, "the assertion", err, errlen)) < 0)
		return rc;
	if (ck->exp > ck->expires)
		ck->expires = ck->exp;
	for (xmlNode *c = cond->children; c; c = c->next) {
		bool us = false;

		if (!is_el(c, NS_A, "AudienceRestriction"))
			continue;
		restrictions++;
		for (xmlNode *a = c->children; a; a = a->next)
			if (is_el(a, NS_A, "Audience") && text_is(a, s->sp_entity_id))
				us = true;
		if (!us)
			return fail(err, errlen, IDG_ERR_DENIED, "the assertion's Audience is not "
			    "this node's entity ID");
	}
	return restrictions ? 0 : fail(err, errlen, IDG_ERR_DENIED, "the assertion has no "
	    "Audience");
}

static bool
seen_has(const struct idg_saml *s, const char *id, time_t now)
{
	for (size_t i = 0; i < IDG_SAML_SEEN_MAX; i++)
		if (s->seen[i].id[0] && s->seen[i].expires >= now && strcmp(s->seen[i].id, id) == 0)
			return true;
	return false;
}

/* A slot for a new assertion ID (expired ones are reused), or NULL when every slot holds a
 * live one: then the login is refused rather than the memory of a replay lost. */
static struct seen *
seen_slot(struct idg_saml *s, time_t now)
{
	for (size_t i = 0; i < IDG_SAML_SEEN_MAX; i++)
		if (s->seen[i].id[0] == '\0' || s->seen[i].expires < now)
			return &s->seen[i];
	return NULL;
}

static int
add_group(struct idg_oidc_identity *id, const char *g)
{
	char **v;

	for (size_t i = 0; i < id->ngroups; i++)
		if (strcmp(id->groups[i], g) == 0)
			return 0;
	if (id->ngroups >= IDG_OIDC_GROUPS_MAX)
		return IDG_ERR_TOOBIG;
	if ((v = realloc(id->groups, (id->ngroups + 1) * sizeof(*v))) == NULL)
		return IDG_ERR_NOMEM;
	id->groups = v;
	if ((v[id->ngroups] = strdup(g)) == NULL)
		return IDG_ERR_NOMEM;
	id->ngroups++;
	return 0;
}

/* One saml:Attribute: the username's (the first non-empty value), the groups', or the link's
 * (exactly one non-empty value: a second one could name another person). */
static int
read_attribute(const struct idg_saml *s, const xmlNode *a, struct idg_oidc_identity *id,
    char *err, size_t errlen)
{
	bool is_user = s->username_attr && attr_is(a, "Name", s->username_attr);
	bool is_groups = s->groups_attr && attr_is(a, "Name", s->groups_attr);
	bool is_link = s->link_attr && strcmp(s->link_attr, "NameID") != 0 &&
	    attr_is(a, "Name", s->link_attr);
	int rc = 0;

	for (const xmlNode *v = a->children; (is_user || is_groups || is_link) && v && rc == 0;
	    v = v->next) {
		char *t = NULL;

		if (!is_el(v, NS_A, "AttributeValue"))
			continue;
		if ((rc = plain_text(v, &t)) < 0)
			return fail(err, errlen, rc == IDG_ERR_NOMEM ? rc : IDG_ERR_DENIED, "%s",
			    rc == IDG_ERR_NOMEM ? "out of memory" : "an attribute value is not plain "
			    "text");
		if (is_user && id->username == NULL && *t && (id->username = strdup(t)) == NULL)
			rc = fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
		if (rc == 0 && is_groups && *t && (rc = add_group(id, t)) < 0)
			fail(err, errlen, rc, "too many groups in the assertion");
		if (rc == 0 && is_link && *t && id->link != NULL)
			rc = fail(err, errlen, IDG_ERR_DENIED, "the link attribute '%s' has more than "
			    "one value", s->link_attr);
		else if (rc == 0 && is_link && *t && (id->link = strdup(t)) == NULL)
			rc = fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
		free(t);
	}
	return rc;
}

/* NameID, username and groups from the verified assertion (every AttributeStatement). */
static int
read_identity(const struct idg_saml *s, xmlNode *as, xmlNode *subj,
    struct idg_oidc_identity *id, char *err, size_t errlen)
{
	xmlNode *nid = only_child(subj, NS_A, "NameID", NULL);
	int rc;

	if (nid == NULL)
		return fail(err, errlen, IDG_ERR_DENIED, "the assertion has no NameID");
	if ((rc = plain_text(nid, &id->sub)) == IDG_ERR_NOMEM)
		return fail(err, errlen, rc, "out of memory");
	if (rc < 0 || id->sub[0] == '\0')
		return fail(err, errlen, IDG_ERR_DENIED, "the NameID is not plain text (a comment, "
		    "entity or element inside it is refused)");
	if (attr_is(nid, "Format", NAMEID_EMAIL) && (id->email = strdup(id->sub)) == NULL)
		return fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
	if ((id->iss = strdup(s->idp_entity_id)) == NULL)
		return fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
	for (const xmlNode *st = as->children; st; st = st->next) {
		if (!is_el(st, NS_A, "AttributeStatement"))
			continue;
		for (const xmlNode *a = st->children; a; a = a->next)
			if (is_el(a, NS_A, "Attribute") && (rc = read_attribute(s, a, id, err,
			    errlen)) < 0)
				return rc;
	}
	if (s->link_attr && strcmp(s->link_attr, "NameID") == 0 && (id->link = strdup(id->sub)) == NULL)
		return fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
	if (s->username_attr == NULL && (id->username = strdup(id->sub)) == NULL)
		return fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
	if (id->username == NULL)
		return fail(err, errlen, IDG_ERR_DENIED, "the assertion has no username attribute "
		    "'%s'", s->username_attr);
	return 0;
}

static int
check_assertion(struct idg_saml *s, struct checked *ck, struct idg_oidc_identity *id,
    char *err, size_t errlen)
{
	xmlNode *as = ck->assertion, *iss, *subj;
	int rc;

	if (!attr_is(as, "Version", "2.0"))
		return fail(err, errlen, IDG_ERR_INVAL, "not a SAML 2.0 assertion");
	if ((iss = only_child(as, NS_A, "Issuer", NULL)) == NULL || !text_is(iss, s->idp_entity_id))
		return fail(err, errlen, IDG_ERR_DENIED, "the assertion's Issuer is not the IdP");
	if ((subj = only_child(as, NS_A, "Subject", NULL)) == NULL)
		return fail(err, errlen, IDG_ERR_DENIED, "the assertion has no Subject");
	if ((rc = check_subject(s, subj, ck, err, errlen)) < 0 ||
	    (rc = check_conditions(s, as, ck, err, errlen)) < 0)
		return rc;
	if (seen_has(s, ck->aid, now_of(s)))
		return fail(err, errlen, IDG_ERR_DENIED, "the assertion was used before (replay)");
	return read_identity(s, as, subj, id, err, errlen);
}

int
idg_saml_response(struct idg_saml *s, const char *b64, size_t n,
    struct idg_oidc_identity *id_out, char *request_id_out, char *err, size_t errlen)
{
	struct idg_oidc_identity id = { 0 };
	struct checked ck = { 0 };
	xmlDocPtr doc = NULL;
	xmlSecByte *raw = NULL;
	xmlSecSize rawlen = 0;
	char *text = NULL;
	struct pending *p;
	struct seen *sl;
	time_t now = now_of(s);
	int rc;

	pending_purge(s, now);
	if (n / 4 * 3 > s->response_max + 3)
		return fail(err, errlen, IDG_ERR_TOOBIG, "the SAML response is too large (%zu "
		    "bytes of base64; at most %zu decoded bytes are read)", n, s->response_max);
	if ((text = strndup(b64, n)) == NULL || (raw = malloc(n / 4 * 3 + 4)) == NULL) {
		rc = fail(err, errlen, IDG_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (xmlSecBase64Decode_ex((const xmlChar *)text, raw, (xmlSecSize)(n / 4 * 3 + 4),
	    &rawlen) < 0) {
		rc = fail(err, errlen, IDG_ERR_INVAL, "the SAML response is not base64");
		goto out;
	}
	if ((rc = parse_strict((const char *)raw, rawlen, s->response_max, &doc, err, errlen)) < 0 ||
	    (rc = check_signed(s, doc, &ck, err, errlen)) < 0 ||
	    (rc = check_response(s, xmlDocGetRootElement(doc), &ck, err, errlen)) < 0 ||
	    (rc = check_assertion(s, &ck, &id, err, errlen)) < 0)
		goto out;
	if ((sl = seen_slot(s, now)) == NULL) {
		rc = fail(err, errlen, IDG_ERR_TOOBIG, "too many recent SAML logins to remember; "
		    "try again later");
		goto out;
	}
	/* Accepted: the request is answered, the assertion can never be used again. */
	snprintf(sl->id, sizeof(sl->id), "%s", ck.aid);
	sl->expires = ck.expires + (time_t)s->leeway_s;
	if ((p = pending_find(s, ck.irt)) != NULL)
		p->id[0] = '\0';
	id.exp = ck.exp;
	snprintf(request_id_out, IDG_SAML_ID_MAX + 1, "%s", ck.irt);
	*id_out = id;
	memset(&id, 0, sizeof(id));
	rc = 0;
out:
	idg_oidc_identity_clear(&id);
	xmlFreeDoc(doc);
	if (raw)
		explicit_bzero(raw, rawlen);
	free(raw);
	free(text);
	return rc;
}

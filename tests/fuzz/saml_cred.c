/* Credentials and signing for the SAML fuzz targets (saml_cred.h): what an IdP does to a
 * Response, so fuzzed Responses can carry valid signatures and reach the checks behind them. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/base64.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>

#include "saml_cred.h"

#define WALK_MAX 256	/* nodes on the walk's stack: deeper documents are signed partly */

void
fz_cred_make(struct fz_cred *c)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	X509_NAME *n;
	BIO *b = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	char *p;
	long len;
	int dlen;

	if (k == NULL || x == NULL || b == NULL)
		abort();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"idp", -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (X509_sign(x, k, EVP_sha256()) <= 0 ||
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	len = BIO_get_mem_data(b, &p);
	c->key_pem = strndup(p, (size_t)len);
	if ((dlen = i2d_X509(x, &der)) <= 0)
		abort();
	c->cert_b64 = (char *)xmlSecBase64Encode(der, (xmlSecSize)dlen, 0);
	OPENSSL_free(der);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

void
fz_cred_free(struct fz_cred *c)
{
	free(c->key_pem);
	xmlFree(c->cert_b64);
}

char *
fz_metadata(const char *entity, const struct fz_cred *c)
{
	char *m = NULL;

	if (asprintf(&m, "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
	    "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"%s\"><md:IDPSSODescriptor "
	    "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"><md:KeyDescriptor "
	    "use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s"
	    "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
	    "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" "
	    "Location=\"https://idp.example.com/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>",
	    entity, c->cert_b64) < 0)
		abort();
	return m;
}

static void
declare_ids(xmlDocPtr doc)
{
	xmlNode *stack[WALK_MAX];
	size_t sp = 0;

	if ((stack[sp] = xmlDocGetRootElement(doc)) != NULL)
		sp++;
	while (sp > 0) {
		xmlNode *n = stack[--sp];
		xmlAttrPtr a;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((a = xmlHasNsProp(n, (const xmlChar *)"ID", NULL)) != NULL) {
			xmlChar *v = xmlNodeListGetString(doc, a->children, 1);

			if (v && xmlGetID(doc, v) == NULL)
				xmlAddID(NULL, doc, v, a);
			xmlFree(v);
		}
		for (xmlNode *c = n->children; c && sp < WALK_MAX; c = c->next)
			stack[sp++] = c;
	}
}

/* Sign the empty templates: pass 0 those below the root's children, pass 1 the root's own. */
static bool
sign_pass(xmlDocPtr doc, int pass, const struct fz_cred *c)
{
	xmlNode *root = xmlDocGetRootElement(doc), *stack[WALK_MAX], *sigs[8];
	size_t sp = 0, ns = 0;

	if (root == NULL)
		return false;
	stack[sp++] = root;
	while (sp > 0) {
		xmlNode *n = stack[--sp];

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlSecCheckNodeName(n, xmlSecNodeSignature, xmlSecDSigNs)) {
			xmlNode *sv = xmlSecFindNode(n, xmlSecNodeSignatureValue, xmlSecDSigNs);
			xmlChar *t = sv ? xmlNodeGetContent(sv) : NULL;

			if (t && *t == '\0' && ((pass == 0) == (n->parent != root)) && ns < 8)
				sigs[ns++] = n;
			xmlFree(t);
			continue;
		}
		for (xmlNode *ch = n->children; ch && sp < WALK_MAX; ch = ch->next)
			stack[sp++] = ch;
	}
	for (size_t i = 0; i < ns; i++) {
		xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
		bool ok;

		if (ctx == NULL)
			return false;
		ctx->signKey = xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)c->key_pem,
		    (xmlSecSize)strlen(c->key_pem), xmlSecKeyDataFormatPem, NULL, NULL, NULL);
		ok = ctx->signKey != NULL && xmlSecDSigCtxSign(ctx, sigs[i]) == 0;
		xmlSecDSigCtxDestroy(ctx);
		if (!ok)
			return false;
	}
	return true;
}

char *
fz_sign(const char *xml, size_t len, const struct fz_cred *c)
{
	xmlDocPtr doc;
	xmlChar *out = NULL;
	char *ret = NULL;
	int olen = 0;

	if (len > 1024 * 1024 || (doc = xmlReadMemory(xml, (int)len, "r.xml", NULL,
	    XML_PARSE_NONET)) == NULL)
		return NULL;
	declare_ids(doc);
	if (sign_pass(doc, 0, c) && sign_pass(doc, 1, c)) {
		xmlDocDumpMemory(doc, &out, &olen);
		if (out)
			ret = strndup((const char *)out, (size_t)olen);
		xmlFree(out);
	}
	xmlFreeDoc(doc);
	return ret;
}

/* The connector tests' fixture: a real HTTPS server on 127.0.0.1 (libmicrohttpd, a CA and a
 * server certificate made here with OpenSSL) that plays the IdP, and keys, JWKs and tokens
 * made and signed here with OpenSSL. Test code may sign; the code under test only verifies. */
#ifndef IDG_TESTS_CONNECTORS_FIXTURE_H
#define IDG_TESTS_CONNECTORS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

/* What the server saw of one request. */
struct fx_req {
	char method[16];
	char path[256];
	char auth[2048];	/* the Authorization header, or "" */
	char *body;		/* the request body (NUL-terminated), or NULL */
	size_t len;
};

/* What a handler answers. body is malloc'd (the fixture frees it). */
struct fx_resp {
	int status;		/* default 200 */
	const char *ctype;	/* default application/json */
	char *body;
	const char *location;	/* a Location header */
	int delay_ms;		/* wait this long before answering */
	size_t big;		/* answer this many bytes of 'a' instead of body */
	bool big_chunked;	/* ... without a Content-Length */
};

typedef void (*fx_handler)(const struct fx_req *req, struct fx_resp *resp, void *arg);

struct fx_server;

/* Start a server (fails the test when it cannot). */
struct fx_server *fx_start(void);
void fx_stop(struct fx_server *s);
unsigned short fx_port(const struct fx_server *s);
const char *fx_base(const struct fx_server *s);		/* "https://127.0.0.1:PORT" */
const char *fx_ca_file(const struct fx_server *s);	/* the CA that signed its certificate */

/* Answer path (exact match) with a handler, or with a fixed status and body. */
void fx_route(struct fx_server *s, const char *path, fx_handler h, void *arg);
void fx_route_static(struct fx_server *s, const char *path, int status, const char *body);
/* Requests seen on a path; the last one (caller frees the body with fx_req_free). */
unsigned fx_hits(struct fx_server *s, const char *path);
bool fx_last(struct fx_server *s, const char *path, struct fx_req *out);
void fx_req_free(struct fx_req *r);
/* TCP connections accepted so far. */
unsigned fx_connections(struct fx_server *s);

/* A mock IdP on the server: discovery at ISSUER/.well-known/openid-configuration naming
 * BASE/jwks, /token, /device and /userinfo, and the JWKS (replaceable). The token, device
 * and userinfo routes are the test's to set. */
void fx_idp(struct fx_server *s, const char *issuer_path);
const char *fx_issuer(const struct fx_server *s);
void fx_set_jwks(struct fx_server *s, const char *jwks);

/* ---------- keys and tokens ---------- */

enum fx_kty { FX_RSA, FX_RSA1024, FX_EC, FX_EC384, FX_ED };

EVP_PKEY *fx_key(enum fx_kty t);
/* The public JWK of k as a JSON object text; alg may be NULL. */
char *fx_jwk(EVP_PKEY *k, const char *kid, const char *alg);
/* {"keys":[jwk, ...]} of n JWK texts. */
char *fx_jwks(const char *const *jwks, size_t n);
/* A compact JWS of the given header and payload JSON texts, signed by k with alg (RS*, PS*,
 * ES*, EdDSA); "none" gives an empty signature. */
char *fx_sign(EVP_PKEY *k, const char *alg, const char *header, const char *payload);
/* An HS256 JWS with secret as the HMAC key. */
char *fx_hs256(const void *secret, size_t n, const char *header, const char *payload);
/* The SubjectPublicKeyInfo PEM of k (the "RSA public key as HMAC secret" attack). */
char *fx_pubkey_pem(EVP_PKEY *k);

char *fx_b64url(const void *p, size_t n);
char *fx_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

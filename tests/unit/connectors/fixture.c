/* The connector tests' fixture (see fixture.h): a libmicrohttpd HTTPS server with a route
 * table, a mock IdP on top of it, and OpenSSL helpers that make keys, JWKs and tokens. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "fixture.h"

#define ROUTES_MAX 32

struct route {
	char path[256];
	fx_handler h;
	void *arg;
	int status;
	char *body;		/* static routes */
	unsigned hits;
	struct fx_req last;
};

struct fx_server {
	struct MHD_Daemon *d;
	unsigned short port;
	char base[64];
	char issuer[128];
	char ca_file[64];
	char *key_pem, *cert_pem;
	pthread_mutex_t mu;
	struct route routes[ROUTES_MAX];
	size_t nroutes;
	char *jwks;
	unsigned conns;
	volatile int stopping;
};

/* Per request: the body as it arrives. */
struct upload {
	char *body;
	size_t len;
};

static void
die(const char *what)
{
	fprintf(stderr, "fixture: %s\n", what);
	abort();
}

char *
fx_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return s;
}

/* ---------- certificates ---------- */

static EVP_PKEY *
ec_key(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	if (k == NULL)
		die("EC keygen");
	return k;
}

static void
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    X509_add_ext(cert, ex, -1) != 1)
		die("certificate extension");
	X509_EXTENSION_free(ex);
}

static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
    long serial)
{
	X509 *c = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (c == NULL || name == NULL)
		die("X509_new");
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(c, name);
	X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(c, key);
	add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash");
	if (ca) {
		add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(c, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(c, issuer, NID_ext_key_usage, "serverAuth");
		add_ext(c, issuer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
		add_ext(c, issuer, NID_authority_key_identifier, "keyid");
	}
	if (X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()) == 0)
		die("X509_sign");
	X509_NAME_free(name);
	return c;
}

static char *
bio_string(BIO *b)
{
	char *p = NULL, *s;
	long n = BIO_get_mem_data(b, &p);

	if ((s = malloc((size_t)n + 1)) == NULL)
		die("out of memory");
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static void
make_tls(struct fx_server *s)
{
	EVP_PKEY *cak = ec_key("P-256"), *k = ec_key("P-256");
	X509 *ca = make_cert(cak, "idgate test CA", NULL, NULL, true, 1);
	X509 *cert = make_cert(k, "127.0.0.1", ca, cak, false, 2);
	BIO *b;
	FILE *f;
	int fd;

	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	s->key_pem = bio_string(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, cert);
	s->cert_pem = bio_string(b);
	snprintf(s->ca_file, sizeof(s->ca_file), "/tmp/idg-fx-ca-XXXXXX");
	if ((fd = mkstemp(s->ca_file)) < 0 || (f = fdopen(fd, "w")) == NULL)
		die("CA file");
	PEM_write_X509(f, ca);
	fclose(f);
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
}

/* ---------- the server ---------- */

static struct route *
find_route(struct fx_server *s, const char *path)
{
	for (size_t i = 0; i < s->nroutes; i++)
		if (strcmp(s->routes[i].path, path) == 0)
			return &s->routes[i];
	return NULL;
}

static struct route *
new_route(struct fx_server *s, const char *path)
{
	struct route *r = find_route(s, path);

	if (r == NULL) {
		if (s->nroutes == ROUTES_MAX)
			die("too many routes");
		r = &s->routes[s->nroutes++];
		snprintf(r->path, sizeof(r->path), "%s", path);
	}
	free(r->body);
	r->body = NULL;
	r->h = NULL;
	r->arg = NULL;
	return r;
}

void
fx_route(struct fx_server *s, const char *path, fx_handler h, void *arg)
{
	struct route *r;

	pthread_mutex_lock(&s->mu);
	r = new_route(s, path);
	r->h = h;
	r->arg = arg;
	pthread_mutex_unlock(&s->mu);
}

void
fx_route_static(struct fx_server *s, const char *path, int status, const char *body)
{
	struct route *r;

	pthread_mutex_lock(&s->mu);
	r = new_route(s, path);
	r->status = status;
	if ((r->body = strdup(body)) == NULL)
		die("out of memory");
	pthread_mutex_unlock(&s->mu);
}

unsigned
fx_hits(struct fx_server *s, const char *path)
{
	struct route *r;
	unsigned n;

	pthread_mutex_lock(&s->mu);
	r = find_route(s, path);
	n = r ? r->hits : 0;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void
fx_req_free(struct fx_req *r)
{
	free(r->body);
	r->body = NULL;
}

bool
fx_last(struct fx_server *s, const char *path, struct fx_req *out)
{
	struct route *r;
	bool ok = false;

	pthread_mutex_lock(&s->mu);
	if ((r = find_route(s, path)) != NULL && r->hits > 0) {
		*out = r->last;
		out->body = r->last.body ? strdup(r->last.body) : NULL;
		ok = true;
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

unsigned
fx_connections(struct fx_server *s)
{
	unsigned n;

	pthread_mutex_lock(&s->mu);
	n = s->conns;
	pthread_mutex_unlock(&s->mu);
	return n;
}

struct big {
	size_t total;
};

static ssize_t
big_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct big *b = cls;
	size_t n;

	if (pos >= b->total)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = b->total - (size_t)pos < max ? b->total - (size_t)pos : max;
	memset(buf, 'a', n);
	return (ssize_t)n;
}

static void
big_free(void *cls)
{
	free(cls);
}

static void
sleep_ms(struct fx_server *s, int ms)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (int i = 0; i < ms / 10 && !s->stopping; i++)
		nanosleep(&ts, NULL);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct fx_server *s = cls;
	struct upload *up = *con_cls;
	struct fx_resp resp = { .status = 200 };
	struct fx_req req = { 0 };
	struct MHD_Response *r;
	struct route *rt;
	fx_handler h = NULL;
	void *harg = NULL;
	const char *auth;
	enum MHD_Result ret;

	(void)version;
	if (up == NULL) {
		if ((up = calloc(1, sizeof(*up))) == NULL)
			return MHD_NO;
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_size) {
		char *nb = realloc(up->body, up->len + *upload_size + 1);

		if (nb == NULL)
			return MHD_NO;
		memcpy(nb + up->len, upload, *upload_size);
		up->len += *upload_size;
		nb[up->len] = '\0';
		up->body = nb;
		*upload_size = 0;
		return MHD_YES;
	}
	snprintf(req.method, sizeof(req.method), "%s", method);
	snprintf(req.path, sizeof(req.path), "%s", url);
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(req.auth, sizeof(req.auth), "%s", auth ? auth : "");
	req.body = up->body;
	req.len = up->len;

	pthread_mutex_lock(&s->mu);
	rt = find_route(s, url);
	if (rt) {
		rt->hits++;
		free(rt->last.body);
		rt->last = req;
		rt->last.body = req.body ? strdup(req.body) : NULL;
		h = rt->h;
		harg = rt->arg;
		if (h == NULL) {
			resp.status = rt->status;
			resp.body = strdup(rt->body);
		}
	} else {
		resp.status = 404;
		resp.body = strdup("{\"error\":\"not_found\"}");
	}
	pthread_mutex_unlock(&s->mu);
	/* Handlers run unlocked: a slow one must not hold up other connections. */
	if (h)
		h(&req, &resp, harg);
	if (resp.delay_ms)
		sleep_ms(s, resp.delay_ms);
	if (resp.big) {
		struct big *b = malloc(sizeof(*b));

		if (b == NULL)
			return MHD_NO;
		b->total = resp.big;
		r = MHD_create_response_from_callback(resp.big_chunked ? MHD_SIZE_UNKNOWN : resp.big,
		    32 * 1024, big_reader, b, big_free);
	} else {
		const char *body = resp.body ? resp.body : "";

		r = MHD_create_response_from_buffer(strlen(body), (void *)body,
		    MHD_RESPMEM_MUST_COPY);
	}
	free(resp.body);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", resp.ctype ? resp.ctype : "application/json");
	if (resp.location)
		MHD_add_response_header(r, "Location", resp.location);
	ret = MHD_queue_response(c, (unsigned)resp.status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)c;
	(void)t;
	if (up) {
		free(up->body);
		free(up);
		*con_cls = NULL;
	}
}

static void
notify(void *cls, struct MHD_Connection *c, void **sock_ctx, enum MHD_ConnectionNotificationCode t)
{
	struct fx_server *s = cls;

	(void)c;
	(void)sock_ctx;
	if (t == MHD_CONNECTION_NOTIFY_STARTED) {
		pthread_mutex_lock(&s->mu);
		s->conns++;
		pthread_mutex_unlock(&s->mu);
	}
}

struct fx_server *
fx_start(void)
{
	struct fx_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;

	if (s == NULL)
		die("out of memory");
	pthread_mutex_init(&s->mu, NULL);
	make_tls(s);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, answer, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
	    MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_NOTIFY_CONNECTION, notify, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_END);
	if (s->d == NULL || (info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)) == NULL)
		die("cannot start the HTTPS server");
	s->port = info->port;
	snprintf(s->base, sizeof(s->base), "https://127.0.0.1:%u", (unsigned)s->port);
	return s;
}

void
fx_stop(struct fx_server *s)
{
	if (s == NULL)
		return;
	s->stopping = 1;
	MHD_stop_daemon(s->d);
	for (size_t i = 0; i < s->nroutes; i++) {
		free(s->routes[i].body);
		free(s->routes[i].last.body);
	}
	unlink(s->ca_file);
	free(s->key_pem);
	free(s->cert_pem);
	free(s->jwks);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

unsigned short
fx_port(const struct fx_server *s)
{
	return s->port;
}

const char *
fx_base(const struct fx_server *s)
{
	return s->base;
}

const char *
fx_ca_file(const struct fx_server *s)
{
	return s->ca_file;
}

/* ---------- the mock IdP ---------- */

static void
jwks_handler(const struct fx_req *req, struct fx_resp *resp, void *arg)
{
	struct fx_server *s = arg;

	(void)req;
	pthread_mutex_lock(&s->mu);
	if (s->jwks) {
		resp->body = strdup(s->jwks);
	} else {
		resp->status = 503;
		resp->body = strdup("{}");
	}
	pthread_mutex_unlock(&s->mu);
}

void
fx_idp(struct fx_server *s, const char *issuer_path)
{
	char path[256];
	char *doc;
	size_t n;

	snprintf(s->issuer, sizeof(s->issuer), "%s%s", s->base, issuer_path);
	n = strlen(issuer_path);
	snprintf(path, sizeof(path), "%.*s/.well-known/openid-configuration",
	    (int)(n && issuer_path[n - 1] == '/' ? n - 1 : n), issuer_path);
	doc = fx_printf("{\"issuer\":\"%s\",\"token_endpoint\":\"%s/token\","
	    "\"jwks_uri\":\"%s/jwks\",\"device_authorization_endpoint\":\"%s/device\","
	    "\"userinfo_endpoint\":\"%s/userinfo\",\"response_types_supported\":[\"code\"]}",
	    s->issuer, s->base, s->base, s->base, s->base);
	fx_route_static(s, path, 200, doc);
	free(doc);
	fx_route(s, "/jwks", jwks_handler, s);
}

const char *
fx_issuer(const struct fx_server *s)
{
	return s->issuer;
}

void
fx_set_jwks(struct fx_server *s, const char *jwks)
{
	pthread_mutex_lock(&s->mu);
	free(s->jwks);
	s->jwks = jwks ? strdup(jwks) : NULL;
	pthread_mutex_unlock(&s->mu);
}

/* ---------- keys and tokens ---------- */

char *
fx_b64url(const void *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *in = p;
	char *out = malloc(n / 3 * 4 + 5);
	size_t o = 0;

	if (out == NULL)
		die("out of memory");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tab[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
	return out;
}

EVP_PKEY *
fx_key(enum fx_kty t)
{
	EVP_PKEY *k = NULL;

	switch (t) {
	case FX_RSA: k = EVP_RSA_gen(2048); break;
	case FX_RSA1024: k = EVP_RSA_gen(1024); break;
	case FX_EC: k = ec_key("P-256"); break;
	case FX_EC384: k = ec_key("P-384"); break;
	case FX_ED: k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
	}
	if (k == NULL)
		die("keygen");
	return k;
}

static char *
bn_b64(EVP_PKEY *k, const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	size_t n;
	char *s;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		die("key parameter");
	n = pad ? pad : (size_t)BN_num_bytes(bn);
	if (n > sizeof(buf) || BN_bn2binpad(bn, buf, (int)n) < 0)
		die("key parameter size");
	s = fx_b64url(buf, n);
	BN_free(bn);
	return s;
}

char *
fx_jwk(EVP_PKEY *k, const char *kid, const char *alg)
{
	char *a = NULL, *b = NULL, *s, *kidm, *algm;

	kidm = kid ? fx_printf("\"kid\":\"%s\",", kid) : strdup("");
	algm = alg ? fx_printf("\"alg\":\"%s\",", alg) : strdup("");
	if (EVP_PKEY_is_a(k, "RSA")) {
		a = bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0);
		s = fx_printf("{\"kty\":\"RSA\",%s%s\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}",
		    kidm, algm, a, b);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		char crv[32];
		size_t len = 0, coord;

		EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, crv, sizeof(crv), &len);
		coord = strcmp(crv, "prime256v1") == 0 ? 32 : strcmp(crv, "secp384r1") == 0 ? 48 : 66;
		a = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, coord);
		b = bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, coord);
		s = fx_printf("{\"kty\":\"EC\",%s%s\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", kidm,
		    algm, coord == 32 ? "P-256" : coord == 48 ? "P-384" : "P-521", a, b);
	} else {
		unsigned char raw[64];
		size_t len = sizeof(raw);

		if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1)
			die("raw public key");
		a = fx_b64url(raw, len);
		s = fx_printf("{\"kty\":\"OKP\",%s%s\"crv\":\"Ed25519\",\"x\":\"%s\"}", kidm, algm,
		    a);
	}
	free(a);
	free(b);
	free(kidm);
	free(algm);
	return s;
}

char *
fx_jwks(const char *const *jwks, size_t n)
{
	size_t len = 32;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(jwks[i]) + 1;
	if ((s = malloc(len)) == NULL)
		die("out of memory");
	strcpy(s, "{\"keys\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, jwks[i]);
	}
	strcat(s, "]}");
	return s;
}

static const EVP_MD *
md_of(const char *alg)
{
	if (strstr(alg, "384"))
		return EVP_sha384();
	if (strstr(alg, "512"))
		return EVP_sha512();
	return EVP_sha256();
}

/* ECDSA signatures are DER from OpenSSL, r||s of fixed size in a JWS (RFC 7518 §3.4). */
static size_t
der_to_raw(const unsigned char *der, size_t len, unsigned char *out, size_t coord)
{
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
	const BIGNUM *r, *s;

	if (sig == NULL)
		die("ECDSA signature");
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, out, (int)coord);
	BN_bn2binpad(s, out + coord, (int)coord);
	ECDSA_SIG_free(sig);
	return 2 * coord;
}

static char *
join(const char *signing_input, const unsigned char *sig, size_t siglen)
{
	char *s64 = fx_b64url(sig, siglen), *t = fx_printf("%s.%s", signing_input, s64);

	free(s64);
	return t;
}

char *
fx_sign(EVP_PKEY *k, const char *alg, const char *header, const char *payload)
{
	char *h = fx_b64url(header, strlen(header)), *p = fx_b64url(payload, strlen(payload));
	char *in = fx_printf("%s.%s", h, p), *tok;
	unsigned char sig[1024], raw[200];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	free(h);
	free(p);
	if (strcmp(alg, "none") == 0) {
		tok = fx_printf("%s.", in);
		free(in);
		EVP_MD_CTX_free(md);
		return tok;
	}
	if (strcmp(alg, "EdDSA") == 0) {
		if (EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1)
			die("EdDSA sign");
	} else if (EVP_DigestSignInit(md, &pc, md_of(alg), NULL, k) != 1) {
		die("sign init");
	}
	if (alg[0] == 'P' && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1))
		die("PSS");
	if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)in, strlen(in)) != 1)
		die("sign");
	if (alg[0] == 'E' && alg[1] == 'S') {
		size_t coord = strstr(alg, "384") ? 48 : strstr(alg, "512") ? 66 : 32;

		siglen = der_to_raw(sig, siglen, raw, coord);
		tok = join(in, raw, siglen);
	} else {
		tok = join(in, sig, siglen);
	}
	EVP_MD_CTX_free(md);
	free(in);
	return tok;
}

char *
fx_hs256(const void *secret, size_t n, const char *header, const char *payload)
{
	char *h = fx_b64url(header, strlen(header)), *p = fx_b64url(payload, strlen(payload));
	char *in = fx_printf("%s.%s", h, p), *tok;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (HMAC(EVP_sha256(), secret, (int)n, (const unsigned char *)in, strlen(in), mac,
	    &maclen) == NULL)
		die("HMAC");
	tok = join(in, mac, maclen);
	free(h);
	free(p);
	free(in);
	return tok;
}

char *
fx_pubkey_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());

	PEM_write_bio_PUBKEY(b, k);
	return bio_string(b);
}

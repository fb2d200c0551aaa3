/* The connector's HTTPS client (see http.h). One easy handle is reset and reused for every
 * request: curl_easy_reset keeps live connections and TLS sessions, so a login's discovery,
 * token and userinfo requests share one connection, and no option of one request (a POST
 * body, an Authorization header) can leak into the next. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "connectors/http.h"
#include "connectors/json.h"

#define URL_MAX 2048

struct idg_http {
	CURL *curl;
	char *ca_file;
	char *proxy;
	unsigned connect_timeout_ms;
	unsigned timeout_ms;
	size_t response_max;
	long last_new_conns;
	unsigned long requests;
	uint64_t spent_us;	/* wall time inside curl_easy_perform, all requests */
	char errbuf[CURL_ERROR_SIZE];
};

/* The body being received. Grown by copying and wiping, never realloc: it may hold tokens,
 * and realloc would leave copies behind in freed memory. */
struct sink {
	char *data;
	size_t len, cap, max;
	bool toobig, nomem;
};

static bool curl_ready;

int
idg_http_new(const struct idg_http_cfg *cfg, struct idg_http **out)
{
	struct idg_http *h;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return IDG_ERR_INTERNAL;
		curl_ready = true;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return IDG_ERR_NOMEM;
	h->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000;
	h->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 15000;
	h->response_max = cfg->response_max ? cfg->response_max : 1024 * 1024;
	if ((h->curl = curl_easy_init()) == NULL ||
	    (cfg->ca_file && (h->ca_file = strdup(cfg->ca_file)) == NULL) ||
	    (cfg->proxy && (h->proxy = strdup(cfg->proxy)) == NULL)) {
		idg_http_free(h);
		return IDG_ERR_NOMEM;
	}
	*out = h;
	return 0;
}

void
idg_http_free(struct idg_http *h)
{
	if (h == NULL)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	idg_free_secret(h->proxy);	/* a proxy URL may carry credentials */
	free(h);
}

bool
idg_http_is_https(const char *url)
{
	size_t n;

	if (url == NULL || strncmp(url, "https://", 8) != 0)
		return false;
	n = strlen(url);
	if (n > URL_MAX || url[8] == '\0' || strchr("/?#:@", url[8]) != NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f || url[i] == '#')
			return false;
	return true;
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, ncap;
	char *nd;

	if (n > s->max - s->len) {
		s->toobig = true;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap ? s->cap : 4096;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if (ncap > s->max + 1)
			ncap = s->max + 1;
		if ((nd = malloc(ncap)) == NULL) {
			s->nomem = true;
			return 0;
		}
		if (s->data) {
			memcpy(nd, s->data, s->len);
			explicit_bzero(s->data, s->len);
			free(s->data);
		}
		s->data = nd;
		s->cap = ncap;
	}
	memcpy(s->data + s->len, p, n);
	s->len += n;
	s->data[s->len] = '\0';
	return n;
}

/* A curl failure as a short text and an error code. The URL is never part of the text. */
static int
map_curl_error(CURLcode c, const struct sink *s, char *err, size_t errlen)
{
	if (s->toobig || c == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "IdP response too large");
		return IDG_ERR_TOOBIG;
	}
	if (s->nomem || c == CURLE_OUT_OF_MEMORY) {
		snprintf(err, errlen, "out of memory reading the IdP's answer");
		return IDG_ERR_NOMEM;
	}
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "IdP unreachable (timed out)");
		return IDG_ERR_TIMEOUT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(err, errlen, "refusing a URL that is not https");
		return IDG_ERR_INVAL;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(err, errlen, "IdP unreachable (its TLS certificate is not trusted)");
		return IDG_ERR_UNAVAIL;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(err, errlen, "the IdP CA file cannot be read");
		return IDG_ERR_CONFIG;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(err, errlen, "IdP unreachable (TLS handshake failed)");
		return IDG_ERR_UNAVAIL;
	case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		snprintf(err, errlen, "IdP unreachable (connection lost)");
		return IDG_ERR_UNAVAIL;
	default:
		snprintf(err, errlen, "IdP unreachable");
		return IDG_ERR_UNAVAIL;
	}
}

/* The options every request gets; the easy handle was just reset. */
static int
set_common(struct idg_http *h, const char *url, struct sink *s, struct curl_slist *hdrs)
{
	CURL *c = h->curl;
	CURLcode r = CURLE_OK;

#define SET(opt, val) do { if (r == CURLE_OK) r = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	SET(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	/* No redirects at all: an IdP endpoint answers itself, or the request fails. */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (h->ca_file) {
		/* A private CA replaces the system's trust store instead of widening it. */
		SET(CURLOPT_CAINFO, h->ca_file);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	/* "" disables proxies, including the http(s)_proxy environment of whoever started
	 * the daemon: where requests go is the configuration's decision alone. */
	SET(CURLOPT_PROXY, h->proxy ? h->proxy : "");
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->response_max);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_USERAGENT, "idgate/" PACKAGE_VERSION);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
#undef SET
	return r == CURLE_OK ? 0 : IDG_ERR_INTERNAL;
}

static void
wipe_headers(struct curl_slist *hdrs)
{
	for (struct curl_slist *l = hdrs; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
}

/* JSON wanted, no wait for a 100-continue on larger forms ("Expect:"), the Authorization. */
static int
make_headers(const struct idg_http_req *req, struct curl_slist **out)
{
	struct curl_slist *l, *t = NULL;
	struct idg_buf auth;
	int rc = IDG_ERR_NOMEM;

	idg_buf_init(&auth, req && req->auth ? strlen(req->auth) + 32 : 0);
	if ((l = curl_slist_append(NULL, "Accept: application/json")) == NULL ||
	    (t = curl_slist_append(l, "Expect:")) == NULL)
		goto out;
	if (req && req->auth && ((rc = idg_buf_printf(&auth, "Authorization: %s", req->auth)) < 0 ||
	    (t = curl_slist_append(l, auth.data)) == NULL))
		goto out;
	rc = 0;
out:
	idg_buf_free(&auth);
	if (rc < 0 || t == NULL) {
		wipe_headers(l);
		return rc < 0 ? rc : IDG_ERR_NOMEM;
	}
	*out = l;
	return 0;
}

/* The options of this request; the handle was reset. */
static int
set_request(struct idg_http *h, const char *url, const struct idg_http_req *req,
    struct sink *s, struct curl_slist *hdrs)
{
	if (set_common(h, url, s, hdrs) < 0)
		return IDG_ERR_INTERNAL;
	/* POSTFIELDS is not copied by curl: the caller's buffer stays the only copy. */
	if (req && req->form &&
	    (curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->form_len) !=
	    CURLE_OK || curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, req->form) != CURLE_OK))
		return IDG_ERR_INTERNAL;
	return 0;
}

/* The answer into *resp, taking the body over from the sink. */
static int
take_response(struct idg_http *h, struct sink *s, struct idg_http_resp *resp)
{
	const char *ct = NULL;
	long status = 0;

	if (s->data == NULL && (s->data = calloc(1, 1)) == NULL)
		return IDG_ERR_NOMEM;
	(void)curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	(void)curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct);
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	resp->body = s->data;
	resp->len = s->len;
	s->data = NULL;
	for (size_t i = 0; ct && ct[i] && i + 1 < sizeof(resp->ctype); i++)
		resp->ctype[i] = (char)tolower((unsigned char)ct[i]);
	return 0;
}

int
idg_http_request(struct idg_http *h, const char *url, const struct idg_http_req *req,
    struct idg_http_resp *resp, char *err, size_t errlen)
{
	struct sink s = { .max = h->response_max };
	struct curl_slist *hdrs = NULL;
	struct timespec t0, t1;
	long conns = 0;
	CURLcode c;
	int rc;

	if (!idg_http_is_https(url)) {
		snprintf(err, errlen, "refusing a URL that is not https");
		return IDG_ERR_INVAL;
	}
	curl_easy_reset(h->curl);
	h->errbuf[0] = '\0';
	if ((rc = make_headers(req, &hdrs)) < 0 || (rc = set_request(h, url, req, &s, hdrs)) < 0) {
		snprintf(err, errlen, rc == IDG_ERR_NOMEM ? "out of memory" : "cannot set up the "
		    "HTTP request");
		goto out;
	}
	h->requests++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = curl_easy_perform(h->curl);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	h->spent_us += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000);
	(void)curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &conns);
	h->last_new_conns = conns;
	if (c != CURLE_OK) {
		rc = map_curl_error(c, &s, err, errlen);
		log_debug("connector: IdP request failed: %s (%s)", curl_easy_strerror(c),
		    h->errbuf);
	} else if ((rc = take_response(h, &s, resp)) < 0) {
		snprintf(err, errlen, "out of memory");
	}
out:
	/* Nothing of this request stays behind in the handle: the body pointer and headers are
	 * dropped now, while the connection itself is kept for the next request. */
	curl_easy_reset(h->curl);
	wipe_headers(hdrs);
	if (s.data) {
		explicit_bzero(s.data, s.len);
		free(s.data);
	}
	return rc;
}

void
idg_http_resp_clear(struct idg_http_resp *resp)
{
	if (resp == NULL)
		return;
	if (resp->body) {
		explicit_bzero(resp->body, resp->len);
		free(resp->body);
	}
	memset(resp, 0, sizeof(*resp));
}

int
idg_http_json(struct idg_http *h, const char *url, const struct idg_http_req *req,
    cJSON **out, char *err, size_t errlen)
{
	struct idg_http_resp resp = { 0 };
	cJSON *j = NULL;
	int rc;

	if ((rc = idg_http_request(h, url, req, &resp, err, errlen)) < 0)
		return rc;
	if (resp.status != 200) {
		snprintf(err, errlen, "IdP returned HTTP %ld", resp.status);
		rc = resp.status >= 500 ? IDG_ERR_UNAVAIL : IDG_ERR_PROTO;
		goto out;
	}
	if (idg_json_parse(resp.body, resp.len, &j) < 0) {
		snprintf(err, errlen, "malformed JSON from IdP");
		rc = IDG_ERR_PROTO;
		goto out;
	}
	*out = j;
out:
	idg_http_resp_clear(&resp);
	return rc;
}

long
idg_http_last_new_connections(const struct idg_http *h)
{
	return h->last_new_conns;
}

unsigned long
idg_http_requests(const struct idg_http *h)
{
	return h->requests;
}

uint64_t
idg_http_spent_us(const struct idg_http *h)
{
	return h ? h->spent_us : 0;
}

/* The connector's HTTPS client: one libcurl easy handle per IdP, reused so that connections
 * are kept alive; https only, no redirects, bounded time and size, and error texts that name
 * what failed without ever containing a URL's secrets, a token or a password. */
#ifndef IDG_CONNECTORS_HTTP_H
#define IDG_CONNECTORS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct idg_http_cfg {
	const char *ca_file;	/* NULL: the system's CAs */
	const char *proxy;	/* NULL: none, and the *_proxy environment is ignored */
	unsigned connect_timeout_ms;
	unsigned timeout_ms;
	size_t response_max;	/* the body is cut off (and refused) past this */
};

struct idg_http_resp {
	long status;		/* the HTTP status code */
	char *body;		/* NUL-terminated; may hold tokens: idg_http_resp_clear wipes it */
	size_t len;
	char ctype[96];		/* the Content-Type, lower-cased, "" when none */
};

/* A request body and its headers. All optional; auth is a whole "Authorization: ..." value
 * (it holds a secret and is wiped after the transfer). */
struct idg_http_req {
	const char *form;	/* application/x-www-form-urlencoded body: POST when set */
	size_t form_len;
	const char *auth;	/* e.g. "Basic ..." or "Bearer ..." */
};

struct idg_http;

/* Copies cfg. */
int idg_http_new(const struct idg_http_cfg *cfg, struct idg_http **out);
void idg_http_free(struct idg_http *h);

/* One request. 0 with *resp filled for any HTTP answer (the caller judges the status), or
 * IDG_ERR_UNAVAIL ("IdP unreachable"), IDG_ERR_TIMEOUT, IDG_ERR_TOOBIG ("IdP response too
 * large"), IDG_ERR_INVAL (not an https URL), IDG_ERR_CONFIG (the CA file), IDG_ERR_NOMEM. */
int idg_http_request(struct idg_http *h, const char *url, const struct idg_http_req *req,
    struct idg_http_resp *resp, char *err, size_t errlen);
void idg_http_resp_clear(struct idg_http_resp *resp);

/* A request whose answer must be 200 with a JSON object: *out owns the parsed document.
 * "IdP returned HTTP 500" (IDG_ERR_UNAVAIL for 5xx, IDG_ERR_PROTO otherwise), "malformed JSON
 * from IdP" (IDG_ERR_PROTO). */
int idg_http_json(struct idg_http *h, const char *url, const struct idg_http_req *req,
    cJSON **out, char *err, size_t errlen);

/* For tests and statistics: new connections the last request opened (0 when one was
 * reused), and requests made so far. */
long idg_http_last_new_connections(const struct idg_http *h);
unsigned long idg_http_requests(const struct idg_http *h);
/* Wall time spent waiting on the IdP (inside libcurl's transfers) so far, in microseconds. */
uint64_t idg_http_spent_us(const struct idg_http *h);

/* True when url is https:// followed by a host, printable ASCII, without a fragment. */
bool idg_http_is_https(const char *url);

#endif

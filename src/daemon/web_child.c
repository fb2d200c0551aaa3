/* idgated's web process: the HTTPS endpoint browsers reach for SAML logins (saml_sp.h). A
 * fresh exec of idgated that drops to an unprivileged user before it reads a byte, then
 * parses TLS, HTTP and the posted form itself and asks the root parent only the two small,
 * checked questions of web_proto.h.
 *
 * libmicrohttpd runs with a thread per connection (and its own polling thread for accept):
 * a connection that trickles, or waits for the parent's answer, holds only its own thread,
 * never another's I/O; nothing is ever suspended or resumed, so nothing re-enters the
 * library. Threads are bounded by the connection cap. Limits: connections in all and per
 * address (the library's own caps), a deadline for the whole of each request (a reaper thread
 * shuts down the socket of a connection past it), the body size, a per-address rate for
 * POST /saml/acs, and a bound on the requests waiting for the parent (beyond it: 503 at
 * once). When the connections are all taken, a new one evicts the oldest that has not sent a
 * whole request yet: a slow client holds a place only until someone needs it, so trickling
 * connections from many addresses cannot lock browsers out. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/web_child.h"
#include "sandbox/sandbox.h"
#include "daemon/web_proto.h"
#include "proto/wire.h"

#define RATE_SLOTS 1024		/* source addresses the ACS rate remembers (oldest forgotten) */
#define REAP_MS 100		/* how often the reaper looks */
#define HEADER_MEM (64 * 1024)	/* a connection's memory for headers */
#define ANSWER_MARGIN_MS 1000	/* a request gives up waiting this long before its deadline,
				 * so the browser gets a page rather than a cut connection */

/* A question to the parent, and its answer. */
struct slot {
	uint64_t reqid;		/* 0: free */
	bool acs;
	bool done;		/* the answer is in */
	bool abandoned;		/* its HTTP request stopped waiting: free it when the answer comes */
	pthread_cond_t cv;
	unsigned http;
	char page[IDG_WEB_PAGE_MAX];
	char *location;
};

/* One TCP connection (libmicrohttpd's socket context). */
struct conn {
	int fd;
	int64_t start_ms;	/* its current request began: accepted, or the last one ended */
	bool cut;		/* shut down: past its deadline, or evicted */
	bool answering;		/* its request is whole and being answered: not evicted */
	struct conn *prev, *next;
};

struct rate {
	char src[IDG_WEB_SRC_MAX];
	double tokens;
	int64_t at_ms;		/* 0: unused */
};

struct web {
	int fd;				/* to the parent */
	unsigned max_conn, max_per_ip, request_ms, body_max, acs_rate, acs_max, b64_max;
	char *cert, *key, *metadata;
	pthread_mutex_t mu;		/* conns, slots, counts, rates */
	pthread_mutex_t send_mu;	/* one frame at a time to the parent */
	struct conn *conns;
	unsigned live;			/* conns not cut */
	struct slot *slots;		/* acs_max + IDG_WEB_OPEN_MAX */
	size_t nslots;
	unsigned acs_busy, open_busy;
	uint64_t next_reqid;
	struct rate rates[RATE_SLOTS];
};

/* One HTTP request (libmicrohttpd's con_cls): a POST /saml/acs's body. */
struct req {
	bool acs;
	bool limited;		/* past the per-address rate: the body is read and dropped */
	char *body;
	size_t len, cap;
};

static int64_t
now_ms(void)
{
	return idg_now_ms();
}

/* ---------- the parent ---------- */

static int
send_msg(struct web *w, struct idg_msg *m)
{
	const uint8_t *frame;
	size_t len;
	int rc;

	frame = idg_msg_frame(m, &len);
	pthread_mutex_lock(&w->send_mu);
	/* idgated reads whenever its event loop turns; 10 s without room means it is stuck. */
	rc = idg_wire_send(w->fd, frame, len, -1, 10000);
	pthread_mutex_unlock(&w->send_mu);
	return rc;
}

static void
slot_free(struct web *w, struct slot *s)
{
	if (s->acs)
		w->acs_busy--;
	else
		w->open_busy--;
	free(s->location);
	s->location = NULL;
	s->reqid = 0;
}

/* Ask the parent (LOGIN_OPEN with code, or ACS with resp) and wait for its answer until
 * deadline (monotonic ms). IDG_ERR_BUSY when too many questions are out already;
 * IDG_ERR_TIMEOUT when no answer came in time. */
static int
ask(struct web *w, bool acs, const char *code, const char *resp, const char *src,
    int64_t deadline, unsigned *http, char *page, size_t pagelen, char **location)
{
	struct slot *s = NULL;
	struct idg_msg m;
	struct timespec ts;
	uint64_t reqid;
	int rc;

	pthread_mutex_lock(&w->mu);
	if (acs ? w->acs_busy >= w->acs_max : w->open_busy >= IDG_WEB_OPEN_MAX) {
		pthread_mutex_unlock(&w->mu);
		return IDG_ERR_BUSY;
	}
	for (size_t i = 0; i < w->nslots && s == NULL; i++)
		if (w->slots[i].reqid == 0)
			s = &w->slots[i];
	if (s == NULL) {		/* cannot happen: there is a slot for every one counted */
		pthread_mutex_unlock(&w->mu);
		return IDG_ERR_BUSY;
	}
	s->reqid = reqid = ++w->next_reqid;
	s->acs = acs;
	s->done = s->abandoned = false;
	if (acs)
		w->acs_busy++;
	else
		w->open_busy++;
	pthread_mutex_unlock(&w->mu);

	if ((rc = idg_msg_init(&m, IDG_WEB_MSG_MAX)) == 0) {
		rc = idg_msg_add_u32(&m, IDG_WT_OP, acs ? IDG_WEB_ACS : IDG_WEB_LOGIN_OPEN);
		rc = rc ? rc : idg_msg_add_u64(&m, IDG_WT_REQID, reqid);
		rc = rc ? rc : acs ? idg_msg_add_str(&m, IDG_WT_SAML_RESPONSE, resp) :
		    idg_msg_add_str(&m, IDG_WT_CODE, code);
		rc = rc ? rc : idg_msg_add_str(&m, IDG_WT_SRC, src);
		if (rc == 0 && (rc = send_msg(w, &m)) < 0) {
			/* The parent does not read: nothing here can work any more. */
			log_err("web: cannot reach idgated: %s", idg_strerror(rc));
			_exit(1);
		}
		idg_msg_free(&m);
	}
	pthread_mutex_lock(&w->mu);
	if (rc < 0) {
		slot_free(w, s);
		pthread_mutex_unlock(&w->mu);
		return rc;
	}
	ts.tv_sec = (time_t)(deadline / 1000);
	ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
	while (!s->done && pthread_cond_timedwait(&s->cv, &w->mu, &ts) != ETIMEDOUT)
		;
	if (s->done) {
		*http = s->http;
		snprintf(page, pagelen, "%s", s->page);
		*location = s->location;
		s->location = NULL;
		slot_free(w, s);
		rc = 0;
	} else {
		s->abandoned = true;	/* still counted: the parent is still working on it */
		rc = IDG_ERR_TIMEOUT;
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* A REPLY from the parent: hand it to the request waiting for it. */
static void
take_reply(struct web *w, const struct idg_msgview *v)
{
	const char *page = NULL, *loc = NULL;
	uint32_t op = 0, http = 0;
	uint64_t reqid = 0;
	struct slot *s = NULL;

	if (idg_msg_get_u32(v, IDG_WT_OP, &op) < 0 || op != IDG_WEB_REPLY ||
	    idg_msg_get_u64(v, IDG_WT_REQID, &reqid) < 0 || reqid == 0 ||
	    idg_msg_get_u32(v, IDG_WT_HTTP, &http) < 0 || http < 200 || http > 599 ||
	    idg_msg_get_str(v, IDG_WT_PAGE, &page) < 0) {
		log_warn("web: a malformed answer from idgated was dropped");
		return;
	}
	(void)idg_msg_get_str(v, IDG_WT_LOCATION, &loc);
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->nslots && s == NULL; i++)
		if (w->slots[i].reqid == reqid)
			s = &w->slots[i];
	if (s == NULL || s->done) {
		pthread_mutex_unlock(&w->mu);
		log_warn("web: an answer from idgated for no request was dropped");
		return;
	}
	if (s->abandoned) {
		slot_free(w, s);
	} else {
		s->http = http;
		snprintf(s->page, sizeof(s->page), "%s", page);
		s->location = loc && strlen(loc) <= IDG_WEB_LOCATION_MAX ? strdup(loc) : NULL;
		if (loc && s->location == NULL)
			s->http = 500, snprintf(s->page, sizeof(s->page), "out of memory");
		s->done = true;
		pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

/* ---------- connections: the whole-request deadline, eviction ---------- */

static void
cut(struct web *w, struct conn *e)
{
	/* Its thread's next read or write fails and the library closes it. */
	(void)shutdown(e->fd, SHUT_RDWR);
	e->cut = true;
	w->live--;
}

/* Room for one more: cut the oldest connection still sending its request. */
static void
evict(struct web *w)
{
	struct conn *old = NULL;

	for (struct conn *e = w->conns; e; e = e->next)
		if (!e->cut && !e->answering && (old == NULL || e->start_ms < old->start_ms))
			old = e;
	if (old)
		cut(w, old);
}

/* libmicrohttpd tells CLOSED before it closes the socket (daemon.c, both in the connection
 * clean-up and in a failed start), and the entry leaves the list under w->mu: so the reaper,
 * holding w->mu, only ever shuts down a socket that is still this connection's. */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct web *w = cls;
	struct conn *e = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);

		if (ci == NULL)
			return;
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			(void)shutdown(ci->connect_fd, SHUT_RDWR);	/* no deadline: no service */
			return;
		}
		e->fd = ci->connect_fd;
		e->start_ms = now_ms();
		pthread_mutex_lock(&w->mu);
		if (w->live >= w->max_conn)
			evict(w);
		e->next = w->conns;
		if (w->conns)
			w->conns->prev = e;
		w->conns = e;
		w->live++;
		pthread_mutex_unlock(&w->mu);
		*socket_context = e;
		return;
	}
	if (e == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	if (!e->cut)
		w->live--;
	if (e->prev)
		e->prev->next = e->next;
	else
		w->conns = e->next;
	if (e->next)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&w->mu);
	free(e);
	*socket_context = NULL;
}

static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The request on c is whole and is being answered: when must it have been (monotonic ms)? */
static int64_t
answering(struct web *w, struct MHD_Connection *c)
{
	struct conn *e = conn_of(c);
	int64_t start;

	if (e == NULL)
		return now_ms();
	pthread_mutex_lock(&w->mu);
	start = e->start_ms;
	e->answering = true;
	pthread_mutex_unlock(&w->mu);
	return start + w->request_ms;
}

static void *
reaper(void *arg)
{
	struct web *w = arg;

	for (;;) {
		struct timespec ts = { 0, REAP_MS * 1000000L };
		int64_t now;

		nanosleep(&ts, NULL);
		now = now_ms();
		pthread_mutex_lock(&w->mu);
		for (struct conn *e = w->conns; e; e = e->next)
			if (!e->cut && now - e->start_ms > (int64_t)w->request_ms)
				cut(w, e);
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

/* ---------- HTTP ---------- */

static enum MHD_Result
page(struct MHD_Connection *c, unsigned status, const char *location, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum MHD_Result
page(struct MHD_Connection *c, unsigned status, const char *location, const char *fmt, ...)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char text[IDG_WEB_PAGE_MAX + 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(text) - 2)
		n = (int)sizeof(text) - 2;	/* cut: the page ends with its newline all the same */
	text[n] = '\n';
	text[n + 1] = '\0';
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (location)
		(void)MHD_add_response_header(resp, "Location", location);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
source_of(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, len, "0.0.0.0");
	if (sa && sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, len);
	else if (sa && sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, len);
}

/* A token bucket per source address: acs_rate a minute, as many at once. */
static bool
rate_ok(struct web *w, const char *src)
{
	struct rate *r = NULL, *oldest = &w->rates[0];
	int64_t now = now_ms();
	bool ok;

	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < RATE_SLOTS && r == NULL; i++) {
		if (w->rates[i].at_ms != 0 && strcmp(w->rates[i].src, src) == 0)
			r = &w->rates[i];
		else if (w->rates[i].at_ms < oldest->at_ms)
			oldest = &w->rates[i];
	}
	if (r == NULL) {
		r = oldest;
		snprintf(r->src, sizeof(r->src), "%s", src);
		r->tokens = w->acs_rate;
		r->at_ms = now;
	}
	r->tokens += (double)(now - r->at_ms) * w->acs_rate / 60000.0;
	if (r->tokens > w->acs_rate)
		r->tokens = w->acs_rate;
	r->at_ms = now ? now : 1;
	ok = r->tokens >= 1.0;
	if (ok)
		r->tokens -= 1.0;
	pthread_mutex_unlock(&w->mu);
	return ok;
}

/* The answer to a question the parent did not answer. */
static enum MHD_Result
not_answered(struct MHD_Connection *c, int rc)
{
	if (rc == IDG_ERR_BUSY)
		return page(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "The sign-in service is busy; "
		    "try again in a moment.");
	return page(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "The sign-in service did not answer "
	    "in time; try again.");
}

/* GET /saml/login/CODE */
static enum MHD_Result
do_open(struct web *w, struct MHD_Connection *c, const char *code)
{
	char src[IDG_WEB_SRC_MAX], text[IDG_WEB_PAGE_MAX], *loc = NULL;
	unsigned http = 0;
	enum MHD_Result ret;
	size_t n = strlen(code);
	int rc;

	if (n != IDG_WEB_CODE_LEN || strspn(code, "0123456789abcdef") != n)
		return page(c, MHD_HTTP_GONE, NULL, "This sign-in link has expired or was used "
		    "already; start the login again.");
	source_of(c, src, sizeof(src));
	if ((rc = ask(w, false, code, NULL, src, answering(w, c) - ANSWER_MARGIN_MS, &http,
	    text, sizeof(text), &loc)) < 0)
		return not_answered(c, rc);
	ret = page(c, http, loc, "%s", text);
	free(loc);
	return ret;
}

/* The value of one field of an application/x-www-form-urlencoded body, decoded in place. */
static int
form_field(char *body, const char *name, char **out)
{
	size_t nl = strlen(name);

	for (char *p = body; p && *p; ) {
		char *amp = strchr(p, '&');

		if (amp)
			*amp = '\0';
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			char *o = p + nl + 1;

			*out = o;
			for (const char *q = o; *q; q++) {
				if (*q == '+') {
					*o++ = ' ';
				} else if (*q == '%' && isxdigit((unsigned char)q[1]) &&
				    isxdigit((unsigned char)q[2])) {
					char hex[3] = { q[1], q[2], 0 };

					*o++ = (char)strtol(hex, NULL, 16);
					q += 2;
				} else if (*q == '%') {
					return IDG_ERR_INVAL;
				} else {
					*o++ = *q;
				}
			}
			*o = '\0';
			return 0;
		}
		p = amp ? amp + 1 : NULL;
	}
	return IDG_ERR_NOTFOUND;
}

/* base64 as the parent wants it: whitespace (IdPs wrap lines) removed in place; only the
 * alphabet; whole quanta; '=' only as the last one or two. */
static int
clean_base64(char *s, size_t max)
{
	size_t n = 0, pad = 0;

	for (const char *p = s; *p; p++)
		if (!isspace((unsigned char)*p))
			s[n++] = *p;
	s[n] = '\0';
	if (n == 0)
		return IDG_ERR_NOTFOUND;
	if (n > max)
		return IDG_ERR_TOOBIG;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad++;
		} else if (pad || !(isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '/')) {
			return IDG_ERR_INVAL;
		}
	}
	return n % 4 == 0 && pad <= 2 ? 0 : IDG_ERR_INVAL;
}

/* POST /saml/acs: the whole body is here. */
static enum MHD_Result
do_acs(struct web *w, struct MHD_Connection *c, struct req *r)
{
	char src[IDG_WEB_SRC_MAX], text[IDG_WEB_PAGE_MAX], *loc = NULL, *resp = NULL;
	unsigned http = 0;
	enum MHD_Result ret;
	int rc;

	if (r->body == NULL || form_field(r->body, "SAMLResponse", &resp) < 0 ||
	    (rc = clean_base64(resp, w->b64_max)) == IDG_ERR_NOTFOUND)
		return page(c, MHD_HTTP_BAD_REQUEST, NULL, "Sign-in refused: no SAMLResponse in "
		    "the form");
	if (rc == IDG_ERR_TOOBIG)
		return page(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "Sign-in refused: the response "
		    "is too large");
	if (rc < 0)
		return page(c, MHD_HTTP_BAD_REQUEST, NULL, "Sign-in refused: the SAMLResponse is "
		    "not base64");
	source_of(c, src, sizeof(src));
	if ((rc = ask(w, true, NULL, resp, src, answering(w, c) - ANSWER_MARGIN_MS, &http,
	    text, sizeof(text), &loc)) < 0)
		return not_answered(c, rc);
	ret = page(c, http, loc, "%s", text);
	free(loc);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct web *w = cls;
	struct req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		const char *cl;
		char src[IDG_WEB_SRC_MAX];

		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*con_cls = r;
		if (strcmp(method, "POST") == 0 && strcmp(url, "/saml/acs") == 0) {
			r->acs = true;
			if ((cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			    "Content-Length")) && strtoull(cl, NULL, 10) > w->body_max)
				return page(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "Sign-in refused: "
				    "the response is too large");
			/* Answered once the body (bounded) is read: a connection closed with
			 * unread data is reset, and the browser would never see why. */
			source_of(c, src, sizeof(src));
			r->limited = !rate_ok(w, src);
			return MHD_YES;
		}
		if (strcmp(method, "GET") == 0 && strcmp(url, "/saml/metadata") == 0) {
			struct MHD_Response *resp = MHD_create_response_from_buffer(
			    strlen(w->metadata), w->metadata, MHD_RESPMEM_PERSISTENT);
			enum MHD_Result ret;

			if (resp == NULL)
				return MHD_NO;
			(void)answering(w, c);
			(void)MHD_add_response_header(resp, "Content-Type",
			    "application/samlmetadata+xml");
			ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
			MHD_destroy_response(resp);
			return ret;
		}
		if (strcmp(method, "GET") == 0 && strncmp(url, "/saml/login/", 12) == 0)
			return do_open(w, c, url + 12);
		return page(c, MHD_HTTP_NOT_FOUND, NULL, "Not found.");
	}
	if (!r->acs)
		return MHD_NO;		/* answered at once above: never here */
	if (*upload_size > 0) {
		if (r->len + *upload_size > w->body_max)
			return page(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "Sign-in refused: the "
			    "response is too large");
		if (r->limited) {
			r->len += *upload_size;
			*upload_size = 0;
			return MHD_YES;
		}
		if (r->len + *upload_size + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 16384;
			char *nb;

			while (cap < r->len + *upload_size + 1)
				cap *= 2;
			if ((nb = realloc(r->body, cap)) == NULL)
				return MHD_NO;
			r->body = nb;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload, *upload_size);
		r->len += *upload_size;
		r->body[r->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->limited)
		return page(c, MHD_HTTP_TOO_MANY_REQUESTS, NULL, "Too many sign-ins from your "
		    "address; wait a minute and try again.");
	return do_acs(w, c, r);
}

/* A request ended: free it; the connection's next request gets a deadline of its own. */
static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	struct web *w = cls;
	struct req *r = *con_cls;
	struct conn *e = conn_of(c);

	(void)why;
	if (e) {
		pthread_mutex_lock(&w->mu);
		e->start_ms = now_ms();
		e->answering = false;
		pthread_mutex_unlock(&w->mu);
	}
	if (r == NULL)
		return;
	if (r->body)
		explicit_bzero(r->body, r->len);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* The library's own messages (a bad TLS handshake, a client gone) are for debugging only:
 * anyone on the network can cause them. */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	if (idg_log_get_level() < LOG_DEBUG)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("web: %s", buf);
}

/* ---------- start ---------- */

static int
take_start(struct web *w, const struct idg_msgview *v)
{
	const char *cert = NULL, *key = NULL, *md = NULL;
	uint32_t op = 0;

	if (idg_msg_get_u32(v, IDG_WT_OP, &op) < 0 || op != IDG_WEB_START ||
	    idg_msg_get_str(v, IDG_WT_TLS_CERT, &cert) < 0 ||
	    idg_msg_get_str(v, IDG_WT_TLS_KEY, &key) < 0 ||
	    idg_msg_get_str(v, IDG_WT_METADATA, &md) < 0 ||
	    idg_msg_get_u32(v, IDG_WT_MAX_CONN, &w->max_conn) < 0 ||
	    idg_msg_get_u32(v, IDG_WT_MAX_PER_IP, &w->max_per_ip) < 0 ||
	    idg_msg_get_u32(v, IDG_WT_REQUEST_MS, &w->request_ms) < 0 ||
	    idg_msg_get_u32(v, IDG_WT_BODY_MAX, &w->body_max) < 0 ||
	    idg_msg_get_u32(v, IDG_WT_ACS_RATE, &w->acs_rate) < 0 ||
	    idg_msg_get_u32(v, IDG_WT_ACS_MAX, &w->acs_max) < 0 ||
	    idg_msg_get_u32(v, IDG_WT_B64_MAX, &w->b64_max) < 0)
		return IDG_ERR_PROTO;
	if (w->max_conn == 0 || w->max_conn > 65536 || w->max_per_ip == 0 ||
	    w->request_ms < 2 * ANSWER_MARGIN_MS || w->body_max == 0 ||
	    w->body_max > IDG_WEB_MSG_MAX * 2u || w->acs_rate == 0 || w->acs_max == 0 ||
	    w->acs_max > 4096 || w->b64_max == 0 || w->b64_max > IDG_WEB_MSG_MAX - 4096)
		return IDG_ERR_PROTO;
	if ((w->cert = strdup(cert)) == NULL || (w->key = strdup(key)) == NULL ||
	    (w->metadata = strdup(md)) == NULL)
		return IDG_ERR_NOMEM;
	w->nslots = w->acs_max + IDG_WEB_OPEN_MAX;
	if ((w->slots = calloc(w->nslots, sizeof(*w->slots))) == NULL)
		return IDG_ERR_NOMEM;
	for (size_t i = 0; i < w->nslots; i++) {
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->slots[i].cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	return 0;
}

static int
send_ready(struct web *w)
{
	struct idg_msg m;
	int rc;

	if ((rc = idg_msg_init(&m, 64)) < 0)
		return rc;
	rc = idg_msg_add_u32(&m, IDG_WT_OP, IDG_WEB_READY);
	rc = rc ? rc : send_msg(w, &m);
	idg_msg_free(&m);
	return rc;
}

int
idg_web_child_main(int fd, int listen_fd, uid_t uid, gid_t gid, pid_t parent)
{
	static struct web web;
	struct web *w = &web;
	struct MHD_Daemon *mhd;
	struct idg_msgview v = { 0 };
	pthread_t reap;
	char sberr[256];
	uint8_t *body = NULL;
	size_t len = 0;
	int rc;

	w->fd = fd;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->send_mu, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = idg_sandbox_drop(uid, gid)) < 0) {
		log_err("web: cannot drop privileges to uid %u gid %u: %s", (unsigned)uid,
		    (unsigned)gid, idg_strerror(rc));
		return 1;
	}
	/* The death signal after the uid change, which clears it. */
	if (idg_sandbox_parent_death(parent) < 0) {
		log_err("web: cannot arrange to die with idgated");
		return 1;
	}
	if ((rc = idg_wire_recv(fd, IDG_WEB_MSG_MAX, &body, &len, NULL, 10000)) < 0 ||
	    (rc = idg_msg_parse(body, len, &v)) < 0 || (rc = take_start(w, &v)) < 0) {
		log_err("web: no usable start message from idgated: %s", idg_strerror(rc));
		return 1;
	}
	idg_msgview_free(&v);
	explicit_bzero(body, len);	/* it held the TLS key */
	free(body);
	/* Confined before libmicrohttpd starts its threads (landlock binds the calling thread
	 * and those it starts) and before the first byte from the network is read. */
	if (idg_sandbox_web(sberr, sizeof(sberr)) < 0) {
		log_err("web: cannot enter the sandbox: %s", sberr);
		return 1;
	}
	mhd = MHD_start_daemon(MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, w,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
	    MHD_OPTION_HTTPS_MEM_CERT, w->cert,
	    MHD_OPTION_HTTPS_MEM_KEY, w->key,
	    /* above our own cap: the connection past it evicts one (on_connection) */
	    MHD_OPTION_CONNECTION_LIMIT, w->max_conn + w->max_conn / 2 + 1,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, w->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(w->request_ms / 1000),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEM,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_END);
	if (mhd == NULL) {
		log_err("web: cannot start the HTTPS endpoint (a bad certificate or key?)");
		return 1;
	}
	if (pthread_create(&reap, NULL, reaper, w) != 0 || (rc = send_ready(w)) < 0) {
		log_err("web: cannot start");
		return 1;
	}
	log_info("web: serving HTTPS (pid %d)", (int)getpid());
	/* The parent's answers; it closing the socket is the signal to exit. */
	for (;;) {
		rc = idg_wire_recv(fd, IDG_WEB_MSG_MAX, &body, &len, NULL, 3600 * 1000);
		if (rc == IDG_ERR_TIMEOUT)
			continue;
		if (rc < 0)
			break;
		if (idg_msg_parse(body, len, &v) == 0)
			take_reply(w, &v);
		else
			log_warn("web: a malformed frame from idgated was dropped");
		idg_msgview_free(&v);
		free(body);
	}
	/* Threads may be waiting on answers that will not come: leave without joining them. */
	_exit(0);
}

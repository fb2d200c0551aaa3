/* idgated as a SAML SP (saml_sp.h). libmicrohttpd runs inside the daemon's one event loop
 * (its epoll fd is watched; MHD_run is called when it is readable and once a second), TLS
 * only, with bounded connections, time and body. A request that needs the connector child
 * suspends its connection and is resumed by the child's answer.
 *
 * A SAML login: PAM_SAML_START makes a login with a one-time code (128 random bits) that
 * expires after [saml] login_ttl; the user opens BASE/saml/login/CODE, which can be opened
 * once: it asks the child for an AuthnRequest and redirects the browser to the IdP. The IdP's
 * response, posted to BASE/saml/acs, goes unparsed to the child; the identity it verified
 * carries the ID of the AuthnRequest it answers, which names the login; the identity must map
 * to the login's own name (idg_login_accept). PAM_SAML_WAIT then returns the outcome. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "connectors/saml.h"
#include "daemon/api.h"
#include "daemon/api_login.h"
#include "daemon/connector.h"
#include "daemon/saml_sp.h"

#define LOGINS_MAX 64		/* SAML logins in progress at once */
#define CODE_BYTES 16
#define CODE_LEN (CODE_BYTES * 2)
#define INTERVAL_S 2		/* PAM asks again this often */
#define CONN_TIMEOUT_S 15	/* an HTTPS connection idle this long is closed */
#define TLS_FILE_MAX (64 * 1024)
#define CONNECTOR_MSG_MAX (1024u * 1024u)

enum lstate { L_FREE = 0, L_NEW, L_AT_IDP, L_DONE };

struct login {
	enum lstate state;
	uint64_t handle;
	char code[CODE_LEN + 1];
	char request_id[IDG_SAML_ID_MAX + 1];
	char name[IDG_POSIX_NAME_MAX + 1];
	char detail[IDG_LOGIN_DETAIL_MAX];
	time_t expires;
	uint32_t result;		/* L_DONE: IDG_ST_OK or IDG_ST_DENIED */
	char reason[256];		/* L_DONE and refused: what the user sees */
};

/* One HTTP request's state (MHD's con_cls). */
struct http_req {
	struct idg_saml_sp *sp;
	struct MHD_Connection *conn;
	uint64_t login;			/* GET /saml/login/CODE: the login's handle */
	bool post;
	char *body;
	size_t len, cap;
	bool suspended, answered;
	unsigned status;		/* the answer, once known */
	char *location;
	char page[600];
};

struct idg_saml_sp {
	struct idg_daemon *d;
	struct MHD_Daemon *mhd;
	struct idg_watch *watch;
	char *metadata;			/* our SP metadata document */
	size_t body_max;
	struct login logins[LOGINS_MAX];
};

static struct idg_saml_sp *
SP(const struct idg_daemon *d)
{
	return d->saml;
}

/* ---------- logins ---------- */

static void
login_drop(struct login *l)
{
	memset(l, 0, sizeof(*l));
}

static struct login *
login_by_handle(struct idg_saml_sp *sp, uint64_t h, const char *name)
{
	for (size_t i = 0; i < LOGINS_MAX; i++)
		if (sp->logins[i].state != L_FREE && h != 0 && sp->logins[i].handle == h &&
		    strcmp(sp->logins[i].name, name) == 0)
			return &sp->logins[i];
	return NULL;
}

/* Codes are compared in constant time: a guess learns nothing from how long "no" took. */
static struct login *
login_by_code(struct idg_saml_sp *sp, const char *code)
{
	struct login *found = NULL;

	if (strlen(code) != CODE_LEN)
		return NULL;
	for (size_t i = 0; i < LOGINS_MAX; i++)
		if (sp->logins[i].state != L_FREE &&
		    CRYPTO_memcmp(sp->logins[i].code, code, CODE_LEN) == 0)
			found = &sp->logins[i];
	return found;
}

static struct login *
login_by_request(struct idg_saml_sp *sp, const char *rid)
{
	for (size_t i = 0; i < LOGINS_MAX; i++)
		if (sp->logins[i].state == L_AT_IDP && strcmp(sp->logins[i].request_id, rid) == 0)
			return &sp->logins[i];
	return NULL;
}

static void
audit(struct idg_daemon *d, enum idg_op op, const char *target, const char *result,
    const char *reason, const char *detail)
{
	struct idg_req rq = { .op = op, .fd = -1 };

	rq.who.root = true;
	rq.who.pam = true;
	snprintf(rq.who.name, sizeof(rq.who.name), "root");
	api_audit(d, &rq, target, result, reason, detail);
}

static void
login_target(const struct login *l, char *buf, size_t len)
{
	snprintf(buf, len, "login:%s", l->name);
}

void
idg_saml_sp_login_start(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    const char *name, const char *detail)
{
	struct idg_saml_sp *sp = SP(d);
	unsigned char rnd[CODE_BYTES];
	struct login *l = NULL;
	time_t now = time(NULL);
	char url[700];

	(void)rq;
	if (sp == NULL) {
		api_fail(rp, IDG_ST_UNAVAIL, "SAML logins are not configured on this host");
		return;
	}
	for (size_t i = 0; i < LOGINS_MAX && l == NULL; i++)
		if (sp->logins[i].state == L_FREE)
			l = &sp->logins[i];
	if (l == NULL) {
		api_fail(rp, IDG_ST_UNAVAIL, "too many SAML logins in progress; try again later");
		return;
	}
	if (strlen(name) > IDG_POSIX_NAME_MAX || idg_random(rnd, sizeof(rnd)) < 0 ||
	    idg_random(&l->handle, sizeof(l->handle)) < 0 || l->handle == 0) {
		login_drop(l);
		api_fail(rp, IDG_ST_ERROR, "cannot start a SAML login");
		return;
	}
	for (size_t i = 0; i < CODE_BYTES; i++)
		snprintf(l->code + 2 * i, 3, "%02x", rnd[i]);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->detail, sizeof(l->detail), "%s", detail);
	l->expires = now + d->cfg.saml_login_ttl;
	l->state = L_NEW;
	snprintf(url, sizeof(url), "%s/saml/login/%s", d->cfg.saml_base_url, l->code);
	if (!api_reply_u64(rp, IDG_T_HANDLE, l->handle) ||
	    !api_reply_str(rp, IDG_T_USER_CODE, l->code) ||
	    !api_reply_str(rp, IDG_T_VERIFY_URI, url) ||
	    !api_reply_u32(rp, IDG_T_INTERVAL, INTERVAL_S) ||
	    !api_reply_u32(rp, IDG_T_EXPIRES, (uint32_t)d->cfg.saml_login_ttl)) {
		login_drop(l);
		api_fail(rp, IDG_ST_ERROR, "out of memory");
	}
}

void
idg_saml_sp_login_wait(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    uint64_t handle, const char *name)
{
	struct idg_saml_sp *sp = SP(d);
	struct login *l = sp ? login_by_handle(sp, handle, name) : NULL;

	(void)rq;
	if (l == NULL || (l->state != L_DONE && l->expires < time(NULL))) {
		if (l)
			login_drop(l);
		api_fail(rp, IDG_ST_DENIED, "SAML login expired or unknown: start again");
		return;
	}
	if (l->state != L_DONE) {
		rp->status = IDG_ST_PENDING;
		return;
	}
	if (l->result == IDG_ST_OK)
		(void)idg_login_pam_reply(d, l->name, rp);
	else
		api_fail(rp, IDG_ST_DENIED, "%s", l->reason);
	login_drop(l);
}

void
idg_saml_sp_login_cancel(struct idg_daemon *d, uint64_t handle, const char *name)
{
	struct idg_saml_sp *sp = SP(d);
	struct login *l = sp ? login_by_handle(sp, handle, name) : NULL;

	if (l)
		login_drop(l);
}

/* ---------- HTTP ---------- */

static void
answer(struct http_req *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
answer(struct http_req *r, unsigned status, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	r->answered = true;
	va_start(ap, fmt);
	vsnprintf(r->page, sizeof(r->page), fmt, ap);
	va_end(ap);
}

static void
resume(struct http_req *r)
{
	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
		(void)MHD_run(r->sp->mhd);
	}
}

static enum MHD_Result
send_answer(struct http_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char page[sizeof(r->page) + 2];

	snprintf(page, sizeof(page), "%s\n", r->page);
	resp = MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	(void)MHD_add_response_header(resp, "Cache-Control", "no-store");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->location)
		(void)MHD_add_response_header(resp, "Location", r->location);
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
on_saml_start(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct http_req *r = ctx;
	struct idg_saml_sp *sp = SP(d);
	const char *url = NULL, *rid = NULL;
	struct login *l = NULL;
	char target[64];

	/* The login whose code the URL held (it may have been cancelled meanwhile). */
	for (size_t i = 0; sp && i < LOGINS_MAX; i++)
		if (sp->logins[i].state == L_AT_IDP && sp->logins[i].handle == r->login)
			l = &sp->logins[i];
	if (status != 0 || v == NULL || idg_msg_get_str(v, IDG_CT_URI, &url) < 0 ||
	    idg_msg_get_str(v, IDG_CT_SAML_REQID, &rid) < 0 || strlen(rid) > IDG_SAML_ID_MAX ||
	    strncmp(url, "https://", 8) != 0 || strlen(url) > 16384 || !idg_str_printable(url)) {
		answer(r, MHD_HTTP_SERVICE_UNAVAILABLE, "The sign-in cannot start now: %s",
		    status < 0 && err ? err : "the SAML connector gave no usable answer");
		if (l) {
			login_target(l, target, sizeof(target));
			audit(d, IDG_OP_PAM_SAML_START, target, "error", r->page, l->detail);
		}
		resume(r);
		return;
	}
	if (l == NULL) {
		answer(r, MHD_HTTP_GONE, "This sign-in link has expired; start the login again.");
	} else {
		snprintf(l->request_id, sizeof(l->request_id), "%s", rid);
		r->location = strdup(url);
		answer(r, r->location ? MHD_HTTP_SEE_OTHER : MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "Continue at your identity provider.");
	}
	resume(r);
}

/* GET /saml/login/CODE: once, within its lifetime. */
static void
do_login(struct idg_saml_sp *sp, struct http_req *r, const char *code)
{
	struct login *l = login_by_code(sp, code);
	struct idg_msg m;
	char err[512], target[64];
	int rc;

	if (l == NULL || l->state != L_NEW || l->expires < time(NULL)) {
		if (l) {
			login_target(l, target, sizeof(target));
			audit(sp->d, IDG_OP_PAM_SAML_START, target, "denied", l->state != L_NEW ?
			    "SAML login link opened again (it is one-time)" : "SAML login link "
			    "opened after it expired", l->detail);
		}
		answer(r, MHD_HTTP_GONE, "This sign-in link has expired or was used already; start "
		    "the login again.");
		return;
	}
	l->state = L_AT_IDP;	/* used, whatever happens next */
	r->login = l->handle;
	if ((rc = idg_msg_init(&m, 256)) < 0) {
		answer(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	rc = idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_SAML_START);
	if (rc == 0)
		rc = idg_connector_call(sp->d, &m, idg_login_idp_wait_ms(sp->d), on_saml_start, r,
		    err, sizeof(err));
	else
		snprintf(err, sizeof(err), "the request could not be built");
	idg_msg_free(&m);
	if (rc < 0) {
		answer(r, MHD_HTTP_SERVICE_UNAVAILABLE, "The sign-in cannot start now: %s", err);
		return;
	}
	r->suspended = true;
	MHD_suspend_connection(r->conn);
}

static void
on_acs(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct http_req *r = ctx;
	struct idg_saml_sp *sp = SP(d);
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	struct idg_login_req lr = { .op = IDG_OP_PAM_SAML_WAIT, .pam = true };
	char target[IDG_SUBJECT_MAX + 32], reason[600];
	const char *rid = NULL;
	struct login *l;

	if (status != 0 || v == NULL) {
		snprintf(reason, sizeof(reason), "SAML response refused: %s", err && *err ? err :
		    idg_strerror(status < 0 ? status : IDG_ERR_INTERNAL));
		audit(d, IDG_OP_PAM_SAML_WAIT, "saml:acs", status == IDG_ERR_UNAVAIL ||
		    status == IDG_ERR_TIMEOUT ? "unavailable" : "denied", reason, "method=saml");
		answer(r, MHD_HTTP_FORBIDDEN, "Sign-in refused: %s", err && *err ? err :
		    "the SAML connector failed");
		resume(r);
		return;
	}
	if (idg_msg_get_str(v, IDG_CT_SAML_REQID, &rid) < 0 || sp == NULL ||
	    (l = login_by_request(sp, rid)) == NULL || l->expires < time(NULL)) {
		/* The children verify; which request a response may answer is decided here
		 * (connectors/saml.h requests_elsewhere): a login waiting at the IdP, once. */
		audit(d, IDG_OP_PAM_SAML_WAIT, "saml:acs", "denied", "SAML response refused: it "
		    "answers no login of ours (InResponseTo names no login waiting at the IdP: "
		    "unknown, expired, cancelled or answered already)", "method=saml");
		answer(r, MHD_HTTP_FORBIDDEN, "Sign-in refused: the response answers no login of "
		    "ours (it expired, was cancelled or was answered already); start it again.");
		resume(r);
		return;
	}
	lr.who.root = true;
	lr.who.pam = true;
	snprintf(lr.who.name, sizeof(lr.who.name), "root");
	snprintf(lr.expect, sizeof(lr.expect), "%s", l->name);
	snprintf(lr.method, sizeof(lr.method), "saml");
	snprintf(lr.detail, sizeof(lr.detail), "%s", l->detail);
	idg_login_accept(d, &lr, v, &rp, target, sizeof(target));
	l->state = L_DONE;
	l->result = rp.status == IDG_ST_OK ? IDG_ST_OK : IDG_ST_DENIED;
	if (rp.status == IDG_ST_OK) {
		audit(d, IDG_OP_PAM_SAML_WAIT, target, "ok", "saml login", l->detail);
		answer(r, MHD_HTTP_OK, "Signed in as %s. Go back to your terminal (press Enter if it "
		    "asks).", l->name);
	} else {
		snprintf(l->reason, sizeof(l->reason), "%.250s", rp.error);
		login_target(l, target, sizeof(target));
		audit(d, IDG_OP_PAM_SAML_WAIT, target, "denied", rp.error, l->detail);
		answer(r, MHD_HTTP_FORBIDDEN, "Sign-in refused: %s", l->reason);
	}
	idg_reply_clear(&rp);
	resume(r);
}

/* The value of one field of an application/x-www-form-urlencoded body, decoded in place
 * into out (at most outlen - 1 bytes). */
static int
form_field(char *body, const char *name, char **out)
{
	size_t nl = strlen(name);

	for (char *p = body; p && *p; ) {
		char *amp = strchr(p, '&');

		if (amp)
			*amp = '\0';
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			char *w = p + nl + 1, *o = w;

			for (const char *q = w; *q; q++) {
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
			*out = w;
			return 0;
		}
		p = amp ? amp + 1 : NULL;
	}
	return IDG_ERR_NOTFOUND;
}

/* POST /saml/acs: the whole body is here. */
static void
do_acs(struct idg_saml_sp *sp, struct http_req *r)
{
	struct idg_msg m;
	char err[512], *resp = NULL;
	int rc;

	if (r->body == NULL || form_field(r->body, "SAMLResponse", &resp) < 0 || *resp == '\0' ||
	    memchr(resp, '\0', strlen(resp)) != NULL) {
		audit(sp->d, IDG_OP_PAM_SAML_WAIT, "saml:acs", "denied", "SAML response refused: "
		    "no SAMLResponse form field", "method=saml");
		answer(r, MHD_HTTP_BAD_REQUEST, "Sign-in refused: no SAMLResponse in the form");
		return;
	}
	if ((rc = idg_msg_init(&m, CONNECTOR_MSG_MAX)) < 0) {
		answer(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	rc = idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_SAML_RESPONSE);
	rc = rc ? rc : idg_msg_add_str(&m, IDG_CT_SAML_RESPONSE, resp);
	if (rc == 0)
		rc = idg_connector_call(sp->d, &m, idg_login_idp_wait_ms(sp->d), on_acs, r, err,
		    sizeof(err));
	else
		snprintf(err, sizeof(err), "the response is too large");
	idg_msg_free(&m);
	if (rc < 0) {
		answer(r, MHD_HTTP_SERVICE_UNAVAILABLE, "Sign-in cannot be checked now: %s", err);
		return;
	}
	r->suspended = true;
	MHD_suspend_connection(r->conn);
}

static enum MHD_Result
too_big(struct http_req *r)
{
	audit(r->sp->d, IDG_OP_PAM_SAML_WAIT, "saml:acs", "denied", "SAML response refused: "
	    "the request body is larger than allowed", "method=saml");
	answer(r, 413, "Sign-in refused: the response is too large");
	return send_answer(r);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct idg_saml_sp *sp = cls;
	struct http_req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		const char *cl;

		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->sp = sp;
		r->conn = conn;
		*con_cls = r;
		r->post = strcmp(method, "POST") == 0;
		if (r->post && strcmp(url, "/saml/acs") == 0 &&
		    (cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length")) &&
		    strtoull(cl, NULL, 10) > sp->body_max)
			return too_big(r);
		return MHD_YES;
	}
	if (r->answered && !r->suspended)
		return send_answer(r);
	if (r->suspended)
		return MHD_YES;
	if (r->post && *upload_data_size > 0) {
		if (strcmp(url, "/saml/acs") != 0) {
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (r->len + *upload_data_size > sp->body_max)
			return too_big(r);
		if (r->len + *upload_data_size + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 16384;
			char *nb;

			while (cap < r->len + *upload_data_size + 1)
				cap *= 2;
			if ((nb = realloc(r->body, cap)) == NULL)
				return MHD_NO;
			r->body = nb;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload_data, *upload_data_size);
		r->len += *upload_data_size;
		r->body[r->len] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/saml/metadata") == 0) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(sp->metadata),
		    sp->metadata, MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (resp == NULL)
			return MHD_NO;
		(void)MHD_add_response_header(resp, "Content-Type", "application/samlmetadata+xml");
		ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (strcmp(method, "GET") == 0 && strncmp(url, "/saml/login/", 12) == 0)
		do_login(sp, r, url + 12);
	else if (r->post && strcmp(url, "/saml/acs") == 0)
		do_acs(sp, r);
	else
		answer(r, MHD_HTTP_NOT_FOUND, "Not found.");
	return r->suspended ? MHD_YES : send_answer(r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode why)
{
	struct http_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (r == NULL)
		return;
	if (r->body)
		explicit_bzero(r->body, r->len);
	free(r->body);
	free(r->location);
	free(r);
	*con_cls = NULL;
}

static void
on_readable(void *ctx, uint32_t events)
{
	struct idg_saml_sp *sp = ctx;

	(void)events;
	(void)MHD_run(sp->mhd);
}

void
idg_saml_sp_tick(struct idg_daemon *d, int64_t now_ms)
{
	struct idg_saml_sp *sp = SP(d);
	time_t now = time(NULL);

	(void)now_ms;
	if (sp == NULL)
		return;
	/* A finished or abandoned login is kept a little past its end, for PAM's last WAIT. */
	for (size_t i = 0; i < LOGINS_MAX; i++)
		if (sp->logins[i].state != L_FREE && sp->logins[i].expires + 60 < now)
			login_drop(&sp->logins[i]);
	(void)MHD_run(sp->mhd);
}

/* ---------- start and stop ---------- */

static int
listen_addr(const struct idg_config *cfg, struct sockaddr_storage *ss, bool *v6)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, cfg->saml_listen, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)cfg->saml_port);
		*v6 = false;
		return 0;
	}
	if (inet_pton(AF_INET6, cfg->saml_listen, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)cfg->saml_port);
		*v6 = true;
		return 0;
	}
	return IDG_ERR_CONFIG;
}

/* Our SP metadata, with the certificate of the key that signs AuthnRequests when they are
 * signed (the PEM's base64 body, armour and line breaks dropped). */
static int
sp_metadata(const struct idg_config *cfg, const char *acs, char **out, char *err,
    size_t errlen)
{
	char *pem = NULL, *b64 = NULL, *p, *o;
	const char *begin = "-----BEGIN CERTIFICATE-----", *end;
	size_t len;
	int rc;

	if (cfg->saml_sign_requests) {
		if ((rc = idg_read_file(cfg->saml_sp_cert, TLS_FILE_MAX, &pem, &len)) < 0 ||
		    (p = strstr(pem, begin)) == NULL ||
		    (end = strstr(p, "-----END CERTIFICATE-----")) == NULL ||
		    (b64 = o = malloc(len + 1)) == NULL) {
			snprintf(err, errlen, "cannot read the certificate [saml] sp_cert %s",
			    cfg->saml_sp_cert);
			free(pem);
			return IDG_ERR_CONFIG;
		}
		for (p += strlen(begin); p < end; p++)
			if (isalnum((unsigned char)*p) || *p == '+' || *p == '/' || *p == '=')
				*o++ = *p;
		*o = '\0';
		free(pem);
	}
	rc = idg_saml_sp_metadata(cfg->saml_sp_entity_id, acs, b64, out);
	free(b64);
	if (rc < 0)
		snprintf(err, errlen, "cannot make the SP metadata");
	return rc;
}

int
idg_saml_sp_start(struct idg_daemon *d, char *err, size_t errlen)
{
	const struct idg_config *cfg = &d->cfg;
	struct idg_saml_sp *sp;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	char *cert = NULL, *key = NULL, acs[600];
	size_t clen = 0, klen = 0;
	bool v6 = false;
	int rc;

	if (!idg_config_saml(cfg))
		return 0;
	if (listen_addr(cfg, &ss, &v6) < 0) {
		snprintf(err, errlen, "[saml] listen %s is not an IP address", cfg->saml_listen);
		return IDG_ERR_CONFIG;
	}
	if ((rc = idg_read_file(cfg->saml_tls_cert, TLS_FILE_MAX, &cert, &clen)) < 0 ||
	    (rc = idg_read_file(cfg->saml_tls_key, TLS_FILE_MAX, &key, &klen)) < 0) {
		snprintf(err, errlen, "cannot read the [saml] TLS %s: %s", cert ? "key" :
		    "certificate", idg_strerror(rc));
		free(cert);
		return rc;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto out;
	}
	sp->d = d;
	/* base64 grows a response by 4/3, URL-encoding by up to 3x its few special characters */
	sp->body_max = (size_t)cfg->saml_max_response * 2 + 4096;
	snprintf(acs, sizeof(acs), "%s/saml/acs", cfg->saml_base_url);
	if ((rc = sp_metadata(cfg, acs, &sp->metadata, err, errlen)) < 0)
		goto out;
	sp->mhd = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    (v6 ? MHD_USE_IPv6 : 0), (uint16_t)cfg->saml_port, NULL, NULL, on_request, sp,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->saml_max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)(cfg->saml_max_connections / 4 ?
	    cfg->saml_max_connections / 4 : 1),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_END);
	if (sp->mhd == NULL) {
		snprintf(err, errlen, "cannot start the SAML HTTPS endpoint on %s port %lld (address "
		    "in use, or a bad certificate or key)", cfg->saml_listen, cfg->saml_port);
		rc = IDG_ERR_IO;
		goto out;
	}
	if ((info = MHD_get_daemon_info(sp->mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL ||
	    idg_server_watch(d->srv, info->epoll_fd, on_readable, sp, &sp->watch) < 0) {
		snprintf(err, errlen, "cannot watch the SAML HTTPS endpoint");
		rc = IDG_ERR_IO;
		goto out;
	}
	d->saml = sp;
	sp = NULL;
	log_info("SAML endpoint listening on %s port %lld (%s)", cfg->saml_listen, cfg->saml_port,
	    cfg->saml_base_url);
	rc = 0;
out:
	if (sp) {
		if (sp->mhd)
			MHD_stop_daemon(sp->mhd);
		free(sp->metadata);
		free(sp);
	}
	if (key)
		explicit_bzero(key, klen);
	free(key);
	free(cert);
	return rc;
}

void
idg_saml_sp_stop(struct idg_daemon *d)
{
	struct idg_saml_sp *sp = SP(d);

	if (sp == NULL)
		return;
	if (sp->watch)
		idg_server_unwatch(d->srv, sp->watch);
	MHD_stop_daemon(sp->mhd);
	free(sp->metadata);
	free(sp);
	d->saml = NULL;
}

/* idgated as a SAML SP (saml_sp.h): the parent's side. The HTTPS endpoint itself runs in the
 * unprivileged web process (web_child.c), a fresh exec of idgated started here with a
 * socketpair and the listening socket already bound (so it needs no privilege for a low
 * port); it is handed the TLS certificate and key and the SP metadata, parses TLS, HTTP and
 * the form, and asks this side only LOGIN_OPEN and ACS (web_proto.h). It is not trusted:
 * each of its frames is read without blocking and checked field by field, its questions are
 * bounded, and anything out of the protocol kills it; it is restarted with back-off. No HTTP
 * library runs in this process.
 *
 * A SAML login: PAM_SAML_START makes a login with a one-time code (128 random bits) that
 * expires after [saml] login_ttl; the user opens BASE/saml/login/CODE, which can be opened
 * once: it asks the connector child for an AuthnRequest and redirects the browser to the IdP.
 * The IdP's response, posted to BASE/saml/acs, goes unparsed (base64, as the web process
 * checked it) to the connector child; the identity it verified carries the ID of the
 * AuthnRequest it answers, which names the login; the identity must map to the login's own
 * name (idg_login_accept). PAM_SAML_WAIT then returns the outcome. The logins live here, so
 * a restarted web process loses none of them. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "connectors/saml.h"
#include "daemon/api.h"
#include "daemon/api_login.h"
#include "daemon/connector.h"
#include "daemon/saml_sp.h"
#include "daemon/web_proto.h"

#define LOGINS_MAX 64		/* SAML logins in progress at once */
#define CODE_BYTES 16
#define CODE_LEN (CODE_BYTES * 2)
#define INTERVAL_S 2		/* PAM asks again this often */
#define TLS_FILE_MAX (64 * 1024)
#define CONNECTOR_MSG_MAX (1024u * 1024u)
#define READY_TIMEOUT_MS 10000	/* the first web process has this long to say it serves */
#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 60000
#define SNDBUF (4 * 1024 * 1024)	/* answers queued to the web process before it is
					 * judged not to read them */

_Static_assert(CODE_LEN == IDG_WEB_CODE_LEN, "the web process checks the code's length");

enum lstate { L_FREE = 0, L_NEW, L_AT_IDP, L_DONE };

struct login {
	enum lstate state;
	uint64_t handle;
	char code[CODE_LEN + 1];
	char request_id[IDG_SAML_ID_MAX + 1];
	char name[IDG_POSIX_NAME_MAX + 1];
	char detail[IDG_LOGIN_DETAIL_MAX];
	time_t expires;
	uint32_t result;		/* L_DONE: IDG_ST_OK, IDG_ST_DENIED, or IDG_ST_UNAVAIL
					 * (the sign-in could not start) */
	char reason[256];		/* L_DONE and refused: what the user sees */
	uint64_t owner;			/* PAM: the pam.sock connection that started it, kept open
					 * by the module for the login's life; 0: none */
	char rhost[65];			/* PAM: where the login comes from, or "" */
	bool test;			/* idgatectl login test --saml (api.sock), not PAM */
	bool record;			/* ... --record: store what it yields */
	cJSON *identity;		/* a test's L_DONE, IDG_ST_OK: what it answers */
};

/* A question of the web process, while the connector child works on it. The connector's
 * callback owns it and frees it. */
struct web_req {
	struct idg_saml_sp *sp;
	uint64_t gen;			/* the web process that asked (a restarted one is another) */
	uint64_t reqid;
	bool acs;
	uint64_t login;			/* LOGIN_OPEN: the login's handle */
	char src[IDG_WEB_SRC_MAX];
};

struct inflight {
	uint64_t reqid;			/* 0: free */
	bool acs;
};

struct idg_saml_sp {
	struct idg_daemon *d;
	char *metadata;			/* our SP metadata document */
	int listen_fd;			/* bound and listening; only the web process accepts */
	uid_t uid;
	gid_t gid;
	unsigned acs_max;
	/* the web process */
	pid_t pid;
	int fd;
	struct idg_watch *watch;
	struct idg_buf in;
	uint64_t gen;
	bool ready;
	struct inflight *inflight;	/* acs_max + IDG_WEB_OPEN_MAX */
	size_t ninflight;
	unsigned acs_busy, open_busy;
	int64_t restart_at;		/* 0: running or not wanted */
	int64_t backoff_ms;
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
	cJSON_Delete(l->identity);
	memset(l, 0, sizeof(*l));
}

/* A PAM login by its handle and name, or (name NULL) a login test by its handle: neither
 * kind can reach the other. */
static struct login *
login_by_handle(struct idg_saml_sp *sp, uint64_t h, const char *name)
{
	for (size_t i = 0; i < LOGINS_MAX; i++)
		if (sp->logins[i].state != L_FREE && h != 0 && sp->logins[i].handle == h &&
		    sp->logins[i].test == (name == NULL) &&
		    (name == NULL || strcmp(sp->logins[i].name, name) == 0))
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

/* A new login for name, its one-time code drawn; NULL with rp failed. owner: the PAM
 * connection that started it (0: none), rhost: PAM_RHOST or NULL. As device logins
 * (api_login.h): a PAM login goes with its PAM process, and one name or one remote host
 * cannot take every slot. */
static struct login *
login_new(struct idg_daemon *d, struct idg_reply *rp, const char *name, const char *rhost,
    uint64_t owner, const char *detail)
{
	struct idg_saml_sp *sp = SP(d);
	unsigned char rnd[CODE_BYTES];
	struct login *l = NULL;
	size_t by_name = 0, by_source = 0;

	if (sp == NULL) {
		api_fail(rp, IDG_ST_UNAVAIL, "SAML logins are not configured on this host");
		return NULL;
	}
	for (size_t i = 0; i < LOGINS_MAX; i++) {
		const struct login *o = &sp->logins[i];

		if (o->state == L_FREE) {
			l = l ? l : &sp->logins[i];
			continue;
		}
		by_name += o->owner && strcmp(o->name, name) == 0;
		by_source += o->owner && rhost && rhost[0] && strcmp(o->rhost, rhost) == 0;
	}
	if (owner && by_name >= IDG_DEVICE_PER_NAME) {
		api_fail(rp, IDG_ST_DENIED, "too many sign-ins in progress for %s; finish or cancel "
		    "one, then try again", name);
		return NULL;
	}
	if (owner && by_source >= IDG_DEVICE_PER_SOURCE) {
		api_fail(rp, IDG_ST_DENIED, "too many sign-ins in progress from %s; try again later",
		    rhost);
		return NULL;
	}
	if (l == NULL) {
		api_fail(rp, IDG_ST_UNAVAIL, "too many SAML logins in progress; try again later");
		return NULL;
	}
	if (strlen(name) > IDG_POSIX_NAME_MAX || idg_random(rnd, sizeof(rnd)) < 0 ||
	    idg_random(&l->handle, sizeof(l->handle)) < 0 || l->handle == 0) {
		login_drop(l);
		api_fail(rp, IDG_ST_ERROR, "cannot start a SAML login");
		return NULL;
	}
	for (size_t i = 0; i < CODE_BYTES; i++)
		snprintf(l->code + 2 * i, 3, "%02x", rnd[i]);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->detail, sizeof(l->detail), "%s", detail);
	snprintf(l->rhost, sizeof(l->rhost), "%s", rhost ? rhost : "");
	l->owner = owner;
	l->expires = time(NULL) + d->cfg.saml_login_ttl;
	l->state = L_NEW;
	return l;
}

void
idg_saml_sp_login_start(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    const char *name, const char *rhost, const char *detail)
{
	struct login *l;
	char url[700];

	if ((l = login_new(d, rp, name, rhost, rq->who.pam ? rq->conn_serial : 0, detail)) == NULL)
		return;
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
idg_saml_sp_test_start(struct idg_daemon *d, struct idg_reply *rp, const char *name,
    bool record)
{
	struct login *l;
	char url[700], hex[32];
	cJSON *o;

	if ((l = login_new(d, rp, name, NULL, 0, record ? "method=saml test record" :
	    "method=saml test")) == NULL)
		return;
	l->test = true;
	l->record = record;
	snprintf(url, sizeof(url), "%s/saml/login/%s", d->cfg.saml_base_url, l->code);
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)l->handle);
	o = api_obj(rp);
	cJSON_AddStringToObject(o, "handle", hex);
	cJSON_AddStringToObject(o, "verification_uri", url);
	cJSON_AddNumberToObject(o, "expires_in", (double)d->cfg.saml_login_ttl);
	cJSON_AddNumberToObject(o, "interval", INTERVAL_S);
}

/* A WAIT's first part: true when l is done (its outcome is the caller's to give); else rp
 * says pending, or that the login is unknown or expired (and it is dropped). */
static bool
login_done(struct login *l, struct idg_reply *rp)
{
	if (l == NULL || (l->state != L_DONE && l->expires < time(NULL))) {
		if (l)
			login_drop(l);
		api_fail(rp, IDG_ST_DENIED, "SAML login expired or unknown: start again");
		return false;
	}
	if (l->state != L_DONE) {
		rp->status = IDG_ST_PENDING;
		return false;
	}
	return true;
}

void
idg_saml_sp_test_wait(struct idg_daemon *d, struct idg_reply *rp, uint64_t handle)
{
	struct idg_saml_sp *sp = SP(d);
	struct login *l = sp ? login_by_handle(sp, handle, NULL) : NULL;

	if (!login_done(l, rp))
		return;
	if (l->result == IDG_ST_OK && l->identity) {
		cJSON_Delete(rp->json);
		rp->json = l->identity;
		l->identity = NULL;
		rp->status = IDG_ST_OK;
	} else {
		api_fail(rp, l->result == IDG_ST_UNAVAIL ? IDG_ST_UNAVAIL : IDG_ST_DENIED, "%s",
		    l->reason);
	}
	login_drop(l);
}

void
idg_saml_sp_test_cancel(struct idg_daemon *d, uint64_t handle)
{
	struct idg_saml_sp *sp = SP(d);
	struct login *l = sp ? login_by_handle(sp, handle, NULL) : NULL;

	if (l)
		login_drop(l);
}

void
idg_saml_sp_login_wait(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    uint64_t handle, const char *name)
{
	struct idg_saml_sp *sp = SP(d);
	struct login *l = sp ? login_by_handle(sp, handle, name) : NULL;

	(void)rq;
	if (!login_done(l, rp))
		return;
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

void
idg_saml_sp_conn_closed(struct idg_daemon *d, uint64_t serial)
{
	struct idg_saml_sp *sp = SP(d);

	for (size_t i = 0; sp && serial && i < LOGINS_MAX; i++)
		if (sp->logins[i].state != L_FREE && sp->logins[i].owner == serial) {
			log_info("SAML login of %s abandoned (its PAM process went away)",
			    sp->logins[i].name);
			login_drop(&sp->logins[i]);
		}
}

/* ---------- the web process ---------- */

static void on_web_readable(void *ctx, uint32_t events);

/* Kill the web process (if any) and plan a restart. Its questions still with the connector
 * are answered into the void (their generation is gone). */
static void
web_lost(struct idg_saml_sp *sp, const char *why)
{
	if (sp->watch) {
		idg_server_unwatch(sp->d->srv, sp->watch);
		sp->watch = NULL;
	}
	if (sp->fd >= 0) {
		close(sp->fd);
		sp->fd = -1;
	}
	if (sp->pid > 0) {
		kill(sp->pid, SIGKILL);
		(void)waitpid(sp->pid, NULL, 0);
		sp->pid = -1;
	}
	idg_buf_reset(&sp->in);
	memset(sp->inflight, 0, sp->ninflight * sizeof(*sp->inflight));
	sp->acs_busy = sp->open_busy = 0;
	sp->gen++;
	sp->ready = false;
	sp->backoff_ms = sp->backoff_ms ? sp->backoff_ms * 2 : RESTART_MIN_MS;
	if (sp->backoff_ms > RESTART_MAX_MS)
		sp->backoff_ms = RESTART_MAX_MS;
	sp->restart_at = idg_now_ms() + sp->backoff_ms;
	log_warn("SAML web process: %s; restarting it in %" PRId64 " ms", why, sp->backoff_ms);
}

/* Send without ever waiting: the socket's buffer holds every answer the bounds allow, so a
 * full one means the web process does not read. */
static int
web_send(struct idg_saml_sp *sp, struct idg_msg *m)
{
	const uint8_t *frame;
	size_t len, off = 0;

	frame = idg_msg_frame(m, &len);
	while (off < len) {
		ssize_t n = send(sp->fd, frame + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return IDG_ERR_IO;
		off += (size_t)n;
	}
	return 0;
}

static struct inflight *
inflight_find(struct idg_saml_sp *sp, uint64_t reqid)
{
	for (size_t i = 0; i < sp->ninflight; i++)
		if (sp->inflight[i].reqid == reqid)
			return &sp->inflight[i];
	return NULL;
}

/* Answer a question of the web process, and free it. Nothing is re-entered: the answer is
 * one frame on a socket. */
static void
reply(struct web_req *wr, unsigned http, const char *location, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
reply(struct web_req *wr, unsigned http, const char *location, const char *fmt, ...)
{
	struct idg_saml_sp *sp = wr->sp;
	struct inflight *f;
	struct idg_msg m;
	char page[IDG_WEB_PAGE_MAX];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(page, sizeof(page), fmt, ap);
	va_end(ap);
	if (wr->gen != sp->gen || sp->fd < 0 || (f = inflight_find(sp, wr->reqid)) == NULL) {
		free(wr);	/* the web process that asked is gone */
		return;
	}
	if (f->acs)
		sp->acs_busy--;
	else
		sp->open_busy--;
	f->reqid = 0;
	if ((rc = idg_msg_init(&m, IDG_WEB_LOCATION_MAX + 4096)) == 0) {
		rc = idg_msg_add_u32(&m, IDG_WT_OP, IDG_WEB_REPLY);
		rc = rc ? rc : idg_msg_add_u64(&m, IDG_WT_REQID, wr->reqid);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_HTTP, http);
		rc = rc ? rc : idg_msg_add_str(&m, IDG_WT_PAGE, page);
		if (rc == 0 && location)
			rc = idg_msg_add_str(&m, IDG_WT_LOCATION, location);
		if (rc == 0 && web_send(sp, &m) < 0)
			web_lost(sp, "it does not read its answers");
		idg_msg_free(&m);
	}
	if (rc < 0)
		log_err("SAML web process: an answer could not be built: %s", idg_strerror(rc));
	free(wr);
}

static void
web_audit_detail(const struct login *l, const char *src, char *buf, size_t len)
{
	snprintf(buf, len, "%.440s src=%s", l ? l->detail : "method=saml", src);
}

static void
on_saml_start(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct web_req *wr = ctx;
	struct idg_saml_sp *sp = SP(d);
	const char *url = NULL, *rid = NULL;
	struct login *l = NULL;
	char target[64], detail[IDG_LOGIN_DETAIL_MAX], why[600];

	/* The login whose code the URL held (it may have been cancelled meanwhile). */
	for (size_t i = 0; sp && i < LOGINS_MAX; i++)
		if (sp->logins[i].state == L_AT_IDP && sp->logins[i].handle == wr->login)
			l = &sp->logins[i];
	if (status != 0 || v == NULL || idg_msg_get_str(v, IDG_CT_URI, &url) < 0 ||
	    idg_msg_get_str(v, IDG_CT_SAML_REQID, &rid) < 0 || strlen(rid) > IDG_SAML_ID_MAX ||
	    strncmp(url, "https://", 8) != 0 || strlen(url) > IDG_WEB_LOCATION_MAX ||
	    !idg_str_printable(url)) {
		snprintf(why, sizeof(why), "The sign-in cannot start now: %s",
		    status < 0 && err ? err : "the SAML connector gave no usable answer");
		if (l) {
			login_target(l, target, sizeof(target));
			web_audit_detail(l, wr->src, detail, sizeof(detail));
			audit(d, IDG_OP_PAM_SAML_START, target, "error", why, detail);
			/* Its link is spent: PAM learns why now, not when the login expires. */
			l->state = L_DONE;
			l->result = IDG_ST_UNAVAIL;
			snprintf(l->reason, sizeof(l->reason), "%.250s", why);
		}
		reply(wr, 503, NULL, "%s", why);
		return;
	}
	if (l == NULL) {
		reply(wr, 410, NULL, "This sign-in link has expired; start the login again.");
		return;
	}
	snprintf(l->request_id, sizeof(l->request_id), "%s", rid);
	reply(wr, 303, url, "Continue at your identity provider.");
}

/* LOGIN_OPEN: GET /saml/login/CODE, once, within its lifetime. */
static void
do_login(struct idg_saml_sp *sp, struct web_req *wr, const char *code)
{
	struct login *l = login_by_code(sp, code);
	struct idg_msg m;
	char err[512], target[64], detail[IDG_LOGIN_DETAIL_MAX];
	int rc;

	if (l == NULL || l->state != L_NEW || l->expires < time(NULL)) {
		if (l) {
			login_target(l, target, sizeof(target));
			web_audit_detail(l, wr->src, detail, sizeof(detail));
			audit(sp->d, IDG_OP_PAM_SAML_START, target, "denied", l->state != L_NEW ?
			    "SAML login link opened again (it is one-time)" : "SAML login link "
			    "opened after it expired", detail);
		}
		reply(wr, 410, NULL, "This sign-in link has expired or was used already; start "
		    "the login again.");
		return;
	}
	l->state = L_AT_IDP;	/* used, whatever happens next */
	wr->login = l->handle;
	if ((rc = idg_msg_init(&m, 256)) < 0) {
		reply(wr, 500, NULL, "out of memory");
		return;
	}
	rc = idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_SAML_START);
	if (rc == 0)
		rc = idg_connector_call(sp->d, &m, idg_login_idp_wait_ms(sp->d), on_saml_start,
		    wr, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "the request could not be built");
	idg_msg_free(&m);
	if (rc < 0) {
		/* The link is spent: PAM learns why now, not when the login expires. */
		l->state = L_DONE;
		l->result = IDG_ST_UNAVAIL;
		snprintf(l->reason, sizeof(l->reason), "The sign-in cannot start now: %.200s", err);
		reply(wr, 503, NULL, "%s", l->reason);
	}
}

static void
on_acs(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct web_req *wr = ctx;
	struct idg_saml_sp *sp = SP(d);
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	struct idg_login_req lr = { .op = IDG_OP_PAM_SAML_WAIT, .pam = true };
	char target[IDG_SUBJECT_MAX + 32], reason[600], detail[IDG_LOGIN_DETAIL_MAX];
	const char *rid = NULL;
	struct login *l;

	web_audit_detail(NULL, wr->src, detail, sizeof(detail));
	if (status != 0 || v == NULL) {
		snprintf(reason, sizeof(reason), "SAML response refused: %s", err && *err ? err :
		    idg_strerror(status < 0 ? status : IDG_ERR_INTERNAL));
		audit(d, IDG_OP_PAM_SAML_WAIT, "saml:acs", status == IDG_ERR_UNAVAIL ||
		    status == IDG_ERR_TIMEOUT || status == IDG_ERR_BUSY ? "unavailable" : "denied",
		    reason, detail);
		reply(wr, status == IDG_ERR_UNAVAIL || status == IDG_ERR_TIMEOUT ||
		    status == IDG_ERR_BUSY ? 503 : 403, NULL, "Sign-in refused: %s",
		    err && *err ? err : "the SAML connector failed");
		return;
	}
	if (idg_msg_get_str(v, IDG_CT_SAML_REQID, &rid) < 0 || sp == NULL ||
	    (l = login_by_request(sp, rid)) == NULL || l->expires < time(NULL)) {
		/* The children verify; which request a response may answer is decided here
		 * (connectors/saml.h requests_elsewhere): a login waiting at the IdP, once. */
		audit(d, IDG_OP_PAM_SAML_WAIT, "saml:acs", "denied", "SAML response refused: it "
		    "answers no login of ours (InResponseTo names no login waiting at the IdP: "
		    "unknown, expired, cancelled or answered already)", detail);
		reply(wr, 403, NULL, "Sign-in refused: the response answers no login of ours (it "
		    "expired, was cancelled or was answered already); start it again.");
		return;
	}
	web_audit_detail(l, wr->src, detail, sizeof(detail));
	/* A login test stores nothing unless --record, and pins nothing pending (no PAM
	 * account follows it): idg_login_accept decides by lr.pam and lr.record. */
	lr.pam = !l->test;
	lr.record = l->test && l->record;
	lr.op = l->test ? IDG_OP_SAML_WAIT : IDG_OP_PAM_SAML_WAIT;
	lr.who.root = true;
	lr.who.pam = !l->test;
	snprintf(lr.who.name, sizeof(lr.who.name), "root");
	snprintf(lr.expect, sizeof(lr.expect), "%s", l->name);
	snprintf(lr.method, sizeof(lr.method), "saml");
	snprintf(lr.detail, sizeof(lr.detail), "%s", detail);
	idg_login_accept(d, &lr, v, &rp, target, sizeof(target));
	l->state = L_DONE;
	l->result = rp.status == IDG_ST_OK ? IDG_ST_OK : IDG_ST_DENIED;
	if (rp.status == IDG_ST_OK && l->test) {
		l->identity = rp.json;
		rp.json = NULL;
	}
	if (rp.status == IDG_ST_OK) {
		audit(d, lr.op, target, "ok", l->test ? "saml login test" : "saml login", detail);
		reply(wr, 200, NULL, "Signed in as %s. Go back to your terminal (press Enter if it "
		    "asks).", l->name);
	} else {
		snprintf(l->reason, sizeof(l->reason), "%.250s", rp.error);
		login_target(l, target, sizeof(target));
		audit(d, lr.op, target, "denied", rp.error, detail);
		reply(wr, 403, NULL, "Sign-in refused: %s", l->reason);
	}
	idg_reply_clear(&rp);
}

/* ACS: the response as the web process checked it (base64); verified by the connector. */
static void
do_acs(struct idg_saml_sp *sp, struct web_req *wr, const char *resp)
{
	struct idg_msg m;
	char err[512];
	int rc;

	if ((rc = idg_msg_init(&m, CONNECTOR_MSG_MAX)) < 0) {
		reply(wr, 500, NULL, "out of memory");
		return;
	}
	rc = idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_SAML_RESPONSE);
	rc = rc ? rc : idg_msg_add_str(&m, IDG_CT_SAML_RESPONSE, resp);
	if (rc == 0)
		rc = idg_connector_call(sp->d, &m, idg_login_idp_wait_ms(sp->d), on_acs, wr, err,
		    sizeof(err));
	else
		snprintf(err, sizeof(err), "the response is too large");
	idg_msg_free(&m);
	if (rc < 0)
		reply(wr, 503, NULL, "Sign-in cannot be checked now: %s", err);
}

/* ---------- checking what the web process sends ---------- */

/* Exactly these tags, each once. */
static bool
only_fields(const struct idg_msgview *v, const uint16_t *tags, size_t n)
{
	if (v->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (idg_msg_count(v, tags[i]) != 1)
			return false;
	return true;
}

static bool
src_ok(const char *s)
{
	unsigned char a[sizeof(struct in6_addr)];

	return strlen(s) < IDG_WEB_SRC_MAX && (inet_pton(AF_INET, s, a) == 1 ||
	    inet_pton(AF_INET6, s, a) == 1);
}

static bool
base64_ok(const char *s, size_t max)
{
	size_t n = strlen(s), pad = 0;

	if (n == 0 || n > max || n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			pad++;
		else if (pad || !(isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '/'))
			return false;
	}
	return pad <= 2;
}

static size_t
b64_max(const struct idg_config *cfg)
{
	return (size_t)(cfg->saml_max_response + 2) / 3 * 4;
}

/* One frame from the web process; false: it broke the protocol (it is then ended). */
static bool
take_frame(struct idg_saml_sp *sp, const struct idg_msgview *v)
{
	static const uint16_t open_tags[] = { IDG_WT_OP, IDG_WT_REQID, IDG_WT_CODE, IDG_WT_SRC };
	static const uint16_t acs_tags[] = { IDG_WT_OP, IDG_WT_REQID, IDG_WT_SAML_RESPONSE,
		IDG_WT_SRC };
	const char *code = NULL, *resp = NULL, *src = NULL;
	struct inflight *slot;
	struct web_req *wr;
	uint64_t reqid = 0;
	uint32_t op = 0;
	bool acs;

	if (idg_msg_get_u32(v, IDG_WT_OP, &op) < 0)
		return false;
	if (op == IDG_WEB_READY) {
		if (sp->ready || v->n != 1)
			return false;
		sp->ready = true;
		sp->backoff_ms = 0;
		log_info("SAML web process ready (pid %d)", (int)sp->pid);
		return true;
	}
	acs = op == IDG_WEB_ACS;
	if (op != IDG_WEB_ACS && op != IDG_WEB_LOGIN_OPEN)
		return false;
	if (!only_fields(v, acs ? acs_tags : open_tags, 4) ||
	    idg_msg_get_u64(v, IDG_WT_REQID, &reqid) < 0 || reqid == 0 ||
	    idg_msg_get_str(v, IDG_WT_SRC, &src) < 0 || !src_ok(src))
		return false;
	if (acs ? idg_msg_get_str(v, IDG_WT_SAML_RESPONSE, &resp) < 0 ||
	    !base64_ok(resp, b64_max(&sp->d->cfg)) :
	    idg_msg_get_str(v, IDG_WT_CODE, &code) < 0 || strlen(code) != CODE_LEN ||
	    strspn(code, "0123456789abcdef") != CODE_LEN)
		return false;
	/* It counts its questions as we do (and frees a slot only once answered), so a count
	 * past the bound, or a request id in use, is not a race: it is not our web process. */
	if ((acs ? sp->acs_busy >= sp->acs_max : sp->open_busy >= IDG_WEB_OPEN_MAX) ||
	    inflight_find(sp, reqid) != NULL || (slot = inflight_find(sp, 0)) == NULL)
		return false;
	if ((wr = calloc(1, sizeof(*wr))) == NULL) {
		log_err("SAML web process: out of memory");
		return false;
	}
	slot->reqid = reqid;
	slot->acs = acs;
	if (acs)
		sp->acs_busy++;
	else
		sp->open_busy++;
	wr->sp = sp;
	wr->gen = sp->gen;
	wr->reqid = reqid;
	wr->acs = acs;
	snprintf(wr->src, sizeof(wr->src), "%s", src);
	if (acs)
		do_acs(sp, wr, resp);
	else
		do_login(sp, wr, code);
	return true;
}

/* Handle every whole frame in sp->in. */
static void
take_frames(struct idg_saml_sp *sp)
{
	while (sp->fd >= 0 && sp->in.len >= IDG_WIRE_HDR) {
		uint32_t body = idg_wire_body_len((const uint8_t *)sp->in.data);
		struct idg_msgview v = { 0 };
		uint64_t gen = sp->gen;
		bool ok;

		if (body > IDG_WEB_MSG_MAX) {
			web_lost(sp, "it sent an oversized frame");
			return;
		}
		if (sp->in.len < IDG_WIRE_HDR + body)
			return;
		ok = idg_msg_parse((const uint8_t *)sp->in.data + IDG_WIRE_HDR, body, &v) == 0 &&
		    take_frame(sp, &v);
		idg_msgview_free(&v);
		if (sp->gen != gen)
			return;		/* it was ended meanwhile (an answer it did not read) */
		if (!ok) {
			web_lost(sp, "it sent a malformed or unexpected frame");
			return;
		}
		idg_buf_consume(&sp->in, IDG_WIRE_HDR + body);
	}
}

static void
on_web_readable(void *ctx, uint32_t events)
{
	struct idg_saml_sp *sp = ctx;

	(void)events;
	/* A few reads a turn: the event loop serves PAM and the API between them. */
	for (int rounds = 0; rounds < 16 && sp->fd >= 0; rounds++) {
		ssize_t n;

		if (idg_buf_reserve(&sp->in, 65536) < 0) {
			web_lost(sp, "its frame is too large");
			return;
		}
		n = recv(sp->fd, sp->in.data + sp->in.len, 65536, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			web_lost(sp, n == 0 ? "it exited" : "its socket failed");
			return;
		}
		sp->in.len += (size_t)n;
		take_frames(sp);
	}
}

/* ---------- start and stop ---------- */

/* The web process's user: [saml] web_user, else the [connector] user. */
static int
web_user(const struct idg_config *cfg, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	return cfg->saml_web_user ? idg_system_user(cfg->saml_web_user, "[saml] web_user", uid,
	    gid, err, errlen) : idg_system_user(cfg->connector_user, "[connector] user, which "
	    "the SAML web process runs as without [saml] web_user", uid, gid, err, errlen);
}

/* START: read the TLS files (root's) now, so a renewed certificate is used by a restart. */
static int
send_start(struct idg_saml_sp *sp, char *err, size_t errlen)
{
	const struct idg_config *cfg = &sp->d->cfg;
	char *cert = NULL, *key = NULL;
	size_t clen = 0, klen = 0;
	struct idg_msg m;
	unsigned per_ip = (unsigned)cfg->saml_max_connections_per_ip;
	int rc;

	if ((rc = idg_read_file(cfg->saml_tls_cert, TLS_FILE_MAX, &cert, &clen)) < 0 ||
	    (rc = idg_read_file(cfg->saml_tls_key, TLS_FILE_MAX, &key, &klen)) < 0) {
		snprintf(err, errlen, "cannot read the [saml] TLS %s: %s", cert ? "key" :
		    "certificate", idg_strerror(rc));
		free(cert);
		return rc;
	}
	if ((rc = idg_msg_init(&m, IDG_WEB_MSG_MAX)) == 0) {
		rc = idg_msg_add_u32(&m, IDG_WT_OP, IDG_WEB_START);
		rc = rc ? rc : idg_msg_add_str(&m, IDG_WT_TLS_CERT, cert);
		rc = rc ? rc : idg_msg_add_str(&m, IDG_WT_TLS_KEY, key);	/* wiped with m */
		rc = rc ? rc : idg_msg_add_str(&m, IDG_WT_METADATA, sp->metadata);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_MAX_CONN,
		    (uint32_t)cfg->saml_max_connections);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_MAX_PER_IP, per_ip);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_REQUEST_MS,
		    (uint32_t)cfg->saml_request_timeout * 1000);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_BODY_MAX,
		    (uint32_t)cfg->saml_max_response * 2 + 4096);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_ACS_RATE,
		    (uint32_t)cfg->saml_acs_per_minute);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_ACS_MAX, sp->acs_max);
		rc = rc ? rc : idg_msg_add_u32(&m, IDG_WT_B64_MAX, (uint32_t)b64_max(cfg));
		if (rc == 0) {
			const uint8_t *frame;
			size_t len;

			frame = idg_msg_frame(&m, &len);
			rc = idg_wire_send(sp->fd, frame, len, -1, 2000);
		}
		idg_msg_free(&m);
	}
	explicit_bzero(key, klen);
	free(key);
	free(cert);
	if (rc < 0)
		snprintf(err, errlen, "cannot start the SAML web process: %s", idg_strerror(rc));
	return rc;
}

/* Start the web process; wait: at start-up, wait for its READY (so a bad certificate stops
 * idgated, and the endpoint serves once idgated says it is ready). */
static int
web_spawn(struct idg_saml_sp *sp, bool wait, char *err, size_t errlen)
{
	const struct idg_daemon *d = sp->d;
	char uidarg[16], gidarg[16], ppidarg[16], logarg[16], levelarg[16];
	int sv[2], sndbuf = SNDBUF, prio;
	pid_t pid, self = getpid();
	int rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return IDG_ERR_IO;
	}
	/* Both ways: our answers never wait, and its questions (up to a whole response each)
	 * wait for us only while the event loop is busy elsewhere. */
	for (int i = 0; i < 2; i++)
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
			(void)setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	snprintf(uidarg, sizeof(uidarg), "%u", (unsigned)sp->uid);
	snprintf(gidarg, sizeof(gidarg), "%u", (unsigned)sp->gid);
	snprintf(ppidarg, sizeof(ppidarg), "%ld", (long)self);
	snprintf(logarg, sizeof(logarg), "%s", d->log_stderr ? "stderr" : "syslog");
	snprintf(levelarg, sizeof(levelarg), "%d", LOG_ERR + d->cfg.log_level);
	/* Below the parent's priority: a flood burns the web process's CPU, not the logins'. */
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	prio = errno ? 10 : prio + 10 > 19 ? 19 : prio + 10;
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return IDG_ERR_IO;
	}
	if (pid == 0) {
		char name[] = "idgated-web", flag[] = "--web-child", fdarg[] = "3", lfdarg[] = "4";
		char *argv[] = { name, flag, fdarg, lfdarg, uidarg, gidarg, ppidarg, logarg,
			levelarg, NULL };
		sigset_t none;
		int a, b;

		/* A fresh image: nothing of the parent's memory (state, logins) survives. Both
		 * descriptors are first moved out of the way of 3 and 4. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if ((a = fcntl(sv[1], F_DUPFD_CLOEXEC, 10)) < 0 ||
		    (b = fcntl(sp->listen_fd, F_DUPFD_CLOEXEC, 10)) < 0 ||
		    dup2(a, 3) < 0 || dup2(b, 4) < 0)
			_exit(127);
		(void)setpriority(PRIO_PROCESS, 0, prio);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	sp->pid = pid;
	sp->fd = sv[0];
	if ((rc = send_start(sp, err, errlen)) < 0)
		return rc;
	if (wait) {
		uint8_t *body = NULL;
		size_t len = 0;
		struct idg_msgview v = { 0 };
		uint32_t op = 0;

		rc = idg_wire_recv(sp->fd, 64, &body, &len, NULL, READY_TIMEOUT_MS);
		if (rc == 0 && (idg_msg_parse(body, len, &v) < 0 ||
		    idg_msg_get_u32(&v, IDG_WT_OP, &op) < 0 || op != IDG_WEB_READY))
			rc = IDG_ERR_PROTO;
		idg_msgview_free(&v);
		free(body);
		if (rc < 0) {
			snprintf(err, errlen, "the SAML web process did not start (a bad [saml] "
			    "tls_cert or tls_key? see its log): %s", idg_strerror(rc));
			return rc;
		}
		sp->ready = true;
		log_info("SAML web process ready (pid %d)", (int)sp->pid);
	}
	if (idg_server_watch(d->srv, sp->fd, on_web_readable, sp, &sp->watch) < 0) {
		snprintf(err, errlen, "cannot watch the SAML web process's socket");
		return IDG_ERR_IO;
	}
	return 0;
}

void
idg_saml_sp_tick(struct idg_daemon *d, int64_t now_ms)
{
	struct idg_saml_sp *sp = SP(d);
	time_t now = time(NULL);
	char err[512];

	if (sp == NULL)
		return;
	/* A finished or abandoned login is kept a little past its end, for PAM's last WAIT. */
	for (size_t i = 0; i < LOGINS_MAX; i++)
		if (sp->logins[i].state != L_FREE && sp->logins[i].expires + 60 < now)
			login_drop(&sp->logins[i]);
	if (sp->fd < 0 && sp->restart_at && now_ms >= sp->restart_at) {
		sp->restart_at = 0;
		if (web_spawn(sp, false, err, sizeof(err)) < 0)
			web_lost(sp, err);
	}
}

static int
listen_socket(const struct idg_config *cfg, int *fd_out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->saml_listen, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)cfg->saml_port);
		sl = sizeof(*a4);
	} else if (inet_pton(AF_INET6, cfg->saml_listen, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)cfg->saml_port);
		sl = sizeof(*a6);
	} else {
		snprintf(err, errlen, "[saml] listen %s is not an IP address", cfg->saml_listen);
		return IDG_ERR_CONFIG;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "cannot listen on %s port %lld for the SAML HTTPS endpoint: "
		    "%s", cfg->saml_listen, cfg->saml_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return IDG_ERR_IO;
	}
	*fd_out = fd;
	return 0;
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

static void
sp_free(struct idg_saml_sp *sp)
{
	if (sp->watch)
		idg_server_unwatch(sp->d->srv, sp->watch);
	if (sp->fd >= 0)
		close(sp->fd);	/* the web process exits on EOF */
	if (sp->pid > 0) {
		int64_t until = idg_now_ms() + 2000;

		while (waitpid(sp->pid, NULL, WNOHANG) == 0) {
			if (idg_now_ms() > until) {
				kill(sp->pid, SIGKILL);
				(void)waitpid(sp->pid, NULL, 0);
				break;
			}
			usleep(10000);
		}
	}
	if (sp->listen_fd >= 0)
		close(sp->listen_fd);
	for (size_t i = 0; i < LOGINS_MAX; i++)
		login_drop(&sp->logins[i]);
	idg_buf_free(&sp->in);
	free(sp->inflight);
	free(sp->metadata);
	free(sp);
}

int
idg_saml_sp_start(struct idg_daemon *d, char *err, size_t errlen)
{
	const struct idg_config *cfg = &d->cfg;
	struct idg_saml_sp *sp;
	char acs[600];
	int rc;

	if (!idg_config_saml(cfg))
		return 0;
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return IDG_ERR_NOMEM;
	sp->d = d;
	sp->fd = sp->listen_fd = -1;
	sp->pid = -1;
	sp->acs_max = (unsigned)cfg->saml_max_acs_pending;
	sp->ninflight = sp->acs_max + IDG_WEB_OPEN_MAX;
	idg_buf_init(&sp->in, IDG_WIRE_HDR + IDG_WEB_MSG_MAX + 65536);
	if ((sp->inflight = calloc(sp->ninflight, sizeof(*sp->inflight))) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto out;
	}
	snprintf(acs, sizeof(acs), "%s/saml/acs", cfg->saml_base_url);
	if ((rc = sp_metadata(cfg, acs, &sp->metadata, err, errlen)) < 0 ||
	    (rc = web_user(cfg, &sp->uid, &sp->gid, err, errlen)) < 0 ||
	    (rc = listen_socket(cfg, &sp->listen_fd, err, errlen)) < 0 ||
	    (rc = web_spawn(sp, true, err, errlen)) < 0)
		goto out;
	d->saml = sp;
	sp = NULL;
	log_info("SAML endpoint listening on %s port %lld (%s)", cfg->saml_listen, cfg->saml_port,
	    cfg->saml_base_url);
	rc = 0;
out:
	if (sp)
		sp_free(sp);
	return rc;
}

void
idg_saml_sp_stop(struct idg_daemon *d)
{
	struct idg_saml_sp *sp = SP(d);

	if (sp == NULL)
		return;
	sp_free(sp);
	d->saml = NULL;
}

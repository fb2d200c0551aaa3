/* PAM's requests on pam.sock (src/proto/api.h, IDG_OP_PAM_*), from pam_idgate.so in sshd,
 * login and the like: authentication (password, token, device code, offline credentials),
 * the login rule (account), and sessions (the home directory). Every decision is audited
 * with its whole reason; the reply says a short one (IDG_T_ERROR) the user may see, and
 * carries what the module needs as plain wire fields — it reads no JSON.
 *
 * A name idgate has no say over — a local account, a name no IdP user can have here — is
 * answered IDG_ST_UNKNOWN at once, before anything goes to the IdP: a local user's password
 * never leaves the host, and pam_unix decides. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/api_login.h"
#include "daemon/api_pam.h"
#include "daemon/connector.h"
#include "daemon/directory.h"
#include "daemon/home.h"
#include "daemon/offline.h"
#include "daemon/saml_sp.h"
#include "daemon/token.h"

#define SERVICE_MAX 64
#define RHOST_MAX 1024
#define PASSWORD_MAX 4096	/* as api_login.c: bytes of a password passed on to the IdP */
#define TARGET_MAX (IDG_SUBJECT_MAX + 80)

/* The arguments every PAM request has, and what the audit says of them. */
struct pam_args {
	const char *name;	/* PAM_USER, exactly */
	const char *service;
	const char *rhost;
	uint32_t pid;
	bool has_pid;
	char target[TARGET_MAX];	/* the audit record's target */
	char detail[IDG_LOGIN_DETAIL_MAX];	/* service, rhost, pid (and the method) */
};

/* A PAM_AUTH waiting for the connector or for the offline check. */
struct pam_auth {
	struct idg_login_req lr;	/* lr.expect is NAME */
	char target[TARGET_MAX];
	char idp_reason[256];	/* why the IdP could not be asked (offline logins) */
	char *password;		/* password logins only, for the offline credential; wiped */
	struct idg_reply *sync;	/* decided before the handler returned: the reply goes here */
};

static const char *
result_of(uint32_t status)
{
	switch (status) {
	case IDG_ST_OK: return "ok";
	case IDG_ST_DENIED: return "denied";
	case IDG_ST_UNKNOWN: return "unknown";
	case IDG_ST_UNAVAIL: return "unavailable";
	default: return "error";
	}
}

static void
audit(struct idg_daemon *d, const struct idg_req *rq, const char *target, uint32_t status,
    const char *reason, const char *detail)
{
	api_audit(d, rq, target, result_of(status), reason, detail);
}

/* pam.sock and root only (the socket refuses other uids when they connect). */
static bool
pam_only(const struct idg_req *rq, struct idg_reply *rp)
{
	if (rq->who.pam && rq->who.uid == 0 && rq->who.root && !rq->who.via_token)
		return true;
	return api_fail(rp, IDG_ST_INPUT, "this request is served on pam.sock only");
}

/* NAME (any text PAM_USER may hold), SERVICE (unless !service), RHOST, PID. */
static bool
pam_args(const struct idg_req *rq, struct idg_reply *rp, struct pam_args *a, bool service)
{
	char q[256];
	size_t off;

	memset(a, 0, sizeof(*a));
	if (!api_str(rq, rp, IDG_T_NAME, "user name", IDG_WIRE_REQUEST_MAX, &a->name) ||
	    (service && !api_str(rq, rp, IDG_T_SERVICE, "PAM service", SERVICE_MAX,
	    &a->service)) ||
	    !api_opt_str(rq, rp, IDG_T_RHOST, "remote host", RHOST_MAX, &a->rhost))
		return false;
	if ((a->service && !idg_str_printable(a->service)) ||
	    (a->rhost && !idg_str_printable(a->rhost)))
		return api_fail(rp, IDG_ST_INPUT, "malformed PAM service or remote host");
	a->has_pid = idg_msg_get_u32(rq->v, IDG_T_PID, &a->pid) == 0;
	idg_quote(a->name, q, sizeof(q));
	snprintf(a->target, sizeof(a->target), "login:%s", q);
	off = (size_t)snprintf(a->detail, sizeof(a->detail), "service=%s", a->service ?
	    a->service : "-");
	if (a->rhost && off < sizeof(a->detail))
		off += (size_t)snprintf(a->detail + off, sizeof(a->detail) - off, " rhost=%s",
		    a->rhost);
	if (a->has_pid && off < sizeof(a->detail))
		snprintf(a->detail + off, sizeof(a->detail) - off, " pid=%u", a->pid);
	return true;
}

/* Is NAME idgate's to decide? Not when it is a local account or cannot be an IdP user's
 * login name here: the reply is then UNKNOWN (audited). A failure to read the local
 * accounts fails closed (ERROR). existing: NAME must also be a user idgate knows, in the
 * POSIX view. *u_out: the known user, or NULL (a first login). */
static bool
pam_ours(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    struct pam_args *a, bool existing, struct idg_user **u_out)
{
	struct idg_user *u;
	char why[512], reason[700];
	int rc;

	*u_out = NULL;
	if (!idg_dir_login_name_ok(d, a->name, why, sizeof(why))) {
		snprintf(reason, sizeof(reason), "%s cannot be an IdP user's login name here (%s): "
		    "left to the other PAM modules", a->target + strlen("login:"), why);
		goto unknown;
	}
	if ((u = idg_state_user(d->st, a->name)) != NULL && !u->live)
		u = NULL;
	if ((rc = idg_dir_user_check(d, a->name, u, why, sizeof(why))) == IDG_ERR_DENIED) {
		snprintf(reason, sizeof(reason), "%s: left to the other PAM modules", why);
		goto unknown;
	}
	if (rc < 0) {
		audit(d, rq, a->target, IDG_ST_ERROR, why, a->detail);
		return api_fail(rp, IDG_ST_ERROR, "idgated cannot read the local accounts");
	}
	if (u)
		snprintf(a->target, sizeof(a->target), "%s", u->principal);
	if (existing && (u == NULL || !idg_dir_user_visible(d, u, why, sizeof(why)))) {
		snprintf(reason, sizeof(reason), "'%s' is not an idgate user on this host%s%s: "
		    "left to the other PAM modules", a->name, u ? ": " : "", u ? why : "");
		goto unknown;
	}
	*u_out = u;
	return true;
unknown:
	audit(d, rq, a->target, IDG_ST_UNKNOWN, reason, a->detail);
	return api_fail(rp, IDG_ST_UNKNOWN, "not an idgate user");
}

/* ---------- PAM_AUTH ---------- */

static void
pam_auth_free(struct pam_auth *pa)
{
	if (pa == NULL)
		return;
	idg_free_secret(pa->password);
	free(pa);
}

/* Audit, answer the waiting module, free the request. */
static void
auth_done(struct idg_daemon *d, struct pam_auth *pa, struct idg_reply *rp, const char *reason)
{
	struct idg_req rq = { .op = pa->lr.op, .who = pa->lr.who, .fd = -1 };

	idg_login_audit(d, &rq, pa->sync ? 0 : pa->lr.conn_serial, pa->target,
	    result_of(rp->status), reason, pa->lr.detail);
	if (pa->sync) {
		*pa->sync = *rp;	/* handed over whole: the server sends and frees it */
		memset(rp, 0, sizeof(*rp));
		rp->fd = -1;
	} else if (!idg_server_complete(d->srv, pa->lr.conn_serial, rp)) {
		log_info("PAM login of %s finished after its caller left", pa->lr.expect);
	}
	idg_reply_clear(rp);
	pam_auth_free(pa);
}

static void
on_offline_checked(struct idg_daemon *d, void *ctx, int rc, const char *verifier)
{
	struct pam_auth *pa = ctx;
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	struct idg_user *u = idg_state_user(d->st, pa->lr.expect);
	char reason[900], why[512];

	(void)verifier;
	if (rc == 0 && (u == NULL || !u->live || idg_dir_user_check(d, u->name, u, why,
	    sizeof(why)) < 0)) {
		snprintf(reason, sizeof(reason), "offline credential matched, but %s",
		    u == NULL || !u->live ? "the user was deleted meanwhile" : why);
		api_fail(&rp, IDG_ST_DENIED, "login refused");
	} else if (rc == 0) {
		snprintf(reason, sizeof(reason), "offline login: the offline credential of %s "
		    "matched (the IdP is unreachable: %s)", u->name, pa->idp_reason);
		(void)idg_dir_passwd_reply(d, &rp, u->name, u->uid, idg_dir_primary_gid(d, u),
		    u->gecos);
	} else if (rc == IDG_ERR_DENIED) {
		snprintf(reason, sizeof(reason), "offline login: wrong password (it does not match "
		    "the offline credential; the IdP is unreachable: %s)", pa->idp_reason);
		api_fail(&rp, IDG_ST_DENIED, "wrong username or password");
	} else {
		snprintf(reason, sizeof(reason), "the IdP is unreachable (%s) and the offline "
		    "credential could not be checked: %s", pa->idp_reason, idg_strerror(rc));
		api_fail(&rp, IDG_ST_UNAVAIL, "identity provider unreachable");
	}
	strncat(pa->lr.detail, " method=offline", sizeof(pa->lr.detail) -
	    strlen(pa->lr.detail) - 1);
	auth_done(d, pa, &rp, reason);
}

/* The IdP cannot be reached (why): a fresh offline credential decides, or nothing can. */
static void
offline_try(struct idg_daemon *d, struct pam_auth *pa, const char *why)
{
	struct idg_reply rp = { .fd = -1 };
	const struct idg_user *u = idg_state_user(d->st, pa->lr.expect);
	const char *verifier = idg_offline_fresh(d, u, (int64_t)time(NULL));
	char reason[900];
	int rc;

	snprintf(pa->idp_reason, sizeof(pa->idp_reason), "%s", why);
	if (verifier == NULL) {
		snprintf(reason, sizeof(reason), "the IdP is unreachable (%s) and %s has no offline "
		    "credential%s", why, pa->lr.expect, d->cfg.pam_offline_ttl == 0 ?
		    " ([pam] offline_ttl = 0)" : idg_offline_future(d, u, (int64_t)time(NULL)) ?
		    " usable now (its time is more than [pam] offline_ttl in the future: the clock "
		    "was set back?)" : u && u->offline ? " younger than [pam] offline_ttl" : "");
		api_fail(&rp, IDG_ST_UNAVAIL, "identity provider unreachable");
		auth_done(d, pa, &rp, reason);
		return;
	}
	if ((rc = idg_offline_submit(d, pa->password, verifier, on_offline_checked, pa)) < 0) {
		snprintf(reason, sizeof(reason), "the IdP is unreachable (%s) and the offline "
		    "credential could not be checked: %s", why, rc == IDG_ERR_TOOBIG ?
		    "too many checks waiting" : idg_strerror(rc));
		api_fail(&rp, IDG_ST_UNAVAIL, "identity provider unreachable");
		auth_done(d, pa, &rp, reason);
	}
}

/* May the connector's error fall back to offline credentials? Only when the connector child
 * could not reach the IdP (unreachable, timed out, 5xx) — never when the IdP said no, and
 * never for a local failure (IDG_ERR_BUSY: no connector free, one that crashed or hung):
 * otherwise anyone able to overload idgated could make an old password work. */
static bool
unreachable(int status)
{
	return status == IDG_ERR_UNAVAIL || status == IDG_ERR_TIMEOUT;
}

static void
on_pam_auth(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct pam_auth *pa = ctx;
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	char target[TARGET_MAX], reason[sizeof(rp.error) + 64];
	uint64_t idp_us;

	/* How long the connector waited on the IdP for this login (bench/login subtracts it). */
	if (v != NULL && idg_msg_get_u64(v, IDG_CT_IDP_US, &idp_us) == 0 && idp_us > 0) {
		size_t n = strlen(pa->lr.detail);

		snprintf(pa->lr.detail + n, sizeof(pa->lr.detail) - n, " idp_ms=%.3f",
		    (double)idp_us / 1000.0);
	}
	if (status == 0 && v != NULL) {
		idg_login_accept(d, &pa->lr, v, &rp, target, sizeof(target));
		if (rp.status == IDG_ST_OK) {
			snprintf(pa->target, sizeof(pa->target), "%s", target);
			snprintf(reason, sizeof(reason), "%s login", pa->lr.method);
			if (pa->password)
				idg_offline_remember(d, pa->lr.expect, pa->password);
			(void)idg_login_pam_reply(d, pa->lr.expect, &rp);
		} else {
			snprintf(reason, sizeof(reason), "%s", rp.error);
		}
		auth_done(d, pa, &rp, reason);
		return;
	}
	if (status >= 0)
		status = IDG_ERR_INTERNAL;
	if (pa->password && unreachable(status)) {
		offline_try(d, pa, err && *err ? err : idg_strerror(status));
		return;
	}
	snprintf(reason, sizeof(reason), "%s", err && *err ? err : idg_strerror(status));
	api_fail(&rp, idg_login_status(status), "%s", status == IDG_ERR_BUSY ? "the login "
	    "service is busy; try again shortly" : idg_login_status(status) == IDG_ST_UNAVAIL ?
	    "identity provider unreachable" : reason);
	auth_done(d, pa, &rp, reason);
}

/* A secret PAM must never pass on: too long, empty, or a robot token. */
static bool
secret_ok(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    const struct pam_args *a, uint32_t method, const char *secret)
{
	const char *what = method == IDG_LOGIN_PASSWORD ? "password" : "token";
	size_t max = method == IDG_LOGIN_PASSWORD ? PASSWORD_MAX : (size_t)d->cfg.idp_max_token;
	char reason[300];

	if (secret[0] == '\0') {
		snprintf(reason, sizeof(reason), "an empty %s is never tried", what);
		api_fail(rp, IDG_ST_DENIED, method == IDG_LOGIN_PASSWORD ?
		    "wrong username or password" : "invalid token");
	} else if (strcmp(secret, "\b\n\r\177INCORRECT") == 0) {
		/* sshd's stand-in for the password of a user it could not resolve (OpenSSH
		 * auth-pam.c); pam_idgate never sends it, an older module might. */
		snprintf(reason, sizeof(reason), "sshd could not resolve %s and sent its decoy "
		    "password: not sent to the IdP (is the NSS snapshot usable?)", a->name);
		api_fail(rp, IDG_ST_DENIED, "wrong username or password");
	} else if (strlen(secret) > max) {
		snprintf(reason, sizeof(reason), "the %s is %zu bytes long: at most %zu are tried",
		    what, strlen(secret), max);
		api_fail(rp, IDG_ST_DENIED, "%s too long", what);
	} else if (method == IDG_LOGIN_TOKEN &&
	    strncmp(secret, IDG_TOKEN_PREFIX, strlen(IDG_TOKEN_PREFIX)) == 0) {
		/* Robots have no POSIX account: their tokens log nobody in (docs/decisions.md). */
		snprintf(reason, sizeof(reason), "an idgated robot token was given: robot tokens "
		    "are not accepted for PAM logins (a robot has no POSIX account)");
		api_fail(rp, IDG_ST_DENIED, "robot tokens cannot log in");
	} else {
		return true;
	}
	audit(d, rq, a->target, rp->status, reason, a->detail);
	return false;
}

void
api_pam_auth(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	struct pam_auth *pa = NULL;
	struct idg_user *u;
	struct idg_msg m;
	const char *secret;
	uint32_t method = 0;
	char err[512];
	int rc;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, true))
		return;
	if (idg_msg_get_u32(rq->v, IDG_T_METHOD, &method) < 0 ||
	    (method != IDG_LOGIN_PASSWORD && method != IDG_LOGIN_TOKEN)) {
		api_fail(rp, IDG_ST_INPUT, "login method must be password or token");
		return;
	}
	if (!api_str(rq, rp, IDG_T_SECRET, method == IDG_LOGIN_PASSWORD ? "password" : "token",
	    IDG_WIRE_REQUEST_MAX, &secret) || !pam_ours(d, rq, rp, &a, false, &u) ||
	    !secret_ok(d, rq, rp, &a, method, secret))
		return;
	if ((pa = calloc(1, sizeof(*pa))) == NULL || idg_msg_init(&m, 64 * 1024) < 0 ||
	    (method == IDG_LOGIN_PASSWORD && (pa->password = strdup(secret)) == NULL)) {
		if (pa)
			idg_msg_free(&m);
		pam_auth_free(pa);
		api_fail(rp, IDG_ST_ERROR, "out of memory");
		return;
	}
	pa->lr.conn_serial = rq->conn_serial;
	pa->lr.op = rq->op;
	pa->lr.who = rq->who;
	pa->lr.pam = true;
	snprintf(pa->lr.expect, sizeof(pa->lr.expect), "%s", a.name);
	snprintf(pa->lr.method, sizeof(pa->lr.method), "%s", method == IDG_LOGIN_PASSWORD ?
	    "password" : "token");
	snprintf(pa->lr.detail, sizeof(pa->lr.detail), "%.480s method=%s", a.detail,
	    pa->lr.method);
	snprintf(pa->target, sizeof(pa->target), "%s", a.target);
	rc = idg_msg_add_u32(&m, IDG_CT_OP, method == IDG_LOGIN_PASSWORD ? IDG_CONN_PASSWORD :
	    IDG_CONN_TOKEN);
	/* The password grant asks for the IdP's username: a known user's (alice@example.com
	 * logs in as alice), else the name as typed. */
	if (rc == 0 && method == IDG_LOGIN_PASSWORD && (rc = idg_msg_add_str(&m, IDG_CT_USER,
	    u ? u->principal + strlen("user:") : a.name)) == 0)
		rc = idg_msg_add_str(&m, IDG_CT_PASSWORD, secret);
	else if (rc == 0 && method == IDG_LOGIN_TOKEN)
		rc = idg_msg_add_str(&m, IDG_CT_TOKEN, secret);
	if (rc < 0)
		snprintf(err, sizeof(err), "the request to the connector could not be built");
	else
		rc = idg_connector_call(d, &m, idg_login_idp_wait_ms(d), on_pam_auth, pa, err,
		    sizeof(err));
	idg_msg_free(&m);	/* wipes the secret */
	rp->status = IDG_ST_DEFER;
	if (rc < 0) {
		/* The connector refused at once (not running, busy): the same path as a later
		 * answer, into rp; an offline check still answers later. */
		pa->sync = rp;
		on_pam_auth(d, pa, rc, NULL, err);
		if (rp->status == IDG_ST_DEFER)
			pa->sync = NULL;
	}
}

/* ---------- device logins ---------- */

void
api_pam_device_start(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	struct idg_user *u;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, true) || !pam_ours(d, rq, rp, &a, false, &u))
		return;
	strncat(a.detail, " method=device", sizeof(a.detail) - strlen(a.detail) - 1);
	idg_device_start(d, rq, rp, a.name, a.rhost, a.detail, true);
	if (rp->status != IDG_ST_DEFER) {
		audit(d, rq, a.target, rp->status, rp->error, a.detail);
		if (rp->status == IDG_ST_UNAVAIL)
			api_fail(rp, IDG_ST_UNAVAIL, "identity provider unreachable");
	}
}


void
api_pam_device_wait(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	uint64_t h;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, false) || !idg_login_handle_arg(rq, rp, "device", &h))
		return;
	idg_device_wait(d, rq, rp, h, a.name, true);
	if (rp->status != IDG_ST_DEFER)
		audit(d, rq, a.target, rp->status, rp->error, "method=device");
}

void
api_pam_device_cancel(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	uint64_t h;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, false) || !idg_login_handle_arg(rq, rp, "device", &h))
		return;
	idg_device_cancel(d, rq, rp, h, a.name, true);
}

/* ---------- SAML logins (saml_sp.c) ---------- */

void
api_pam_saml_start(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	struct idg_user *u;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, true) || !pam_ours(d, rq, rp, &a, false, &u))
		return;
	strncat(a.detail, " method=saml", sizeof(a.detail) - strlen(a.detail) - 1);
	idg_saml_sp_login_start(d, rq, rp, a.name, a.rhost, a.detail);
	audit(d, rq, a.target, rp->status, rp->status == IDG_ST_OK ? "SAML login started: "
	    "waiting for the browser" : rp->error, a.detail);
}

void
api_pam_saml_wait(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	uint64_t h;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, false) || !idg_login_handle_arg(rq, rp, "SAML", &h))
		return;
	idg_saml_sp_login_wait(d, rq, rp, h, a.name);
	if (rp->status == IDG_ST_DENIED)
		audit(d, rq, a.target, rp->status, rp->error, "method=saml");
}

void
api_pam_saml_cancel(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	uint64_t h;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, false) || !idg_login_handle_arg(rq, rp, "SAML", &h))
		return;
	idg_saml_sp_login_cancel(d, h, a.name);
}

/* ---------- PAM_ACCOUNT: the login rule ---------- */

/* Is s one of the extra groups (a first login's IdP groups, not stored yet)? */
static bool
in_extra(idg_pid s, const idg_pid *extra, size_t nextra)
{
	for (size_t i = 0; i < nextra; i++)
		if (extra[i] == s)
			return true;
	return false;
}

/* A role bound to pid, one of its groups or one of extra, anywhere; bindings to
 * allClusterUsers (which activation gives projectCreator) do not count. how: which one, for
 * the audit. pid may be IDG_PID_NONE (a principal no binding names yet). */
static bool
any_role(const struct idg_daemon *d, idg_pid pid, const idg_pid *extra, size_t nextra,
    char *how, size_t howlen)
{
	const struct idg_rbac *r = d->st->rbac;

	if (pid == IDG_PID_NONE && nextra == 0)
		return false;
	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++) {
		if (!idg_rbac_resource_live(r, rid))
			continue;
		for (size_t i = 0; i < idg_rbac_binding_count(r, rid); i++) {
			const idg_role *roles;
			size_t n;
			idg_pid s;
			char target[256];

			idg_rbac_binding_at(r, rid, i, &s, &roles, &n);
			if (n == 0 || !((pid != IDG_PID_NONE && s == pid) ||
			    (idg_rbac_principal_kind(r, s) == IDG_PK_GROUP &&
			    ((pid != IDG_PID_NONE && idg_rbac_is_member(r, s, pid)) ||
			    in_extra(s, extra, nextra)))))
				continue;
			api_target(d, rid, target, sizeof(target));
			snprintf(how, howlen, "%s on %s%s%s", idg_rbac_role_name(r, roles[0]), target,
			    s == pid ? "" : " through ", s == pid ? "" : idg_rbac_principal_name(r, s));
			return true;
		}
	}
	return false;
}

/* "group:a, group:b" (at most len bytes), or "no groups". */
static void
groups_text(const struct idg_daemon *d, idg_pid pid, const idg_pid *extra, size_t nextra,
    char *buf, size_t len)
{
	const idg_pid *groups;
	size_t n = 0, off = 0, k = 0;

	snprintf(buf, len, "no groups");
	if (pid != IDG_PID_NONE)
		idg_rbac_groups_of(d->st->rbac, pid, &groups, &n);
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", k++ ? ", " : "",
		    idg_rbac_principal_name(d->st->rbac, groups[i]));
	for (size_t i = 0; i < nextra && off < len; i++)
		if (!in_extra(extra[i], groups, n))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", k++ ? ", " : "",
			    idg_rbac_principal_name(d->st->rbac, extra[i]));
}

/* Does the rule let name (principal, also a member of the extra groups) in? short_out: the
 * line the user sees when not; why: the whole reason either way. */
static bool
login_allowed(const struct idg_daemon *d, const char *name, const char *principal,
    const idg_pid *extra, size_t nextra, char *short_out, size_t shortlen, char *why,
    size_t whylen)
{
	struct idg_login_rule rule;
	idg_pid pid = idg_rbac_principal_find(d->st->rbac, principal);
	char how[512], groups[600], target[256];
	bool held = false;
	idg_rid rid;

	if (idg_config_login_rule(d->cfg.pam_login_rule, &rule, why, whylen) < 0) {
		snprintf(short_out, shortlen, "login refused: this host's login rule is invalid");
		return false;	/* the loaded config was checked: should not happen */
	}
	groups_text(d, pid, extra, nextra, groups, sizeof(groups));
	if (rule.kind == IDG_LOGIN_ANY_ROLE) {
		if (any_role(d, pid, extra, nextra, how, sizeof(how))) {
			snprintf(why, whylen, "login rule any_role: %s", how);
			return true;
		}
		snprintf(short_out, shortlen, "%s holds no role on this cluster", name);
		snprintf(why, whylen, "login rule any_role: no role is bound to %s or to its groups "
		    "(%s) on the cluster, a project or a repo (bindings to allClusterUsers do not "
		    "count)", principal, groups);
		return false;
	}
	rid = rule.rtype == IDG_RT_CLUSTER ? IDG_RID_CLUSTER :
	    idg_rbac_resource_find(d->st->rbac, (enum idg_rtype)rule.rtype, rule.resource);
	if (rid == IDG_RID_NONE) {
		snprintf(short_out, shortlen, "%s may not log in here: the login rule names a %s "
		    "that does not exist", name, idg_rtype_lower((enum idg_rtype)rule.rtype));
		snprintf(why, whylen, "login rule '%s': %s %s does not exist",
		    d->cfg.pam_login_rule, idg_rtype_lower((enum idg_rtype)rule.rtype),
		    rule.resource);
		return false;
	}
	api_target(d, rid, target, sizeof(target));
	/* Permissions are the union over the principal and its groups: each extra group's own
	 * bindings are checked as the group. */
	held = pid != IDG_PID_NONE && idg_rbac_check(d->st->rbac, pid, rule.perm, rid,
	    IDG_CHECK_SKIP_ALL);
	for (size_t i = 0; i < nextra && !held; i++)
		held = idg_rbac_check(d->st->rbac, extra[i], rule.perm, rid, IDG_CHECK_SKIP_ALL);
	if (held) {
		snprintf(why, whylen, "login rule '%s': %s holds %s on %s", d->cfg.pam_login_rule,
		    principal, idg_perm_name(rule.perm), target);
		return true;
	}
	snprintf(short_out, shortlen, "%s may not log in here: needs %s on %s", name,
	    idg_perm_name(rule.perm), target);
	snprintf(why, whylen, "login rule '%s': neither %s nor its groups (%s) hold %s on %s "
	    "(bindings to allClusterUsers do not count)", d->cfg.pam_login_rule, principal,
	    groups, idg_perm_name(rule.perm), target);
	return false;
}

/* The first login of a name (new, or pre-provisioned and not pinned yet) that PAM auth
 * accepted: the login rule decides on the identity it would be, and only when it allows the
 * login is the name pinned and the identity stored. A refused login leaves nothing behind,
 * so it cannot lock out the person the name belongs to. */
static void
account_first(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp,
    struct pam_args *a, const struct idg_pending *p)
{
	static idg_pid extra[IDG_PENDING_GROUPS_MAX];
	char principal[IDG_SUBJECT_MAX + 1], why[1600], msg[300], target[TARGET_MAX];
	size_t nextra = 0;

	if (!idg_login_pending_subjects(d, p, principal, sizeof(principal), extra, &nextra, why,
	    sizeof(why))) {
		api_fail(rp, IDG_ST_DENIED, "login refused");
		audit(d, rq, a->target, IDG_ST_DENIED, why, a->detail);
		return;
	}
	snprintf(a->target, sizeof(a->target), "%s", principal);
	if (!login_allowed(d, a->name, principal, extra, nextra, msg, sizeof(msg), why,
	    sizeof(why))) {
		size_t n = strlen(why);

		snprintf(why + n, sizeof(why) - n, "; a first login: '%s' is not pinned, nothing "
		    "stored", a->name);
		api_fail(rp, IDG_ST_DENIED, "%s", msg);
		audit(d, rq, a->target, IDG_ST_DENIED, why, a->detail);
		return;
	}
	idg_login_pending_commit(d, p, rp, target, sizeof(target));
	if (rp->status != IDG_ST_OK) {
		char reason[sizeof(rp->error) + 64];

		snprintf(reason, sizeof(reason), "%s", rp->error);
		api_fail(rp, rp->status, "%s", rp->status == IDG_ST_DENIED ? "login refused" :
		    "the login could not be recorded");
		audit(d, rq, a->target, rp->status, reason, a->detail);
		return;
	}
	strncat(why, "; first login: the name is pinned to this IdP identity now",
	    sizeof(why) - strlen(why) - 1);
	audit(d, rq, a->target, IDG_ST_OK, why, a->detail);
}

void
api_pam_account(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_pending *p;
	struct pam_args a;
	struct idg_user *u;
	char why[1600], msg[300];

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, true))
		return;
	/* A login this process authenticated and nobody has pinned for it yet: decided on the
	 * identity it brings, even if someone else pinned the name meanwhile (then the commit
	 * refuses it). */
	p = idg_login_pending_take(d, a.name, rq->who.pid, a.detail);
	if (!pam_ours(d, rq, rp, &a, p == NULL, &u)) {
		idg_login_pending_free(p);
		return;
	}
	if (p != NULL) {
		account_first(d, rq, rp, &a, p);
		idg_login_pending_free(p);
		return;
	}
	if (login_allowed(d, u->name, u->principal, NULL, 0, msg, sizeof(msg), why,
	    sizeof(why))) {
		audit(d, rq, a.target, IDG_ST_OK, why, a.detail);
		return;
	}
	api_fail(rp, IDG_ST_DENIED, "%s", msg);
	audit(d, rq, a.target, IDG_ST_DENIED, why, a.detail);
}

/* ---------- sessions ---------- */

void
api_pam_session_open(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_home_req h;
	struct pam_args a;
	struct idg_user *u;
	char home[4200], why[1024], note[512], reason[6000];
	bool created = false;
	int rc;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, true) || !pam_ours(d, rq, rp, &a, true, &u))
		return;
	idg_dir_home(d, u->name, home, sizeof(home));
	note[0] = '\0';
	if (!d->cfg.pam_create_home) {
		snprintf(reason, sizeof(reason), "session opened; home %s not made here ([pam] "
		    "create_home = no)", home);
	} else {
		h = (struct idg_home_req){ .base = d->cfg.idmap_home_base, .name = u->name,
			.uid = u->uid, .gid = idg_dir_primary_gid(d, u), .skel = d->cfg.pam_skel };
		if ((rc = idg_home_create(&h, &created, why, sizeof(why), note, sizeof(note))) < 0) {
			log_err("home directory of %s not made: %s", u->name, why);
			snprintf(reason, sizeof(reason), "session refused: the home directory %s "
			    "cannot be made: %s", home, why);
			api_fail(rp, IDG_ST_ERROR, "cannot create the home directory");
			audit(d, rq, a.target, rp->status, reason, a.detail);
			return;
		}
		snprintf(reason, sizeof(reason), "session opened; home %s %s%s%s", home, created ?
		    "created (first login)" : "exists (left alone)", note[0] ? "; " : "", note);
		if (created)
			log_info("home directory %s made for %s", home, u->name);
	}
	if (idg_dir_passwd_reply(d, rp, u->name, u->uid, idg_dir_primary_gid(d, u), u->gecos))
		audit(d, rq, a.target, IDG_ST_OK, reason, a.detail);
}

void
api_pam_session_close(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct pam_args a;
	struct idg_user *u;

	if (!pam_only(rq, rp) || !pam_args(rq, rp, &a, true) || !pam_ours(d, rq, rp, &a, true, &u))
		return;
	audit(d, rq, a.target, IDG_ST_OK, "session closed", a.detail);
}

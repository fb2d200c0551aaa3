/* pam_idgate.so: IdP logins through idgated. The module holds no policy: it asks idgated over
 * pam.sock (client.c) and talks to the user through the PAM conversation. Local accounts
 * (/etc/passwd) are never its business: they get PAM_USER_UNKNOWN / PAM_IGNORE at once, so
 * pam_unix decides for them and their passwords never leave the process. See pam_idgate(8). */
#include "config.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "common/err.h"
#include "pam/pam_idgate.h"
#include "proto/api.h"

#define SKIP (-1)		/* a method passed over: nothing typed, no first pass */
#define TIME_UP (-2)		/* a device login not completed within its time */
#define RHOST_MAX 1024		/* bytes of PAM_RHOST passed on (an address or a host name) */
#define CODE_MAX 64		/* bytes of a device login's user code */
#define URI_MAX 1024		/* bytes of a verification URL */
#define INTERVAL_DEFAULT 5	/* RFC 8628's default polling interval */
#define INTERVAL_MAX 60
#define CANCEL_TIMEOUT_MS 5000

enum kind { K_AUTH, K_ACCOUNT, K_OPEN, K_CLOSE, K_SETCRED, K_CHAUTHTOK };

static const char *const kind_names[] = { "auth", "account", "session open", "session close",
	"setcred", "chauthtok" };

/* One call of an entry point: who, from where, with which arguments. */
struct login {
	pam_handle_t *pamh;
	enum kind kind;
	struct idg_pam_args a;
	const char *user;
	const char *service;
	const char *rhost;	/* NULL when PAM has none (or an unusable one) */
};

/* A device login (or a SAML login: the same exchange, other ops) started by idgated. */
struct device {
	int saml;		/* PAM_SAML_* rather than PAM_DEVICE_* */
	uint64_t handle;
	uint32_t interval;
	uint32_t expires;
	char code[CODE_MAX + 1];
	char uri[URI_MAX + 1];
	char complete[URI_MAX + 1];
};

static void say(const struct login *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line for the user (PAM_ERROR_MSG), unless PAM_SILENT or the user is gone (close). */
static void
say(const struct login *l, const char *fmt, ...)
{
	char line[IDG_PAM_REASON_MAX + IDG_PAM_NAME_MAX + 128];
	va_list ap;

	if (l->a.silent || l->kind == K_CLOSE)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pam_error(l->pamh, "%s", line);
}

#define debug(l, ...) do { \
	if ((l)->a.debug) \
		pam_syslog((l)->pamh, LOG_DEBUG, __VA_ARGS__); \
} while (0)

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* What the module answers for a name that is not an IdP user's. */
static int
not_ours(enum kind k)
{
	return k == K_AUTH || k == K_ACCOUNT ? PAM_USER_UNKNOWN : PAM_IGNORE;
}

/* The one place idgate's answers become PAM codes, with the line the user sees. rc is the
 * exchange's result; r is read only when rc is 0. */
static int
to_pam(const struct login *l, int rc, const struct idg_pam_reply *r)
{
	int session = l->kind == K_OPEN || l->kind == K_CLOSE;
	char why[IDG_PAM_REASON_MAX + 1] = "";

	if (rc == 0) {
		idg_pam_printable(r->error, why, sizeof(why));
		switch (r->status) {
		case IDG_ST_OK:
			return PAM_SUCCESS;
		case IDG_ST_UNKNOWN:
			return session ? PAM_IGNORE : PAM_USER_UNKNOWN;
		case IDG_ST_DENIED:
			debug(l, "%s of %s denied: %s", kind_names[l->kind], l->user, why);
			if (l->kind == K_AUTH) {
				if (why[0] != '\0')
					say(l, "idgate: %s", why);
				return PAM_AUTH_ERR;
			}
			if (l->kind == K_ACCOUNT) {
				say(l, "idgate: %s", why[0] ? why : "this account may not log in here");
				return PAM_PERM_DENIED;
			}
			say(l, "idgate: the session could not be opened%s%s", why[0] ? ": " : "", why);
			return PAM_SESSION_ERR;
		case IDG_ST_UNAVAIL:
			say(l, "idgate: identity provider unreachable");
			return session ? PAM_SESSION_ERR : PAM_AUTHINFO_UNAVAIL;
		case IDG_ST_ERROR:
			pam_syslog(l->pamh, LOG_ERR, "%s of %s: idgated failed: %s",
			    kind_names[l->kind], l->user, why);
			say(l, "idgate: the login service failed");
			return session ? PAM_SESSION_ERR : PAM_AUTHINFO_UNAVAIL;
		case IDG_ST_INPUT:
			pam_syslog(l->pamh, LOG_ERR, "%s of %s: idgated refused the request: %s",
			    kind_names[l->kind], l->user, why);
			say(l, "idgate: the login service failed");
			return session ? PAM_SESSION_ERR : PAM_SERVICE_ERR;
		default:	/* PENDING where it has no place, or a status we do not know */
			rc = IDG_ERR_PROTO;
			break;
		}
	}
	if (rc == IDG_ERR_NOMEM)
		return PAM_BUF_ERR;
	pam_syslog(l->pamh, LOG_ERR, "%s of %s: %s: %s", kind_names[l->kind], l->user,
	    l->a.socket, rc == IDG_ERR_PROTO ? "malformed reply" : idg_strerror(rc));
	say(l, rc == IDG_ERR_PROTO ? "idgate: the login service failed" :
	    "idgate: the login service is not running");
	return session ? PAM_SESSION_ERR : PAM_AUTHINFO_UNAVAIL;
}

/* OP NAME [SERVICE [RHOST]]: the start of every request. */
static int
req_begin(const struct login *l, struct idg_msg *m, uint32_t op, int with_service)
{
	int rc;

	if ((rc = idg_msg_init(m, IDG_WIRE_REQUEST_MAX)) < 0)
		return rc;
	if ((rc = idg_msg_add_u32(m, IDG_T_OP, op)) < 0 ||
	    (rc = idg_msg_add_str(m, IDG_T_NAME, l->user)) < 0)
		return rc;
	if (with_service && (rc = idg_msg_add_str(m, IDG_T_SERVICE, l->service)) < 0)
		return rc;
	if (with_service && l->rhost != NULL)
		rc = idg_msg_add_str(m, IDG_T_RHOST, l->rhost);
	return rc;
}

/* Send a built request (rc: how building went) and free it, wiping what it held. *r is
 * always safe to free afterwards. */
static int
ask(const struct login *l, struct idg_msg *m, int rc, unsigned timeout_ms,
    struct idg_pam_reply *r)
{
	memset(r, 0, sizeof(*r));
	if (rc == 0)
		rc = idg_pam_call(l->a.socket, m, timeout_ms, r);
	idg_msg_free(m);
	return rc;
}

static unsigned
timeout_ms(const struct login *l)
{
	return l->a.timeout_s * 1000u;
}

/* ---------- auth: a password or a token ---------- */

static int
auth_secret(const struct login *l, const char *secret, int as_token)
{
	size_t len = strnlen(secret, IDG_PAM_TOKEN_MAX + 1);
	struct idg_pam_reply r;
	struct idg_msg m;
	uint32_t method;
	int rc;

	/* OpenSSH's stand-in for the password of a user it could not resolve (auth-pam.c): the
	 * name is unknown to sshd — here, most likely, the NSS snapshot is unusable — and what
	 * the user typed never reaches us. Nothing is sent on: an IdP counting failed logins
	 * must not lock the user out for sshd's decoy. */
	if (strcmp(secret, IDG_PAM_SSHD_DECOY) == 0) {
		pam_syslog(l->pamh, LOG_NOTICE, "sshd could not resolve the user %s (getpwnam "
		    "failed: is the NSS snapshot usable?); its decoy password is not sent to the "
		    "IdP", l->user);
		return PAM_AUTH_ERR;
	}
	if (len > IDG_PAM_TOKEN_MAX)
		as_token = 1;
	else if (!as_token)
		as_token = idg_pam_token_shaped(secret);
	method = as_token ? IDG_LOGIN_TOKEN : IDG_LOGIN_PASSWORD;
	if (len > (as_token ? IDG_PAM_TOKEN_MAX : IDG_PAM_PASSWORD_MAX)) {
		say(l, "idgate: the %s is too long", as_token ? "token" : "password");
		return PAM_AUTH_ERR;
	}
	rc = req_begin(l, &m, IDG_OP_PAM_AUTH, 1);
	if (rc == 0)
		rc = idg_msg_add_u32(&m, IDG_T_METHOD, method);
	if (rc == 0)
		rc = idg_msg_add_str(&m, IDG_T_SECRET, secret);
	rc = ask(l, &m, rc, timeout_ms(l), &r);
	if (rc == IDG_ERR_TOOBIG)
		rc = IDG_ERR_NOMEM;	/* cannot happen: the sizes are checked above */
	debug(l, "auth of %s by %s: %s", l->user, as_token ? "token" : "password",
	    rc < 0 ? idg_strerror(rc) : "answered");
	rc = to_pam(l, rc, &r);
	idg_pam_reply_free(&r);
	return rc;
}

/* The password method (a token typed as a password goes as a token) or the token method. */
static int
method_secret(const struct login *l, int token_prompt)
{
	const void *item = NULL;
	char *typed = NULL;
	int rc;

	if (!token_prompt && (l->a.use_first_pass || l->a.try_first_pass)) {
		if (pam_get_item(l->pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS)
			item = NULL;
		if (item != NULL && *(const char *)item != '\0') {
			rc = auth_secret(l, item, 0);
			if (l->a.use_first_pass || rc != PAM_AUTH_ERR)
				return rc;
		} else if (l->a.use_first_pass) {
			debug(l, "use_first_pass: no password from an earlier module");
			return SKIP;
		}
	}
	rc = pam_prompt(l->pamh, PAM_PROMPT_ECHO_OFF, &typed, "%s",
	    token_prompt ? "Token: " : "Password: ");
	if (rc != PAM_SUCCESS) {
		wipe_free(typed);
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
	}
	if (typed == NULL || typed[0] == '\0') {
		wipe_free(typed);
		return SKIP;
	}
	if (!token_prompt && (rc = pam_set_item(l->pamh, PAM_AUTHTOK, typed)) != PAM_SUCCESS) {
		wipe_free(typed);
		return rc;
	}
	rc = auth_secret(l, typed, token_prompt);
	wipe_free(typed);
	return rc;
}

/* ---------- auth: the device code ---------- */

/* Copy a string field that must be a word (no space, printable) of at most max bytes. */
static int
get_word(const struct idg_msgview *v, uint16_t tag, char *out, size_t max)
{
	const char *s;

	if (idg_msg_get_str(v, tag, &s) < 0 || !idg_pam_word(s, max))
		return IDG_ERR_PROTO;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int
device_parse(const struct idg_msgview *v, struct device *d)
{
	if (idg_msg_get_u64(v, IDG_T_HANDLE, &d->handle) < 0 ||
	    idg_msg_get_u32(v, IDG_T_INTERVAL, &d->interval) < 0 ||
	    idg_msg_get_u32(v, IDG_T_EXPIRES, &d->expires) < 0 || d->expires == 0 ||
	    get_word(v, IDG_T_USER_CODE, d->code, CODE_MAX) < 0 ||
	    get_word(v, IDG_T_VERIFY_URI, d->uri, URI_MAX) < 0)
		return IDG_ERR_PROTO;
	d->complete[0] = '\0';
	if (idg_msg_get(v, IDG_T_VERIFY_URI_COMPLETE) != NULL &&
	    get_word(v, IDG_T_VERIFY_URI_COMPLETE, d->complete, URI_MAX) < 0)
		return IDG_ERR_PROTO;
	if (d->interval == 0)
		d->interval = INTERVAL_DEFAULT;
	if (d->interval > INTERVAL_MAX)
		d->interval = INTERVAL_MAX;
	return 0;
}

/* Giving up on a device login: tell idgated, briefly; its answer changes nothing. */
static void
device_cancel(const struct login *l, uint64_t handle, int saml)
{
	unsigned t = timeout_ms(l) < CANCEL_TIMEOUT_MS ? timeout_ms(l) : CANCEL_TIMEOUT_MS;
	struct idg_pam_reply r;
	struct idg_msg m;
	int rc;

	rc = req_begin(l, &m, saml ? IDG_OP_PAM_SAML_CANCEL : IDG_OP_PAM_DEVICE_CANCEL, 0);
	if (rc == 0)
		rc = idg_msg_add_u64(&m, IDG_T_HANDLE, handle);
	if ((rc = ask(l, &m, rc, t, &r)) == 0)
		idg_pam_reply_free(&r);
	debug(l, "device login of %s cancelled: %s", l->user, rc < 0 ? idg_strerror(rc) : "sent");
}

/* START on a connection kept open for the whole login (*hold_out): idgated forgets the login
 * when it closes, so a login whose process is killed frees its slot at once. */
static int
device_start(const struct login *l, struct device *d, int *hold_out)
{
	struct idg_pam_reply r;
	struct idg_msg m;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = req_begin(l, &m, d->saml ? IDG_OP_PAM_SAML_START : IDG_OP_PAM_DEVICE_START, 1);
	if (rc == 0)
		rc = idg_pam_call_keep(l->a.socket, &m, timeout_ms(l), &r, hold_out);
	idg_msg_free(&m);
	if (rc == 0 && r.status == IDG_ST_OK && device_parse(&r.v, d) < 0) {
		uint64_t h;

		pam_syslog(l->pamh, LOG_ERR, "device login of %s: a start reply without a usable "
		    "handle, code, URL, interval or lifetime", l->user);
		if (idg_msg_get_u64(&r.v, IDG_T_HANDLE, &h) == 0)
			device_cancel(l, h, d->saml);
		idg_pam_reply_free(&r);
		rc = IDG_ERR_PROTO;
	}
	rc = to_pam(l, rc, &r);
	idg_pam_reply_free(&r);
	return rc;
}

static void
sleep_until(int64_t when)
{
	int64_t left;

	while ((left = when - idg_pam_now_ms()) > 0)
		poll(NULL, 0, (int)(left > 1000 ? 1000 : left));
}

/* Ask until idgated says OK or DENIED, or the time is up. *cancel_out: whether idgated may
 * still hold the login (every ending but an answer of OK or DENIED). */
static int
device_wait(const struct login *l, const struct device *d, int64_t deadline, int *cancel_out)
{
	for (;;) {
		int64_t sent = idg_pam_now_ms(), left = deadline - sent;
		unsigned per = (d->interval + l->a.timeout_s) * 1000u;
		struct idg_pam_reply r;
		struct idg_msg m;
		int rc, timed;

		*cancel_out = 1;
		if (left <= 0)
			return TIME_UP;
		timed = (int64_t)per >= left;
		if (timed)
			per = (unsigned)left;
		rc = req_begin(l, &m, d->saml ? IDG_OP_PAM_SAML_WAIT : IDG_OP_PAM_DEVICE_WAIT, 0);
		if (rc == 0)
			rc = idg_msg_add_u64(&m, IDG_T_HANDLE, d->handle);
		rc = ask(l, &m, rc, per, &r);
		if (rc == IDG_ERR_TIMEOUT && timed)
			return TIME_UP;
		if (rc == 0 && r.status == IDG_ST_PENDING) {
			idg_pam_reply_free(&r);
			/* idgated holds a WAIT for about the interval; one that answers at once
			 * must not make us ask in a loop */
			sleep_until(sent + (int64_t)d->interval * 1000 < deadline ?
			    sent + (int64_t)d->interval * 1000 : deadline);
			continue;
		}
		*cancel_out = !(rc == 0 && (r.status == IDG_ST_OK || r.status == IDG_ST_DENIED));
		debug(l, "device login of %s: %s", l->user,
		    rc < 0 ? idg_strerror(rc) : "answered");
		rc = to_pam(l, rc, &r);
		idg_pam_reply_free(&r);
		return rc;
	}
}

/* START; the URL and code IN the text of an echo-on prompt (OpenSSH shows info messages
 * only with the next prompt: bug 2876); after Enter, WAIT until done, within device_wait.
 * saml: a SAML login, whose URL on this node already holds its one-time code. */
static int
method_device(const struct login *l, int saml)
{
	int64_t started = idg_pam_now_ms(), deadline;
	struct device d = { .saml = saml };
	char *typed = NULL;
	int rc, cancel = 1, hold = -1;

	if ((rc = device_start(l, &d, &hold)) != PAM_SUCCESS) {
		if (hold >= 0)
			close(hold);
		return rc;
	}
	deadline = started + (int64_t)(d.expires < l->a.device_wait_s ? d.expires :
	    l->a.device_wait_s) * 1000;
	if (saml)
		rc = pam_prompt(l->pamh, PAM_PROMPT_ECHO_ON, &typed, "To sign in, open %s in a "
		    "browser, then press Enter: ", d.uri);
	else if (d.complete[0] != '\0')
		rc = pam_prompt(l->pamh, PAM_PROMPT_ECHO_ON, &typed, "To sign in, open %s (or open "
		    "%s and enter the code %s), then press Enter: ", d.complete, d.uri, d.code);
	else
		rc = pam_prompt(l->pamh, PAM_PROMPT_ECHO_ON, &typed, "To sign in, open %s and enter "
		    "the code %s, then press Enter: ", d.uri, d.code);
	wipe_free(typed);
	if (rc != PAM_SUCCESS)
		rc = rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : rc;
	else
		rc = device_wait(l, &d, deadline, &cancel);
	if (rc == TIME_UP) {
		debug(l, "device login of %s: not completed in time", l->user);
		say(l, "idgate: the sign-in was not completed in time; please try again");
		rc = PAM_AUTH_ERR;
	}
	if (cancel && rc != PAM_SUCCESS)
		device_cancel(l, d.handle, d.saml);
	if (hold >= 0)
		close(hold);
	return rc;
}

static int
do_auth(const struct login *l)
{
	for (size_t i = 0; i < l->a.nmethods; i++) {
		int rc;

		switch (l->a.methods[i]) {
		case IDG_PAM_M_PASSWORD:
			rc = method_secret(l, 0);
			break;
		case IDG_PAM_M_TOKEN:
			rc = method_secret(l, 1);
			break;
		case IDG_PAM_M_DEVICE:
			rc = method_device(l, 0);
			break;
		case IDG_PAM_M_SAML:
			rc = method_device(l, 1);
			break;
		default:
			rc = PAM_SERVICE_ERR;
			break;
		}
		if (rc != SKIP)
			return rc;
	}
	debug(l, "auth of %s: no method was used", l->user);
	return PAM_AUTH_ERR;
}

/* ---------- account and session ---------- */

static int
do_simple(const struct login *l, uint32_t op)
{
	struct idg_pam_reply r;
	struct idg_msg m;
	int rc;

	rc = req_begin(l, &m, op, 1);
	if (rc == 0 && (op == IDG_OP_PAM_SESSION_OPEN || op == IDG_OP_PAM_SESSION_CLOSE))
		rc = idg_msg_add_u32(&m, IDG_T_PID, (uint32_t)getpid());
	rc = ask(l, &m, rc, timeout_ms(l), &r);
	debug(l, "%s of %s: %s", kind_names[l->kind], l->user,
	    rc < 0 ? idg_strerror(rc) : "answered");
	rc = to_pam(l, rc, &r);
	idg_pam_reply_free(&r);
	return rc;
}

/* ---------- who is asking ---------- */

/* A local account: a line NAME:... in /etc/passwd. idgated never lets an IdP user take a
 * local name, so such a user is pam_unix's, with the daemon up or down. */
static int
local_user(const char *name)
{
	size_t n = strlen(name), cap = 0;
	char *line = NULL;
	int found = 0;
	FILE *f;

	if ((f = fopen(IDG_PAM_PASSWD, "re")) == NULL)
		return 0;	/* then idgated decides: it answers UNKNOWN for local names */
	while (!found && getline(&line, &cap, f) > 0)
		found = strncmp(line, name, n) == 0 && line[n] == ':';
	free(line);
	fclose(f);
	return found;
}

static int
name_usable(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ':' || *s == '/' ||
		    n >= IDG_PAM_NAME_MAX)
			return 0;
	return n > 0;
}

/* PAM_RHOST when it is usable: printable, bounded. */
static const char *
rhost_of(pam_handle_t *pamh)
{
	const void *item = NULL;

	if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS || item == NULL ||
	    !idg_pam_word(item, RHOST_MAX))
		return NULL;
	return item;
}

/* Fill l; PAM_SUCCESS when idgated is to be asked, else the code to return now. */
static int
login_init(struct login *l, pam_handle_t *pamh, enum kind k, int flags, int argc,
    const char **argv)
{
	const void *service = NULL;
	int rc;

	memset(l, 0, sizeof(*l));
	l->pamh = pamh;
	l->kind = k;
	if (pamh == NULL)
		return PAM_SYSTEM_ERR;
	if ((rc = pam_get_user(pamh, &l->user, NULL)) != PAM_SUCCESS || l->user == NULL)
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : not_ours(k);
	if (!name_usable(l->user) || local_user(l->user))
		return not_ours(k);
	if (idg_pam_args_parse(pamh, flags, argc, argv, &l->a) < 0)
		return k == K_OPEN || k == K_CLOSE ? PAM_SESSION_ERR : PAM_SERVICE_ERR;
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS || service == NULL ||
	    !idg_pam_word(service, IDG_PAM_NAME_MAX))
		return k == K_OPEN || k == K_CLOSE ? PAM_SESSION_ERR : PAM_SERVICE_ERR;
	l->service = service;
	l->rhost = rhost_of(pamh);
	return PAM_SUCCESS;
}

/* ---------- the entry points: one dispatcher ---------- */

static int
dispatch(pam_handle_t *pamh, enum kind k, int flags, int argc, const char **argv)
{
	struct login l;
	int rc;

	if ((rc = login_init(&l, pamh, k, flags, argc, argv)) != PAM_SUCCESS)
		return rc;
	switch (k) {
	case K_AUTH:
		rc = do_auth(&l);
		break;
	case K_ACCOUNT:
		rc = do_simple(&l, IDG_OP_PAM_ACCOUNT);
		break;
	case K_OPEN:
		rc = do_simple(&l, IDG_OP_PAM_SESSION_OPEN);
		break;
	case K_CLOSE:
		rc = do_simple(&l, IDG_OP_PAM_SESSION_CLOSE);
		break;
	case K_SETCRED:
		rc = PAM_SUCCESS;	/* no credentials beyond the login itself */
		break;
	case K_CHAUTHTOK:
		/* PAM_AUTHTOK_ERR, not PAM_SERVICE_ERR: it is what passwd(1) expects of a
		 * password that cannot be changed here */
		say(&l, "idgate: the password of %s is changed at the identity provider, "
		    "not on this host", l.user);
		rc = PAM_AUTHTOK_ERR;
		break;
	}
	debug(&l, "%s of %s: %s", kind_names[k], l.user, pam_strerror(pamh, rc));
	return rc;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, K_AUTH, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, K_SETCRED, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, K_ACCOUNT, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, K_OPEN, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, K_CLOSE, flags, argc, argv);
}

PAM_EXTERN int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return dispatch(pamh, K_CHAUTHTOK, flags, argc, argv);
}

/* Logins through the identity provider: 'idgatectl login test' (api.sock, root) and the
 * parts PAM's requests share (api_pam.c): the connector child does the IdP work; here the
 * answer it gives is checked again, mapped to names (idmap), checked against local accounts,
 * the identities already pinned and what a pre-provisioned name was recorded for, and only
 * then stored: the user's pin and its IdP group memberships, in one change. A refused login
 * stores nothing; a PAM login that would pin a name waits here (pending) until PAM account
 * lets it in; a test stores nothing unless asked to. Device logins live here for both
 * callers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/api_login.h"
#include "daemon/connector.h"
#include "daemon/directory.h"
#include "daemon/saml_sp.h"
#include "idmap/idmap.h"

#define MSG_MAX (64u * 1024u)
#define WAIT_SLICE_MS 20000	/* a DEVICE_WAIT answers "pending" after this; ask again */
#define PAM_SLICE_SLACK_MS 2000	/* a PAM_DEVICE_WAIT answers within the interval and this */
#define DEVICES_MAX 64
#define PASSWORD_MAX 4096	/* bytes of a password passed on to the IdP */

/* A device login in progress. The device code is kept here (any connector child can poll
 * it), never in a child, so children may be stopped at any time. */
struct device {
	uint64_t handle;	/* the caller's handle (random); 0: free */
	char *code;		/* the device code: a secret, wiped when forgotten */
	bool starting;		/* reserved: DEVICE_START is with the connector */
	bool abandoned;		/* its PAM connection closed while it was starting */
	uint64_t start_serial;	/* the connection that started it (its owner, for PAM) */
	char rhost[65];		/* PAM: where the login comes from, or "" */
	int64_t expires;	/* unix time */
	unsigned interval;
	int64_t next_poll;	/* monotonic ms */
	int64_t wait_until;	/* monotonic ms; 0: nobody waits */
	uint64_t waiter;	/* conn serial of the DEVICE_WAIT */
	char expect[IDG_POSIX_NAME_MAX + 1];
	char detail[IDG_LOGIN_DETAIL_MAX];	/* PAM: the audit detail (service, rhost) */
	bool polling;		/* a poll is with the connector */
	bool pam;		/* started on pam.sock: only PAM_DEVICE_* may use it */
	bool record;		/* idgatectl login test --device --record */
	pid_t waiter_pid;	/* the process of the last DEVICE_WAIT */
};

#define PENDING_MAX 128

/* A first login PAM auth accepted, waiting for PAM account (idg_login_pending_*). */
struct idg_pending {
	char name[IDG_POSIX_NAME_MAX + 1];
	char method[16];
	char detail[IDG_LOGIN_DETAIL_MAX];
	pid_t pid;		/* the process that authenticated; 0: unknown (SAML) */
	int64_t expires;	/* monotonic ms */
	uint32_t uid;		/* what the passwd reply said */
	char gecos[256];
	struct idg_field *fields;	/* the connector's identity, checked again at account */
	size_t n;
	uint8_t *buf;
};

/* The logins waiting for PAM account: a small table. */
struct pending_tab {
	struct idg_pending *p[PENDING_MAX];
};

#define NOTICE_EVERY_MS (3600 * 1000)	/* an administrator's notice: at most once an hour */

/* A notice about what the IdP sends, which every login would repeat: said, then counted. */
enum { NOTICE_NO_DEVICE, NOTICE_NO_GROUPS };

struct notice {
	int64_t last_ms;	/* monotonic; 0: never said */
	unsigned long held;	/* not said since */
};

struct idg_logins {
	struct device devs[DEVICES_MAX];
	struct pending_tab pending;
	struct notice no_device;	/* device sign-in asked for, none offered */
	struct notice no_groups;	/* the groups claim missing */
};

static struct idg_logins *
logins(struct idg_daemon *d)
{
	if (d->logins == NULL)
		d->logins = calloc(1, sizeof(*d->logins));
	return d->logins;
}

static void device_forget(struct device *dv);

void
idg_logins_free(struct idg_daemon *d)
{
	for (size_t i = 0; d->logins && i < DEVICES_MAX; i++)
		device_forget(&d->logins->devs[i]);
	for (size_t i = 0; d->logins && i < PENDING_MAX; i++)
		idg_login_pending_free(d->logins->pending.p[i]);
	free(d->logins);
	d->logins = NULL;
}

/* Is principal (a subject) in the group called name? */
static bool
api_is_member(const struct idg_daemon *d, const char *name, const char *principal)
{
	char subject[IDG_SUBJECT_MAX + 1];
	idg_pid g, m;

	snprintf(subject, sizeof(subject), "group:%s", name);
	g = idg_rbac_principal_find(d->st->rbac, subject);
	m = idg_rbac_principal_find(d->st->rbac, principal);
	return g != IDG_PID_NONE && m != IDG_PID_NONE && idg_rbac_is_member(d->st->rbac, g, m);
}

static bool
root_only(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp)
{
	if (rq->who.uid == 0 && rq->who.root && !rq->who.via_token)
		return true;
	api_audit(d, rq, "IdP login", "denied", "root only", NULL);
	return api_fail(rp, IDG_ST_DENIED, "%s is not authorized to perform this operation - "
	    "logins are tried by root only", rq->who.name);
}

/* A login's outcome as a reply status. A credential the connector refuses (a wrong password,
 * a malformed or invalid token, an unknown or expired device code) is a denial, not a usage
 * error; a bad or oversized IdP answer is the IdP's failure, not the caller's. */
uint32_t
idg_login_status(int err)
{
	switch (err) {
	case IDG_ERR_DENIED: case IDG_ERR_EXPIRED: case IDG_ERR_INVAL: case IDG_ERR_NOTFOUND:
		return IDG_ST_DENIED;
	case IDG_ERR_UNAVAIL: case IDG_ERR_TIMEOUT: case IDG_ERR_BUSY:
		return IDG_ST_UNAVAIL;
	default:
		return IDG_ST_ERROR;
	}
}

/* Log a notice unless this one was said within the hour; then say how many were held. */
static void __attribute__((format(printf, 3, 4)))
notice(struct idg_daemon *d, int which, const char *fmt, ...)
{
	struct idg_logins *l = logins(d);
	struct notice *n;
	int64_t now = idg_now_ms();
	char line[768];
	va_list ap;

	if (l == NULL)
		return;
	n = which == NOTICE_NO_DEVICE ? &l->no_device : &l->no_groups;
	if (n->last_ms != 0 && now - n->last_ms < NOTICE_EVERY_MS) {
		n->held++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n->held)
		log_notice("%s (and %lu more like it since it was last said; said at most once an "
		    "hour)", line, n->held);
	else
		log_notice("%s (said at most once an hour)", line);
	n->last_ms = now;
	n->held = 0;
}

/* What no login can use as configured: an IdP that answered with something unusable (a
 * method it does not offer, a discovery document for another issuer, idgate's client or
 * scope refused, a malformed or oversized answer) or an [idp] configuration refused. Neither
 * "unreachable" nor a refusal of the user: idgatectl login test exits 4 for it, told by the
 * reply's "failure": "idp" (idgatectl(1)). */
static bool
idp_unusable(int err)
{
	return err == IDG_ERR_CONFIG || err == IDG_ERR_PROTO || err == IDG_ERR_TOOBIG;
}

/* A failed login's reply; only api.sock's callers get the mark (pam_idgate has no use). */
static void
login_fail(struct idg_reply *rp, bool pam, int err, const char *reason)
{
	api_fail(rp, idg_login_status(err), "%s", reason);
	if (!pam && idp_unusable(err))
		cJSON_AddStringToObject(api_obj(rp), "failure", "idp");
}

/* A string the child sent: present when required, printable, bounded. */
static int
child_str(const struct idg_msgview *v, uint16_t tag, size_t max, bool required,
    const char **out)
{
	const char *s = NULL;

	if (idg_msg_get_str(v, tag, &s) < 0) {
		*out = NULL;
		return required ? IDG_ERR_PROTO : 0;
	}
	if (strlen(s) > max || !idg_str_printable(s))
		return IDG_ERR_PROTO;
	*out = s;
	return 0;
}

void
idg_login_audit(struct idg_daemon *d, const struct idg_req *rq, uint64_t conn_serial,
    const char *target, const char *result, const char *reason, const char *detail)
{
	char why[1200];

	if (conn_serial == 0 || idg_server_waiting(d->srv, conn_serial)) {
		api_audit(d, rq, target, result, reason, detail);
		return;
	}
	/* The caller gave up (the PAM module's timeout, an interrupted idgatectl): nothing was
	 * delivered, so nothing is recorded as granted. */
	snprintf(why, sizeof(why), "the caller had gone before the answer, so nobody got it "
	    "(it would have been: %s%s%s)", result, reason && *reason ? ", " : "",
	    reason ? reason : "");
	api_audit(d, rq, target, "abandoned", why, detail);
}

/* Audit the outcome, then answer the caller (for pam.sock, "identity provider unreachable"
 * stands for any unavailability but a busy login service; the audit has the whole reason). */
static void
finish(struct idg_daemon *d, const struct idg_login_req *pl, struct idg_reply *rp,
    const char *target, const char *reason)
{
	struct idg_req rq = { .op = pl->op, .who = pl->who, .fd = -1 };

	idg_login_audit(d, &rq, pl->conn_serial, target, rp->status == IDG_ST_OK ? "ok" :
	    rp->status == IDG_ST_DENIED ? "denied" : pl->pam && rp->status == IDG_ST_UNAVAIL ?
	    "unavailable" : "error", reason, pl->detail[0] ? pl->detail : pl->method);
	if (pl->pam && rp->status == IDG_ST_UNAVAIL && !strstr(rp->error, "busy"))
		api_fail(rp, IDG_ST_UNAVAIL, "identity provider unreachable");
	else if (pl->pam && rp->status == IDG_ST_UNAVAIL)
		api_fail(rp, IDG_ST_UNAVAIL, "the login service is busy; try again shortly");
	if (!idg_server_complete(d->srv, pl->conn_serial, rp))
		log_info("login for %s finished after its caller left", target);
}

static const struct idg_pending *pending_of(struct idg_daemon *d, const char *name);

bool
idg_login_pam_reply(struct idg_daemon *d, const char *name, struct idg_reply *rp)
{
	const struct idg_user *u = idg_state_user(d->st, name);

	cJSON_Delete(rp->json);
	rp->json = NULL;
	if (u == NULL || u->uid == 0) {
		/* A first login waiting for PAM account: what it will be. */
		const struct idg_pending *p = pending_of(d, name);

		if (p == NULL)
			return api_fail(rp, IDG_ST_ERROR, "the login was not recorded");
		return idg_dir_passwd_reply(d, rp, name, p->uid, idg_dir_gid_of_uid(d, p->uid),
		    p->gecos);
	}
	return idg_dir_passwd_reply(d, rp, u->name, u->uid, idg_dir_primary_gid(d, u), u->gecos);
}

/* What a login checked and decided, for the change and the reply. */
struct login_id {
	const char *iss, *sub, *username, *name, *email;
	const char *saml_iss, *saml_sub;	/* a linked SAML identity's own (iss, sub are the
					 * OIDC identity its link attribute names), or NULL */
	char posix[IDG_POSIX_NAME_MAX + 1];
	char principal[IDG_SUBJECT_MAX + 1];	/* the IdP's: user:USERNAME */
	const char *member;	/* the principal memberships are kept for: the stored one */
	char gecos[256];
	struct idg_user *u;	/* known already (pinned or pre-provisioned), or NULL */
	uint32_t uid;
};

/* [saml] same_directory_as_oidc: a SAML identity is the OIDC identity its link attribute
 * names — (the [idp] issuer, that subject) — so both kinds of login of one person find one
 * pin, and the pin still refuses every other identity. The link is never inferred (not from
 * a username, not from a folded name): without the attribute the SAML login is refused. */
static bool
identity_link(struct idg_daemon *d, const struct idg_login_req *pl,
    const struct idg_msgview *v, struct idg_reply *rp, struct login_id *id)
{
	const char *link = NULL;

	if (strcmp(pl->method, "saml") != 0 || !d->cfg.saml_same_directory ||
	    d->cfg.idp_issuer == NULL)
		return true;
	if (child_str(v, IDG_CT_ID_LINK, 255, false, &link) < 0 || link == NULL ||
	    link[0] == '\0')
		return api_fail(rp, IDG_ST_DENIED, "login refused: the SAML assertion has no link "
		    "attribute '%s' ([saml] same_directory_as_oidc)", d->cfg.saml_link_attribute);
	id->saml_iss = id->iss;
	id->saml_sub = id->sub;
	id->iss = d->cfg.idp_issuer;
	id->sub = link;
	return true;
}

/* The identity's fields from the child, mapped to names; false with rp set on refusal. */
static bool
identity_names(struct idg_daemon *d, const struct idg_login_req *pl,
    const struct idg_msgview *v, struct idg_reply *rp, struct login_id *id, char *target,
    size_t tlen)
{
	enum idg_pkind kind;
	char why[512];

	if (child_str(v, IDG_CT_ID_ISS, 512, true, &id->iss) < 0 ||
	    child_str(v, IDG_CT_ID_SUB, 255, true, &id->sub) < 0 ||
	    child_str(v, IDG_CT_ID_USERNAME, IDG_SUBJECT_NAME_MAX, true, &id->username) < 0 ||
	    child_str(v, IDG_CT_ID_NAME, 1024, false, &id->name) < 0 ||
	    child_str(v, IDG_CT_ID_EMAIL, 1024, false, &id->email) < 0 ||
	    id->sub[0] == '\0' || id->username[0] == '\0')
		return api_fail(rp, IDG_ST_DENIED, "the IdP's answer lacks a subject or a username");
	if (!identity_link(d, pl, v, rp, id))
		return false;
	snprintf(id->principal, sizeof(id->principal), "user:%s", id->username);
	if (idg_subject_check(id->principal, &kind, why, sizeof(why)) < 0)
		return api_fail(rp, IDG_ST_DENIED, "login refused: %s", why);
	snprintf(target, tlen, "%s", id->principal);
	if (idg_idmap_login_name((enum idg_idmap_rule)d->cfg.idmap_name_rule,
	    (size_t)d->cfg.idmap_name_max, d->cfg.idmap_fold_domains, id->username, id->posix,
	    sizeof(id->posix), why, sizeof(why)) < 0)
		return api_fail(rp, IDG_ST_DENIED, "login refused: %s", why);
	if (pl->expect[0] && strcmp(pl->expect, id->posix) != 0)
		return api_fail(rp, IDG_ST_DENIED, "login refused: the IdP user maps to login name "
		    "'%s', not '%s'", id->posix, pl->expect);
	idg_dir_gecos(id->name, id->gecos, sizeof(id->gecos));
	return true;
}

/* Is the pre-provisioned (not pinned) user u meant for this identity? What 'idgatectl user
 * add' recorded: the IdP username exactly (no folding: 'Erin@attacker.example' is not
 * 'erin@example.com'), the subject, or both; nothing recorded (a row from before they were)
 * means the IdP username must be the name itself. */
static bool
meant_for(const struct idg_user *u, const struct login_id *id, char *why, size_t whylen)
{
	const char *want = u->want_user ? u->want_user : u->want_sub ? NULL : u->name;
	char q[256];

	idg_quote(id->username, q, sizeof(q));
	if (want && strcmp(want, id->username) != 0) {
		snprintf(why, whylen, "login name '%s' was pre-provisioned for IdP user '%s', not "
		    "for \"%s\"", u->name, want, q);
		return false;
	}
	if (u->want_sub && strcmp(u->want_sub, id->sub) != 0) {
		snprintf(why, whylen, "login name '%s' was pre-provisioned for another IdP subject "
		    "than \"%s\"'s", u->name, q);
		return false;
	}
	return true;
}

/* Local accounts, the pin, and the uid; the user's own mutations go into c. */
static bool
identity_user(struct idg_daemon *d, struct idg_reply *rp, struct login_id *id,
    struct idg_dir_batch *b, struct idg_change *c, int64_t now)
{
	struct idg_user *other;
	char why[512], q[256];
	int rc;

	id->u = idg_state_user(d->st, id->posix);
	if ((rc = idg_dir_user_check(d, id->posix, id->u, why, sizeof(why))) < 0)
		return api_fail(rp, rc == IDG_ERR_DENIED ? IDG_ST_DENIED : IDG_ST_ERROR,
		    "login refused: %s", why);
	/* Two IdP usernames folding into one name: the first pinned keeps it, and the audit
	 * names the one refused. */
	if (id->u && id->u->key && (strcmp(id->u->iss, id->iss) != 0 ||
	    strcmp(id->u->sub, id->sub) != 0)) {
		idg_quote(id->username, q, sizeof(q));
		if (id->saml_iss)
			log_notice("SAML identity \"%s\" links to an OIDC subject that is not the one "
			    "'%s' is pinned to", q, id->posix);
		return api_fail(rp, IDG_ST_DENIED, "login refused: login name '%s' already belongs "
		    "to another IdP identity (this is IdP user \"%s\"%s)", id->posix, q,
		    id->saml_iss ? ", whose SAML link attribute names another subject" : "");
	}
	if ((other = idg_state_user_by_sub(d->st, id->iss, id->sub)) != NULL && other != id->u)
		return api_fail(rp, IDG_ST_DENIED, "login refused: this IdP identity is already "
		    "known as '%s'", other->name);
	if (id->u && id->u->key == NULL && !meant_for(id->u, id, why, sizeof(why)))
		return api_fail(rp, IDG_ST_DENIED, "login refused: %s", why);
	id->member = id->u ? id->u->principal : id->principal;
	id->uid = id->u ? id->u->uid : 0;
	if (id->uid == 0 && (rc = idg_dir_user_uid(d, b, c, id->posix, &id->uid, why,
	    sizeof(why))) < 0)
		return api_fail(rp, rc == IDG_ERR_DENIED || rc == IDG_ERR_TOOBIG ? IDG_ST_DENIED :
		    IDG_ST_ERROR, "login refused: %s", why);
	if (id->u == NULL) {
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_ADD, .a = id->posix,
		    .b = id->principal, .c = id->iss, .d = id->sub, .e = id->gecos, .u = id->uid,
		    .t1 = now });
		return true;
	}
	if (id->u->key == NULL)	/* pre-provisioned: the first login pins it */
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_PIN, .a = id->posix,
		    .c = id->iss, .d = id->sub });
	if (id->u->uid == 0)
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_UID, .a = id->posix,
		    .u = id->uid });
	if (id->name && strcmp(id->u->gecos, id->gecos) != 0)
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_GECOS, .a = id->posix,
		    .e = id->gecos });
	return true;
}

/* The user's IdP groups: new ones created (with their gids), memberships replaced. */
static void
identity_groups(struct idg_daemon *d, const struct login_id *id, const struct idg_msgview *v,
    struct idg_dir_batch *b, struct idg_change *c, cJSON *groups, cJSON *skipped, int64_t now)
{
	struct idg_state *st = d->st;
	char gname[IDG_SUBJECT_NAME_MAX + 1], why[512];
	size_t ng = 0;

	for (size_t i = 0; i < v->n; i++) {
		const struct idg_field *f = &v->fields[i];
		const struct idg_group *g;
		const char *raw;
		cJSON *sk;

		if (f->tag != IDG_CT_ID_GROUP || idg_field_str(f, &raw) < 0)
			continue;
		if (++ng > 1024)
			break;
		if (idg_idmap_group_name(raw, gname, sizeof(gname), why, sizeof(why)) < 0 ||
		    ((g = idg_state_group(st, gname)) != NULL && !g->idp &&
		    snprintf(why, sizeof(why), "a local group '%s' exists; an IdP group never "
		    "shadows it", gname) > 0)) {
			log_notice("login of %s: group skipped: %s", id->principal, why);
			sk = cJSON_CreateObject();
			cJSON_AddStringToObject(sk, "reason", why);
			cJSON_AddItemToArray(skipped, sk);
			continue;
		}
		cJSON_AddItemToArray(groups, cJSON_CreateString(gname));
		if (g == NULL) {
			uint32_t gid = idg_dir_group_gid(d, b, c, gname, why, sizeof(why));

			idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_ADD, .a = gname,
			    .b = "idp", .t1 = now, .u = gid });
		}
		if (g == NULL || !api_is_member(d, gname, id->member))
			idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_MEMBER_ADD, .a = gname,
			    .b = id->member });
	}
	/* IdP groups the user has left since the last login. */
	for (size_t i = 0; i < st->ngroups; i++) {
		const struct idg_group *g = &st->groups[i];
		bool still = false;
		const cJSON *e;

		if (!g->live || !g->idp || !api_is_member(d, g->name, id->member))
			continue;
		cJSON_ArrayForEach(e, groups)
			if (strcmp(e->valuestring, g->name) == 0)
				still = true;
		if (!still)
			idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_MEMBER_DEL, .a = g->name,
			    .b = id->member });
	}
}

static void
identity_reply(struct idg_daemon *d, const struct idg_login_req *pl, const struct login_id *id,
    cJSON *o)
{
	cJSON_AddStringToObject(o, "principal", id->member);
	cJSON_AddStringToObject(o, "posix_name", id->posix);
	cJSON_AddNumberToObject(o, "uid", id->uid);
	cJSON_AddNumberToObject(o, "gid", idg_dir_gid_of_uid(d, id->uid));
	cJSON_AddStringToObject(o, "issuer", id->iss);
	cJSON_AddStringToObject(o, "subject", id->sub);
	if (id->name)
		cJSON_AddStringToObject(o, "name", id->name);
	if (id->email)
		cJSON_AddStringToObject(o, "email", id->email);
	cJSON_AddStringToObject(o, "method", pl->method);
}

enum accept_mode {
	ACCEPT_AUTO,	/* by the request: PAM, login test, login test --record */
	ACCEPT_STORE,	/* PAM account allowed a pending login: store it */
};

/* An IdP that releases groups only for a scope not asked for (or under another claim) gives
 * the user no groups, and takes away those of earlier logins: say so, to login test and (once
 * an hour) to the log. */
static void
identity_groups_absent(struct idg_daemon *d, const struct login_id *id,
    const struct idg_msgview *v, cJSON *o, enum accept_mode mode)
{
	const char *claim = NULL;

	if (child_str(v, IDG_CT_ID_GROUPS_ABSENT, 256, false, &claim) < 0 || claim == NULL ||
	    mode != ACCEPT_AUTO)
		return;
	cJSON_AddStringToObject(o, "groups_claim_absent", claim);
	notice(d, NOTICE_NO_GROUPS, "login of %s: the IdP sent no '%s' claim (in neither the "
	    "token nor userinfo), so the user has no IdP groups; if the IdP releases groups only "
	    "for a scope, add it to [idp] scope (e.g. 'openid profile email groups'), or name "
	    "the claim it uses in [idp] groups_claim", id->member, claim);
}

static void pending_add(struct idg_daemon *d, const struct idg_login_req *pl,
    const struct idg_msgview *v, const struct login_id *id, struct idg_reply *rp);

/* Map and check the identity in v; fill rp and the audit target; store it or keep it pending
 * as idg_login_accept says. One change holds the user (new, pinned now, or updated), its new
 * groups and its memberships. */
static void
accept_identity(struct idg_daemon *d, const struct idg_login_req *pl,
    const struct idg_msgview *v, struct idg_reply *rp, char *target, size_t tlen,
    enum accept_mode mode)
{
	struct login_id id;
	struct idg_dir_batch b;
	struct idg_change c;
	char why[512];
	cJSON *o, *groups, *skipped;
	int64_t now = time(NULL);
	bool store;

	memset(&id, 0, sizeof(id));
	snprintf(target, tlen, "IdP login");
	idg_dir_batch_init(&b);
	idg_change_init(&c);
	if (!identity_names(d, pl, v, rp, &id, target, tlen) ||
	    !identity_user(d, rp, &id, &b, &c, now))
		goto out;
	o = api_obj(rp);
	identity_reply(d, pl, &id, o);
	groups = cJSON_AddArrayToObject(o, "groups");
	skipped = cJSON_AddArrayToObject(o, "skipped_groups");
	identity_groups(d, &id, v, &b, &c, groups, skipped, now);
	identity_groups_absent(d, &id, v, o, mode);
	/* A name is pinned only once the login is allowed in: PAM account decides (a refused
	 * login must not take or keep a name), and a test by root never does. */
	store = mode == ACCEPT_STORE || (pl->pam ? id.u != NULL && id.u->key != NULL :
	    pl->record);
	if (pl->pam && !store) {
		pending_add(d, pl, v, &id, rp);
		goto out;
	}
	if (!store)
		goto out;
	if (c.n > 0 && idg_state_commit(d->st, &c, why, sizeof(why)) < 0) {
		cJSON_Delete(rp->json);
		rp->json = NULL;
		api_fail(rp, IDG_ST_ERROR, "login not recorded: %s", why);
		goto out;
	}
	idg_dir_provisional_forget(d, id.posix);
out:
	idg_change_free(&c);
	idg_dir_batch_free(&b);
}

void
idg_login_accept(struct idg_daemon *d, const struct idg_login_req *lr,
    const struct idg_msgview *v, struct idg_reply *rp, char *target, size_t tlen)
{
	accept_identity(d, lr, v, rp, target, tlen, ACCEPT_AUTO);
}

/* ---------- logins waiting for PAM account ---------- */

#define PENDING_PER_NAME 4	/* a name's pending logins at most: the oldest makes way */
#define PENDING_TTL_MS 120000	/* sshd asks account right after auth: this is generous */
#define PENDING_FIELDS_MAX 1100	/* identity fields kept (groups are cut at 1024 anyway) */


void
idg_login_pending_free(struct idg_pending *p)
{
	if (p == NULL)
		return;
	free(p->fields);
	free(p->buf);
	free(p);
}

static struct pending_tab *
pendings(struct idg_daemon *d)
{
	struct idg_logins *l = logins(d);

	return l ? &l->pending : NULL;
}

static void
pending_expire(struct pending_tab *t, int64_t now)
{
	for (size_t i = 0; t && i < PENDING_MAX; i++)
		if (t->p[i] && t->p[i]->expires <= now) {
			log_info("pending login of %s expired before PAM account asked",
			    t->p[i]->name);
			idg_login_pending_free(t->p[i]);
			t->p[i] = NULL;
		}
}

/* A copy of the identity fields of v (field values point into one buffer). */
static struct idg_pending *
pending_copy(const struct idg_msgview *v)
{
	struct idg_pending *p = calloc(1, sizeof(*p));
	size_t total = 0, n = 0, off = 0;

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < v->n && n < PENDING_FIELDS_MAX; i++, n++)
		total += v->fields[i].len;
	if ((p->fields = calloc(n ? n : 1, sizeof(*p->fields))) == NULL ||
	    (p->buf = malloc(total ? total : 1)) == NULL) {
		idg_login_pending_free(p);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(p->buf + off, v->fields[i].val, v->fields[i].len);
		p->fields[i] = (struct idg_field){ .tag = v->fields[i].tag,
			.len = v->fields[i].len, .val = p->buf + off };
		off += v->fields[i].len;
	}
	p->n = n;
	return p;
}

static void
pending_add(struct idg_daemon *d, const struct idg_login_req *pl,
    const struct idg_msgview *v, const struct login_id *id, struct idg_reply *rp)
{
	struct pending_tab *t = pendings(d);
	struct idg_pending *p = NULL;
	size_t slot = PENDING_MAX, mine = PENDING_MAX, old_same = PENDING_MAX;
	size_t oldest = PENDING_MAX, same = 0;
	int64_t now = idg_now_ms();

	pending_expire(t, now);
	for (size_t i = 0; t && i < PENDING_MAX; i++) {
		const struct idg_pending *q = t->p[i];

		if (q == NULL) {
			if (slot == PENDING_MAX)
				slot = i;
			continue;
		}
		if (oldest == PENDING_MAX || q->expires < t->p[oldest]->expires)
			oldest = i;
		if (strcmp(q->name, id->posix) != 0)
			continue;
		same++;
		if (q->pid != 0 && q->pid == pl->who.pid)
			mine = i;	/* the same process authenticated again */
		if (old_same == PENDING_MAX || q->expires < t->p[old_same]->expires)
			old_same = i;
	}
	/* Full: the oldest makes way (of this name first), rather than refusing: a refusal would
	 * let one IdP account that folds into a name block that name's first logins. */
	if (mine != PENDING_MAX)
		slot = mine;
	else if (same >= PENDING_PER_NAME)
		slot = old_same;
	else if (slot == PENDING_MAX)
		slot = oldest;
	if (t == NULL || slot == PENDING_MAX || (p = pending_copy(v)) == NULL) {
		cJSON_Delete(rp->json);
		rp->json = NULL;
		api_fail(rp, IDG_ST_ERROR, "login not kept: out of memory");
		return;
	}
	if (t->p[slot] != NULL) {
		if (slot != mine)
			log_notice("pending login of %s makes way for a newer one",
			    t->p[slot]->name);
		idg_login_pending_free(t->p[slot]);
		t->p[slot] = NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", id->posix);
	snprintf(p->method, sizeof(p->method), "%s", pl->method);
	snprintf(p->detail, sizeof(p->detail), "%s", pl->detail);
	snprintf(p->gecos, sizeof(p->gecos), "%s", id->u ? id->u->gecos : id->gecos);
	p->pid = pl->who.pid;
	p->uid = id->uid;
	p->expires = now + PENDING_TTL_MS;
	t->p[slot] = p;
	log_info("login of %s as %s accepted; pinned only when PAM account allows it",
	    id->principal, id->posix);
}

/* Was p authenticated with this origin ("service=S[ rhost=H]")? Its detail is the origin of
 * its auth request, then " pid=", " method=" and the like. */
static bool
origin_matches(const char *detail, const char *origin)
{
	size_t n = strlen(origin);

	return strncmp(detail, origin, n) == 0 && (detail[n] == '\0' ||
	    strncmp(detail + n, " pid=", 5) == 0 || strncmp(detail + n, " method=", 8) == 0);
}

struct idg_pending *
idg_login_pending_take(struct idg_daemon *d, const char *name, pid_t pid, const char *origin)
{
	struct pending_tab *t = d->logins ? &d->logins->pending : NULL;
	struct idg_pending *p;
	size_t best = PENDING_MAX;

	pending_expire(t, idg_now_ms());
	for (size_t i = 0; t && i < PENDING_MAX; i++) {
		p = t->p[i];
		if (p == NULL || strcmp(p->name, name) != 0 || (p->pid != 0 && p->pid != pid) ||
		    !origin_matches(p->detail, origin))
			continue;
		if (best == PENDING_MAX || p->expires > t->p[best]->expires)
			best = i;
	}
	if (best == PENDING_MAX)
		return NULL;
	p = t->p[best];
	t->p[best] = NULL;
	return p;
}

static struct idg_login_req
pending_req(const struct idg_pending *p)
{
	struct idg_login_req lr = { .op = IDG_OP_PAM_ACCOUNT, .pam = true };

	lr.who.uid = 0;
	lr.who.root = true;
	lr.who.pam = true;
	lr.who.pid = p->pid;
	snprintf(lr.who.name, sizeof(lr.who.name), "root");
	snprintf(lr.expect, sizeof(lr.expect), "%s", p->name);
	snprintf(lr.method, sizeof(lr.method), "%s", p->method);
	snprintf(lr.detail, sizeof(lr.detail), "%s", p->detail);
	return lr;
}

bool
idg_login_pending_subjects(struct idg_daemon *d, const struct idg_pending *p,
    char *principal, size_t plen, idg_pid *groups, size_t *ngroups, char *why, size_t whylen)
{
	struct idg_msgview v = { .fields = p->fields, .n = p->n };
	struct idg_login_req lr = pending_req(p);
	struct idg_reply rp = { .fd = -1 };
	struct login_id id;
	char target[IDG_SUBJECT_MAX + 32], gname[IDG_SUBJECT_NAME_MAX + 1];
	char subject[IDG_SUBJECT_MAX + 1];
	const struct idg_user *u;
	size_t n = 0;

	memset(&id, 0, sizeof(id));
	if (!identity_names(d, &lr, &v, &rp, &id, target, sizeof(target))) {
		snprintf(why, whylen, "%s", rp.error);
		idg_reply_clear(&rp);
		return false;
	}
	u = idg_state_user(d->st, id.posix);
	/* A name someone else pinned meanwhile is not this login's: its own principal is judged
	 * (and named in the audit); the commit refuses it anyway. */
	if (u && u->key && (strcmp(u->iss, id.iss) != 0 || strcmp(u->sub, id.sub) != 0))
		u = NULL;
	snprintf(principal, plen, "%s", u ? u->principal : id.principal);
	for (size_t i = 0; i < v.n && n < IDG_PENDING_GROUPS_MAX; i++) {
		const struct idg_group *g;
		const char *raw;
		idg_pid gp;
		char gwhy[512];

		if (v.fields[i].tag != IDG_CT_ID_GROUP || idg_field_str(&v.fields[i], &raw) < 0 ||
		    idg_idmap_group_name(raw, gname, sizeof(gname), gwhy, sizeof(gwhy)) < 0 ||
		    ((g = idg_state_group(d->st, gname)) != NULL && !g->idp))
			continue;
		snprintf(subject, sizeof(subject), "group:%s", gname);
		if ((gp = idg_rbac_principal_find(d->st->rbac, subject)) != IDG_PID_NONE)
			groups[n++] = gp;
	}
	*ngroups = n;
	idg_reply_clear(&rp);
	return true;
}

void
idg_login_pending_commit(struct idg_daemon *d, const struct idg_pending *p,
    struct idg_reply *rp, char *target, size_t tlen)
{
	struct idg_msgview v = { .fields = p->fields, .n = p->n };
	struct idg_login_req lr = pending_req(p);

	accept_identity(d, &lr, &v, rp, target, tlen, ACCEPT_STORE);
	cJSON_Delete(rp->json);
	rp->json = NULL;
}

/* The newest pending login of name, for its passwd reply. */
static const struct idg_pending *
pending_of(struct idg_daemon *d, const char *name)
{
	struct pending_tab *t = d->logins ? &d->logins->pending : NULL;
	const struct idg_pending *best = NULL;

	for (size_t i = 0; t && i < PENDING_MAX; i++)
		if (t->p[i] && strcmp(t->p[i]->name, name) == 0 &&
		    (best == NULL || t->p[i]->expires > best->expires))
			best = t->p[i];
	return best;
}

static void
on_login(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct idg_login_req *pl = ctx;
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	char target[IDG_SUBJECT_MAX + 32];

	snprintf(target, sizeof(target), "IdP login");
	if (status == 0 && v != NULL)
		accept_identity(d, pl, v, &rp, target, sizeof(target), ACCEPT_AUTO);
	else
		login_fail(&rp, pl->pam, status < 0 ? status : IDG_ERR_INTERNAL,
		    err && *err ? err : "login failed");
	finish(d, pl, &rp, target, rp.status == IDG_ST_OK ? "" : rp.error);
	idg_reply_clear(&rp);
	free(pl);
}

static struct idg_login_req *
pending_new(const struct idg_req *rq, const char *method, const char *expect)
{
	struct idg_login_req *pl = calloc(1, sizeof(*pl));
	uint32_t flags = 0;

	if (pl == NULL)
		return NULL;
	pl->conn_serial = rq->conn_serial;
	pl->op = rq->op;
	pl->who = rq->who;
	snprintf(pl->method, sizeof(pl->method), "%s", method);
	/* login test --record (root on api.sock) stores what the login yields; nothing else. */
	pl->record = !rq->who.pam && idg_msg_get_u32(rq->v, IDG_T_FLAGS, &flags) == 0 &&
	    (flags & IDG_F_RECORD);
	if (expect)
		snprintf(pl->expect, sizeof(pl->expect), "%s", expect);
	return pl;
}

int64_t
idg_login_idp_wait_ms(const struct idg_daemon *d)
{
	/* Discovery, keys and a token request can each take the whole IdP timeout. */
	return d->cfg.idp_timeout * 1000 * 3 + 5000;
}

void
api_login(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *name = NULL, *secret;
	struct idg_login_req *pl;
	struct idg_msg m;
	uint32_t method = 0;
	char err[512];
	int rc;

	if (!root_only(d, rq, rp))
		return;
	if (idg_msg_get_u32(rq->v, IDG_T_METHOD, &method) < 0 ||
	    (method != IDG_LOGIN_PASSWORD && method != IDG_LOGIN_TOKEN)) {
		api_fail(rp, IDG_ST_INPUT, "login method must be password or token");
		return;
	}
	/* The secret's own limit is checked below, so that refusal is audited like the others. */
	if (!api_opt_str(rq, rp, IDG_T_NAME, "user name", IDG_SUBJECT_NAME_MAX, &name) ||
	    !api_str(rq, rp, IDG_T_SECRET, method == IDG_LOGIN_PASSWORD ? "password" : "token",
	    IDG_WIRE_REQUEST_MAX, &secret))
		return;
	if (strlen(secret) > (method == IDG_LOGIN_PASSWORD ? PASSWORD_MAX :
	    (size_t)d->cfg.idp_max_token)) {
		api_fail(rp, IDG_ST_DENIED, "%s too large", method == IDG_LOGIN_PASSWORD ? "password" :
		    "token");
		api_audit(d, rq, name ? name : "IdP login", "denied", rp->error, NULL);
		return;
	}
	if (method == IDG_LOGIN_PASSWORD && (name == NULL || name[0] == '\0')) {
		api_fail(rp, IDG_ST_INPUT, "a password login needs a user name");
		return;
	}
	if ((pl = pending_new(rq, method == IDG_LOGIN_PASSWORD ? "password" : "token",
	    method == IDG_LOGIN_TOKEN ? name : NULL)) == NULL ||
	    idg_msg_init(&m, MSG_MAX) < 0) {
		free(pl);
		api_fail(rp, IDG_ST_ERROR, "out of memory");
		return;
	}
	rc = idg_msg_add_u32(&m, IDG_CT_OP, method == IDG_LOGIN_PASSWORD ? IDG_CONN_PASSWORD :
	    IDG_CONN_TOKEN);
	if (rc == 0 && method == IDG_LOGIN_PASSWORD) {
		rc = idg_msg_add_str(&m, IDG_CT_USER, name);
		if (rc == 0)
			rc = idg_msg_add_str(&m, IDG_CT_PASSWORD, secret);
	} else if (rc == 0) {
		rc = idg_msg_add_str(&m, IDG_CT_TOKEN, secret);
	}
	if (rc < 0)
		snprintf(err, sizeof(err), "the %s is too long", method == IDG_LOGIN_PASSWORD ?
		    "password" : "token");
	else
		rc = idg_connector_call(d, &m, idg_login_idp_wait_ms(d), on_login, pl, err, sizeof(err));
	idg_msg_free(&m);	/* wipes the secret */
	if (rc < 0) {
		free(pl);
		login_fail(rp, false, rc, err);
		api_audit(d, rq, name ? name : "IdP login", "error", err, NULL);
		return;
	}
	rp->status = IDG_ST_DEFER;
}

/* ---------- device logins ---------- */

static struct device *
device_find(struct idg_daemon *d, uint64_t handle)
{
	struct idg_logins *l = logins(d);

	for (size_t i = 0; l && handle && i < DEVICES_MAX; i++)
		if (l->devs[i].handle == handle && !l->devs[i].starting)
			return &l->devs[i];
	return NULL;
}

/* The IdP has nothing to cancel (RFC 8628): forgetting the code is enough. */
static void
device_forget(struct device *dv)
{
	idg_free_secret(dv->code);
	memset(dv, 0, sizeof(*dv));
}

static bool
device_used(const struct device *dv)
{
	return dv->handle != 0;
}

/* The answer to a started device login: JSON for idgatectl, wire fields for pam.sock. */
static bool
device_started_reply(const struct device *dv, bool pam, const char *code, const char *uri,
    const char *uric, struct idg_reply *rp)
{
	int64_t left = dv->expires - (int64_t)time(NULL);
	char hex[32];
	cJSON *o;

	if (left < 0)
		left = 0;
	if (pam)
		return api_reply_u64(rp, IDG_T_HANDLE, dv->handle) &&
		    api_reply_str(rp, IDG_T_USER_CODE, code) &&
		    api_reply_str(rp, IDG_T_VERIFY_URI, uri) &&
		    (uric == NULL || api_reply_str(rp, IDG_T_VERIFY_URI_COMPLETE, uric)) &&
		    api_reply_u32(rp, IDG_T_INTERVAL, dv->interval) &&
		    api_reply_u32(rp, IDG_T_EXPIRES, (uint32_t)left);
	o = api_obj(rp);
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)dv->handle);
	cJSON_AddStringToObject(o, "handle", hex);
	cJSON_AddStringToObject(o, "user_code", code);
	cJSON_AddStringToObject(o, "verification_uri", uri);
	if (uric)
		cJSON_AddStringToObject(o, "verification_uri_complete", uric);
	cJSON_AddNumberToObject(o, "expires_in", (double)left);
	cJSON_AddNumberToObject(o, "interval", dv->interval);
	return true;
}

/* The reserved slot of the START that connection serial made. */
static struct device *
device_starting(struct idg_daemon *d, uint64_t serial)
{
	struct idg_logins *l = logins(d);

	for (size_t i = 0; l && i < DEVICES_MAX; i++)
		if (l->devs[i].starting && l->devs[i].start_serial == serial)
			return &l->devs[i];
	return NULL;
}

static void
on_device_start(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct idg_login_req *pl = ctx;
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	const char *code = NULL, *uri = NULL, *uric = NULL, *dcode = NULL;
	uint64_t expires = 0;
	uint32_t interval = 5;
	struct device *dv = device_starting(d, pl->conn_serial);
	char reason[sizeof(rp.error)] = "";

	if (dv == NULL || dv->abandoned) {
		if (dv)
			device_forget(dv);
		api_fail(&rp, IDG_ST_DENIED, "the login was abandoned while it started");
		goto out;
	}
	if (status == IDG_ERR_NOTFOUND) {
		/* The IdP publishes no device endpoint: the method is not offered. pam_idgate's
		 * Enter-for-device user hears that in a few words, the audit has the whole. */
		device_forget(dv);
		snprintf(reason, sizeof(reason), "%s", err && *err ? err : "the identity provider "
		    "does not offer device sign-in");
		if (pl->pam)
			api_fail(&rp, IDG_ST_DENIED, "device sign-in is not offered by your identity "
			    "provider; use your password");
		else
			login_fail(&rp, false, IDG_ERR_CONFIG, reason);
		if (pl->pam)
			notice(d, NOTICE_NO_DEVICE, "device sign-in was asked for, but the "
			    "identity provider offers none (no device_authorization_endpoint in "
			    "its discovery document): take 'device' out of pam_idgate's methods=");
		goto out;
	}
	if (status != 0 || v == NULL) {
		device_forget(dv);
		login_fail(&rp, pl->pam, status < 0 ? status : IDG_ERR_INTERNAL,
		    err && *err ? err : "device login failed");
		goto out;
	}
	(void)idg_msg_get_u64(v, IDG_CT_EXPIRES, &expires);
	(void)idg_msg_get_u32(v, IDG_CT_INTERVAL, &interval);
	if (child_str(v, IDG_CT_DEVICE_CODE, 2048, true, &dcode) < 0 ||
	    child_str(v, IDG_CT_USER_CODE, 64, true, &code) < 0 ||
	    child_str(v, IDG_CT_URI, 2048, true, &uri) < 0 ||
	    child_str(v, IDG_CT_URI_COMPLETE, 2048, false, &uric) < 0 || dcode[0] == '\0') {
		device_forget(dv);
		api_fail(&rp, IDG_ST_ERROR, "the IdP's device authorization answer is incomplete");
		goto out;
	}
	if ((dv->code = strdup(dcode)) == NULL) {
		device_forget(dv);
		api_fail(&rp, IDG_ST_ERROR, "out of memory");
		goto out;
	}
	dv->starting = false;
	dv->expires = (int64_t)expires;
	dv->interval = interval && interval <= 600 ? interval : 5;
	dv->record = pl->record;
	if (!device_started_reply(dv, pl->pam, code, uri, uric, &rp))
		device_forget(dv);
out:
	/* finish audits before it changes the reply: the reason may be rp.error. */
	finish(d, pl, &rp, pl->expect[0] && pl->pam ? pl->expect : "IdP device login",
	    rp.status == IDG_ST_OK ? "started" : reason[0] ? reason : rp.error);
	idg_reply_clear(&rp);
	free(pl);
}

/* A free slot for a new device login, or why not (PAM: per name and per source). */
static struct device *
device_reserve(struct idg_daemon *d, const char *expect, const char *rhost, bool pam,
    char *why, size_t whylen)
{
	struct idg_logins *l = logins(d);
	struct device *free_slot = NULL;
	size_t by_name = 0, by_source = 0;

	if (l == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < DEVICES_MAX; i++) {
		struct device *dv = &l->devs[i];

		if (!device_used(dv)) {
			free_slot = free_slot ? free_slot : dv;
			continue;
		}
		if (pam && dv->pam && strcmp(dv->expect, expect) == 0)
			by_name++;
		if (pam && dv->pam && rhost && rhost[0] && strcmp(dv->rhost, rhost) == 0)
			by_source++;
	}
	if (pam && by_name >= IDG_DEVICE_PER_NAME)
		snprintf(why, whylen, "too many sign-ins in progress for %s; finish or cancel one, "
		    "then try again", expect);
	else if (pam && by_source >= IDG_DEVICE_PER_SOURCE)
		snprintf(why, whylen, "too many sign-ins in progress from %s; try again later",
		    rhost);
	else if (free_slot == NULL)
		snprintf(why, whylen, "too many device logins in progress; try again later");
	else
		return free_slot;
	return NULL;
}

void
idg_device_start(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    const char *expect, const char *rhost, const char *detail, bool pam)
{
	struct idg_login_req *pl;
	struct device *dv;
	struct idg_msg m;
	char err[512];
	int rc;

	if ((dv = device_reserve(d, expect ? expect : "", rhost, pam, err, sizeof(err))) == NULL) {
		api_fail(rp, IDG_ST_DENIED, "%s", err);
		return;
	}
	if ((pl = pending_new(rq, "device", expect)) == NULL || idg_msg_init(&m, 256) < 0) {
		free(pl);
		api_fail(rp, IDG_ST_ERROR, "out of memory");
		return;
	}
	memset(dv, 0, sizeof(*dv));
	while (dv->handle == 0)
		if (RAND_bytes((unsigned char *)&dv->handle, sizeof(dv->handle)) != 1)
			break;
	if (dv->handle == 0) {
		idg_msg_free(&m);
		free(pl);
		api_fail(rp, IDG_ST_ERROR, "no randomness for a login handle");
		return;
	}
	dv->starting = true;
	dv->start_serial = rq->conn_serial;
	dv->pam = pam;
	snprintf(dv->rhost, sizeof(dv->rhost), "%s", rhost ? rhost : "");
	snprintf(dv->expect, sizeof(dv->expect), "%s", expect ? expect : "");
	snprintf(dv->detail, sizeof(dv->detail), "%s", detail ? detail : "");
	pl->pam = pam;
	snprintf(pl->detail, sizeof(pl->detail), "%s", detail ? detail : "");
	rc = idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_DEVICE_START);
	if (rc == 0)
		rc = idg_connector_call(d, &m, idg_login_idp_wait_ms(d), on_device_start, pl, err,
		    sizeof(err));
	else
		snprintf(err, sizeof(err), "out of memory");
	idg_msg_free(&m);
	if (rc < 0) {
		device_forget(dv);
		free(pl);
		login_fail(rp, pam, rc, err);
		return;
	}
	rp->status = IDG_ST_DEFER;
}

void
api_device_start(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *name = NULL;

	if (!root_only(d, rq, rp) ||
	    !api_opt_str(rq, rp, IDG_T_NAME, "user name", IDG_POSIX_NAME_MAX, &name))
		return;
	idg_device_start(d, rq, rp, name, NULL, NULL, false);
}

bool
idg_login_handle_arg(const struct idg_req *rq, struct idg_reply *rp, const char *what,
    uint64_t *h)
{
	if (idg_msg_get_u64(rq->v, IDG_T_HANDLE, h) < 0 || *h == 0)
		return api_fail(rp, IDG_ST_INPUT, "no %s login handle given", what);
	return true;
}

/* Answer a device waiter: the identity, or why not, or "pending" when its slice ran out
 * (or, for pam.sock, after each poll the user has not decided yet). */
static void
device_answer(struct idg_daemon *d, struct device *dv, struct idg_reply *rp)
{
	struct idg_login_req pl = { .conn_serial = dv->waiter,
		.op = dv->pam ? IDG_OP_PAM_DEVICE_WAIT : IDG_OP_DEVICE_WAIT, .pam = dv->pam };
	char target[IDG_SUBJECT_MAX + 32];

	pl.who.uid = 0;
	pl.who.root = true;
	snprintf(pl.who.name, sizeof(pl.who.name), "root");
	snprintf(pl.method, sizeof(pl.method), "device");
	snprintf(pl.expect, sizeof(pl.expect), "%s", dv->expect);
	snprintf(pl.detail, sizeof(pl.detail), "%s", dv->detail);
	dv->wait_until = 0;
	if (rp->status == IDG_ST_PENDING) {
		(void)idg_server_complete(d->srv, pl.conn_serial, rp);
		return;
	}
	snprintf(target, sizeof(target), "%s", rp->status == IDG_ST_OK ?
	    cJSON_GetStringValue(cJSON_GetObjectItem(rp->json, "principal")) :
	    dv->pam ? dv->expect : "IdP device login");
	if (dv->pam && rp->status == IDG_ST_OK)
		(void)idg_login_pam_reply(d, dv->expect, rp);
	finish(d, &pl, rp, target, rp->status == IDG_ST_OK ? "" : rp->error);
}

static void
on_device_poll(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	uint64_t handle = (uint64_t)(uintptr_t)ctx;
	struct device *dv = device_find(d, handle);
	struct idg_reply rp = { .status = IDG_ST_OK, .fd = -1 };
	char target[IDG_SUBJECT_MAX + 32];
	uint32_t interval = 0;

	if (dv == NULL)
		return;	/* cancelled meanwhile */
	dv->polling = false;
	if (status == (int)IDG_CONN_PENDING) {
		if (v && idg_msg_get_u32(v, IDG_CT_INTERVAL, &interval) == 0 && interval > 0 &&
		    interval <= 600)
			dv->interval = interval;
		dv->next_poll = idg_now_ms() + (int64_t)dv->interval * 1000;
		/* idgatectl's waiter hears "pending" when its slice ends; PAM's now, so that
		 * the module asks again about once an interval. */
		if (dv->pam && dv->wait_until) {
			api_fail(&rp, IDG_ST_PENDING, "not approved yet: ask again");
			device_answer(d, dv, &rp);
		}
		return;
	}
	if (status == 0 && v != NULL) {
		struct idg_login_req pl = { .op = dv->pam ? IDG_OP_PAM_DEVICE_WAIT :
			IDG_OP_DEVICE_WAIT };

		snprintf(pl.expect, sizeof(pl.expect), "%s", dv->expect);
		snprintf(pl.method, sizeof(pl.method), "device");
		snprintf(pl.detail, sizeof(pl.detail), "%s", dv->detail);
		pl.pam = dv->pam;
		pl.record = dv->record;
		pl.who.pid = dv->waiter_pid;
		accept_identity(d, &pl, v, &rp, target, sizeof(target), ACCEPT_AUTO);
	} else {
		login_fail(&rp, dv->pam, status < 0 ? status : IDG_ERR_INTERNAL,
		    err && *err ? err : "device login failed");
	}
	if (dv->wait_until)
		device_answer(d, dv, &rp);
	idg_reply_clear(&rp);
	device_forget(dv);
}

static void
device_poll(struct idg_daemon *d, struct device *dv)
{
	struct idg_msg m;
	char err[256];

	if (idg_msg_init(&m, 256) < 0)
		return;
	if (idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_DEVICE_POLL) == 0 &&
	    idg_msg_add_str(&m, IDG_CT_DEVICE_CODE, dv->code) == 0 &&
	    idg_msg_add_u32(&m, IDG_CT_INTERVAL, dv->interval) == 0 &&
	    idg_msg_add_u64(&m, IDG_CT_EXPIRES, (uint64_t)dv->expires) == 0 &&
	    idg_connector_call(d, &m, idg_login_idp_wait_ms(d), on_device_poll,
	    (void *)(uintptr_t)dv->handle, err, sizeof(err)) == 0)
		dv->polling = true;
	idg_msg_free(&m);
}

/* The device login h, if it is the caller's kind (pam.sock or not) and, for PAM, NAME's. */
static struct device *
device_of(struct idg_daemon *d, uint64_t h, const char *name, bool pam)
{
	struct device *dv = device_find(d, h);

	if (dv == NULL || dv->pam != pam || (pam && strcmp(dv->expect, name ? name : "") != 0))
		return NULL;
	return dv;
}

void
idg_device_wait(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    uint64_t h, const char *name, bool pam)
{
	struct device *dv;
	int64_t now = idg_now_ms(), slice, left;

	if ((dv = device_of(d, h, name, pam)) == NULL || dv->expires < time(NULL)) {
		api_fail(rp, IDG_ST_DENIED, "device login expired or unknown: start again");
		return;
	}
	if (dv->wait_until) {
		api_fail(rp, IDG_ST_INPUT, "someone is already waiting for this device login");
		return;
	}
	/* A wait never outlives the device code. */
	slice = pam ? (int64_t)dv->interval * 1000 + PAM_SLICE_SLACK_MS : WAIT_SLICE_MS;
	left = (dv->expires - (int64_t)time(NULL)) * 1000 + 1000;
	dv->waiter = rq->conn_serial;
	dv->waiter_pid = rq->who.pid;
	dv->wait_until = now + (slice < left ? slice : left);
	if (!dv->polling && dv->next_poll <= now)
		dv->next_poll = now;	/* the tick polls now */
	rp->status = IDG_ST_DEFER;
}

void
api_device_wait(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	uint64_t h;

	if (!root_only(d, rq, rp) || !idg_login_handle_arg(rq, rp, "device", &h))
		return;
	idg_device_wait(d, rq, rp, h, NULL, false);
}

void
idg_device_cancel(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    uint64_t h, const char *name, bool pam)
{
	struct device *dv;

	(void)rq;
	(void)rp;
	if ((dv = device_of(d, h, name, pam)) != NULL) {
		if (dv->wait_until) {
			struct idg_reply w = { .fd = -1 };

			api_fail(&w, IDG_ST_DENIED, "device login cancelled");
			device_answer(d, dv, &w);
		}
		device_forget(dv);
	}
}

void
api_device_cancel(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	uint64_t h;

	if (!root_only(d, rq, rp) || !idg_login_handle_arg(rq, rp, "device", &h))
		return;
	idg_device_cancel(d, rq, rp, h, NULL, false);
}

/* ---------- idgatectl login test --saml: the SAML logins live in saml_sp.c ---------- */

void
api_saml_start(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *name = NULL;
	uint32_t flags = 0;

	if (!root_only(d, rq, rp) ||
	    !api_str(rq, rp, IDG_T_NAME, "user name", IDG_POSIX_NAME_MAX, &name))
		return;
	(void)idg_msg_get_u32(rq->v, IDG_T_FLAGS, &flags);
	idg_saml_sp_test_start(d, rp, name, (flags & IDG_F_RECORD) != 0);
}

void
api_saml_wait(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	uint64_t h;

	if (root_only(d, rq, rp) && idg_login_handle_arg(rq, rp, "SAML", &h))
		idg_saml_sp_test_wait(d, rp, h);
}

void
api_saml_cancel(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	uint64_t h;

	if (root_only(d, rq, rp) && idg_login_handle_arg(rq, rp, "SAML", &h))
		idg_saml_sp_test_cancel(d, h);
}

void
idg_logins_tick(struct idg_daemon *d, int64_t now)
{
	struct idg_logins *l = d->logins;

	for (size_t i = 0; l && i < DEVICES_MAX; i++) {
		struct device *dv = &l->devs[i];

		if (dv->handle == 0 || dv->starting)
			continue;
		if (dv->expires < time(NULL)) {
			if (dv->wait_until) {
				struct idg_reply w = { .fd = -1 };

				api_fail(&w, IDG_ST_DENIED, "device code expired");
				device_answer(d, dv, &w);
			}
			device_forget(dv);
			continue;
		}
		/* A poll with the connector keeps its waiter: the answer must find someone. */
		if (dv->wait_until && now >= dv->wait_until && !dv->polling) {
			struct idg_reply w = { .fd = -1 };

			api_fail(&w, IDG_ST_PENDING, "not approved yet: ask again");
			device_answer(d, dv, &w);
		}
		if (dv->wait_until && !dv->polling && now >= dv->next_poll)
			device_poll(d, dv);
	}
}

void
idg_logins_conn_closed(struct idg_daemon *d, uint64_t serial)
{
	struct idg_logins *l = d->logins;

	for (size_t i = 0; l && i < DEVICES_MAX; i++) {
		struct device *dv = &l->devs[i];

		if (!device_used(dv) || !dv->pam || dv->start_serial != serial)
			continue;
		if (dv->starting) {
			dv->abandoned = true;	/* on_device_start drops it */
			continue;
		}
		log_info("device login of %s abandoned (its PAM process went away)", dv->expect);
		if (dv->wait_until) {
			struct idg_reply w = { .fd = -1 };

			api_fail(&w, IDG_ST_DENIED, "device login abandoned");
			device_answer(d, dv, &w);
		}
		device_forget(dv);
	}
}

/* Requests about the user directory: pre-provisioning a user before its first login (with
 * its uid and IdP group memberships), deleting one (its uid stays held for its name), and
 * listing them. Who may: CLUSTER_AUTH_MODIFY_GROUP_MEMBERS on the cluster to change, as for
 * groups (docs/decisions.md); CLUSTER_AUTH_GET_GROUP_USERS to list. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/dir_int.h"

#define USER_GROUPS_MAX 256	/* groups named in one user add */
#define GECOS_MAX 255

struct user_args {
	const char *name;
	const char *idp_user;	/* the IdP username NAME is for, or NULL */
	const char *subject;	/* the subject NAME is for, or NULL */
	char principal[IDG_SUBJECT_MAX + 1];
	char gecos[GECOS_MAX + 1];
	char (*groups)[IDG_SUBJECT_NAME_MAX + 1];
	size_t ngroups;
};

/* A refusal that is audited and logged with its reason. */
static void
refuse(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp, uint32_t status,
    const char *target, const char *why)
{
	api_fail(rp, status, "user %s refused: %s", target, why);
	log_notice("%s", rp->error);
	api_audit(d, rq, target, status == IDG_ST_ERROR ? "error" : "denied", why, NULL);
}

/* NAME: exactly a valid POSIX login name (no case folding: what was typed is the name). */
static bool
name_arg(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    const char **out)
{
	char posix[IDG_POSIX_NAME_MAX + 1], why[512];

	if (!api_str(rq, rp, IDG_T_NAME, "user name", IDG_SUBJECT_NAME_MAX, out))
		return false;
	if (idg_idmap_posix_name(IDG_IDMAP_USERNAME, (size_t)d->cfg.idmap_name_max, *out, posix,
	    sizeof(posix), why, sizeof(why)) < 0 || strcmp(posix, *out) != 0) {
		char q[256];

		idg_quote(*out, q, sizeof(q));
		return api_fail(rp, IDG_ST_INPUT, "\"%s\" is not a valid login name: at most %lld of "
		    "a-z, 0-9, '_', '.', '-', starting with a letter or '_'", q,
		    d->cfg.idmap_name_max);
	}
	return true;
}

/* --idp-user and --subject: the identity NAME is kept for. The IdP username must map to
 * NAME by the configured rule (and [idmap] fold_domains), or its logins could never have it;
 * with neither, the IdP username must be NAME itself. */
static bool
identity_args(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    struct user_args *a)
{
	char posix[IDG_POSIX_NAME_MAX + 1], why[512], q[256];
	enum idg_pkind kind;

	if (!api_opt_str(rq, rp, IDG_T_IDP_USER, "IdP username", IDG_SUBJECT_NAME_MAX,
	    &a->idp_user) || !api_opt_str(rq, rp, IDG_T_SUBJECT, "subject", 255, &a->subject))
		return false;
	if (a->subject && (a->subject[0] == '\0' || !idg_str_printable(a->subject)))
		return api_fail(rp, IDG_ST_INPUT, "the subject must be printable text");
	if (a->idp_user == NULL) {
		snprintf(a->principal, sizeof(a->principal), "user:%s", a->name);
		return true;
	}
	snprintf(a->principal, sizeof(a->principal), "user:%s", a->idp_user);
	idg_quote(a->idp_user, q, sizeof(q));
	if (a->idp_user[0] == '\0' || idg_subject_check(a->principal, &kind, why,
	    sizeof(why)) < 0)
		return api_fail(rp, IDG_ST_INPUT, "\"%s\" cannot be an IdP username here", q);
	if (idg_idmap_login_name((enum idg_idmap_rule)d->cfg.idmap_name_rule,
	    (size_t)d->cfg.idmap_name_max, d->cfg.idmap_fold_domains, a->idp_user, posix,
	    sizeof(posix), why, sizeof(why)) < 0)
		return api_fail(rp, IDG_ST_INPUT, "IdP user \"%s\" can never log in as %s: %s", q,
		    a->name, why);
	if (strcmp(posix, a->name) != 0)
		return api_fail(rp, IDG_ST_INPUT, "IdP user \"%s\" logs in as %s, not %s ([idmap] "
		    "name_rule)", q, posix, a->name);
	return true;
}

/* --group values: "g1,g2" lists or repeated fields, each an IdP group name. */
static bool
group_args(const struct idg_req *rq, struct idg_reply *rp, struct user_args *a)
{
	for (size_t i = 0; i < rq->v->n; i++) {
		const struct idg_field *f = &rq->v->fields[i];
		char buf[8192], *save = NULL, why[512];
		const char *s;

		if (f->tag != IDG_T_MEMBER)
			continue;
		if (idg_field_str(f, &s) < 0 || strlen(s) >= sizeof(buf))
			return api_fail(rp, IDG_ST_INPUT, "malformed group list");
		strcpy(buf, s);
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char *g;
			bool dup = false;

			if (strncmp(tok, "group:", 6) == 0)
				tok += 6;
			if (a->ngroups == USER_GROUPS_MAX)
				return api_fail(rp, IDG_ST_INPUT, "at most %d groups per user", USER_GROUPS_MAX);
			g = a->groups[a->ngroups];
			if (idg_idmap_group_name(tok, g, IDG_SUBJECT_NAME_MAX + 1, why, sizeof(why)) < 0)
				return api_fail(rp, IDG_ST_INPUT, "%s", why);
			for (size_t k = 0; k < a->ngroups; k++)
				dup |= strcmp(a->groups[k], g) == 0;
			if (!dup)
				a->ngroups++;
		}
	}
	return true;
}

static bool
gecos_arg(const struct idg_req *rq, struct idg_reply *rp, struct user_args *a)
{
	const char *g = NULL;

	if (!api_opt_str(rq, rp, IDG_T_DESC, "gecos", GECOS_MAX, &g))
		return false;
	if (g && (!idg_str_printable(g) || strpbrk(g, ":\n")))
		return api_fail(rp, IDG_ST_INPUT, "the gecos text cannot hold ':', a newline or a "
		    "control character");
	snprintf(a->gecos, sizeof(a->gecos), "%s", g ? g : "");
	return true;
}

/* The groups must be IdP groups (or new ones, created as IdP groups). */
static bool
groups_ok(struct idg_daemon *d, struct idg_reply *rp, const struct user_args *a)
{
	for (size_t i = 0; i < a->ngroups; i++) {
		const struct idg_group *g = idg_state_group(d->st, a->groups[i]);

		if (g && !g->idp)
			return api_fail(rp, IDG_ST_INPUT, "group %s is a local idgate group: add members "
			    "to it with 'idgatectl group add-user'", a->groups[i]);
	}
	return true;
}

/* The change: held uid taken back, the user, new groups with their gids, memberships. */
static int
build_add(struct idg_daemon *d, const struct user_args *a, struct idg_change *c,
    uint32_t *uid_out, cJSON *groups, char *why, size_t whylen)
{
	struct idg_dir_batch b;
	int64_t now = time(NULL);
	int rc;

	idg_dir_batch_init(&b);
	if ((rc = idg_dir_user_uid(d, &b, c, a->name, uid_out, why, whylen)) < 0)
		goto out;
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_ADD, .a = a->name,
	    .b = a->principal, .e = a->gecos, .u = *uid_out, .t1 = now });
	/* Recorded even when it is the default (the IdP username is NAME): what the row says is
	 * what a login must match. */
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_EXPECT, .a = a->name,
	    .b = a->idp_user ? a->idp_user : a->subject ? NULL : a->name, .c = a->subject });
	for (size_t i = 0; i < a->ngroups; i++) {
		const char *g = a->groups[i];
		char gwhy[512];
		uint32_t gid;

		if (idg_state_group(d->st, g) == NULL) {
			/* First the gid: taking a held one back adds its release before the group. */
			gid = idg_dir_group_gid(d, &b, c, g, gwhy, sizeof(gwhy));
			idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_ADD, .a = g,
			    .b = "idp", .t1 = now, .u = gid });
		}
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_MEMBER_ADD, .a = g,
		    .b = a->principal });
		cJSON_AddItemToArray(groups, cJSON_CreateString(g));
	}
out:
	idg_dir_batch_free(&b);
	return rc;
}

/* Is the principal some other user's (an IdP username that maps to another login name)? */
static bool
principal_taken(const struct idg_daemon *d, const char *principal)
{
	for (size_t i = 0; i < d->st->nusers; i++)
		if (d->st->users[i].live && strcmp(d->st->users[i].principal, principal) == 0)
			return true;
	return false;
}

void
api_user_add(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	static char groups[USER_GROUPS_MAX][IDG_SUBJECT_NAME_MAX + 1];
	struct user_args a = { .groups = groups };
	char why[512];
	struct idg_change c;
	uint32_t uid = 0;
	cJSON *o, *garr;
	int rc;

	if (!name_arg(d, rq, rp, &a.name) || !group_args(rq, rp, &a) || !gecos_arg(rq, rp, &a) ||
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_MODIFY_GROUP_MEMBERS) ||
	    !identity_args(d, rq, rp, &a))
		return;
	if (idg_state_user(d->st, a.name) || principal_taken(d, a.principal)) {
		api_fail(rp, IDG_ST_INPUT, "user %s already exists", a.name);
		return;
	}
	if (!groups_ok(d, rp, &a))
		return;
	if ((rc = idg_dir_user_check(d, a.name, NULL, why, sizeof(why))) < 0) {
		refuse(d, rq, rp, rc == IDG_ERR_DENIED ? IDG_ST_INPUT : IDG_ST_ERROR, a.name, why);
		return;
	}
	o = api_obj(rp);
	garr = cJSON_CreateArray();
	idg_change_init(&c);
	if ((rc = build_add(d, &a, &c, &uid, garr, why, sizeof(why))) < 0) {
		cJSON_Delete(garr);
		refuse(d, rq, rp, rc == IDG_ERR_DENIED || rc == IDG_ERR_TOOBIG ? IDG_ST_INPUT :
		    IDG_ST_ERROR, a.name, why);
	} else if (api_commit(d, rq, rp, &c, a.principal, a.name)) {
		idg_dir_provisional_forget(d, a.name);
		cJSON_AddStringToObject(o, "user", a.name);
		cJSON_AddStringToObject(o, "principal", a.principal);
		cJSON_AddStringToObject(o, "idp_user", a.idp_user ? a.idp_user : a.subject ? "" :
		    a.name);
		if (a.subject)
			cJSON_AddStringToObject(o, "subject", a.subject);
		cJSON_AddNumberToObject(o, "uid", uid);
		cJSON_AddNumberToObject(o, "gid", idg_dir_gid_of_uid(d, uid));
		cJSON_AddItemToObject(o, "groups", garr);
	} else {
		cJSON_Delete(garr);
	}
	idg_change_free(&c);
}

void
api_user_delete(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const struct idg_user *u;
	struct idg_change c;
	const char *name;
	char detail[64], principal[IDG_SUBJECT_MAX + 1];

	if (!api_str(rq, rp, IDG_T_NAME, "user name", IDG_SUBJECT_NAME_MAX, &name) ||
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_MODIFY_GROUP_MEMBERS))
		return;
	if ((u = idg_state_user(d->st, name)) == NULL) {
		char q[256];

		idg_quote(name, q, sizeof(q));
		api_fail(rp, IDG_ST_INPUT, "user \"%s\" not found", q);
		return;
	}
	/* The commit frees u: what the audit line names is copied first. */
	snprintf(principal, sizeof(principal), "%s", u->principal);
	snprintf(detail, sizeof(detail), "uid %u held", u->uid);
	if (u->uid == 0)
		detail[0] = '\0';
	idg_change_init(&c);
	idg_dir_user_delete(d, &c, u, time(NULL));
	if (api_commit(d, rq, rp, &c, principal, detail[0] ? detail : NULL))
		cJSON_AddStringToObject(api_obj(rp), "user", name);
	idg_change_free(&c);
}

/* 'idgatectl user unpin': root only, since it lets another IdP identity take a name. The
 * pin goes and the name is pre-provisioned again — uid, principal, bindings and groups stay —
 * for the identity given (--idp-user, --subject; neither: the IdP username NAME), which pins
 * it at its first login PAM account lets in. Its offline credential goes with the pin: it
 * was the old identity's password. */
void
api_user_unpin(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	static char groups[1][IDG_SUBJECT_NAME_MAX + 1];
	struct user_args a = { .groups = groups };
	const struct idg_user *u;
	struct idg_change c;
	char detail[1024], principal[IDG_SUBJECT_MAX + 1], q[256];
	cJSON *o;

	if (!name_arg(d, rq, rp, &a.name))
		return;
	if (rq->who.uid != 0 || !rq->who.root || rq->who.via_token) {
		api_audit(d, rq, a.name, "denied", "root only", NULL);
		api_fail(rp, IDG_ST_DENIED, "%s is not authorized to perform this operation - "
		    "names are unpinned by root only", rq->who.name);
		return;
	}
	if (!identity_args(d, rq, rp, &a))
		return;
	if ((u = idg_state_user(d->st, a.name)) == NULL) {
		idg_quote(a.name, q, sizeof(q));
		api_fail(rp, IDG_ST_INPUT, "user \"%s\" not found", q);
		return;
	}
	if (u->key == NULL) {
		api_fail(rp, IDG_ST_INPUT, "user %s is not pinned to an IdP identity", a.name);
		return;
	}
	/* The commit changes u: what the audit line names is copied first. */
	snprintf(principal, sizeof(principal), "%s", u->principal);
	if (a.idp_user || !a.subject)
		snprintf(detail, sizeof(detail), "was issuer %.400s subject %.255s; now for IdP "
		    "user %.255s%s%.255s", u->iss, u->sub, a.idp_user ? a.idp_user : a.name,
		    a.subject ? " subject " : "", a.subject ? a.subject : "");
	else
		snprintf(detail, sizeof(detail), "was issuer %.400s subject %.255s; now for subject "
		    "%.255s", u->iss, u->sub, a.subject);
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_USER_UNPIN, .a = a.name });
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_USER_EXPECT, .a = a.name,
	    .b = a.idp_user ? a.idp_user : a.subject ? NULL : a.name, .c = a.subject });
	if (u->offline)
		idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_OFFLINE_DEL, .a = a.name });
	if (api_commit(d, rq, rp, &c, principal, detail)) {
		log_notice("user %s unpinned by root (%s)", a.name, detail);
		o = api_obj(rp);
		cJSON_AddStringToObject(o, "user", a.name);
		cJSON_AddStringToObject(o, "principal", principal);
		cJSON_AddStringToObject(o, "idp_user", a.idp_user ? a.idp_user : a.subject ? "" :
		    a.name);
		if (a.subject)
			cJSON_AddStringToObject(o, "subject", a.subject);
	}
	idg_change_free(&c);
}

/* One user as JSON: the POSIX entry, the principal, the pin, the groups. */
static cJSON *
user_json(struct idg_daemon *d, const struct idg_user *u)
{
	idg_pid pid = idg_rbac_principal_find(d->st->rbac, u->principal);
	const idg_pid *groups;
	char home[4200], why[512];
	size_t n = 0;
	cJSON *o = cJSON_CreateObject(), *g;

	idg_dir_home(d, u->name, home, sizeof(home));
	cJSON_AddStringToObject(o, "name", u->name);
	cJSON_AddNumberToObject(o, "uid", u->uid);
	cJSON_AddNumberToObject(o, "gid", u->uid ? idg_dir_primary_gid(d, u) : 0);
	cJSON_AddStringToObject(o, "principal", u->principal);
	cJSON_AddBoolToObject(o, "pinned", u->key != NULL);
	if (u->key) {
		cJSON_AddStringToObject(o, "issuer", u->iss);
		cJSON_AddStringToObject(o, "subject", u->sub);
	} else {
		/* What the first login must be (meant_for in api_login.c). */
		cJSON_AddStringToObject(o, "for_idp_user", u->want_user ? u->want_user :
		    u->want_sub ? "" : u->name);
		if (u->want_sub)
			cJSON_AddStringToObject(o, "for_subject", u->want_sub);
	}
	cJSON_AddStringToObject(o, "gecos", u->gecos);
	cJSON_AddStringToObject(o, "home", home);
	cJSON_AddStringToObject(o, "shell", d->cfg.idmap_shell);
	cJSON_AddNumberToObject(o, "created", (double)u->created);
	if (!idg_dir_user_visible(d, u, why, sizeof(why)))
		cJSON_AddStringToObject(o, "hidden", why);
	g = cJSON_AddArrayToObject(o, "groups");
	if (pid != IDG_PID_NONE)
		idg_rbac_groups_of(d->st->rbac, pid, &groups, &n);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(g, cJSON_CreateString(idg_rbac_principal_name(d->st->rbac,
		    groups[i]) + strlen("group:")));
	return o;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp((*(const struct idg_user *const *)a)->name,
	    (*(const struct idg_user *const *)b)->name);
}

void
api_user_list(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const struct idg_user **list;
	size_t n = 0;
	cJSON *arr;

	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_GROUP_USERS))
		return;
	if ((list = calloc(d->st->nusers + 1, sizeof(*list))) == NULL) {
		api_fail(rp, IDG_ST_ERROR, "out of memory");
		return;
	}
	for (size_t i = 0; i < d->st->nusers; i++)
		if (d->st->users[i].live)
			list[n++] = &d->st->users[i];
	qsort(list, n, sizeof(*list), cmp_name);
	(void)idg_localdb_refresh(&d->dir->local);
	arr = cJSON_AddArrayToObject(api_obj(rp), "users");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, user_json(d, list[i]));
	free(list);
}

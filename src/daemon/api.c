/* idgated's request table, caller identification, and the helpers every handler shares:
 * argument checking, authorization with the exact denial message, commit and audit. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/api_login.h"
#include "daemon/api_pam.h"
#include "daemon/directory.h"
#include "daemon/token.h"

static const struct {
	enum idg_op op;
	idg_api_fn fn;
	const char *action;
	bool pam_ok;	/* allowed on pam.sock */
} handlers[] = {
	{ IDG_OP_PING, api_ping, "ping", true },
	{ IDG_OP_WHOAMI, api_whoami, "auth.whoami", false },
	{ IDG_OP_ACTIVATE, api_activate, "auth.activate", false },
	{ IDG_OP_DEACTIVATE, api_deactivate, "auth.deactivate", false },
	{ IDG_OP_SET, api_set, "auth.set", false },
	{ IDG_OP_GET, api_get, "auth.get", false },
	{ IDG_OP_CHECK, api_check, "auth.check", false },
	{ IDG_OP_EXPLAIN, api_explain, "auth.explain", false },
	{ IDG_OP_ROLES_FOR_PERM, api_roles_for_perm, "auth.roles-for-permission", false },
	{ IDG_OP_GET_GROUPS, api_get_groups, "auth.get-groups", false },
	{ IDG_OP_ROBOT_TOKEN, api_robot_token, "auth.get-robot-token", false },
	{ IDG_OP_REVOKE, api_revoke, "auth.revoke", false },
	{ IDG_OP_ASSIGN_ROLE, api_assign_role, "rbac.assign-role", false },
	{ IDG_OP_UNASSIGN_ROLE, api_assign_role, "rbac.unassign-role", false },
	{ IDG_OP_MY_PERMISSIONS, api_my_permissions, "rbac.my-permissions", false },
	{ IDG_OP_SUBJECT_ROLES, api_subject_roles, "rbac.list-subject-roles", false },
	{ IDG_OP_ROLE_LIST, api_role_list, "rbac.list-roles", false },
	{ IDG_OP_ROLE_DESCRIBE, api_role_describe, "rbac.describe-role", false },
	{ IDG_OP_ROLE_CREATE, api_role_create, "rbac.create-role", false },
	{ IDG_OP_ROLE_DELETE, api_role_delete, "rbac.delete-role", false },
	{ IDG_OP_PROJECT_CREATE, api_project_create, "project.create", false },
	{ IDG_OP_PROJECT_DELETE, api_project_delete, "project.delete", false },
	{ IDG_OP_PROJECT_LIST, api_project_list, "project.list", false },
	{ IDG_OP_REPO_CREATE, api_repo_create, "repo.create", false },
	{ IDG_OP_REPO_DELETE, api_repo_delete, "repo.delete", false },
	{ IDG_OP_REPO_LIST, api_repo_list, "repo.list", false },
	{ IDG_OP_PIPELINE_CREATE, api_pipeline_create, "pipeline.create", false },
	{ IDG_OP_PIPELINE_UPDATE, api_pipeline_create, "pipeline.update", false },
	{ IDG_OP_PIPELINE_DELETE, api_pipeline_delete, "pipeline.delete", false },
	{ IDG_OP_PIPELINE_LIST, api_pipeline_list, "pipeline.list", false },
	{ IDG_OP_GROUP_CREATE, api_group_create, "group.create", false },
	{ IDG_OP_GROUP_DELETE, api_group_delete, "group.delete", false },
	{ IDG_OP_GROUP_ADD, api_group_members, "group.add-user", false },
	{ IDG_OP_GROUP_REMOVE, api_group_members, "group.remove-user", false },
	{ IDG_OP_GROUP_LIST, api_group_list, "group.list", false },
	{ IDG_OP_GROUP_DESCRIBE, api_group_describe, "group.describe", false },
	{ IDG_OP_GROUP_RENAME, api_group_rename, "group.change-name", false },
	{ IDG_OP_FILE_PUT, api_file_put, "file.put", false },
	{ IDG_OP_FILE_GET, api_file_get, "file.get", false },
	{ IDG_OP_FILE_LIST, api_file_list, "file.list", false },
	{ IDG_OP_FILE_DELETE, api_file_delete, "file.delete", false },
	{ IDG_OP_LOGIN, api_login, "login", true },
	{ IDG_OP_DEVICE_START, api_device_start, "login.device_start", true },
	{ IDG_OP_DEVICE_WAIT, api_device_wait, "login.device_wait", true },
	{ IDG_OP_DEVICE_CANCEL, api_device_cancel, "login.device_cancel", true },
	{ IDG_OP_SAML_START, api_saml_start, "login.saml_start", false },
	{ IDG_OP_SAML_WAIT, api_saml_wait, "login.saml_wait", false },
	{ IDG_OP_SAML_CANCEL, api_saml_cancel, "login.saml_cancel", false },
	{ IDG_OP_USER_ADD, api_user_add, "user.add", false },
	{ IDG_OP_USER_DELETE, api_user_delete, "user.delete", false },
	{ IDG_OP_USER_LIST, api_user_list, "user.list", false },
	{ IDG_OP_USER_UNPIN, api_user_unpin, "user.unpin", false },
	{ IDG_OP_NSS_PROVISIONAL, api_nss_provisional, "nss.provisional", true },
	{ IDG_OP_PAM_AUTH, api_pam_auth, "pam.auth", true },
	{ IDG_OP_PAM_DEVICE_START, api_pam_device_start, "pam.device_start", true },
	{ IDG_OP_PAM_DEVICE_WAIT, api_pam_device_wait, "pam.device_wait", true },
	{ IDG_OP_PAM_DEVICE_CANCEL, api_pam_device_cancel, "pam.device_cancel", true },
	{ IDG_OP_PAM_ACCOUNT, api_pam_account, "pam.account", true },
	{ IDG_OP_PAM_SESSION_OPEN, api_pam_session_open, "pam.session_open", true },
	{ IDG_OP_PAM_SESSION_CLOSE, api_pam_session_close, "pam.session_close", true },
	{ IDG_OP_PAM_SAML_START, api_pam_saml_start, "pam.saml_start", true },
	{ IDG_OP_PAM_SAML_WAIT, api_pam_saml_wait, "pam.saml_wait", true },
	{ IDG_OP_PAM_SAML_CANCEL, api_pam_saml_cancel, "pam.saml_cancel", true },
};

const char *
api_action(const struct idg_req *rq)
{
	for (size_t i = 0; i < IDG_ARRAY_SIZE(handlers); i++)
		if (handlers[i].op == rq->op)
			return handlers[i].action;
	return "unknown";
}

bool
idg_api_dispatch(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	for (size_t i = 0; i < IDG_ARRAY_SIZE(handlers); i++) {
		if (handlers[i].op != rq->op)
			continue;
		if (rq->who.pam && !handlers[i].pam_ok) {
			api_fail(rp, IDG_ST_INPUT, "this request is not served on pam.sock");
			return true;
		}
		handlers[i].fn(d, rq, rp);
		return true;
	}
	return false;
}

/* The IdP user whose uid this is and who is in the POSIX view, or NULL. */
static const struct idg_user *
uid_user(const struct idg_daemon *d, uid_t uid)
{
	const struct idg_user *u;
	char why[256];
	uint32_t v;

	if (uid == 0 || idg_idtab_get(&d->st->ids, (uint32_t)uid, &v) < 0 ||
	    IDG_IDO_KIND(v) != IDG_IDO_USER || IDG_IDO_INDEX(v) >= d->st->nusers)
		return NULL;
	u = &d->st->users[IDG_IDO_INDEX(v)];
	if (!u->live || u->uid != uid || !idg_dir_user_visible(d, u, why, sizeof(why)))
		return NULL;
	return u;
}

void
idg_api_identify(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_caller *who = &rq->who;
	const struct idg_user *u;
	const char *token = NULL, *as = NULL;
	enum idg_pkind kind;

	who->principal = IDG_PID_NONE;
	if (!api_opt_str(rq, rp, IDG_T_TOKEN, "token", IDG_TOKEN_MAX, &token) ||
	    !api_opt_str(rq, rp, IDG_T_AS, "--as subject", IDG_SUBJECT_MAX, &as))
		return;
	if (as && (token || who->uid != 0)) {
		/* Only root may act as someone, and only as itself otherwise: a robot token plus
		 * --as would be two identities at once. */
		snprintf(who->name, sizeof(who->name), "uid:%u", (unsigned)who->uid);
		who->anonymous = true;
		api_audit(d, rq, "", "denied", token ? "--as combined with a token" :
		    "--as used by a non-root caller", NULL);
		api_fail(rp, IDG_ST_DENIED, token ? "--as cannot be combined with a robot token" :
		    "only root may act as another subject (--as)");
		return;
	}
	if (token) {
		struct idg_token *t;
		char hash[65];

		if (idg_token_hash(token, hash) < 0 || (t = idg_state_token(d->st, hash)) == NULL ||
		    (t->expires && t->expires <= (int64_t)time(NULL))) {
			snprintf(who->name, sizeof(who->name), "uid:%u", (unsigned)who->uid);
			who->anonymous = true;
			api_audit(d, rq, "", "denied", "invalid, expired or revoked token", NULL);
			api_fail(rp, IDG_ST_DENIED, "the token is invalid, expired or revoked");
			return;
		}
		snprintf(who->name, sizeof(who->name), "%s", t->subject);
		who->via_token = true;
	} else if (as) {
		if (who->uid != 0) {
			snprintf(who->name, sizeof(who->name), "uid:%u", (unsigned)who->uid);
			who->anonymous = true;
			api_audit(d, rq, "", "denied", "--as used by a non-root caller", NULL);
			api_fail(rp, IDG_ST_DENIED, "only root may act as another subject (--as)");
			return;
		}
		if (!api_subject(rp, as, &kind))
			return;
		snprintf(who->name, sizeof(who->name), "%s", as);
		who->root = kind == IDG_PK_ROOT;
	} else if (who->uid == 0) {
		snprintf(who->name, sizeof(who->name), "%s", IDG_SUBJECT_ROOT);
		who->root = true;
	} else if ((u = uid_user(d, who->uid)) != NULL) {
		/* An IdP user's own uid: that user (as long as no local account holds the uid). */
		snprintf(who->name, sizeof(who->name), "%s", u->principal);
	} else {
		/* A local uid that belongs to no idgate identity holds no permissions. */
		snprintf(who->name, sizeof(who->name), "uid:%u", (unsigned)who->uid);
		who->anonymous = true;
		return;
	}
	who->principal = idg_rbac_principal_find(d->st->rbac, who->name);
}

bool
api_fail(struct idg_reply *rp, uint32_t status, const char *fmt, ...)
{
	va_list ap;

	rp->status = status;
	va_start(ap, fmt);
	vsnprintf(rp->error, sizeof(rp->error), fmt, ap);
	va_end(ap);
	return false;
}

bool
api_opt_str(const struct idg_req *rq, struct idg_reply *rp, uint16_t tag, const char *what,
    size_t max, const char **out)
{
	const struct idg_field *f = idg_msg_get(rq->v, tag);
	const char *s;

	*out = NULL;
	if (f == NULL)
		return true;
	if (idg_field_str(f, &s) < 0)
		return api_fail(rp, IDG_ST_INPUT, "malformed %s", what);
	if (strlen(s) > max)
		return api_fail(rp, IDG_ST_INPUT, "%s is %zu bytes long: at most %zu are allowed", what,
		    strlen(s), max);
	*out = s;
	return true;
}

bool
api_str(const struct idg_req *rq, struct idg_reply *rp, uint16_t tag, const char *what,
    size_t max, const char **out)
{
	if (!api_opt_str(rq, rp, tag, what, max, out))
		return false;
	if (*out == NULL)
		return api_fail(rp, IDG_ST_INPUT, "missing %s", what);
	return true;
}

uint32_t
api_flags(const struct idg_req *rq)
{
	uint32_t f = 0;

	(void)idg_msg_get_u32(rq->v, IDG_T_FLAGS, &f);
	return f;
}

static void
anonymous_message(const struct idg_caller *who, struct idg_reply *rp)
{
	api_fail(rp, IDG_ST_DENIED, "uid %u has no idgate identity, so it holds no permissions: "
	    "log in as an identity-provider user, or pass a robot token (--token or IDGATE_TOKEN)",
	    (unsigned)who->uid);
}

bool
api_need_identity(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp)
{
	if (!rq->who.anonymous)
		return true;
	anonymous_message(&rq->who, rp);
	api_audit(d, rq, "", "denied", "no idgate identity", NULL);
	return false;
}

void
api_target(const struct idg_daemon *d, idg_rid rid, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", idg_rtype_upper(idg_rbac_resource_type(d->st->rbac, rid)),
	    idg_rbac_resource_name(d->st->rbac, rid));
}

bool
api_repo(struct idg_daemon *d, struct idg_reply *rp, const char *arg, idg_rid *rid,
    char name_out[API_NAME_BUF])
{
	char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1], why[512];

	if (idg_repo_split(arg, project, repo, why, sizeof(why)) < 0)
		return api_fail(rp, IDG_ST_INPUT, "%s", why);
	snprintf(name_out, API_NAME_BUF, "%s/%s", project, repo);
	if ((*rid = idg_rbac_resource_find(d->st->rbac, IDG_RT_REPO, name_out)) == IDG_RID_NONE)
		return api_fail(rp, IDG_ST_INPUT, "repo %s not found", name_out);
	return true;
}

bool
api_resource(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp, idg_rid *rid,
    enum idg_rtype *type, char name_out[API_NAME_BUF])
{
	const char *t, *name = NULL;
	char why[512];

	if (!api_str(rq, rp, IDG_T_RTYPE, "resource type", 16, &t) ||
	    !api_opt_str(rq, rp, IDG_T_RNAME, "resource name", IDG_WIRE_REQUEST_MAX, &name))
		return false;
	if (strcmp(t, "cluster") == 0) {
		*type = IDG_RT_CLUSTER;
		*rid = IDG_RID_CLUSTER;
		name_out[0] = '\0';
		return true;
	}
	if (name == NULL)
		return api_fail(rp, IDG_ST_INPUT, "missing %s name", t);
	if (strcmp(t, "project") == 0) {
		*type = IDG_RT_PROJECT;
		if (idg_name_project(name, why, sizeof(why)) < 0)
			return api_fail(rp, IDG_ST_INPUT, "%s", why);
		snprintf(name_out, API_NAME_BUF, "%s", name);
		if ((*rid = idg_rbac_resource_find(d->st->rbac, IDG_RT_PROJECT, name)) == IDG_RID_NONE)
			return api_fail(rp, IDG_ST_INPUT, "project %s not found", name);
		return true;
	}
	if (strcmp(t, "repo") == 0) {
		*type = IDG_RT_REPO;
		return api_repo(d, rp, name, rid, name_out);
	}
	{
		char q[256];

		idg_quote(t, q, sizeof(q));
		return api_fail(rp, IDG_ST_INPUT, "unknown resource type \"%s\": expected cluster, "
		    "project or repo", q);
	}
}

bool
api_allowed(const struct idg_daemon *d, const struct idg_caller *who, idg_rid rid, int perm_number)
{
	if (who->anonymous)
		return false;
	return idg_rbac_check(d->st->rbac, who->principal, idg_perm_index(perm_number), rid, 0);
}

bool
api_require(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp, idg_rid rid,
    const int *perm_numbers, size_t n)
{
	char perms[512] = "", target[256], reason[700];
	size_t off = 0;
	bool ok = true;

	if (rq->who.anonymous) {
		anonymous_message(&rq->who, rp);
		api_target(d, rid, target, sizeof(target));
		api_audit(d, rq, target, "denied", "no idgate identity", NULL);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!api_allowed(d, &rq->who, rid, perm_numbers[i]))
			ok = false;
	if (ok)
		return true;
	/* Pachyderm's wording: the required permissions, space-separated, in brackets. */
	for (size_t i = 0; i < n && off < sizeof(perms); i++)
		off += (size_t)snprintf(perms + off, sizeof(perms) - off, "%s%s", i ? " " : "",
		    idg_perm_name(idg_perm_index(perm_numbers[i])));
	api_target(d, rid, target, sizeof(target));
	api_fail(rp, IDG_ST_DENIED, "%s is not authorized to perform this operation - needs "
	    "permissions [%s] on %s. Run `idgatectl auth roles-for-permission` to find roles that "
	    "grant a given permission.", rq->who.name, perms, target);
	snprintf(reason, sizeof(reason), "needs permissions [%s]", perms);
	api_audit(d, rq, target, "denied", reason, NULL);
	return false;
}

bool
api_require1(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp, idg_rid rid,
    int perm_number)
{
	return api_require(d, rq, rp, rid, &perm_number, 1);
}

bool
api_subject(struct idg_reply *rp, const char *subject, enum idg_pkind *kind)
{
	char why[512];

	if (idg_subject_check(subject, kind, why, sizeof(why)) < 0)
		return api_fail(rp, IDG_ST_INPUT, "%s", why);
	return true;
}

void
api_audit(struct idg_daemon *d, const struct idg_req *rq, const char *target, const char *result,
    const char *reason, const char *detail)
{
	struct idg_audit_rec r = {
		.caller = rq->who.name[0] ? rq->who.name : "?",
		.uid = (long)rq->who.uid,
		.pid = (long)rq->who.pid,
		.action = api_action(rq),
		.target = target,
		.result = result,
		.reason = reason ? reason : "",
		.detail = detail,
	};

	idg_audit_write(d->audit, &r);
	if (strcmp(result, "ok") != 0 && rq->who.uid != 0 && d->srv != NULL)
		/* a local user can ask for refusals at will: counted, not one line each */
		idg_server_log_peer(d->srv, rq->who.uid, LOG_INFO, "%s %s %s: %s (%s)", r.caller,
		    r.action, target, result, r.reason);
	else if (strcmp(result, "ok") != 0)
		log_info("%s %s %s: %s (%s)", r.caller, r.action, target, result, r.reason);
}

bool
api_commit(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    struct idg_change *c, const char *target, const char *detail)
{
	char err[512];
	int rc;

	if (c->err)
		return api_fail(rp, IDG_ST_ERROR, "out of memory");
	if ((rc = idg_state_commit(d->st, c, err, sizeof(err))) < 0) {
		log_err("%s %s: the change was not stored: %s", rq->who.name, api_action(rq), err);
		api_audit(d, rq, target, "error", "the state store refused the change", detail);
		return api_fail(rp, IDG_ST_ERROR, "the change could not be stored (%s); nothing was "
		    "changed", idg_strerror(rc));
	}
	api_audit(d, rq, target, "ok", "", detail);
	return true;
}

bool
api_roles(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp, enum idg_rtype t,
    idg_role *roles, size_t *n, bool *none)
{
	size_t count = 0;

	*n = 0;
	*none = false;
	for (size_t i = 0; i < rq->v->n; i++) {
		const struct idg_field *f = &rq->v->fields[i];
		const char *s;
		char buf[1024], *save = NULL;

		if (f->tag != IDG_T_ROLE)
			continue;
		if (idg_field_str(f, &s) < 0 || strlen(s) >= sizeof(buf))
			return api_fail(rp, IDG_ST_INPUT, "malformed role list");
		strcpy(buf, s);
		/* "repoReader,repoWriter" and repeated fields both work. */
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			idg_role role;
			char q[256];

			if (strcmp(tok, "none") == 0) {
				*none = true;
				continue;
			}
			idg_quote(tok, q, sizeof(q));
			if (idg_rbac_role_find(d->st->rbac, tok, &role) < 0)
				return api_fail(rp, IDG_ST_INPUT, "unknown role \"%s\"", q);
			if (!idg_rbac_role_builtin(d->st->rbac, role) &&
			    !(idg_rbac_role_rtypes(d->st->rbac, role) & (1u << t)))
				return api_fail(rp, IDG_ST_INPUT, "role \"%s\" cannot be bound on a %s", q,
				    idg_rtype_lower(t));
			if (count == IDG_BINDING_ROLES_MAX)
				return api_fail(rp, IDG_ST_INPUT, "more than %d roles in one binding",
				    IDG_BINDING_ROLES_MAX);
			roles[count++] = role;
		}
	}
	if (*none && count > 0)
		return api_fail(rp, IDG_ST_INPUT, "'none' cannot be combined with other roles");
	if (!*none && count == 0)
		return api_fail(rp, IDG_ST_INPUT, "no role given: name one or more roles, or 'none'");
	*n = count;
	return true;
}

cJSON *
api_obj(struct idg_reply *rp)
{
	if (rp->json == NULL)
		rp->json = cJSON_CreateObject();
	return rp->json;
}

static struct idg_msg *
reply_fields(struct idg_reply *rp)
{
	if (rp->fields == NULL && (rp->fields = calloc(1, sizeof(*rp->fields))) != NULL &&
	    idg_msg_init(rp->fields, 64 * 1024) < 0) {
		free(rp->fields);
		rp->fields = NULL;
	}
	return rp->fields;
}

bool
api_reply_str(struct idg_reply *rp, uint16_t tag, const char *s)
{
	struct idg_msg *m = reply_fields(rp);

	if (m == NULL || idg_msg_add_str(m, tag, s) < 0)
		return api_fail(rp, IDG_ST_ERROR, "the reply could not be built");
	return true;
}

bool
api_reply_u32(struct idg_reply *rp, uint16_t tag, uint32_t v)
{
	struct idg_msg *m = reply_fields(rp);

	if (m == NULL || idg_msg_add_u32(m, tag, v) < 0)
		return api_fail(rp, IDG_ST_ERROR, "the reply could not be built");
	return true;
}

bool
api_reply_u64(struct idg_reply *rp, uint16_t tag, uint64_t v)
{
	struct idg_msg *m = reply_fields(rp);

	if (m == NULL || idg_msg_add_u64(m, tag, v) < 0)
		return api_fail(rp, IDG_ST_ERROR, "the reply could not be built");
	return true;
}

cJSON *
api_json_resource(const struct idg_daemon *d, idg_rid rid)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", idg_rtype_lower(idg_rbac_resource_type(d->st->rbac, rid)));
	cJSON_AddStringToObject(o, "name", idg_rbac_resource_name(d->st->rbac, rid));
	return o;
}

cJSON *
api_json_roles(const struct idg_daemon *d, const idg_role *roles, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(idg_rbac_role_name(d->st->rbac, roles[i])));
	return a;
}

cJSON *
api_json_roles_seen(const struct idg_daemon *d, const uint8_t *seen)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < idg_rbac_role_limit(d->st->rbac); i++)
		if (seen[i])
			cJSON_AddItemToArray(a, cJSON_CreateString(idg_rbac_role_name(d->st->rbac,
			    (idg_role)i)));
	return a;
}

cJSON *
api_json_perms(const struct idg_permset *ps)
{
	cJSON *a = cJSON_CreateArray();

	for (int p = 0; p < idg_perm_count(); p++)
		if (idg_permset_has(ps, p))
			cJSON_AddItemToArray(a, cJSON_CreateString(idg_perm_name(p)));
	return a;
}

void
api_mut_binding(const struct idg_daemon *d, struct idg_change *c, idg_rid rid, const char *subject,
    const idg_role *roles, size_t n)
{
	const char *names[IDG_BINDING_ROLES_MAX];

	for (size_t i = 0; i < n && i < IDG_BINDING_ROLES_MAX; i++)
		names[i] = idg_rbac_role_name(d->st->rbac, roles[i]);
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET,
	    .rtype = (int)idg_rbac_resource_type(d->st->rbac, rid),
	    .a = idg_rbac_resource_name(d->st->rbac, rid), .b = subject, .list = names, .nlist = n });
}

idg_pid
api_caller_pid(const struct idg_daemon *d, const struct idg_caller *who)
{
	return idg_rbac_principal_find(d->st->rbac, who->name);
}

/* Does the permission number act on a resource of type t? Repo permissions act on repos;
 * a project's own permissions and its repos' act on projects; everything acts on the
 * cluster. PROJECT_CREATE acts on the cluster only, so projectCreator says nothing about a
 * project or a repo. */
static bool
perm_acts_on(int number, enum idg_rtype t)
{
	bool repo = (number >= 200 && number < 300) || number == 301;

	if (t == IDG_RT_CLUSTER)
		return true;
	if (t == IDG_RT_REPO)
		return repo;
	return repo || number == 303 || (number > 400 && number < 500);
}

void
api_effective(const struct idg_daemon *d, idg_pid who, idg_rid rid, struct idg_permset *ps,
    uint8_t *seen)
{
	const struct idg_rbac *r = d->st->rbac;
	enum idg_rtype t = idg_rbac_resource_type(r, rid);

	memset(seen, 0, idg_rbac_role_limit(r));
	idg_rbac_effective(r, who, rid, 0, ps, seen);
	for (int p = 0; p < idg_perm_count(); p++)
		if (idg_permset_has(ps, p) && !perm_acts_on(idg_perm_number(p), t))
			ps->w[p >> 6] &= ~(UINT64_C(1) << (p & 63));
	for (size_t i = 0; i < idg_rbac_role_limit(r); i++) {
		bool acts = false;

		for (int p = 0; seen[i] && p < idg_perm_count() && !acts; p++)
			acts = idg_permset_has(idg_rbac_role_perms(r, (idg_role)i), p) &&
			    perm_acts_on(idg_perm_number(p), t);
		seen[i] = acts;
	}
}

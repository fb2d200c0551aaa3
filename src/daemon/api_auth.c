/* Requests about bindings and identity: whoami, activate/deactivate, set/get, check,
 * explain, roles-for-permission, get-groups, robot tokens, revoke, assign/unassign-role,
 * my-permissions and per-subject role listings. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/token.h"

void
api_ping(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	cJSON *o = api_obj(rp);

	(void)d;
	(void)rq;
	cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
	cJSON_AddNumberToObject(o, "api", IDG_API_VERSION);
}

static cJSON *
groups_json(const struct idg_daemon *d, idg_pid pid)
{
	cJSON *a = cJSON_CreateArray();
	const idg_pid *g;
	size_t n;

	if (pid == IDG_PID_NONE)
		return a;
	idg_rbac_groups_of(d->st->rbac, pid, &g, &n);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(idg_rbac_principal_name(d->st->rbac, g[i])));
	return a;
}

void
api_whoami(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	cJSON *o;

	if (rq->who.anonymous) {
		api_fail(rp, IDG_ST_DENIED, "You are not logged in: uid %u has no idgate identity",
		    (unsigned)rq->who.uid);
		return;
	}
	o = api_obj(rp);
	cJSON_AddStringToObject(o, "subject", rq->who.name);
	cJSON_AddNumberToObject(o, "uid", rq->who.uid);
	cJSON_AddStringToObject(o, "via", rq->who.via_token ? "token" :
	    (rq->who.uid == 0 && !rq->who.root) ? "as" : "uid");
	cJSON_AddItemToObject(o, "groups", groups_json(d, rq->who.principal));
	cJSON_AddBoolToObject(o, "activated", d->st->activated);
}

void
api_activate(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_change c;

	if (!rq->who.root || rq->who.via_token) {
		api_audit(d, rq, "CLUSTER ", "denied", "root only", NULL);
		api_fail(rp, IDG_ST_DENIED, "%s is not authorized to perform this operation - only root "
		    "may activate authorization", rq->who.name);
		return;
	}
	if (d->st->activated) {
		api_fail(rp, IDG_ST_INPUT, "authorization is already activated");
		return;
	}
	idg_change_init(&c);
	idg_state_activation(d->st, &c, (int64_t)time(NULL));
	api_commit(d, rq, rp, &c, "CLUSTER ", "activation defaults");
	idg_change_free(&c);
}

void
api_deactivate(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_change c;
	size_t bindings = idg_rbac_binding_total(d->st->rbac);
	char detail[128];

	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_DEACTIVATE))
		return;
	if (!(api_flags(rq) & IDG_F_YES)) {
		api_fail(rp, IDG_ST_INPUT, "deactivation removes every binding (%zu) but root's, every "
		    "robot token and every group membership: confirm with --yes", bindings - 1);
		return;
	}
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_AUTH_RESET });
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_META_SET, .a = "activated", .b = "no" });
	snprintf(detail, sizeof(detail), "%zu bindings removed", bindings - 1);
	if (api_commit(d, rq, rp, &c, "CLUSTER ", detail))
		cJSON_AddNumberToObject(api_obj(rp), "bindings_removed", (double)(bindings - 1));
	idg_change_free(&c);
}

static int
modify_perm(enum idg_rtype t)
{
	return t == IDG_RT_CLUSTER ? IDG_P_CLUSTER_MODIFY_BINDINGS :
	    t == IDG_RT_PROJECT ? IDG_P_PROJECT_MODIFY_BINDINGS : IDG_P_REPO_MODIFY_BINDINGS;
}

/* The subject of a binding request: the SUBJECT field, or the caller. */
static bool
binding_subject(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp, enum idg_rtype t,
    const char **subject)
{
	enum idg_pkind kind;

	if (!api_opt_str(rq, rp, IDG_T_SUBJECT, "subject", IDG_SUBJECT_MAX + 1, subject))
		return false;
	if (*subject == NULL) {
		if (!api_need_identity(d, rq, rp))
			return false;
		*subject = rq->who.name;
	}
	if (!api_subject(rp, *subject, &kind))
		return false;
	if (kind == IDG_PK_PIPELINE)
		return api_fail(rp, IDG_ST_INPUT, "pipeline principals are not granted by hand: their "
		    "roles follow their inputs and output (idgatectl create pipeline)");
	if (kind == IDG_PK_ROOT && t == IDG_RT_CLUSTER)
		return api_fail(rp, IDG_ST_INPUT, "the root principal's clusterAdmin binding cannot be "
		    "changed");
	return true;
}

static void
binding_detail(const struct idg_daemon *d, const char *subject, const idg_role *roles, size_t n,
    char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "%s=[", subject);

	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "",
		    idg_rbac_role_name(d->st->rbac, roles[i]));
	if (off < len)
		snprintf(buf + off, len - off, "]");
}

void
api_set(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	idg_role roles[IDG_BINDING_ROLES_MAX];
	char name[API_NAME_BUF], target[256], detail[1024];
	const char *subject;
	enum idg_rtype t;
	struct idg_change c;
	size_t n;
	idg_rid rid;
	bool none;

	if (!api_resource(d, rq, rp, &rid, &t, name) ||
	    !binding_subject(d, rq, rp, t, &subject) ||
	    !api_roles(d, rq, rp, t, roles, &n, &none) ||
	    !api_require1(d, rq, rp, rid, modify_perm(t)))
		return;
	api_target(d, rid, target, sizeof(target));
	binding_detail(d, subject, roles, n, detail, sizeof(detail));
	idg_change_init(&c);
	api_mut_binding(d, &c, rid, subject, roles, n);
	if (api_commit(d, rq, rp, &c, target, detail)) {
		cJSON *o = api_obj(rp);

		cJSON_AddItemToObject(o, "resource", api_json_resource(d, rid));
		cJSON_AddStringToObject(o, "subject", subject);
		cJSON_AddItemToObject(o, "roles", api_json_roles(d, roles, n));
	}
	idg_change_free(&c);
}

/* det's assign-role / unassign-role: add or remove one role, keeping the others. */
void
api_assign_role(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	idg_role roles[IDG_BINDING_ROLES_MAX + 1], role;
	const idg_role *cur;
	char name[API_NAME_BUF], target[256], detail[1024], q[256];
	const char *subject, *rolename;
	bool assign = rq->op == IDG_OP_ASSIGN_ROLE, had = false;
	enum idg_rtype t;
	struct idg_change c;
	size_t n = 0, ncur = 0;
	idg_rid rid;
	idg_pid pid;

	if (!api_resource(d, rq, rp, &rid, &t, name) ||
	    !api_str(rq, rp, IDG_T_ROLE, "role", IDG_ROLE_NAME_MAX, &rolename) ||
	    !api_str(rq, rp, IDG_T_SUBJECT, "user or group", IDG_SUBJECT_MAX, &subject) ||
	    !binding_subject(d, rq, rp, t, &subject))
		return;
	idg_quote(rolename, q, sizeof(q));
	if (idg_rbac_role_find(d->st->rbac, rolename, &role) < 0) {
		api_fail(rp, IDG_ST_INPUT, "unknown role \"%s\"", q);
		return;
	}
	if (!idg_rbac_role_builtin(d->st->rbac, role) &&
	    !(idg_rbac_role_rtypes(d->st->rbac, role) & (1u << t))) {
		api_fail(rp, IDG_ST_INPUT, "role \"%s\" cannot be bound on a %s", q, idg_rtype_lower(t));
		return;
	}
	if (!api_require1(d, rq, rp, rid, modify_perm(t)))
		return;
	pid = idg_rbac_principal_find(d->st->rbac, subject);
	if (pid != IDG_PID_NONE && idg_rbac_binding_get(d->st->rbac, rid, pid, &cur, &ncur) < 0)
		ncur = 0;
	for (size_t i = 0; i < ncur; i++) {
		if (cur[i] == role)
			had = true;
		else
			roles[n++] = cur[i];
	}
	if (assign)
		roles[n++] = role;
	if (assign ? had : !had) {
		api_fail(rp, IDG_ST_INPUT, assign ? "%s already has role '%s' on %s" :
		    "%s does not have role '%s' on %s", subject, rolename,
		    t == IDG_RT_CLUSTER ? "the cluster" : name);
		return;
	}
	if (n > IDG_BINDING_ROLES_MAX) {
		api_fail(rp, IDG_ST_INPUT, "more than %d roles in one binding", IDG_BINDING_ROLES_MAX);
		return;
	}
	api_target(d, rid, target, sizeof(target));
	binding_detail(d, subject, roles, n, detail, sizeof(detail));
	idg_change_init(&c);
	api_mut_binding(d, &c, rid, subject, roles, n);
	if (api_commit(d, rq, rp, &c, target, detail)) {
		cJSON *o = api_obj(rp);

		cJSON_AddStringToObject(o, "role", rolename);
		cJSON_AddStringToObject(o, "subject", subject);
		cJSON_AddItemToObject(o, "resource", api_json_resource(d, rid));
	}
	idg_change_free(&c);
}

static int
get_perm(enum idg_rtype t)
{
	return t == IDG_RT_CLUSTER ? IDG_P_CLUSTER_GET_BINDINGS :
	    t == IDG_RT_PROJECT ? IDG_P_PROJECT_LIST_REPO : IDG_P_REPO_READ;
}

void
api_get(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char name[API_NAME_BUF];
	enum idg_rtype t;
	idg_rid rid;
	cJSON *o, *arr;

	if (!api_resource(d, rq, rp, &rid, &t, name) || !api_require1(d, rq, rp, rid, get_perm(t)))
		return;
	o = api_obj(rp);
	cJSON_AddItemToObject(o, "resource", api_json_resource(d, rid));
	arr = cJSON_AddArrayToObject(o, "bindings");
	for (size_t i = 0; i < idg_rbac_binding_count(d->st->rbac, rid); i++) {
		const idg_role *roles;
		size_t n;
		idg_pid pid;
		cJSON *b = cJSON_CreateObject();

		idg_rbac_binding_at(d->st->rbac, rid, i, &pid, &roles, &n);
		cJSON_AddStringToObject(b, "subject", idg_rbac_principal_name(d->st->rbac, pid));
		cJSON_AddItemToObject(b, "roles", api_json_roles(d, roles, n));
		cJSON_AddItemToArray(arr, b);
	}
}

/* The subject a check is about: the SUBJECT field (needs the permission to look at others'
 * permissions, unless it is the caller) or the caller. */
static bool
check_subject(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp, const char **subject,
    idg_pid *pid)
{
	enum idg_pkind kind;

	if (!api_opt_str(rq, rp, IDG_T_SUBJECT, "subject", IDG_SUBJECT_MAX + 1, subject))
		return false;
	if (*subject == NULL || strcmp(*subject, rq->who.name) == 0) {
		if (!api_need_identity(d, rq, rp))
			return false;
		*subject = rq->who.name;
		*pid = rq->who.principal;
		return true;
	}
	if (!api_subject(rp, *subject, &kind) ||
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL))
		return false;
	*pid = idg_rbac_principal_find(d->st->rbac, *subject);
	return true;
}

static bool
perm_arg(struct idg_reply *rp, const char *name, int *perm)
{
	char q[256];

	if ((*perm = idg_perm_lookup(name)) >= 0)
		return true;
	idg_quote(name, q, sizeof(q));
	return api_fail(rp, IDG_ST_INPUT, "unknown permission \"%s\"", q);
}

void
api_check(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char name[API_NAME_BUF], target[256];
	const char *subject, *permname;
	uint8_t *seen;
	struct idg_permset ps;
	enum idg_rtype t;
	idg_rid rid;
	idg_pid pid;
	int perm = -1;
	cJSON *o;

	if (!api_resource(d, rq, rp, &rid, &t, name) ||
	    !api_opt_str(rq, rp, IDG_T_PERM, "permission", 64, &permname) ||
	    (permname && !perm_arg(rp, permname, &perm)) ||
	    !check_subject(d, rq, rp, &subject, &pid))
		return;
	if (perm >= 0) {
		/* The fast path services use: one permission, allowed or not. */
		bool ok = idg_rbac_check(d->st->rbac, pid, perm, rid, 0);

		o = api_obj(rp);
		cJSON_AddBoolToObject(o, "allowed", ok);
		if (!ok) {
			api_target(d, rid, target, sizeof(target));
			api_fail(rp, IDG_ST_DENIED, "%s is not authorized to perform this operation - needs "
			    "permissions [%s] on %s. Run `idgatectl auth roles-for-permission` to find "
			    "roles that grant a given permission.", subject, idg_perm_name(perm), target);
		}
		return;
	}
	if ((seen = calloc(idg_rbac_role_limit(d->st->rbac), 1)) == NULL) {
		api_fail(rp, IDG_ST_ERROR, "out of memory");
		return;
	}
	api_effective(d, pid, rid, &ps, seen);
	o = api_obj(rp);
	cJSON_AddItemToObject(o, "resource", api_json_resource(d, rid));
	cJSON_AddStringToObject(o, "subject", subject);
	cJSON_AddItemToObject(o, "roles", api_json_roles_seen(d, seen));
	cJSON_AddItemToObject(o, "permissions", api_json_perms(&ps));
	free(seen);
}

static cJSON *
roles_granting(const struct idg_daemon *d, int perm)
{
	cJSON *a = cJSON_CreateArray();
	const char *names[IDG_ROLES_MAX];
	size_t n = 0;

	for (size_t i = 0; i < idg_rbac_role_limit(d->st->rbac); i++) {
		const char *nm = idg_rbac_role_name(d->st->rbac, (idg_role)i);

		if (nm && idg_permset_has(idg_rbac_role_perms(d->st->rbac, (idg_role)i), perm))
			names[n++] = nm;
	}
	/* Sorted, as pachctl prints them. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *tmp = names[j];

			names[j] = names[j - 1];
			names[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
	return a;
}

void
api_roles_for_perm(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *name;
	int perm;
	cJSON *o;

	if (!api_str(rq, rp, IDG_T_PERM, "permission", 64, &name) || !perm_arg(rp, name, &perm))
		return;
	o = api_obj(rp);
	cJSON_AddStringToObject(o, "permission", idg_perm_name(perm));
	cJSON_AddItemToObject(o, "roles", roles_granting(d, perm));
}

void
api_explain(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_grant grants[64];
	char name[API_NAME_BUF], target[256];
	const char *subject, *permname;
	enum idg_rtype t;
	idg_rid rid;
	idg_pid pid;
	size_t n;
	int perm;
	cJSON *o, *arr, *path;

	if (!api_resource(d, rq, rp, &rid, &t, name) ||
	    !api_str(rq, rp, IDG_T_PERM, "permission", 64, &permname) ||
	    !perm_arg(rp, permname, &perm) || !check_subject(d, rq, rp, &subject, &pid))
		return;
	n = idg_rbac_explain(d->st->rbac, pid, perm, rid, 0, grants, IDG_ARRAY_SIZE(grants));
	o = api_obj(rp);
	cJSON_AddStringToObject(o, "subject", subject);
	cJSON_AddStringToObject(o, "permission", idg_perm_name(perm));
	cJSON_AddItemToObject(o, "resource", api_json_resource(d, rid));
	cJSON_AddBoolToObject(o, "allowed", n > 0);
	cJSON_AddItemToObject(o, "groups", groups_json(d, pid));
	arr = cJSON_AddArrayToObject(o, "grants");
	for (size_t i = 0; i < n && i < IDG_ARRAY_SIZE(grants); i++) {
		cJSON *g = cJSON_CreateObject();
		const char *via = idg_rbac_principal_name(d->st->rbac, grants[i].via);

		cJSON_AddStringToObject(g, "role", idg_rbac_role_name(d->st->rbac, grants[i].role));
		cJSON_AddStringToObject(g, "bound_to", via);
		cJSON_AddStringToObject(g, "through", grants[i].via == pid ? "subject" :
		    grants[i].via == IDG_PID_ALL ? "allClusterUsers" : "group");
		cJSON_AddItemToObject(g, "on", api_json_resource(d, grants[i].at));
		cJSON_AddItemToArray(arr, g);
	}
	if (n > IDG_ARRAY_SIZE(grants))
		cJSON_AddNumberToObject(o, "more_grants", (double)(n - IDG_ARRAY_SIZE(grants)));
	/* The levels the check walked, and for a denial the roles that would have granted it. */
	path = cJSON_AddArrayToObject(o, "checked");
	for (idg_rid r = rid; r != IDG_RID_NONE; r = idg_rbac_resource_parent(d->st->rbac, r))
		cJSON_AddItemToArray(path, api_json_resource(d, r));
	cJSON_AddItemToObject(o, "roles_granting", roles_granting(d, perm));
	if (n == 0) {
		api_target(d, rid, target, sizeof(target));
		api_fail(rp, IDG_ST_DENIED, "%s is not authorized to perform this operation - needs "
		    "permissions [%s] on %s. Run `idgatectl auth roles-for-permission` to find roles "
		    "that grant a given permission.", subject, idg_perm_name(perm), target);
	}
}

static cJSON *
group_entry(const struct idg_daemon *d, const struct idg_group *g)
{
	cJSON *e = cJSON_CreateObject();
	char subject[IDG_SUBJECT_MAX + 1];
	const idg_pid *m;
	size_t n = 0;
	idg_pid pid;

	snprintf(subject, sizeof(subject), "group:%s", g->name);
	pid = idg_rbac_principal_find(d->st->rbac, subject);
	if (pid != IDG_PID_NONE)
		idg_rbac_members_of(d->st->rbac, pid, &m, &n);
	cJSON_AddStringToObject(e, "name", subject);
	cJSON_AddStringToObject(e, "source", g->idp ? "idp" : "local");
	cJSON_AddNumberToObject(e, "members", (double)n);
	return e;
}

void
api_get_groups(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *user;
	bool all_groups;
	cJSON *o, *arr;

	if (!api_opt_str(rq, rp, IDG_T_SUBJECT, "user", IDG_SUBJECT_MAX + 1, &user) ||
	    !api_need_identity(d, rq, rp))
		return;
	/* Without USER: the node's group directory for those who may read it, else one's own. */
	all_groups = user == NULL &&
	    api_allowed(d, &rq->who, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_GROUPS);
	o = api_obj(rp);
	arr = cJSON_AddArrayToObject(o, "groups");
	if (all_groups) {
		for (size_t i = 0; i < d->st->ngroups; i++)
			if (d->st->groups[i].live)
				cJSON_AddItemToArray(arr, group_entry(d, &d->st->groups[i]));
		api_unseen_groups(d, arr);
		return;
	}
	if (user == NULL) {
		user = rq->who.name;
	} else {
		enum idg_pkind kind;
		char full[IDG_SUBJECT_MAX + 8];

		/* A bare name means a user. */
		if (strchr(user, ':') == NULL && strcmp(user, IDG_SUBJECT_ALL) != 0 &&
		    strcmp(user, IDG_SUBJECT_ROOT) != 0) {
			snprintf(full, sizeof(full), "user:%s", user);
			user = cJSON_GetStringValue(cJSON_AddStringToObject(o, "subject", full));
		} else {
			cJSON_AddStringToObject(o, "subject", user);
		}
		if (!api_subject(rp, user, &kind))
			return;
		if (strcmp(user, rq->who.name) != 0 &&
		    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_GROUPS))
			return;
	}
	{
		idg_pid pid = idg_rbac_principal_find(d->st->rbac, user);
		const idg_pid *g;
		size_t n = 0;

		if (pid != IDG_PID_NONE)
			idg_rbac_groups_of(d->st->rbac, pid, &g, &n);
		for (size_t i = 0; i < n; i++) {
			const char *gn = idg_rbac_principal_name(d->st->rbac, g[i]) + strlen("group:");
			const struct idg_group *grp = idg_state_group(d->st, gn);

			if (grp)
				cJSON_AddItemToArray(arr, group_entry(d, grp));
		}
	}
}

void
api_robot_token(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const struct idg_config *cfg = &d->cfg;
	char subject[IDG_SUBJECT_MAX + 8], token[IDG_TOKEN_LEN + 1], hash[65], detail[256];
	const char *name;
	enum idg_pkind kind;
	struct idg_change c;
	uint64_t ttl = 0;
	int64_t now = (int64_t)time(NULL), expires;
	bool have_ttl;
	cJSON *o;

	if (!api_str(rq, rp, IDG_T_NAME, "robot name", IDG_SUBJECT_MAX + 8, &name))
		return;
	if (strncmp(name, "robot:", 6) == 0)
		name += 6;
	snprintf(subject, sizeof(subject), "robot:%s", name);
	if (!api_subject(rp, subject, &kind) ||
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_ROBOT_TOKEN))
		return;
	have_ttl = idg_msg_get_u64(rq->v, IDG_T_TTL, &ttl) == 0;
	if (!have_ttl)
		ttl = (uint64_t)cfg->robot_token_default_ttl;
	if (have_ttl && ttl == 0) {
		api_fail(rp, IDG_ST_INPUT, "--ttl must be longer than 0 seconds");
		return;
	}
	if (cfg->robot_token_max_ttl && (ttl == 0 || ttl > (uint64_t)cfg->robot_token_max_ttl)) {
		char max[32];

		idg_duration_format(cfg->robot_token_max_ttl, max, sizeof(max));
		api_fail(rp, IDG_ST_INPUT, "robot tokens may last at most %s on this node "
		    "(robot_token_max_ttl): pass --ttl %s or shorter", max, max);
		return;
	}
	if (ttl > 3650ULL * 86400) {
		api_fail(rp, IDG_ST_INPUT, "--ttl is longer than ten years");
		return;
	}
	expires = ttl ? now + (int64_t)ttl : 0;
	if (idg_token_new(token) < 0 || idg_token_hash(token, hash) < 0) {
		api_fail(rp, IDG_ST_ERROR, "could not make a token: no randomness from the kernel");
		return;
	}
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_TOKEN_ADD, .a = hash, .b = subject,
	    .t1 = now, .t2 = expires });
	/* The audit log names the token by the first characters of its hash only. */
	snprintf(detail, sizeof(detail), "token sha256:%.12s expires %lld", hash, (long long)expires);
	if (api_commit(d, rq, rp, &c, subject, detail)) {
		o = api_obj(rp);
		cJSON_AddStringToObject(o, "robot", subject);
		cJSON_AddStringToObject(o, "token", token);
		cJSON_AddNumberToObject(o, "expires", (double)expires);
	}
	explicit_bzero(token, sizeof(token));
	idg_change_free(&c);
}

void
api_revoke(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *token, *subject;
	struct idg_change c;
	char hash[65], detail[128];
	size_t n = 0;

	if (!api_opt_str(rq, rp, IDG_T_NAME, "token", IDG_TOKEN_MAX, &token) ||
	    !api_opt_str(rq, rp, IDG_T_SUBJECT, "subject", IDG_SUBJECT_MAX + 1, &subject))
		return;
	if ((token == NULL) == (subject == NULL)) {
		api_fail(rp, IDG_ST_INPUT, "name exactly one of --token TOKEN or --user SUBJECT");
		return;
	}
	idg_change_init(&c);
	if (token) {
		/* Whoever holds a token may revoke it. */
		struct idg_token *t;

		if (idg_token_hash(token, hash) == 0 && (t = idg_state_token(d->st, hash)) != NULL) {
			idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_TOKEN_DEL, .a = hash });
			n = 1;
		}
		subject = "(token)";
	} else {
		enum idg_pkind kind;

		if (!api_subject(rp, subject, &kind))
			goto out;
		if (strcmp(subject, rq->who.name) != 0 &&
		    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_REVOKE_USER_TOKENS))
			goto out;
		for (size_t i = 0; i < d->st->ntokens; i++) {
			const struct idg_token *t = &d->st->tokens[i];

			if (t->live && strcmp(t->subject, subject) == 0) {
				idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_TOKEN_DEL, .a = t->hash });
				n++;
			}
		}
	}
	snprintf(detail, sizeof(detail), "%zu token(s) revoked", n);
	if (n == 0 || api_commit(d, rq, rp, &c, subject, detail))
		cJSON_AddNumberToObject(api_obj(rp), "revoked", (double)n);
out:
	idg_change_free(&c);
}

/* Every binding that names pid directly, or (via_groups) through its groups or everyone. */
static void
assignments(struct idg_daemon *d, idg_pid pid, bool via_groups, cJSON *arr)
{
	struct idg_rbac *r = d->st->rbac;

	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++) {
		if (!idg_rbac_resource_live(r, rid))
			continue;
		for (size_t i = 0; i < idg_rbac_binding_count(r, rid); i++) {
			const idg_role *roles;
			size_t n;
			idg_pid s;
			cJSON *e;

			idg_rbac_binding_at(r, rid, i, &s, &roles, &n);
			/* pid may be IDG_PID_NONE: a subject never seen still gets allClusterUsers. */
			if (!(pid != IDG_PID_NONE && s == pid) && !(via_groups && (s == IDG_PID_ALL ||
			    (pid != IDG_PID_NONE && idg_rbac_is_member(r, s, pid)))))
				continue;
			e = cJSON_CreateObject();
			cJSON_AddItemToObject(e, "resource", api_json_resource(d, rid));
			cJSON_AddItemToObject(e, "roles", api_json_roles(d, roles, n));
			cJSON_AddStringToObject(e, "via", idg_rbac_principal_name(r, s));
			cJSON_AddItemToArray(arr, e);
		}
	}
}

void
api_my_permissions(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_permset ps;
	cJSON *o;

	if (!api_need_identity(d, rq, rp))
		return;
	o = api_obj(rp);
	cJSON_AddStringToObject(o, "subject", rq->who.name);
	cJSON_AddItemToObject(o, "groups", groups_json(d, rq->who.principal));
	idg_rbac_effective(d->st->rbac, rq->who.principal, IDG_RID_CLUSTER, 0, &ps, NULL);
	cJSON_AddItemToObject(o, "cluster_permissions", api_json_perms(&ps));
	assignments(d, rq->who.principal, true, cJSON_AddArrayToObject(o, "assignments"));
}

void
api_subject_roles(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *subject;
	enum idg_pkind kind;
	idg_pid pid;
	cJSON *o;

	if (!api_str(rq, rp, IDG_T_SUBJECT, "user or group", IDG_SUBJECT_MAX + 1, &subject) ||
	    !api_subject(rp, subject, &kind) || !api_need_identity(d, rq, rp))
		return;
	pid = idg_rbac_principal_find(d->st->rbac, subject);
	/* One's own roles and one's groups' roles need no permission. */
	if (strcmp(subject, rq->who.name) != 0 &&
	    !(kind == IDG_PK_GROUP && pid != IDG_PID_NONE &&
	    idg_rbac_is_member(d->st->rbac, pid, rq->who.principal)) &&
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL))
		return;
	o = api_obj(rp);
	cJSON_AddStringToObject(o, "subject", subject);
	cJSON_AddItemToObject(o, "groups", groups_json(d, pid));
	assignments(d, pid, kind != IDG_PK_GROUP, cJSON_AddArrayToObject(o, "assignments"));
}

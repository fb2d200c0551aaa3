/* Requests about groups: local groups are managed here; groups from the identity provider
 * are read-only (their members are set at each login). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/directory.h"

#define MEMBERS_MAX 1024	/* members named in one request */

/* A group argument: "NAME" or "group:NAME", checked; name_out gets NAME. */
static bool
group_arg(struct idg_reply *rp, const char *arg, char *name_out, char *subject_out)
{
	enum idg_pkind kind;

	if (strncmp(arg, "group:", 6) == 0)
		arg += 6;
	if (strlen(arg) > IDG_SUBJECT_NAME_MAX + 1) {
		char q[256];

		idg_quote(arg, q, sizeof(q));
		return api_fail(rp, IDG_ST_INPUT, "group name \"%s\" is %zu bytes long: at most %d are "
		    "allowed", q, strlen(arg), IDG_SUBJECT_NAME_MAX);
	}
	snprintf(subject_out, IDG_SUBJECT_MAX + 1, "group:%s", arg);
	if (!api_subject(rp, subject_out, &kind))
		return false;
	strcpy(name_out, arg);
	return true;
}

static struct idg_group *
existing_group(struct idg_daemon *d, struct idg_reply *rp, const char *name, bool local_only)
{
	struct idg_group *g = idg_state_group(d->st, name);

	if (g == NULL) {
		api_fail(rp, IDG_ST_INPUT, "group %s not found", name);
		return NULL;
	}
	if (local_only && g->idp) {
		api_fail(rp, IDG_ST_INPUT, "group %s comes from the identity provider: its members are "
		    "set at each login and cannot be changed here", name);
		return NULL;
	}
	return g;
}

/* Member names: "u1,u2" lists or repeated fields; a bare name is a user. */
static bool
member_args(const struct idg_req *rq, struct idg_reply *rp, char (*out)[IDG_SUBJECT_MAX + 1],
    size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < rq->v->n; i++) {
		const struct idg_field *f = &rq->v->fields[i];
		char buf[8192], *save = NULL;
		const char *s;

		if (f->tag != IDG_T_MEMBER)
			continue;
		if (idg_field_str(f, &s) < 0 || strlen(s) >= sizeof(buf))
			return api_fail(rp, IDG_ST_INPUT, "malformed member list");
		strcpy(buf, s);
		for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			enum idg_pkind kind;
			bool dup = false;

			if (*n == MEMBERS_MAX)
				return api_fail(rp, IDG_ST_INPUT, "at most %d members per request", MEMBERS_MAX);
			if (strlen(tok) > IDG_SUBJECT_MAX)
				return api_fail(rp, IDG_ST_INPUT, "member name is %zu bytes long: at most %d "
				    "are allowed", strlen(tok), IDG_SUBJECT_MAX);
			{
				char full[IDG_SUBJECT_MAX + 8];

				/* A bare name is a user; the subject check bounds the result. */
				snprintf(full, sizeof(full), "%s%s", strchr(tok, ':') ? "" : "user:", tok);
				if (!api_subject(rp, full, &kind))
					return false;
				strcpy(out[*n], full);
			}
			if (kind != IDG_PK_USER && kind != IDG_PK_ROBOT)
				return api_fail(rp, IDG_ST_INPUT, "only users and robots can be group members, "
				    "not %s", out[*n]);
			for (size_t k = 0; k < *n; k++)
				dup |= strcmp(out[k], out[*n]) == 0;
			if (!dup)
				(*n)++;
		}
	}
	return true;
}

void
api_group_create(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	static char members[MEMBERS_MAX][IDG_SUBJECT_MAX + 1];
	char name[IDG_SUBJECT_MAX + 1], subject[IDG_SUBJECT_MAX + 1], why[512];
	const char *arg;
	struct idg_change c;
	struct idg_dir_batch b;
	uint32_t gid;
	size_t n;

	if (!api_str(rq, rp, IDG_T_NAME, "group name", IDG_WIRE_REQUEST_MAX, &arg) ||
	    !group_arg(rp, arg, name, subject) || !member_args(rq, rp, members, &n))
		return;
	if (idg_state_group(d->st, name)) {
		api_fail(rp, IDG_ST_INPUT, "group %s already exists", name);
		return;
	}
	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_MODIFY_GROUP_MEMBERS))
		return;
	idg_change_init(&c);
	idg_dir_batch_init(&b);
	/* The gid first: taking a held one back adds its release before the group. */
	gid = idg_dir_group_gid(d, &b, &c, name, why, sizeof(why));
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_ADD, .a = name, .b = "local",
	    .t1 = (int64_t)time(NULL), .u = gid });
	for (size_t i = 0; i < n; i++)
		idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_MEMBER_ADD, .a = name,
		    .b = members[i] });
	if (api_commit(d, rq, rp, &c, subject, gid ? NULL : why)) {
		cJSON_AddStringToObject(api_obj(rp), "group", subject);
		if (gid)
			cJSON_AddNumberToObject(api_obj(rp), "gid", gid);
		else
			cJSON_AddStringToObject(api_obj(rp), "no_gid", why);
	}
	idg_dir_batch_free(&b);
	idg_change_free(&c);
}

/* Every binding of pid, as removal mutations. */
static void
unbind_everywhere(struct idg_daemon *d, struct idg_change *c, idg_pid pid, const char *subject,
    const char *rebind_to)
{
	struct idg_rbac *r = d->st->rbac;

	if (pid == IDG_PID_NONE)
		return;
	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++) {
		const idg_role *roles;
		size_t n;

		if (!idg_rbac_resource_live(r, rid) || idg_rbac_binding_get(r, rid, pid, &roles, &n) < 0)
			continue;
		if (rebind_to)
			api_mut_binding(d, c, rid, rebind_to, roles, n);
		api_mut_binding(d, c, rid, subject, NULL, 0);
	}
}

void
api_group_delete(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char name[IDG_SUBJECT_MAX + 1], subject[IDG_SUBJECT_MAX + 1];
	const char *arg;
	const struct idg_group *g;
	struct idg_change c;

	if (!api_str(rq, rp, IDG_T_NAME, "group name", IDG_WIRE_REQUEST_MAX, &arg) || !group_arg(rp, arg, name, subject) ||
	    (g = existing_group(d, rp, name, true)) == NULL ||
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_MODIFY_GROUP_MEMBERS))
		return;
	/* Its bindings go with it: a later group of the same name starts with nothing. Its gid
	 * stays held: files may still carry it. */
	idg_change_init(&c);
	unbind_everywhere(d, &c, idg_rbac_principal_find(d->st->rbac, subject), subject, NULL);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_DEL, .a = name });
	idg_dir_group_hold(&c, g, (int64_t)time(NULL));
	if (api_commit(d, rq, rp, &c, subject, NULL))
		cJSON_AddStringToObject(api_obj(rp), "group", subject);
	idg_change_free(&c);
}

void
api_group_members(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	static char members[MEMBERS_MAX][IDG_SUBJECT_MAX + 1];
	bool add = rq->op == IDG_OP_GROUP_ADD;
	char name[IDG_SUBJECT_MAX + 1], subject[IDG_SUBJECT_MAX + 1], detail[512];
	const char *arg;
	struct idg_change c;
	size_t n, changed = 0;
	idg_pid gpid;
	cJSON *done;

	if (!api_str(rq, rp, IDG_T_NAME, "group name", IDG_WIRE_REQUEST_MAX, &arg) || !group_arg(rp, arg, name, subject) ||
	    !member_args(rq, rp, members, &n))
		return;
	if (n == 0) {
		api_fail(rp, IDG_ST_INPUT, "name at least one user");
		return;
	}
	if (!existing_group(d, rp, name, true) ||
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_MODIFY_GROUP_MEMBERS))
		return;
	gpid = idg_rbac_principal_find(d->st->rbac, subject);
	/* Removing someone who is not a member is an error, and nothing changes. */
	if (!add) {
		for (size_t i = 0; i < n; i++) {
			idg_pid m = idg_rbac_principal_find(d->st->rbac, members[i]);

			if (gpid == IDG_PID_NONE || m == IDG_PID_NONE || !idg_rbac_is_member(d->st->rbac, gpid, m)) {
				api_fail(rp, IDG_ST_INPUT, "%s is not a member of group %s", members[i], name);
				return;
			}
		}
	}
	idg_change_init(&c);
	done = cJSON_AddArrayToObject(api_obj(rp), add ? "added" : "removed");
	for (size_t i = 0; i < n; i++) {
		idg_pid m = idg_rbac_principal_find(d->st->rbac, members[i]);
		bool member = gpid != IDG_PID_NONE && m != IDG_PID_NONE &&
		    idg_rbac_is_member(d->st->rbac, gpid, m);

		if (add == member)
			continue;	/* already a member: adding again changes nothing */
		idg_change_add(&c, &(struct idg_mut){ .kind = add ? IDG_MUT_MEMBER_ADD : IDG_MUT_MEMBER_DEL,
		    .a = name, .b = members[i] });
		cJSON_AddItemToArray(done, cJSON_CreateString(members[i]));
		changed++;
	}
	snprintf(detail, sizeof(detail), "%zu member(s) %s", changed, add ? "added" : "removed");
	if (changed)
		api_commit(d, rq, rp, &c, subject, detail);
	idg_change_free(&c);
}

/* Does any resource bind pid? */
static bool
bound_anywhere(const struct idg_rbac *r, idg_pid pid)
{
	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++) {
		const idg_role *roles;
		size_t n;

		if (idg_rbac_resource_live(r, rid) && idg_rbac_binding_get(r, rid, pid, &roles, &n) == 0)
			return true;
	}
	return false;
}

void
api_unseen_groups(const struct idg_daemon *d, cJSON *arr)
{
	const struct idg_rbac *r = d->st->rbac;

	for (idg_pid pid = 0; pid < idg_rbac_principal_limit(r); pid++) {
		const char *name = idg_rbac_principal_name(r, pid);
		cJSON *o;

		if (idg_rbac_principal_kind(r, pid) != IDG_PK_GROUP ||
		    idg_state_group(d->st, name + strlen("group:")) || !bound_anywhere(r, pid))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddStringToObject(o, "source", "unseen");
		cJSON_AddNumberToObject(o, "members", 0);
		cJSON_AddItemToArray(arr, o);
	}
}

void
api_group_list(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	cJSON *arr;

	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_GROUPS))
		return;
	arr = cJSON_AddArrayToObject(api_obj(rp), "groups");
	for (size_t i = 0; i < d->st->ngroups; i++) {
		const struct idg_group *g = &d->st->groups[i];
		char subject[IDG_SUBJECT_MAX + 1];
		const idg_pid *m;
		size_t n = 0;
		idg_pid pid;
		cJSON *o;

		if (!g->live)
			continue;
		snprintf(subject, sizeof(subject), "group:%s", g->name);
		if ((pid = idg_rbac_principal_find(d->st->rbac, subject)) != IDG_PID_NONE)
			idg_rbac_members_of(d->st->rbac, pid, &m, &n);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", subject);
		cJSON_AddStringToObject(o, "source", g->idp ? "idp" : "local");
		if (g->gid)
			cJSON_AddNumberToObject(o, "gid", g->gid);
		else
			cJSON_AddNullToObject(o, "gid");
		cJSON_AddNumberToObject(o, "members", (double)n);
		cJSON_AddNumberToObject(o, "created", (double)g->created);
		cJSON_AddItemToArray(arr, o);
	}
	api_unseen_groups(d, arr);
}

void
api_group_describe(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char name[IDG_SUBJECT_MAX + 1], subject[IDG_SUBJECT_MAX + 1];
	const struct idg_group *g;
	const char *arg;
	const idg_pid *m;
	size_t n = 0;
	idg_pid pid;
	cJSON *o, *arr;

	if (!api_str(rq, rp, IDG_T_NAME, "group name", IDG_WIRE_REQUEST_MAX, &arg) || !group_arg(rp, arg, name, subject) ||
	    !api_need_identity(d, rq, rp) || (g = existing_group(d, rp, name, false)) == NULL)
		return;
	pid = idg_rbac_principal_find(d->st->rbac, subject);
	/* Members may see their own group; others need CLUSTER_AUTH_GET_GROUP_USERS. */
	if (!(pid != IDG_PID_NONE && rq->who.principal != IDG_PID_NONE &&
	    idg_rbac_is_member(d->st->rbac, pid, rq->who.principal)) &&
	    !api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_GET_GROUP_USERS))
		return;
	if (pid != IDG_PID_NONE)
		idg_rbac_members_of(d->st->rbac, pid, &m, &n);
	o = api_obj(rp);
	cJSON_AddStringToObject(o, "name", subject);
	cJSON_AddStringToObject(o, "source", g->idp ? "idp" : "local");
	if (g->gid)
		cJSON_AddNumberToObject(o, "gid", g->gid);
	else
		cJSON_AddNullToObject(o, "gid");
	cJSON_AddNumberToObject(o, "created", (double)g->created);
	arr = cJSON_AddArrayToObject(o, "members");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(idg_rbac_principal_name(d->st->rbac, m[i])));
}

void
api_group_rename(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char name[IDG_SUBJECT_MAX + 1], subject[IDG_SUBJECT_MAX + 1];
	char nname[IDG_SUBJECT_MAX + 1], nsubject[IDG_SUBJECT_MAX + 1], detail[600];
	const char *arg, *narg;
	const struct idg_group *g;
	struct idg_change c;
	const idg_pid *m;
	size_t n = 0;
	uint32_t gid;
	idg_pid pid;

	if (!api_str(rq, rp, IDG_T_NAME, "group name", IDG_WIRE_REQUEST_MAX, &arg) ||
	    !api_str(rq, rp, IDG_T_NEWNAME, "new group name", IDG_WIRE_REQUEST_MAX, &narg) ||
	    !group_arg(rp, arg, name, subject) || !group_arg(rp, narg, nname, nsubject) ||
	    (g = existing_group(d, rp, name, true)) == NULL)
		return;
	if (idg_state_group(d->st, nname)) {
		api_fail(rp, IDG_ST_INPUT, "group %s already exists", nname);
		return;
	}
	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_MODIFY_GROUP_MEMBERS))
		return;
	/* The new name takes over the members and every binding, in one change. */
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_ADD, .a = nname, .b = "local",
	    .t1 = g->created });
	pid = idg_rbac_principal_find(d->st->rbac, subject);
	if (pid != IDG_PID_NONE)
		idg_rbac_members_of(d->st->rbac, pid, &m, &n);
	for (size_t i = 0; i < n; i++)
		idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_MEMBER_ADD, .a = nname,
		    .b = idg_rbac_principal_name(d->st->rbac, m[i]) });
	unbind_everywhere(d, &c, pid, subject, nsubject);
	/* The gid moves with the group (files carry it): freed by the old row first. */
	gid = g->gid;
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_DEL, .a = name });
	if (gid)
		idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_GID, .a = nname, .u = gid });
	snprintf(detail, sizeof(detail), "renamed to %s", nsubject);
	if (api_commit(d, rq, rp, &c, subject, detail))
		cJSON_AddStringToObject(api_obj(rp), "group", nsubject);
	idg_change_free(&c);
}

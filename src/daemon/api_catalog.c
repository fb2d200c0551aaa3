/* Requests about roles, projects, repos and pipelines. Creators become owners; deleting
 * refuses to leave anything dangling (a project with repos, a repo a pipeline uses). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/enforce.h"

/* ---------- roles ---------- */

static cJSON *
rtypes_json(unsigned rtypes)
{
	static const struct { unsigned bit; const char *name; } types[] = {
		{ IDG_RTB_CLUSTER, "cluster" }, { IDG_RTB_PROJECT, "project" },
		{ IDG_RTB_REPO, "repo" }, { IDG_RTB_JOB, "job" },
	};
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < IDG_ARRAY_SIZE(types); i++)
		if (rtypes & types[i].bit)
			cJSON_AddItemToArray(a, cJSON_CreateString(types[i].name));
	return a;
}

static cJSON *
role_json(const struct idg_daemon *d, idg_role role, bool full)
{
	const struct idg_rbac *r = d->st->rbac;
	const struct idg_permset *ps = idg_rbac_role_perms(r, role);
	cJSON *o = cJSON_CreateObject();
	int count = 0;

	for (int p = 0; p < idg_perm_count(); p++)
		count += idg_permset_has(ps, p);
	cJSON_AddStringToObject(o, "name", idg_rbac_role_name(r, role));
	cJSON_AddBoolToObject(o, "builtin", idg_rbac_role_builtin(r, role));
	cJSON_AddItemToObject(o, "meant_for", rtypes_json(idg_rbac_role_rtypes(r, role)));
	cJSON_AddNumberToObject(o, "permission_count", count);
	if (full) {
		cJSON_AddItemToObject(o, "permissions", api_json_perms(ps));
		cJSON_AddNumberToObject(o, "bindings", (double)idg_rbac_role_uses(r, role));
	}
	return o;
}

void
api_role_list(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	cJSON *arr = cJSON_AddArrayToObject(api_obj(rp), "roles");

	(void)rq;
	for (size_t i = 0; i < idg_rbac_role_limit(d->st->rbac); i++)
		if (idg_rbac_role_name(d->st->rbac, (idg_role)i))
			cJSON_AddItemToArray(arr, role_json(d, (idg_role)i, false));
}

void
api_role_describe(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *name;
	idg_role role;
	char q[256];

	if (!api_str(rq, rp, IDG_T_NAME, "role", IDG_WIRE_REQUEST_MAX, &name))
		return;
	if (idg_rbac_role_find(d->st->rbac, name, &role) < 0) {
		idg_quote(name, q, sizeof(q));
		api_fail(rp, IDG_ST_INPUT, "unknown role \"%s\"", q);
		return;
	}
	rp->json = role_json(d, role, true);
}

void
api_role_create(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *name, *perms[128];
	char why[512], q[256], detail[1024];
	unsigned rtypes = 0;
	size_t nperms = 0, off = 0;
	struct idg_permset ps = { { 0, 0 } };
	struct idg_change c;
	idg_role existing;

	if (!api_str(rq, rp, IDG_T_NAME, "role name", 256, &name))
		return;
	if (idg_name_role(name, why, sizeof(why)) < 0) {
		api_fail(rp, IDG_ST_INPUT, "%s", why);
		return;
	}
	if (idg_rbac_role_find(d->st->rbac, name, &existing) == 0) {
		api_fail(rp, IDG_ST_INPUT, "role \"%s\" already exists", name);
		return;
	}
	for (size_t i = 0; i < rq->v->n; i++) {
		const struct idg_field *f = &rq->v->fields[i];
		const char *s;
		int p;

		if (f->tag == IDG_T_RTYPES) {
			if (idg_field_str(f, &s) < 0) {
				api_fail(rp, IDG_ST_INPUT, "malformed resource type");
				return;
			}
			if (strcmp(s, "cluster") == 0)
				rtypes |= IDG_RTB_CLUSTER;
			else if (strcmp(s, "project") == 0)
				rtypes |= IDG_RTB_PROJECT;
			else if (strcmp(s, "repo") == 0)
				rtypes |= IDG_RTB_REPO;
			else {
				idg_quote(s, q, sizeof(q));
				api_fail(rp, IDG_ST_INPUT, "unknown resource type \"%s\": expected cluster, "
				    "project or repo", q);
				return;
			}
			continue;
		}
		if (f->tag != IDG_T_PERM)
			continue;
		if (idg_field_str(f, &s) < 0 || nperms == IDG_ARRAY_SIZE(perms)) {
			api_fail(rp, IDG_ST_INPUT, "malformed permission list");
			return;
		}
		idg_quote(s, q, sizeof(q));
		if ((p = idg_perm_lookup(s)) < 0) {
			api_fail(rp, IDG_ST_INPUT, "unknown permission \"%s\"", q);
			return;
		}
		if (idg_perm_number(p) == IDG_PERM_UNKNOWN_NUMBER) {
			api_fail(rp, IDG_ST_INPUT, "PERMISSION_UNKNOWN cannot be granted");
			return;
		}
		if (!idg_permset_has(&ps, p))
			perms[nperms++] = idg_perm_name(p);
		idg_permset_add(&ps, p);
	}
	if (nperms == 0) {
		api_fail(rp, IDG_ST_INPUT, "a role needs at least one permission");
		return;
	}
	if (rtypes == 0)
		rtypes = IDG_RTB_CLUSTER | IDG_RTB_PROJECT | IDG_RTB_REPO;
	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_SET_CONFIG))
		return;
	off = (size_t)snprintf(detail, sizeof(detail), "%s=[", name);
	for (size_t i = 0; i < nperms && off < sizeof(detail); i++)
		off += (size_t)snprintf(detail + off, sizeof(detail) - off, "%s%s", i ? " " : "", perms[i]);
	if (off < sizeof(detail))
		snprintf(detail + off, sizeof(detail) - off, "]");
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_ROLE_ADD, .a = name, .list = perms,
	    .nlist = nperms, .u = rtypes, .t1 = (int64_t)time(NULL) });
	if (api_commit(d, rq, rp, &c, "CLUSTER ", detail)) {
		idg_role role;

		if (idg_rbac_role_find(d->st->rbac, name, &role) == 0)
			rp->json = role_json(d, role, true);
	}
	idg_change_free(&c);
}

void
api_role_delete(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	const char *name;
	struct idg_change c;
	idg_role role;
	size_t uses;
	char q[256];

	if (!api_str(rq, rp, IDG_T_NAME, "role", IDG_WIRE_REQUEST_MAX, &name))
		return;
	idg_quote(name, q, sizeof(q));
	if (idg_rbac_role_find(d->st->rbac, name, &role) < 0) {
		api_fail(rp, IDG_ST_INPUT, "unknown role \"%s\"", q);
		return;
	}
	if (idg_rbac_role_builtin(d->st->rbac, role)) {
		api_fail(rp, IDG_ST_INPUT, "role \"%s\" is built in and cannot be deleted", q);
		return;
	}
	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_CLUSTER_AUTH_SET_CONFIG))
		return;
	if ((uses = idg_rbac_role_uses(d->st->rbac, role)) > 0) {
		api_fail(rp, IDG_ST_INPUT, "role \"%s\" is bound %zu time(s): remove those bindings "
		    "first", q, uses);
		return;
	}
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_ROLE_DEL, .a = name });
	api_commit(d, rq, rp, &c, "CLUSTER ", name);
	idg_change_free(&c);
}

/* ---------- projects and repos ---------- */

/* The caller's roles on rid, for ACCESS_LEVEL. */
static cJSON *
access_level(const struct idg_daemon *d, const struct idg_req *rq, idg_rid rid, uint8_t *seen)
{
	struct idg_permset ps;

	api_effective(d, rq->who.principal, rid, &ps, seen);
	return api_json_roles_seen(d, seen);
}

static void
add_meta(const struct idg_daemon *d, cJSON *o, idg_rid rid)
{
	const struct idg_resmeta *m = rid < d->st->nrmeta ? &d->st->rmeta[rid] : NULL;

	cJSON_AddNumberToObject(o, "created", m ? (double)m->created : 0);
	cJSON_AddStringToObject(o, "creator", m && m->creator ? m->creator : "");
	cJSON_AddStringToObject(o, "description", m && m->description ? m->description : "");
}

static bool
description(const struct idg_req *rq, struct idg_reply *rp, const char **desc)
{
	if (!api_opt_str(rq, rp, IDG_T_DESC, "description", 1024, desc))
		return false;
	if (*desc && !idg_str_printable(*desc))
		return api_fail(rp, IDG_ST_INPUT, "the description contains control characters");
	return true;
}

void
api_project_create(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	static const char *const owner[] = { "projectOwner" };
	const char *name, *desc;
	char why[512], target[128];
	struct idg_change c;

	if (!api_str(rq, rp, IDG_T_NAME, "project name", IDG_WIRE_REQUEST_MAX, &name) || !description(rq, rp, &desc))
		return;
	if (idg_name_project(name, why, sizeof(why)) < 0) {
		api_fail(rp, IDG_ST_INPUT, "%s", why);
		return;
	}
	if (idg_rbac_resource_find(d->st->rbac, IDG_RT_PROJECT, name) != IDG_RID_NONE) {
		api_fail(rp, IDG_ST_INPUT, "project %s already exists", name);
		return;
	}
	if (!api_require1(d, rq, rp, IDG_RID_CLUSTER, IDG_P_PROJECT_CREATE))
		return;
	snprintf(target, sizeof(target), "PROJECT %s", name);
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_PROJECT_ADD, .a = name,
	    .b = rq->who.name, .c = desc, .t1 = (int64_t)time(NULL) });
	/* The creator becomes the project's owner. */
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET, .rtype = IDG_RT_PROJECT,
	    .a = name, .b = rq->who.name, .list = owner, .nlist = 1 });
	if (api_commit(d, rq, rp, &c, target, NULL))
		cJSON_AddStringToObject(api_obj(rp), "project", name);
	idg_change_free(&c);
}

static size_t
pipelines_in_project(const struct idg_daemon *d, const char *project)
{
	size_t n = 0, pl = strlen(project);

	for (size_t i = 0; i < d->st->npipes; i++) {
		const struct idg_pipeline *p = &d->st->pipes[i];

		if (p->live && strncmp(p->name, project, pl) == 0 && p->name[pl] == '/')
			n++;
	}
	return n;
}

void
api_project_delete(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	static const int need[] = { IDG_P_PROJECT_DELETE, IDG_P_PROJECT_MODIFY_BINDINGS };
	const char *name;
	char why[512], target[128];
	struct idg_change c;
	idg_rid rid;
	size_t n;

	if (!api_str(rq, rp, IDG_T_NAME, "project name", IDG_WIRE_REQUEST_MAX, &name))
		return;
	if (idg_name_project(name, why, sizeof(why)) < 0) {
		api_fail(rp, IDG_ST_INPUT, "%s", why);
		return;
	}
	if ((rid = idg_rbac_resource_find(d->st->rbac, IDG_RT_PROJECT, name)) == IDG_RID_NONE) {
		api_fail(rp, IDG_ST_INPUT, "project %s not found", name);
		return;
	}
	if (!api_require(d, rq, rp, rid, need, 2))
		return;
	if (strcmp(name, IDG_DEFAULT_PROJECT) == 0) {
		api_fail(rp, IDG_ST_INPUT, "the default project cannot be deleted");
		return;
	}
	if ((n = idg_rbac_resource_children(d->st->rbac, rid)) > 0) {
		api_fail(rp, IDG_ST_INPUT, "project %s still has %zu repo(s): delete them first", name, n);
		return;
	}
	if ((n = pipelines_in_project(d, name)) > 0) {
		api_fail(rp, IDG_ST_INPUT, "project %s still has %zu pipeline(s): delete them first",
		    name, n);
		return;
	}
	snprintf(target, sizeof(target), "PROJECT %s", name);
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_PROJECT_DEL, .a = name });
	api_commit(d, rq, rp, &c, target, NULL);
	idg_change_free(&c);
}

void
api_project_list(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_rbac *r = d->st->rbac;
	uint8_t *seen;
	cJSON *arr;

	if (!api_need_identity(d, rq, rp))
		return;
	if ((seen = malloc(idg_rbac_role_limit(r))) == NULL) {
		api_fail(rp, IDG_ST_ERROR, "out of memory");
		return;
	}
	arr = cJSON_AddArrayToObject(api_obj(rp), "projects");
	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++) {
		cJSON *o;

		if (!idg_rbac_resource_live(r, rid) || idg_rbac_resource_type(r, rid) != IDG_RT_PROJECT)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", idg_rbac_resource_name(r, rid));
		add_meta(d, o, rid);
		cJSON_AddNumberToObject(o, "repos", (double)idg_rbac_resource_children(r, rid));
		cJSON_AddItemToObject(o, "access_level", access_level(d, rq, rid, seen));
		cJSON_AddItemToArray(arr, o);
	}
	free(seen);
}

/* The repo name argument, split and checked, and its project's id. */
static bool
repo_arg(struct idg_daemon *d, struct idg_reply *rp, const char *arg, char *project, char *full,
    idg_rid *prid)
{
	char repo[IDG_REPO_NAME_MAX + 1], why[512];

	if (idg_repo_split(arg, project, repo, why, sizeof(why)) < 0)
		return api_fail(rp, IDG_ST_INPUT, "%s", why);
	snprintf(full, API_NAME_BUF, "%s/%s", project, repo);
	if ((*prid = idg_rbac_resource_find(d->st->rbac, IDG_RT_PROJECT, project)) == IDG_RID_NONE)
		return api_fail(rp, IDG_ST_INPUT, "project %s not found", project);
	return true;
}

/* A repo directory made for a change that is not committed yet. */
struct pending_dir {
	bool used;
	char project[IDG_PROJECT_NAME_MAX + 1];
	char repo[IDG_REPO_NAME_MAX + 1];
	char tmp[128];
};

/* Mutations that create repo full (PROJECT/REPO) owned by the caller, and its directory
 * under a temporary name (see pending_finish). */
static bool
create_repo(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp, struct idg_change *c,
    const char *full, const char *desc, struct pending_dir *pd)
{
	static const char *const owner[] = { "repoOwner" };
	char why[512], err[512];

	idg_repo_split(full, pd->project, pd->repo, why, sizeof(why));
	if (api_repo_dir_prepare(d, pd->project, pd->repo, pd->tmp, sizeof(pd->tmp), err,
	    sizeof(err)) < 0) {
		log_err("repo %s: %s", full, err);
		return api_fail(rp, IDG_ST_ERROR, "cannot create the data directory of repo %s", full);
	}
	pd->used = true;
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_REPO_ADD, .a = full, .b = rq->who.name,
	    .c = desc, .t1 = (int64_t)time(NULL) });
	/* The creator becomes the repo's owner. */
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET, .rtype = IDG_RT_REPO,
	    .a = full, .b = rq->who.name, .list = owner, .nlist = 1 });
	return true;
}

/* After the commit (committed) the directory takes its name; otherwise it goes. */
static void
pending_finish(struct idg_daemon *d, struct pending_dir *pd, bool committed)
{
	char err[512];

	if (!pd->used)
		return;
	if (!committed)
		api_repo_dir_abandon(d, pd->project, pd->tmp);
	else if (api_repo_dir_commit(d, pd->project, pd->repo, pd->tmp, err, sizeof(err)) < 0)
		log_err("%s", err);
	pd->used = false;
}

void
api_repo_create(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char project[IDG_PROJECT_NAME_MAX + 1], full[API_NAME_BUF], target[128];
	struct pending_dir pd = { .used = false };
	const char *name, *desc;
	struct idg_change c;
	idg_rid prid;

	if (!api_str(rq, rp, IDG_T_NAME, "repo name", IDG_WIRE_REQUEST_MAX, &name) || !description(rq, rp, &desc) ||
	    !repo_arg(d, rp, name, project, full, &prid))
		return;
	if (idg_rbac_resource_find(d->st->rbac, IDG_RT_REPO, full) != IDG_RID_NONE) {
		api_fail(rp, IDG_ST_INPUT, "repo %s already exists", full);
		return;
	}
	if (!api_require1(d, rq, rp, prid, IDG_P_PROJECT_CREATE_REPO))
		return;
	snprintf(target, sizeof(target), "REPO %s", full);
	idg_change_init(&c);
	if (create_repo(d, rq, rp, &c, full, desc, &pd)) {
		bool ok = api_commit(d, rq, rp, &c, target, NULL);

		pending_finish(d, &pd, ok);
		if (ok) {
			idg_enforce_repo_now(d, full);
			cJSON_AddStringToObject(api_obj(rp), "repo", full);
		}
	}
	idg_change_free(&c);
}

/* The pipeline that uses repo full as an input or output, or NULL. */
static const struct idg_pipeline *
pipeline_using(const struct idg_daemon *d, const char *full, bool *as_output)
{
	for (size_t i = 0; i < d->st->npipes; i++) {
		const struct idg_pipeline *p = &d->st->pipes[i];

		if (!p->live)
			continue;
		if (strcmp(p->output, full) == 0) {
			*as_output = true;
			return p;
		}
		for (size_t k = 0; k < p->ninputs; k++) {
			if (strcmp(p->inputs[k], full) == 0) {
				*as_output = false;
				return p;
			}
		}
	}
	return NULL;
}

void
api_repo_delete(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char full[API_NAME_BUF], target[128], err[512];
	char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1];
	const struct idg_pipeline *p;
	const char *name;
	struct idg_change c;
	bool as_output;
	idg_rid rid;

	if (!api_str(rq, rp, IDG_T_NAME, "repo name", IDG_WIRE_REQUEST_MAX, &name) || !api_repo(d, rp, name, &rid, full) ||
	    !api_require1(d, rq, rp, rid, IDG_P_REPO_DELETE))
		return;
	if ((p = pipeline_using(d, full, &as_output)) != NULL) {
		api_fail(rp, IDG_ST_INPUT, "repo %s is %s of pipeline %s: delete or update the "
		    "pipeline first", full, as_output ? "the output" : "an input", p->name);
		return;
	}
	snprintf(target, sizeof(target), "REPO %s", full);
	idg_change_init(&c);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_REPO_DEL, .a = full });
	if (api_commit(d, rq, rp, &c, target, NULL)) {
		idg_repo_split(full, project, repo, err, sizeof(err));
		idg_enforce_repo_close(d, project, repo);
		if (api_repo_dir_retire(d, project, repo, err, sizeof(err)) < 0)
			log_err("repo %s deleted, but its data directory could not be moved aside: %s",
			    full, err);
	}
	idg_change_free(&c);
}

void
api_repo_list(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	struct idg_rbac *r = d->st->rbac;
	const char *project;
	idg_rid only = IDG_RID_NONE;
	uint8_t *seen;
	cJSON *arr;

	if (!api_need_identity(d, rq, rp) ||
	    !api_opt_str(rq, rp, IDG_T_RNAME, "project", IDG_PROJECT_NAME_MAX + 1, &project))
		return;
	if (project && (only = idg_rbac_resource_find(r, IDG_RT_PROJECT, project)) == IDG_RID_NONE) {
		char q[256];

		idg_quote(project, q, sizeof(q));
		api_fail(rp, IDG_ST_INPUT, "project %s not found", q);
		return;
	}
	if ((seen = malloc(idg_rbac_role_limit(r))) == NULL) {
		api_fail(rp, IDG_ST_ERROR, "out of memory");
		return;
	}
	arr = cJSON_AddArrayToObject(api_obj(rp), "repos");
	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++) {
		const char *full, *slash;
		cJSON *o;

		if (!idg_rbac_resource_live(r, rid) || idg_rbac_resource_type(r, rid) != IDG_RT_REPO ||
		    (only != IDG_RID_NONE && idg_rbac_resource_parent(r, rid) != only))
			continue;
		full = idg_rbac_resource_name(r, rid);
		slash = strchr(full, '/');
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "project",
		    idg_rbac_resource_name(r, idg_rbac_resource_parent(r, rid)));
		cJSON_AddStringToObject(o, "name", slash ? slash + 1 : full);
		add_meta(d, o, rid);
		cJSON_AddItemToObject(o, "access_level", access_level(d, rq, rid, seen));
		cJSON_AddItemToArray(arr, o);
	}
	free(seen);
}

/* ---------- pipelines ---------- */

static const char *const reader[] = { "repoReader" };
static const char *const writer[] = { "repoWriter" };

static void
bind_pipeline(struct idg_change *c, const char *subject, const char *repo, bool write)
{
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET, .rtype = IDG_RT_REPO,
	    .a = repo, .b = subject, .list = write ? writer : reader, .nlist = 1 });
}

static void
unbind(struct idg_change *c, const char *subject, const char *repo)
{
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET, .rtype = IDG_RT_REPO,
	    .a = repo, .b = subject, .nlist = 0 });
}

#define PIPELINE_INPUTS_MAX 64

/* create and update: inputs need REPO_READ and REPO_ADD_PIPELINE_READER; an existing output
 * needs REPO_WRITE and REPO_ADD_PIPELINE_WRITER; a new output needs PROJECT_CREATE_REPO and
 * makes the caller its repoOwner; inputs dropped by an update need
 * REPO_REMOVE_PIPELINE_READER and lose the pipeline's binding. */
void
api_pipeline_create(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	static const int in_need[] = { IDG_P_REPO_READ, IDG_P_REPO_ADD_PIPELINE_READER };
	static const int out_need[] = { IDG_P_REPO_WRITE, IDG_P_REPO_ADD_PIPELINE_WRITER };
	bool update = rq->op == IDG_OP_PIPELINE_UPDATE;
	char pname[API_NAME_BUF], subject[IDG_SUBJECT_MAX + 1], out_full[API_NAME_BUF];
	char inputs[PIPELINE_INPUTS_MAX][API_NAME_BUF], project[IDG_PROJECT_NAME_MAX + 1];
	char target[160], why[512];
	const char *name, *output, *inlist[PIPELINE_INPUTS_MAX];
	const struct idg_pipeline *old;
	enum idg_pkind kind;
	struct idg_change c;
	struct pending_dir pd = { .used = false };
	size_t nin = 0;
	idg_rid prid, orid;
	bool ok = false;

	idg_change_init(&c);
	if (!api_str(rq, rp, IDG_T_NAME, "pipeline name", IDG_WIRE_REQUEST_MAX, &name) ||
	    !api_opt_str(rq, rp, IDG_T_OUTPUT, "output repo", IDG_WIRE_REQUEST_MAX, &output) ||
	    !repo_arg(d, rp, name, project, pname, &prid))
		goto out;
	snprintf(subject, sizeof(subject), "pipeline:%s", pname);
	if (!api_subject(rp, subject, &kind))
		goto out;
	old = idg_state_pipeline(d->st, pname);
	if (update ? old == NULL : old != NULL) {
		api_fail(rp, IDG_ST_INPUT, update ? "pipeline %s not found" : "pipeline %s already exists",
		    pname);
		goto out;
	}
	for (size_t i = 0; i < rq->v->n; i++) {
		const struct idg_field *f = &rq->v->fields[i];
		const char *s;
		idg_rid rid;
		bool dup = false;

		if (f->tag != IDG_T_INPUT)
			continue;
		if (nin == PIPELINE_INPUTS_MAX) {
			api_fail(rp, IDG_ST_INPUT, "a pipeline has at most %d inputs", PIPELINE_INPUTS_MAX);
			goto out;
		}
		if (idg_field_str(f, &s) < 0 || strlen(s) > 4096) {
			api_fail(rp, IDG_ST_INPUT, "malformed input repo");
			goto out;
		}
		if (!api_repo(d, rp, s, &rid, inputs[nin]) ||
		    !api_require(d, rq, rp, rid, in_need, IDG_ARRAY_SIZE(in_need)))
			goto out;
		for (size_t k = 0; k < nin; k++)
			dup |= strcmp(inputs[k], inputs[nin]) == 0;
		if (!dup) {
			inlist[nin] = inputs[nin];
			nin++;
		}
	}
	if (nin == 0) {
		api_fail(rp, IDG_ST_INPUT, "a pipeline needs at least one input repo");
		goto out;
	}
	/* The output: the named repo, else the update's old output, else PROJECT/NAME. */
	if (output) {
		char p2[IDG_PROJECT_NAME_MAX + 1];
		idg_rid p2rid;

		if (!repo_arg(d, rp, output, p2, out_full, &p2rid))
			goto out;
	} else {
		snprintf(out_full, sizeof(out_full), "%s", update ? old->output : pname);
	}
	for (size_t k = 0; k < nin; k++) {
		if (strcmp(inputs[k], out_full) == 0) {
			api_fail(rp, IDG_ST_INPUT, "repo %s cannot be both an input and the output", out_full);
			goto out;
		}
	}
	orid = idg_rbac_resource_find(d->st->rbac, IDG_RT_REPO, out_full);
	if (orid != IDG_RID_NONE) {
		bool as_output;
		const struct idg_pipeline *p = pipeline_using(d, out_full, &as_output);

		if (p && as_output && p != old) {
			api_fail(rp, IDG_ST_INPUT, "repo %s is already the output of pipeline %s", out_full,
			    p->name);
			goto out;
		}
		if (!api_require(d, rq, rp, orid, out_need, IDG_ARRAY_SIZE(out_need)))
			goto out;
	} else {
		char op[IDG_PROJECT_NAME_MAX + 1], orepo[IDG_REPO_NAME_MAX + 1];
		idg_rid oprid;

		idg_repo_split(out_full, op, orepo, why, sizeof(why));
		oprid = idg_rbac_resource_find(d->st->rbac, IDG_RT_PROJECT, op);
		if (!api_require1(d, rq, rp, oprid, IDG_P_PROJECT_CREATE_REPO) ||
		    !create_repo(d, rq, rp, &c, out_full, "output of a pipeline", &pd))
			goto out;
	}
	if (update) {
		/* Inputs the update drops lose the pipeline's binding; so does a replaced output. */
		for (size_t k = 0; k < old->ninputs; k++) {
			bool kept = false;
			idg_rid rid;

			for (size_t j = 0; j < nin; j++)
				kept |= strcmp(old->inputs[k], inputs[j]) == 0;
			if (kept)
				continue;
			rid = idg_rbac_resource_find(d->st->rbac, IDG_RT_REPO, old->inputs[k]);
			if (rid != IDG_RID_NONE &&
			    !api_require1(d, rq, rp, rid, IDG_P_REPO_REMOVE_PIPELINE_READER))
				goto out;
			unbind(&c, subject, old->inputs[k]);
		}
		if (strcmp(old->output, out_full) != 0)
			unbind(&c, subject, old->output);
		idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_PIPELINE_DEL, .a = pname });
	}
	for (size_t k = 0; k < nin; k++)
		bind_pipeline(&c, subject, inputs[k], false);
	bind_pipeline(&c, subject, out_full, true);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_PIPELINE_ADD, .a = pname, .b = out_full,
	    .c = rq->who.name, .list = inlist, .nlist = nin, .t1 = (int64_t)time(NULL) });
	snprintf(target, sizeof(target), "PIPELINE %s", pname);
	if ((ok = api_commit(d, rq, rp, &c, target, NULL))) {
		cJSON *o = api_obj(rp);
		cJSON *arr = cJSON_AddArrayToObject(o, "inputs");

		cJSON_AddStringToObject(o, "pipeline", pname);
		cJSON_AddStringToObject(o, "output", out_full);
		for (size_t k = 0; k < nin; k++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(inputs[k]));
	}
out:
	pending_finish(d, &pd, ok);
	idg_change_free(&c);
}

void
api_pipeline_delete(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char project[IDG_PROJECT_NAME_MAX + 1], pname[API_NAME_BUF], subject[IDG_SUBJECT_MAX + 1];
	char target[160];
	const struct idg_pipeline *p;
	const char *name;
	struct idg_change c;
	idg_rid prid, orid;

	if (!api_str(rq, rp, IDG_T_NAME, "pipeline name", IDG_WIRE_REQUEST_MAX, &name) ||
	    !repo_arg(d, rp, name, project, pname, &prid))
		return;
	if ((p = idg_state_pipeline(d->st, pname)) == NULL) {
		api_fail(rp, IDG_ST_INPUT, "pipeline %s not found", pname);
		return;
	}
	/* Pachyderm's rule: deleting a pipeline needs REPO_DELETE on its output. */
	orid = idg_rbac_resource_find(d->st->rbac, IDG_RT_REPO, p->output);
	if (orid != IDG_RID_NONE && !api_require1(d, rq, rp, orid, IDG_P_REPO_DELETE))
		return;
	snprintf(subject, sizeof(subject), "pipeline:%s", pname);
	idg_change_init(&c);
	for (size_t k = 0; k < p->ninputs; k++)
		unbind(&c, subject, p->inputs[k]);
	unbind(&c, subject, p->output);
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_PIPELINE_DEL, .a = pname });
	snprintf(target, sizeof(target), "PIPELINE %s", pname);
	if (api_commit(d, rq, rp, &c, target, "output repo kept"))
		cJSON_AddStringToObject(api_obj(rp), "pipeline", pname);
	idg_change_free(&c);
}

void
api_pipeline_list(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	cJSON *arr;

	if (!api_need_identity(d, rq, rp))
		return;
	arr = cJSON_AddArrayToObject(api_obj(rp), "pipelines");
	for (size_t i = 0; i < d->st->npipes; i++) {
		const struct idg_pipeline *p = &d->st->pipes[i];
		cJSON *o, *in;

		if (!p->live)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", p->name);
		cJSON_AddStringToObject(o, "output", p->output);
		in = cJSON_AddArrayToObject(o, "inputs");
		for (size_t k = 0; k < p->ninputs; k++)
			cJSON_AddItemToArray(in, cJSON_CreateString(p->inputs[k]));
		cJSON_AddStringToObject(o, "creator", p->creator);
		cJSON_AddNumberToObject(o, "created", (double)p->created);
		cJSON_AddItemToArray(arr, o);
	}
}

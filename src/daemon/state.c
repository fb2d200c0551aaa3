/* idgated's state: apply mutations to the model and catalog, for loading and live changes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/state.h"

/* Grow an array of elem-sized entries to hold n + 1. */
static int
reserve(void **arr, size_t elem, size_t *cap, size_t n)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if ((p = realloc(*arr, ncap * elem)) == NULL)
		return IDG_ERR_NOMEM;
	memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

static int
rmeta_set(struct idg_state *st, idg_rid rid, const struct idg_mut *m)
{
	struct idg_resmeta *rm;

	if (rid >= st->nrmeta) {
		size_t n = rid + 1 > st->nrmeta * 2 ? rid + 1 : st->nrmeta * 2;
		struct idg_resmeta *p = realloc(st->rmeta, n * sizeof(*p));

		if (p == NULL)
			return IDG_ERR_NOMEM;
		memset(p + st->nrmeta, 0, (n - st->nrmeta) * sizeof(*p));
		st->rmeta = p;
		st->nrmeta = n;
	}
	rm = &st->rmeta[rid];
	free(rm->creator);
	free(rm->description);
	rm->created = m->t1;
	rm->creator = strdup(m->b ? m->b : "");
	rm->description = strdup(m->c ? m->c : "");
	return rm->creator && rm->description ? 0 : IDG_ERR_NOMEM;
}

static void
rmeta_clear(struct idg_state *st, idg_rid rid)
{
	if (rid < st->nrmeta) {
		free(st->rmeta[rid].creator);
		free(st->rmeta[rid].description);
		memset(&st->rmeta[rid], 0, sizeof(st->rmeta[rid]));
	}
}

/* The principal for a stored subject, interned; IDG_PID_NONE if it is not a valid subject. */
static idg_pid
subject_pid(struct idg_state *st, const char *subject)
{
	enum idg_pkind kind;
	char why[256];
	idg_pid pid;

	if (idg_subject_check(subject, &kind, why, sizeof(why)) < 0)
		return IDG_PID_NONE;
	if (idg_rbac_principal(st->rbac, subject, kind, &pid) < 0)
		return IDG_PID_NONE;
	return pid;
}

static int
group_pid(struct idg_state *st, const char *name, idg_pid *out)
{
	char subject[IDG_SUBJECT_MAX + 1];

	snprintf(subject, sizeof(subject), "group:%s", name);
	*out = subject_pid(st, subject);
	return *out == IDG_PID_NONE ? IDG_ERR_INVAL : 0;
}

static int
apply_binding(struct idg_state *st, const struct idg_mut *m)
{
	idg_role roles[IDG_BINDING_ROLES_MAX];
	size_t n = 0;
	idg_rid rid = idg_rbac_resource_find(st->rbac, (enum idg_rtype)m->rtype, m->a);
	idg_pid pid;

	if (rid == IDG_RID_NONE) {
		log_warn("state: binding for %s on unknown %s '%s' ignored", m->b,
		    idg_rtype_lower((enum idg_rtype)m->rtype), m->a);
		return 0;
	}
	if ((pid = subject_pid(st, m->b)) == IDG_PID_NONE) {
		log_warn("state: binding for invalid subject ignored");
		return 0;
	}
	for (size_t i = 0; i < m->nlist && n < IDG_BINDING_ROLES_MAX; i++) {
		if (idg_rbac_role_find(st->rbac, m->list[i], &roles[n]) == 0)
			n++;
		else
			log_warn("state: unknown role '%s' in a binding of %s ignored", m->list[i], m->b);
	}
	if (n == 0 && m->nlist > 0)
		return 0;
	return idg_rbac_binding_set(st->rbac, rid, pid, roles, n);
}

static int
apply_role_add(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_permset ps = { { 0, 0 } };
	idg_role role;

	for (size_t i = 0; i < m->nlist; i++) {
		int p = idg_perm_lookup(m->list[i]);

		if (p < 0) {
			log_warn("state: unknown permission '%s' in role %s ignored", m->list[i], m->a);
			continue;
		}
		idg_permset_add(&ps, p);
	}
	return idg_rbac_role_add(st->rbac, m->a, &ps, m->u, &role);
}

static int
ids_put(struct idg_state *st, uint32_t id, enum idg_id_owner kind, size_t index)
{
	return idg_idtab_put(&st->ids, id, ((uint32_t)kind << 30) | (uint32_t)index);
}

/* Forget id if it is still the given owner's (a hold in the same change may own it now). */
static void
ids_drop(struct idg_state *st, uint32_t id, enum idg_id_owner kind, size_t index)
{
	uint32_t v;

	if (id && idg_idtab_get(&st->ids, id, &v) == 0 &&
	    v == (((uint32_t)kind << 30) | (uint32_t)index))
		idg_idtab_del(&st->ids, id);
}

static int
apply_group_add(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_group *g;
	idg_pid pid;
	int rc;

	if ((rc = group_pid(st, m->a, &pid)) < 0)
		return rc;
	if ((rc = reserve((void **)&st->groups, sizeof(*st->groups), &st->capgroups, st->ngroups)) < 0)
		return rc;
	g = &st->groups[st->ngroups];
	if ((g->name = strdup(m->a)) == NULL)
		return IDG_ERR_NOMEM;
	if ((rc = idg_strmap_put(&st->groupmap, g->name, (uint32_t)st->ngroups)) < 0) {
		free(g->name);
		return rc;
	}
	g->idp = m->b && strcmp(m->b, "idp") == 0;
	g->gid = m->u;
	g->created = m->t1;
	g->live = true;
	if (g->gid && (rc = ids_put(st, g->gid, IDG_IDO_GROUP, st->ngroups)) < 0) {
		idg_strmap_del(&st->groupmap, g->name);
		free(g->name);
		memset(g, 0, sizeof(*g));
		return rc;
	}
	st->ngroups++;
	return 0;
}

/* The pin: iss, sub and the usersub key "iss\nsub". */
static int
user_pin(struct idg_state *st, struct idg_user *u, size_t index, const char *iss,
    const char *sub)
{
	size_t klen = strlen(iss) + strlen(sub) + 2;
	char *i2 = strdup(iss), *s2 = strdup(sub), *k = malloc(klen);
	int rc;

	if (i2 == NULL || s2 == NULL || k == NULL) {
		rc = IDG_ERR_NOMEM;
		goto fail;
	}
	snprintf(k, klen, "%s\n%s", iss, sub);
	if ((rc = idg_strmap_put(&st->usersub, k, (uint32_t)index)) < 0)
		goto fail;
	u->iss = i2;
	u->sub = s2;
	u->key = k;
	return 0;
fail:
	free(i2);
	free(s2);
	free(k);
	return rc;
}

static int
apply_user_add(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_user *u;
	int rc;

	if (m->a == NULL || m->b == NULL || (m->c == NULL) != (m->d == NULL))
		return IDG_ERR_CORRUPT;
	if ((rc = reserve((void **)&st->users, sizeof(*st->users), &st->capusers, st->nusers)) < 0)
		return rc;
	u = &st->users[st->nusers];
	memset(u, 0, sizeof(*u));
	if ((u->name = strdup(m->a)) == NULL || (u->principal = strdup(m->b)) == NULL ||
	    (u->gecos = strdup(m->e ? m->e : "")) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto fail;
	}
	if ((rc = idg_strmap_put(&st->usermap, u->name, (uint32_t)st->nusers)) < 0)
		goto fail;
	if (m->c && (rc = user_pin(st, u, st->nusers, m->c, m->d)) < 0) {
		idg_strmap_del(&st->usermap, u->name);
		goto fail;
	}
	u->uid = m->u;
	if (u->uid && (rc = ids_put(st, u->uid, IDG_IDO_USER, st->nusers)) < 0) {
		idg_strmap_del(&st->usermap, u->name);
		if (u->key)
			idg_strmap_del(&st->usersub, u->key);
		goto fail;
	}
	u->created = m->t1;
	u->live = true;
	st->nusers++;
	return 0;
fail:
	free(u->name);
	free(u->principal);
	free(u->gecos);
	free(u->iss);
	free(u->sub);
	free(u->key);
	memset(u, 0, sizeof(*u));
	return rc;
}

static void
user_free(struct idg_user *u)
{
	idg_free_secret(u->offline);
	free(u->name);
	free(u->principal);
	free(u->iss);
	free(u->sub);
	free(u->key);
	free(u->gecos);
	free(u->want_user);
	free(u->want_sub);
	memset(u, 0, sizeof(*u));
}

static int
apply_user_del(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_user *u = idg_state_user(st, m->a);

	if (u == NULL)
		return 0;
	ids_drop(st, u->uid, IDG_IDO_USER, (size_t)(u - st->users));
	idg_strmap_del(&st->usermap, u->name);
	if (u->key)
		idg_strmap_del(&st->usersub, u->key);
	user_free(u);
	return 0;
}

static int
apply_user_set(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_user *u = idg_state_user(st, m->a);
	size_t index;
	char *g;

	if (u == NULL)
		return 0;
	index = (size_t)(u - st->users);
	switch (m->kind) {
	case IDG_MUT_USER_PIN:
		if (u->key || m->c == NULL || m->d == NULL)
			return 0;
		return user_pin(st, u, index, m->c, m->d);
	case IDG_MUT_USER_UNPIN:
		if (u->key == NULL)
			return 0;
		(void)idg_strmap_del(&st->usersub, u->key);
		free(u->iss);
		free(u->sub);
		free(u->key);
		u->iss = u->sub = u->key = NULL;
		return 0;
	case IDG_MUT_USER_UID:
		if (u->uid || m->u == 0)
			return 0;
		u->uid = m->u;
		return ids_put(st, u->uid, IDG_IDO_USER, index);
	case IDG_MUT_USER_EXPECT: {
		char *wu = m->b ? strdup(m->b) : NULL, *ws = m->c ? strdup(m->c) : NULL;

		if ((m->b && wu == NULL) || (m->c && ws == NULL)) {
			free(wu);
			free(ws);
			return IDG_ERR_NOMEM;
		}
		free(u->want_user);
		free(u->want_sub);
		u->want_user = wu;
		u->want_sub = ws;
		return 0;
	}
	default:
		if ((g = strdup(m->e ? m->e : "")) == NULL)
			return IDG_ERR_NOMEM;
		free(u->gecos);
		u->gecos = g;
		return 0;
	}
}

/* The user's offline credential, replaced or dropped. */
static int
apply_offline(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_user *u = idg_state_user(st, m->a);
	char *v = NULL;

	if (u == NULL)
		return 0;
	if (m->kind == IDG_MUT_OFFLINE_SET && (v = strdup(m->b ? m->b : "")) == NULL)
		return IDG_ERR_NOMEM;
	idg_free_secret(u->offline);
	u->offline = v;
	u->offline_at = v ? m->t1 : 0;
	return 0;
}

static int
apply_group_gid(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_group *g = idg_state_group(st, m->a);

	if (g == NULL || g->gid || m->u == 0)
		return 0;
	g->gid = m->u;
	return ids_put(st, g->gid, IDG_IDO_GROUP, (size_t)(g - st->groups));
}

static int
apply_hold(struct idg_state *st, const struct idg_mut *m)
{
	char kind = idg_hold_kind(m->b);
	struct idg_hold *h;
	size_t klen;
	int rc;

	if (kind == 0 || m->u == 0 || m->a == NULL)
		return IDG_ERR_CORRUPT;
	if ((rc = reserve((void **)&st->holds, sizeof(*st->holds), &st->capholds, st->nholds)) < 0)
		return rc;
	h = &st->holds[st->nholds];
	klen = strlen(m->a) + 3;
	if ((h->key = malloc(klen)) == NULL)
		return IDG_ERR_NOMEM;
	snprintf(h->key, klen, "%c:%s", kind, m->a);
	h->name = h->key + 2;
	h->id = m->u;
	h->kind = kind;
	h->created = m->t1;
	h->live = true;
	/* A name may hold several ids over time (deleted, re-added with another, deleted): the
	 * map gives the newest; the others stay held all the same. */
	if ((rc = idg_strmap_put(&st->holdmap, h->key, (uint32_t)st->nholds)) < 0 ||
	    (rc = ids_put(st, h->id, IDG_IDO_HOLD, st->nholds)) < 0) {
		idg_strmap_del(&st->holdmap, h->key);
		free(h->key);
		memset(h, 0, sizeof(*h));
		return rc;
	}
	st->nholds++;
	return 0;
}

static int
apply_release(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_hold *h;
	uint32_t v;

	if (idg_idtab_get(&st->ids, m->u, &v) < 0 || IDG_IDO_KIND(v) != IDG_IDO_HOLD ||
	    IDG_IDO_INDEX(v) >= st->nholds)
		return 0;
	h = &st->holds[IDG_IDO_INDEX(v)];
	if (idg_strmap_get(&st->holdmap, h->key, &v) == 0 && &st->holds[v] == h)
		idg_strmap_del(&st->holdmap, h->key);
	idg_idtab_del(&st->ids, h->id);
	free(h->key);
	memset(h, 0, sizeof(*h));
	return 0;
}

static int
apply_group_del(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_group *g = idg_state_group(st, m->a);
	const idg_pid *members;
	size_t n;
	idg_pid pid;

	if (g == NULL)
		return 0;
	if (group_pid(st, m->a, &pid) == 0) {
		idg_rbac_members_of(st->rbac, pid, &members, &n);
		while (n > 0) {
			idg_rbac_member_del(st->rbac, pid, members[n - 1]);
			idg_rbac_members_of(st->rbac, pid, &members, &n);
		}
	}
	ids_drop(st, g->gid, IDG_IDO_GROUP, (size_t)(g - st->groups));
	idg_strmap_del(&st->groupmap, g->name);
	free(g->name);
	g->name = NULL;
	g->gid = 0;
	g->live = false;
	return 0;
}

static int
apply_member(struct idg_state *st, const struct idg_mut *m, bool add)
{
	idg_pid gp, mp;
	int rc;

	if (group_pid(st, m->a, &gp) < 0 || (mp = subject_pid(st, m->b)) == IDG_PID_NONE)
		return 0;
	rc = add ? idg_rbac_member_add(st->rbac, gp, mp) : idg_rbac_member_del(st->rbac, gp, mp);
	return rc == IDG_ERR_EXISTS || rc == IDG_ERR_NOTFOUND || rc == IDG_ERR_INVAL ? 0 : rc;
}

static int
apply_token_add(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_token *t;
	int rc;

	if (strlen(m->a) != 64)
		return 0;
	if ((rc = reserve((void **)&st->tokens, sizeof(*st->tokens), &st->captokens, st->ntokens)) < 0)
		return rc;
	t = &st->tokens[st->ntokens];
	memcpy(t->hash, m->a, 65);
	if ((t->subject = strdup(m->b)) == NULL)
		return IDG_ERR_NOMEM;
	if ((rc = idg_strmap_put(&st->tokenmap, t->hash, (uint32_t)st->ntokens)) < 0) {
		free(t->subject);
		return rc;
	}
	t->created = m->t1;
	t->expires = m->t2;
	t->live = true;
	st->ntokens++;
	return 0;
}

static void
token_drop(struct idg_state *st, struct idg_token *t)
{
	idg_strmap_del(&st->tokenmap, t->hash);
	free(t->subject);
	t->subject = NULL;
	t->live = false;
}

static void
pipeline_drop(struct idg_state *st, struct idg_pipeline *p)
{
	idg_strmap_del(&st->pipemap, p->name);
	free(p->name);
	free(p->output);
	free(p->creator);
	for (size_t i = 0; i < p->ninputs; i++)
		free(p->inputs[i]);
	free(p->inputs);
	memset(p, 0, sizeof(*p));
}

static int
apply_pipeline_add(struct idg_state *st, const struct idg_mut *m)
{
	struct idg_pipeline *p;
	int rc;

	if ((rc = reserve((void **)&st->pipes, sizeof(*st->pipes), &st->cappipes, st->npipes)) < 0)
		return rc;
	p = &st->pipes[st->npipes];
	p->name = strdup(m->a);
	p->output = strdup(m->b);
	p->creator = strdup(m->c ? m->c : "");
	p->inputs = calloc(m->nlist ? m->nlist : 1, sizeof(*p->inputs));
	if (!p->name || !p->output || !p->creator || !p->inputs)
		goto nomem;
	for (size_t i = 0; i < m->nlist; i++) {
		if ((p->inputs[i] = strdup(m->list[i])) == NULL)
			goto nomem;
		p->ninputs++;
	}
	if (idg_strmap_put(&st->pipemap, p->name, (uint32_t)st->npipes) < 0)
		goto nomem;
	p->created = m->t1;
	p->live = true;
	st->npipes++;
	return 0;
nomem:
	free(p->name);
	free(p->output);
	free(p->creator);
	for (size_t i = 0; i < p->ninputs; i++)
		free(p->inputs[i]);
	free(p->inputs);
	memset(p, 0, sizeof(*p));
	return IDG_ERR_NOMEM;
}

static int
apply_mut(void *ctx, const struct idg_mut *m)
{
	struct idg_state *st = ctx;
	idg_rid rid, parent;
	int rc = 0;

	switch (m->kind) {
	case IDG_MUT_META_SET:
		if (strcmp(m->a, "activated") == 0) {
			st->activated = strcmp(m->b, "yes") == 0;
			st->activation_known = true;
		} else if (strcmp(m->a, IDG_META_JWKS) == 0) {
			char *copy = strdup(m->b);

			if (copy == NULL)
				return IDG_ERR_NOMEM;
			free(st->jwks_json);
			st->jwks_json = copy;
		}
		break;
	case IDG_MUT_ROLE_ADD:
		rc = apply_role_add(st, m);
		break;
	case IDG_MUT_ROLE_DEL: {
		idg_role role;

		if (idg_rbac_role_find(st->rbac, m->a, &role) == 0)
			rc = idg_rbac_role_del(st->rbac, role);
		break;
	}
	case IDG_MUT_PROJECT_ADD:
		rc = idg_rbac_resource_add(st->rbac, IDG_RT_PROJECT, m->a, IDG_RID_CLUSTER, &rid);
		if (rc == 0)
			rc = rmeta_set(st, rid, m);
		break;
	case IDG_MUT_REPO_ADD: {
		char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1], why[256];

		if (idg_repo_split(m->a, project, repo, why, sizeof(why)) < 0 ||
		    (parent = idg_rbac_resource_find(st->rbac, IDG_RT_PROJECT, project)) == IDG_RID_NONE) {
			log_warn("state: repo with a bad name or unknown project ignored");
			break;
		}
		rc = idg_rbac_resource_add(st->rbac, IDG_RT_REPO, m->a, parent, &rid);
		if (rc == 0)
			rc = rmeta_set(st, rid, m);
		break;
	}
	case IDG_MUT_PROJECT_DEL:
	case IDG_MUT_REPO_DEL:
		rid = idg_rbac_resource_find(st->rbac,
		    m->kind == IDG_MUT_PROJECT_DEL ? IDG_RT_PROJECT : IDG_RT_REPO, m->a);
		if (rid != IDG_RID_NONE && (rc = idg_rbac_resource_del(st->rbac, rid)) == 0)
			rmeta_clear(st, rid);
		break;
	case IDG_MUT_GROUP_ADD:
		rc = apply_group_add(st, m);
		break;
	case IDG_MUT_USER_ADD:
		rc = apply_user_add(st, m);
		break;
	case IDG_MUT_USER_DEL:
		rc = apply_user_del(st, m);
		break;
	case IDG_MUT_USER_PIN:
	case IDG_MUT_USER_UNPIN:
	case IDG_MUT_USER_UID:
	case IDG_MUT_USER_GECOS:
	case IDG_MUT_USER_EXPECT:
		rc = apply_user_set(st, m);
		break;
	case IDG_MUT_GROUP_GID:
		rc = apply_group_gid(st, m);
		break;
	case IDG_MUT_OFFLINE_SET:
	case IDG_MUT_OFFLINE_DEL:
		rc = apply_offline(st, m);
		break;
	case IDG_MUT_ID_HOLD:
		rc = apply_hold(st, m);
		break;
	case IDG_MUT_ID_RELEASE:
		rc = apply_release(st, m);
		break;
	case IDG_MUT_GROUP_DEL:
		rc = apply_group_del(st, m);
		break;
	case IDG_MUT_MEMBER_ADD:
	case IDG_MUT_MEMBER_DEL:
		rc = apply_member(st, m, m->kind == IDG_MUT_MEMBER_ADD);
		break;
	case IDG_MUT_BINDING_SET:
		rc = apply_binding(st, m);
		break;
	case IDG_MUT_TOKEN_ADD:
		rc = apply_token_add(st, m);
		break;
	case IDG_MUT_TOKEN_DEL: {
		struct idg_token *t = idg_state_token(st, m->a);

		if (t)
			token_drop(st, t);
		break;
	}
	case IDG_MUT_PIPELINE_ADD:
		rc = apply_pipeline_add(st, m);
		break;
	case IDG_MUT_PIPELINE_DEL: {
		struct idg_pipeline *p = idg_state_pipeline(st, m->a);

		if (p)
			pipeline_drop(st, p);
		break;
	}
	case IDG_MUT_AUTH_RESET:
		idg_rbac_reset(st->rbac);
		for (size_t i = 0; i < st->ntokens; i++)
			if (st->tokens[i].live)
				token_drop(st, &st->tokens[i]);
		break;
	}
	return rc;
}

static void
catalog_free(struct idg_state *st)
{
	for (size_t i = 0; i < st->nrmeta; i++)
		rmeta_clear(st, (idg_rid)i);
	free(st->rmeta);
	st->rmeta = NULL;
	st->nrmeta = 0;
	for (size_t i = 0; i < st->ngroups; i++)
		free(st->groups[i].name);
	free(st->groups);
	st->groups = NULL;
	st->ngroups = st->capgroups = 0;
	for (size_t i = 0; i < st->ntokens; i++)
		free(st->tokens[i].subject);
	free(st->tokens);
	st->tokens = NULL;
	st->ntokens = st->captokens = 0;
	for (size_t i = 0; i < st->npipes; i++)
		if (st->pipes[i].live)
			pipeline_drop(st, &st->pipes[i]);
	free(st->pipes);
	st->pipes = NULL;
	st->npipes = st->cappipes = 0;
	for (size_t i = 0; i < st->nusers; i++)
		user_free(&st->users[i]);
	free(st->users);
	st->users = NULL;
	st->nusers = st->capusers = 0;
	for (size_t i = 0; i < st->nholds; i++)
		free(st->holds[i].key);
	free(st->holds);
	st->holds = NULL;
	st->nholds = st->capholds = 0;
	idg_strmap_free(&st->holdmap);
	idg_idtab_free(&st->ids);
	idg_strmap_free(&st->usermap);
	idg_strmap_free(&st->usersub);
	idg_strmap_free(&st->groupmap);
	idg_strmap_free(&st->tokenmap);
	idg_strmap_free(&st->pipemap);
	idg_rbac_free(st->rbac);
	st->rbac = NULL;
}

/* (Re)build the model and catalog from the store. */
static int
load(struct idg_state *st, char *err, size_t errlen)
{
	uint8_t k[16];
	int rc;

	catalog_free(st);
	st->activated = st->activation_known = false;
	memcpy(k, st->seed, 16);
	k[15] ^= 0x5a;
	{
		uint64_t ik;

		memcpy(&ik, st->seed + 4, sizeof(ik));
		idg_idtab_init(&st->ids, ik);
	}
	if ((rc = idg_rbac_new(st->seed, &st->rbac)) < 0 ||
	    (rc = idg_strmap_init(&st->groupmap, k)) < 0 ||
	    (k[14] ^= 1, rc = idg_strmap_init(&st->tokenmap, k)) < 0 ||
	    (k[13] ^= 1, rc = idg_strmap_init(&st->pipemap, k)) < 0 ||
	    (k[12] ^= 1, rc = idg_strmap_init(&st->usermap, k)) < 0 ||
	    (k[11] ^= 1, rc = idg_strmap_init(&st->usersub, k)) < 0 ||
	    (k[10] ^= 1, rc = idg_strmap_init(&st->holdmap, k)) < 0) {
		snprintf(err, errlen, "loading state: %s", idg_strerror(rc));
		return rc;
	}
	if ((rc = st->ops->load(st->store, apply_mut, st, err, errlen)) < 0)
		return rc;
	return 0;
}

void
idg_state_activation(const struct idg_state *st, struct idg_change *c, int64_t now)
{
	static const char *const creator[] = { "projectCreator" };
	static const char *const writer[] = { "projectWriter" };

	(void)st;
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_META_SET, .a = "activated", .b = "yes" });
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET, .rtype = IDG_RT_CLUSTER,
	    .a = "", .b = IDG_SUBJECT_ALL, .list = creator, .nlist = 1 });
	if (idg_rbac_resource_find(st->rbac, IDG_RT_PROJECT, IDG_DEFAULT_PROJECT) == IDG_RID_NONE)
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_PROJECT_ADD,
		    .a = IDG_DEFAULT_PROJECT, .b = IDG_SUBJECT_ROOT, .c = "the default project",
		    .t1 = now });
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET, .rtype = IDG_RT_PROJECT,
	    .a = IDG_DEFAULT_PROJECT, .b = IDG_SUBJECT_ALL, .list = writer, .nlist = 1 });
}

int
idg_state_open(const struct idg_store_ops *ops, const struct idg_store_conf *conf,
    struct idg_state **out, char *err, size_t errlen)
{
	struct idg_state *st = calloc(1, sizeof(*st));
	int rc;

	if (st == NULL)
		return IDG_ERR_NOMEM;
	st->ops = ops;
	st->store_conf = *conf;
	if ((rc = idg_random(st->seed, sizeof(st->seed))) < 0) {
		snprintf(err, errlen, "no random bytes from the kernel");
		goto fail;
	}
	if ((rc = ops->open(conf, &st->store, err, errlen)) < 0)
		goto fail;
	if ((rc = load(st, err, errlen)) < 0)
		goto fail;
	/* A new store (no "activated" key at all) gets the spec's activation defaults;
	 * "no" means an administrator deactivated it, and it stays so. */
	if (!st->activation_known) {
		struct idg_change c;

		idg_change_init(&c);
		idg_state_activation(st, &c, (int64_t)time(NULL));
		rc = idg_state_commit(st, &c, err, errlen);
		idg_change_free(&c);
		if (rc < 0)
			goto fail;
		st->fresh = true;
	}
	*out = st;
	return 0;
fail:
	idg_state_close(st);
	return rc;
}

void
idg_state_close(struct idg_state *st)
{
	if (st == NULL)
		return;
	catalog_free(st);
	free(st->jwks_json);
	if (st->store)
		st->ops->close(st->store);
	free(st);
}

int
idg_state_commit(struct idg_state *st, const struct idg_change *c, char *err, size_t errlen)
{
	int rc;

	if (c->err)
		return c->err;
	if ((rc = st->ops->apply(st->store, c, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < c->n; i++) {
		if ((rc = apply_mut(st, &c->m[i])) < 0) {
			/* The store has the change; memory does not. The store is the truth: reload. */
			log_err("state: applying a committed change in memory failed (%s); reloading",
			    idg_strerror(rc));
			if ((rc = load(st, err, errlen)) < 0)
				return rc;	/* the caller stops the daemon: it cannot decide safely */
			break;
		}
	}
	if (st->on_commit)
		st->on_commit(st->on_commit_ctx, c);
	return 0;
}

struct idg_group *
idg_state_group(const struct idg_state *st, const char *name)
{
	uint32_t v;

	if (idg_strmap_get(&st->groupmap, name, &v) < 0)
		return NULL;
	return &st->groups[v];
}

struct idg_user *
idg_state_user(const struct idg_state *st, const char *posix_name)
{
	uint32_t v;

	if (idg_strmap_get(&st->usermap, posix_name, &v) < 0)
		return NULL;
	return &st->users[v];
}

struct idg_hold *
idg_state_hold(const struct idg_state *st, char kind, const char *name)
{
	char key[IDG_SUBJECT_MAX + 4];
	uint32_t v;

	if ((size_t)snprintf(key, sizeof(key), "%c:%s", kind, name) >= sizeof(key) ||
	    idg_strmap_get(&st->holdmap, key, &v) < 0)
		return NULL;
	return &st->holds[v];
}

static const struct {
	char kind;
	const char *name;
} hold_kinds[] = {
	{ IDG_HOLD_USER, "user" }, { IDG_HOLD_GROUP, "group" }, { IDG_HOLD_POSIX, "posix-group" },
};

const char *
idg_hold_kind_name(char kind)
{
	for (size_t i = 0; i < IDG_ARRAY_SIZE(hold_kinds); i++)
		if (hold_kinds[i].kind == kind)
			return hold_kinds[i].name;
	return "?";
}

char
idg_hold_kind(const char *name)
{
	for (size_t i = 0; name && i < IDG_ARRAY_SIZE(hold_kinds); i++)
		if (strcmp(hold_kinds[i].name, name) == 0)
			return hold_kinds[i].kind;
	return 0;
}

struct idg_user *
idg_state_user_by_sub(const struct idg_state *st, const char *iss, const char *sub)
{
	char key[4096];
	uint32_t v;

	if ((size_t)snprintf(key, sizeof(key), "%s\n%s", iss, sub) >= sizeof(key) ||
	    idg_strmap_get(&st->usersub, key, &v) < 0)
		return NULL;
	return &st->users[v];
}

struct idg_token *
idg_state_token(const struct idg_state *st, const char *hash)
{
	uint32_t v;

	if (idg_strmap_get(&st->tokenmap, hash, &v) < 0)
		return NULL;
	return &st->tokens[v];
}

struct idg_pipeline *
idg_state_pipeline(const struct idg_state *st, const char *name)
{
	uint32_t v;

	if (idg_strmap_get(&st->pipemap, name, &v) < 0)
		return NULL;
	return &st->pipes[v];
}

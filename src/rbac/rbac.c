/* The role engine's model and its decisions. See rbac.h for the contract and README.md for
 * the layout: bindings are (principal, role set) pairs; role sets are interned with their
 * permission union precomputed, so a check never looks at individual roles. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rbac/hash.h"
#include "rbac/rbac.h"

struct binding {
	idg_pid pid;
	uint32_t rs;	/* role set */
};

/* A resource is two cache lines, and its first RES_INLINE bindings live in them: a check of a
 * repo with a handful of bindings then costs one fetch (both lines, requested together)
 * instead of a fetch of the record and then one of its bindings. More bindings move, all of
 * them, to the heap. */
#define RES_INLINE 11

struct resource {
	idg_rid parent;
	uint32_t nb;
	struct binding *b;	/* NULL: the bindings are inl[]; else capb of them on the heap */
	uint8_t type;
	uint8_t live;
	uint32_t children;
	uint32_t capb;
	char *name;
	struct binding inl[RES_INLINE];	/* sorted by pid, like b */
};

_Static_assert(sizeof(struct resource) == 128, "a resource is two cache lines");

static inline struct binding *
rb(struct resource *res)
{
	return res->b ? res->b : res->inl;
}

static inline const struct binding *
crb(const struct resource *res)
{
	return res->b ? res->b : res->inl;
}

/* Room for need bindings on res, moving them to the heap when the inline slots are full. */
static int
binding_reserve(struct resource *res, size_t need)
{
	size_t cap = res->b ? res->capb : RES_INLINE, ncap = cap;
	struct binding *n;

	if (need <= cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if (ncap > UINT32_MAX)
		return IDG_ERR_TOOBIG;
	if (res->b == NULL) {
		if ((n = malloc(ncap * sizeof(*n))) == NULL)
			return IDG_ERR_NOMEM;
		memcpy(n, res->inl, res->nb * sizeof(*n));
	} else if ((n = realloc(res->b, ncap * sizeof(*n))) == NULL) {
		return IDG_ERR_NOMEM;
	}
	res->b = n;
	res->capb = (uint32_t)ncap;
	return 0;
}

struct principal {
	char *name;
	idg_pid *groups;	/* sorted */
	uint32_t ng, capg;
	/* When ng > SMALL_GROUPS: one 64-byte block holding a 512-bit Bloom filter of the groups,
	 * followed by an open-addressing set of them. A check asks the filter first (one cache
	 * line, fetched while the resource's bindings load) and probes the set only on a maybe. */
	uint64_t *gset;
	uint32_t gmask;
	idg_pid *members;	/* for groups: sorted */
	uint32_t nm, capm;
};

struct role {
	char *name;		/* NULL: deleted slot */
	struct idg_permset perms;
	unsigned rtypes;
	bool builtin;
	size_t uses;
};

struct roleset {
	char *key;		/* "id,id,..." — the map key */
	idg_role *roles;
	uint16_t n;
	uint32_t refs;
};

struct idg_rbac {
	struct resource *res;
	size_t nres, capres;
	idg_rid *res_free;
	size_t nres_free;
	struct idg_strmap projects, repos;

	struct principal *pr;
	uint8_t *pkind;		/* hot copy of each principal's kind */
	size_t npr, cappr;
	struct idg_strmap principals;

	struct role *roles;
	size_t nroles;
	struct idg_strmap rolenames;

	struct roleset *rsets;
	struct idg_permset *rsperms;	/* hot copy of each role set's permission union */
	size_t nrs, caprs;
	uint32_t *rs_free;
	size_t nrs_free;
	struct idg_strmap rskeys;

	size_t nbindings;
};

#define SMALL_GROUPS 8

static const char *const rtype_upper[] = { "CLUSTER", "PROJECT", "REPO" };
static const char *const rtype_lower[] = { "cluster", "project", "repo" };

const char *
idg_rtype_upper(enum idg_rtype t)
{
	return t <= IDG_RT_REPO ? rtype_upper[t] : "?";
}

const char *
idg_rtype_lower(enum idg_rtype t)
{
	return t <= IDG_RT_REPO ? rtype_lower[t] : "?";
}

/* Grow *arr (of elem-sized items, *cap of them) to hold need items. */
static int
grow(void **arr, size_t elem, uint32_t *cap32, size_t *capz, size_t need)
{
	size_t cap = cap32 ? *cap32 : *capz, ncap;
	void *n;

	if (need <= cap)
		return 0;
	ncap = cap ? cap : 4;
	while (ncap < need)
		ncap *= 2;
	if (cap32 && ncap > UINT32_MAX)
		return IDG_ERR_TOOBIG;
	if ((n = realloc(*arr, ncap * elem)) == NULL)
		return IDG_ERR_NOMEM;
	*arr = n;
	if (cap32)
		*cap32 = (uint32_t)ncap;
	else
		*capz = ncap;
	return 0;
}

/* ---------- role sets ---------- */

static int
cmp_role(const void *a, const void *b)
{
	idg_role x = *(const idg_role *)a, y = *(const idg_role *)b;

	return (x > y) - (x < y);
}

static void
roleset_perms(const struct idg_rbac *r, const struct roleset *s, struct idg_permset *out)
{
	memset(out, 0, sizeof(*out));
	for (uint16_t i = 0; i < s->n; i++)
		idg_permset_union(out, &r->roles[s->roles[i]].perms);
}

/* The interned role set for roles (sorted, unique): found or made, with one more ref. */
static int
roleset_get(struct idg_rbac *r, const idg_role *roles, size_t n, uint32_t *out)
{
	char key[IDG_BINDING_ROLES_MAX * 6 + 1];
	size_t off = 0;
	uint32_t id;
	struct roleset *s;
	int rc;

	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(key + off, sizeof(key) - off, "%s%u", i ? "," : "", roles[i]);
	if (idg_strmap_get(&r->rskeys, key, &id) == 0) {
		r->rsets[id].refs++;
		*out = id;
		return 0;
	}
	if (r->nrs_free > 0) {
		id = r->rs_free[--r->nrs_free];
	} else {
		size_t cap = r->caprs;

		if ((rc = grow((void **)&r->rsets, sizeof(*r->rsets), NULL, &cap, r->nrs + 1)) < 0)
			return rc;
		if (cap != r->caprs) {
			/* rs_free can hold every id at once, so roleset_put never allocates. */
			struct idg_permset *np = realloc(r->rsperms, cap * sizeof(*np));
			uint32_t *nf;

			if (np == NULL)
				return IDG_ERR_NOMEM;
			r->rsperms = np;
			if ((nf = realloc(r->rs_free, cap * sizeof(*nf))) == NULL)
				return IDG_ERR_NOMEM;
			r->rs_free = nf;
			r->caprs = cap;
		}
		id = (uint32_t)r->nrs++;
	}
	s = &r->rsets[id];
	s->key = strdup(key);
	s->roles = malloc(n * sizeof(*roles));
	if (s->key == NULL || s->roles == NULL ||
	    idg_strmap_put(&r->rskeys, s->key, id) < 0) {
		free(s->key);
		free(s->roles);
		s->key = NULL;
		s->roles = NULL;
		r->rs_free[r->nrs_free++] = id;	/* rs_free has room for every id: see below */
		return IDG_ERR_NOMEM;
	}
	memcpy(s->roles, roles, n * sizeof(*roles));
	s->n = (uint16_t)n;
	s->refs = 1;
	roleset_perms(r, s, &r->rsperms[id]);
	for (size_t i = 0; i < n; i++)
		r->roles[roles[i]].uses++;
	*out = id;
	return 0;
}

static void
roleset_put(struct idg_rbac *r, uint32_t id)
{
	struct roleset *s = &r->rsets[id];

	if (--s->refs > 0)
		return;
	for (uint16_t i = 0; i < s->n; i++)
		r->roles[s->roles[i]].uses--;
	idg_strmap_del(&r->rskeys, s->key);
	free(s->key);
	free(s->roles);
	s->key = NULL;
	s->roles = NULL;
	s->n = 0;
	memset(&r->rsperms[id], 0, sizeof(r->rsperms[id]));
	r->rs_free[r->nrs_free++] = id;
}

/* ---------- construction ---------- */

static int
principal_new(struct idg_rbac *r, const char *name, enum idg_pkind kind, idg_pid *out)
{
	size_t cap = r->cappr;
	struct principal *p;
	idg_pid id;
	int rc;

	if (r->npr >= IDG_PID_NONE - 1)
		return IDG_ERR_TOOBIG;
	if ((rc = grow((void **)&r->pr, sizeof(*r->pr), NULL, &cap, r->npr + 1)) < 0)
		return rc;
	if (cap != r->cappr) {
		uint8_t *nk = realloc(r->pkind, cap);

		if (nk == NULL)
			return IDG_ERR_NOMEM;
		r->pkind = nk;
		r->cappr = cap;
	}
	id = (idg_pid)r->npr;
	p = &r->pr[id];
	memset(p, 0, sizeof(*p));
	if ((p->name = strdup(name)) == NULL)
		return IDG_ERR_NOMEM;
	if ((rc = idg_strmap_put(&r->principals, p->name, id)) < 0) {
		free(p->name);
		return rc;
	}
	r->pkind[id] = (uint8_t)kind;
	r->npr++;
	*out = id;
	return 0;
}

static int
role_new(struct idg_rbac *r, const char *name, const struct idg_permset *perms, unsigned rtypes,
    bool builtin, idg_role *out)
{
	struct role *ro;

	if (r->nroles >= IDG_ROLES_MAX)
		return IDG_ERR_TOOBIG;
	ro = &r->roles[r->nroles];
	if ((ro->name = strdup(name)) == NULL)
		return IDG_ERR_NOMEM;
	if (idg_strmap_put(&r->rolenames, ro->name, (uint32_t)r->nroles) < 0) {
		free(ro->name);
		ro->name = NULL;
		return IDG_ERR_NOMEM;
	}
	ro->perms = *perms;
	ro->rtypes = rtypes;
	ro->builtin = builtin;
	ro->uses = 0;
	*out = (idg_role)r->nroles++;
	return 0;
}

int
idg_rbac_new(const uint8_t seed[16], struct idg_rbac **out)
{
	struct idg_rbac *r = calloc(1, sizeof(*r));
	uint8_t k[16];
	idg_pid pid;
	idg_role role, admin = 0;
	idg_rid rid;
	int rc = IDG_ERR_NOMEM;

	if (r == NULL)
		return IDG_ERR_NOMEM;
	/* Each map gets its own key derived from the seed. */
	for (int i = 0; i < 5; i++) {
		struct idg_strmap *maps[] = { &r->projects, &r->repos, &r->principals, &r->rolenames,
			&r->rskeys };

		memcpy(k, seed, 16);
		k[0] ^= (uint8_t)(i + 1);
		if (idg_strmap_init(maps[i], k) < 0)
			goto fail;
	}
	r->roles = calloc(IDG_ROLES_MAX, sizeof(*r->roles));
	if (r->roles == NULL)
		goto fail;
	for (size_t i = 0; i < idg_builtin_role_count(); i++) {
		struct idg_permset ps;

		idg_builtin_role_perms(i, &ps);
		if ((rc = role_new(r, idg_builtin_role(i)->name, &ps, idg_builtin_role(i)->meant_for,
		    true, &role)) < 0)
			goto fail;
		if (strcmp(idg_builtin_role(i)->name, "clusterAdmin") == 0)
			admin = role;
	}
	if ((rc = principal_new(r, IDG_SUBJECT_ROOT, IDG_PK_ROOT, &pid)) < 0 ||
	    (rc = principal_new(r, IDG_SUBJECT_ALL, IDG_PK_ALL, &pid)) < 0)
		goto fail;
	if ((rc = idg_rbac_resource_add(r, IDG_RT_CLUSTER, "", IDG_RID_NONE, &rid)) < 0)
		goto fail;
	/* Root's binding goes in below the guard in idg_rbac_binding_set. */
	{
		uint32_t rs;
		struct resource *c = &r->res[IDG_RID_CLUSTER];

		if ((rc = roleset_get(r, &admin, 1, &rs)) < 0)
			goto fail;
		c->inl[0].pid = IDG_PID_ROOT;
		c->inl[0].rs = rs;
		c->nb = 1;
		r->nbindings = 1;
	}
	*out = r;
	return 0;
fail:
	idg_rbac_free(r);
	return rc;
}

void
idg_rbac_free(struct idg_rbac *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nres; i++) {
		free(r->res[i].name);
		free(r->res[i].b);
	}
	free(r->res);
	free(r->res_free);
	for (size_t i = 0; i < r->npr; i++) {
		free(r->pr[i].name);
		free(r->pr[i].groups);
		free(r->pr[i].gset);
		free(r->pr[i].members);
	}
	free(r->pr);
	free(r->pkind);
	if (r->roles)
		for (size_t i = 0; i < r->nroles; i++)
			free(r->roles[i].name);
	free(r->roles);
	for (size_t i = 0; i < r->nrs; i++) {
		free(r->rsets[i].key);
		free(r->rsets[i].roles);
	}
	free(r->rsets);
	free(r->rsperms);
	free(r->rs_free);
	idg_strmap_free(&r->projects);
	idg_strmap_free(&r->repos);
	idg_strmap_free(&r->principals);
	idg_strmap_free(&r->rolenames);
	idg_strmap_free(&r->rskeys);
	free(r);
}

/* ---------- roles ---------- */

size_t
idg_rbac_role_limit(const struct idg_rbac *r)
{
	return r->nroles;
}

int
idg_rbac_role_find(const struct idg_rbac *r, const char *name, idg_role *out)
{
	uint32_t v;

	if (idg_strmap_get(&r->rolenames, name, &v) < 0)
		return IDG_ERR_NOTFOUND;
	*out = (idg_role)v;
	return 0;
}

const char *
idg_rbac_role_name(const struct idg_rbac *r, idg_role role)
{
	return role < r->nroles ? r->roles[role].name : NULL;
}

const struct idg_permset *
idg_rbac_role_perms(const struct idg_rbac *r, idg_role role)
{
	return &r->roles[role].perms;
}

unsigned
idg_rbac_role_rtypes(const struct idg_rbac *r, idg_role role)
{
	return r->roles[role].rtypes;
}

bool
idg_rbac_role_builtin(const struct idg_rbac *r, idg_role role)
{
	return r->roles[role].builtin;
}

size_t
idg_rbac_role_uses(const struct idg_rbac *r, idg_role role)
{
	size_t uses = 0;

	/* roles[].uses counts role sets; count bindings through them. */
	for (size_t i = 0; i < r->nrs; i++) {
		const struct roleset *s = &r->rsets[i];

		if (s->key == NULL)
			continue;
		for (uint16_t k = 0; k < s->n; k++)
			if (s->roles[k] == role)
				uses += s->refs;
	}
	return uses;
}

int
idg_rbac_role_add(struct idg_rbac *r, const char *name, const struct idg_permset *perms,
    unsigned rtypes, idg_role *out)
{
	uint32_t v;

	if (idg_strmap_get(&r->rolenames, name, &v) == 0)
		return IDG_ERR_EXISTS;
	/* A deleted slot is reused so ids stay below IDG_ROLES_MAX. */
	for (size_t i = 0; i < r->nroles; i++) {
		struct role *ro = &r->roles[i];

		if (ro->name != NULL)
			continue;
		if ((ro->name = strdup(name)) == NULL)
			return IDG_ERR_NOMEM;
		if (idg_strmap_put(&r->rolenames, ro->name, (uint32_t)i) < 0) {
			free(ro->name);
			ro->name = NULL;
			return IDG_ERR_NOMEM;
		}
		ro->perms = *perms;
		ro->rtypes = rtypes;
		ro->builtin = false;
		ro->uses = 0;
		*out = (idg_role)i;
		return 0;
	}
	return role_new(r, name, perms, rtypes, false, out);
}

int
idg_rbac_role_del(struct idg_rbac *r, idg_role role)
{
	struct role *ro;

	if (role >= r->nroles || r->roles[role].name == NULL)
		return IDG_ERR_NOTFOUND;
	ro = &r->roles[role];
	if (ro->builtin)
		return IDG_ERR_DENIED;
	if (ro->uses > 0)
		return IDG_ERR_CONFLICT;
	idg_strmap_del(&r->rolenames, ro->name);
	free(ro->name);
	ro->name = NULL;
	memset(&ro->perms, 0, sizeof(ro->perms));
	return 0;
}

/* ---------- principals ---------- */

int
idg_rbac_principal(struct idg_rbac *r, const char *subject, enum idg_pkind kind, idg_pid *out)
{
	uint32_t v;

	if (idg_strmap_get(&r->principals, subject, &v) == 0) {
		*out = v;
		return 0;
	}
	return principal_new(r, subject, kind, out);
}

idg_pid
idg_rbac_principal_find(const struct idg_rbac *r, const char *subject)
{
	uint32_t v;

	return idg_strmap_get(&r->principals, subject, &v) == 0 ? v : IDG_PID_NONE;
}

const char *
idg_rbac_principal_name(const struct idg_rbac *r, idg_pid pid)
{
	return pid < r->npr ? r->pr[pid].name : "?";
}

enum idg_pkind
idg_rbac_principal_kind(const struct idg_rbac *r, idg_pid pid)
{
	return (enum idg_pkind)r->pkind[pid];
}

size_t
idg_rbac_principal_limit(const struct idg_rbac *r)
{
	return r->npr;
}

/* ---------- memberships ---------- */

static size_t
lower_bound(const idg_pid *a, size_t n, idg_pid v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline uint32_t
pid_hash(idg_pid p)
{
	return (uint32_t)((p * UINT64_C(0x9E3779B97F4A7C15)) >> 32);
}

#define GBLOOM_WORDS 8	/* 512 bits: one cache line */

static inline idg_pid *
gset_slots(const struct principal *p)
{
	return (idg_pid *)(p->gset + GBLOOM_WORDS);
}

/* Two bits of the filter for group g, both in the same 512-bit line. */
static inline void
gbloom_bits(idg_pid g, uint32_t *b1, uint32_t *b2)
{
	uint64_t h = g * UINT64_C(0xD6E8FEB86659FD93);

	*b1 = (uint32_t)(h >> 55);
	*b2 = (uint32_t)(h >> 46) & 511;
}

/* Rebuild p's group set after a change. */
static int
gset_rebuild(struct principal *p)
{
	uint32_t size = 16, b1, b2;
	uint64_t *blk;
	idg_pid *set;

	if (p->ng <= SMALL_GROUPS) {
		free(p->gset);
		p->gset = NULL;
		p->gmask = 0;
		return 0;
	}
	while (size < p->ng * 2)
		size *= 2;
	/* The bytes: a multiple of the 64-byte alignment, as aligned_alloc wants. */
	if ((blk = aligned_alloc(64, GBLOOM_WORDS * 8 + ((size * sizeof(*set) + 63) & ~(size_t)63)))
	    == NULL)
		return IDG_ERR_NOMEM;
	memset(blk, 0, GBLOOM_WORDS * 8);
	set = (idg_pid *)(blk + GBLOOM_WORDS);
	memset(set, 0xff, size * sizeof(*set));
	for (uint32_t i = 0; i < p->ng; i++) {
		uint32_t j = pid_hash(p->groups[i]) & (size - 1);

		while (set[j] != IDG_PID_NONE)
			j = (j + 1) & (size - 1);
		set[j] = p->groups[i];
		gbloom_bits(p->groups[i], &b1, &b2);
		blk[b1 >> 6] |= UINT64_C(1) << (b1 & 63);
		blk[b2 >> 6] |= UINT64_C(1) << (b2 & 63);
	}
	free(p->gset);
	p->gset = blk;
	p->gmask = size - 1;
	return 0;
}

static inline bool
in_groups(const struct principal *p, idg_pid g)
{
	const idg_pid *set;
	uint32_t b1, b2;

	if (p->gset == NULL) {
		for (uint32_t i = 0; i < p->ng; i++)
			if (p->groups[i] == g)
				return true;
		return false;
	}
	gbloom_bits(g, &b1, &b2);
	if (!((p->gset[b1 >> 6] >> (b1 & 63)) & (p->gset[b2 >> 6] >> (b2 & 63)) & 1))
		return false;
	set = gset_slots(p);
	for (uint32_t j = pid_hash(g) & p->gmask;; j = (j + 1) & p->gmask) {
		if (set[j] == g)
			return true;
		if (set[j] == IDG_PID_NONE)
			return false;
	}
}

static int
sorted_insert(idg_pid **arr, uint32_t *n, uint32_t *cap, idg_pid v)
{
	size_t at = lower_bound(*arr, *n, v);
	int rc;

	if (at < *n && (*arr)[at] == v)
		return IDG_ERR_EXISTS;
	if ((rc = grow((void **)arr, sizeof(**arr), cap, NULL, (size_t)*n + 1)) < 0)
		return rc;
	memmove(*arr + at + 1, *arr + at, (*n - at) * sizeof(**arr));
	(*arr)[at] = v;
	(*n)++;
	return 0;
}

static int
sorted_remove(idg_pid *arr, uint32_t *n, idg_pid v)
{
	size_t at = lower_bound(arr, *n, v);

	if (at == *n || arr[at] != v)
		return IDG_ERR_NOTFOUND;
	memmove(arr + at, arr + at + 1, (*n - at - 1) * sizeof(*arr));
	(*n)--;
	return 0;
}

int
idg_rbac_member_add(struct idg_rbac *r, idg_pid group, idg_pid member)
{
	struct principal *g, *m;
	int rc;

	if (group >= r->npr || member >= r->npr || r->pkind[group] != IDG_PK_GROUP ||
	    r->pkind[member] == IDG_PK_GROUP || r->pkind[member] == IDG_PK_ALL)
		return IDG_ERR_INVAL;
	g = &r->pr[group];
	m = &r->pr[member];
	if (m->ng >= IDG_GROUPS_MAX)
		return IDG_ERR_TOOBIG;
	if ((rc = sorted_insert(&m->groups, &m->ng, &m->capg, group)) < 0)
		return rc;
	if ((rc = sorted_insert(&g->members, &g->nm, &g->capm, member)) < 0 ||
	    (rc = gset_rebuild(m)) < 0) {
		sorted_remove(m->groups, &m->ng, group);
		sorted_remove(g->members, &g->nm, member);
		return rc;
	}
	return 0;
}

int
idg_rbac_member_del(struct idg_rbac *r, idg_pid group, idg_pid member)
{
	struct principal *m;

	if (group >= r->npr || member >= r->npr)
		return IDG_ERR_NOTFOUND;
	m = &r->pr[member];
	if (sorted_remove(m->groups, &m->ng, group) < 0)
		return IDG_ERR_NOTFOUND;
	sorted_remove(r->pr[group].members, &r->pr[group].nm, member);
	/* Shrinking cannot fail badly: a failed rebuild keeps the old, larger set, which would
	 * still say yes for the removed group, so drop to the scan instead. */
	if (gset_rebuild(m) < 0) {
		free(m->gset);
		m->gset = NULL;
	}
	return 0;
}

void
idg_rbac_groups_of(const struct idg_rbac *r, idg_pid pid, const idg_pid **out, size_t *n)
{
	*out = pid < r->npr ? r->pr[pid].groups : NULL;
	*n = pid < r->npr ? r->pr[pid].ng : 0;
}

void
idg_rbac_members_of(const struct idg_rbac *r, idg_pid group, const idg_pid **out, size_t *n)
{
	*out = group < r->npr ? r->pr[group].members : NULL;
	*n = group < r->npr ? r->pr[group].nm : 0;
}

bool
idg_rbac_is_member(const struct idg_rbac *r, idg_pid group, idg_pid member)
{
	return member < r->npr && in_groups(&r->pr[member], group);
}

/* ---------- resources ---------- */

static struct idg_strmap *
res_map(struct idg_rbac *r, enum idg_rtype t)
{
	return t == IDG_RT_PROJECT ? &r->projects : t == IDG_RT_REPO ? &r->repos : NULL;
}

/* Grow r->res, keeping it aligned to its records' size (realloc would not). */
static int
res_grow(struct idg_rbac *r, size_t need)
{
	size_t ncap = r->capres ? r->capres : 64;
	struct resource *n;

	if (need <= r->capres)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((n = aligned_alloc(sizeof(*n), ncap * sizeof(*n))) == NULL)
		return IDG_ERR_NOMEM;
	if (r->nres > 0)
		memcpy(n, r->res, r->nres * sizeof(*n));
	free(r->res);
	r->res = n;
	r->capres = ncap;
	return 0;
}

int
idg_rbac_resource_add(struct idg_rbac *r, enum idg_rtype type, const char *name, idg_rid parent,
    idg_rid *out)
{
	struct idg_strmap *map = res_map(r, type);
	struct resource *res;
	uint32_t v;
	idg_rid id;
	int rc;

	if (map && idg_strmap_get(map, name, &v) == 0)
		return IDG_ERR_EXISTS;
	if (type != IDG_RT_CLUSTER && (parent >= r->nres || !r->res[parent].live))
		return IDG_ERR_NOTFOUND;
	if (r->nres_free > 0) {
		id = r->res_free[r->nres_free - 1];
	} else {
		if (r->nres >= IDG_RID_NONE - 1)
			return IDG_ERR_TOOBIG;
		if ((rc = res_grow(r, r->nres + 1)) < 0)
			return rc;
		id = (idg_rid)r->nres;
	}
	res = &r->res[id];
	memset(res, 0, sizeof(*res));
	if ((res->name = strdup(name)) == NULL)
		return IDG_ERR_NOMEM;
	if (map && (rc = idg_strmap_put(map, res->name, id)) < 0) {
		free(res->name);
		res->name = NULL;
		return rc;
	}
	res->type = (uint8_t)type;
	res->parent = parent;
	res->live = 1;
	if (type != IDG_RT_CLUSTER)
		r->res[parent].children++;
	if (id == r->nres)
		r->nres++;
	else
		r->nres_free--;
	*out = id;
	return 0;
}

int
idg_rbac_resource_del(struct idg_rbac *r, idg_rid rid)
{
	struct resource *res;
	idg_rid *nf;

	if (rid == IDG_RID_CLUSTER || rid >= r->nres || !r->res[rid].live)
		return rid == IDG_RID_CLUSTER ? IDG_ERR_DENIED : IDG_ERR_NOTFOUND;
	res = &r->res[rid];
	if (res->children > 0)
		return IDG_ERR_CONFLICT;
	/* Reserve the free-list slot first so nothing can fail after the bindings are gone. */
	if ((nf = realloc(r->res_free, (r->nres_free + 1) * sizeof(*nf))) == NULL)
		return IDG_ERR_NOMEM;
	r->res_free = nf;
	for (uint32_t i = 0; i < res->nb; i++)
		roleset_put(r, rb(res)[i].rs);
	r->nbindings -= res->nb;
	free(res->b);
	res->b = NULL;
	res->nb = res->capb = 0;
	idg_strmap_del(res_map(r, (enum idg_rtype)res->type), res->name);
	free(res->name);
	res->name = NULL;
	res->live = 0;
	r->res[res->parent].children--;
	r->res_free[r->nres_free++] = rid;
	return 0;
}

idg_rid
idg_rbac_resource_find(const struct idg_rbac *r, enum idg_rtype type, const char *name)
{
	uint32_t v;

	if (type == IDG_RT_CLUSTER)
		return IDG_RID_CLUSTER;
	if (idg_strmap_get(type == IDG_RT_PROJECT ? &r->projects : &r->repos, name, &v) < 0)
		return IDG_RID_NONE;
	return v;
}

enum idg_rtype
idg_rbac_resource_type(const struct idg_rbac *r, idg_rid rid)
{
	return (enum idg_rtype)r->res[rid].type;
}

const char *
idg_rbac_resource_name(const struct idg_rbac *r, idg_rid rid)
{
	return r->res[rid].name;
}

idg_rid
idg_rbac_resource_parent(const struct idg_rbac *r, idg_rid rid)
{
	return r->res[rid].parent;
}

size_t
idg_rbac_resource_children(const struct idg_rbac *r, idg_rid rid)
{
	return r->res[rid].children;
}

size_t
idg_rbac_resource_limit(const struct idg_rbac *r)
{
	return r->nres;
}

bool
idg_rbac_resource_live(const struct idg_rbac *r, idg_rid rid)
{
	return rid < r->nres && r->res[rid].live;
}

/* ---------- bindings ---------- */

static size_t
binding_lower(const struct resource *res, idg_pid pid)
{
	size_t lo = 0, hi = res->nb;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (crb(res)[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
idg_rbac_binding_set(struct idg_rbac *r, idg_rid rid, idg_pid pid, const idg_role *roles, size_t n)
{
	idg_role sorted[IDG_BINDING_ROLES_MAX];
	struct binding *b;
	struct resource *res;
	size_t at, m = 0;
	uint32_t rs;
	int rc;

	if (rid >= r->nres || !r->res[rid].live || pid >= r->npr)
		return IDG_ERR_NOTFOUND;
	if (rid == IDG_RID_CLUSTER && pid == IDG_PID_ROOT)
		return IDG_ERR_DENIED;
	if (n > IDG_BINDING_ROLES_MAX)
		return IDG_ERR_TOOBIG;
	for (size_t i = 0; i < n; i++)
		if (roles[i] >= r->nroles || r->roles[roles[i]].name == NULL)
			return IDG_ERR_NOTFOUND;
	if (n > 0) {
		memcpy(sorted, roles, n * sizeof(*roles));
		qsort(sorted, n, sizeof(*sorted), cmp_role);
	}
	for (size_t i = 0; i < n; i++)
		if (m == 0 || sorted[m - 1] != sorted[i])
			sorted[m++] = sorted[i];
	res = &r->res[rid];
	at = binding_lower(res, pid);
	if (m == 0) {
		if (at == res->nb || rb(res)[at].pid != pid)
			return 0;	/* nothing to remove */
		roleset_put(r, rb(res)[at].rs);
		memmove(rb(res) + at, rb(res) + at + 1, (res->nb - at - 1) * sizeof(struct binding));
		res->nb--;
		r->nbindings--;
		return 0;
	}
	if (at == res->nb || rb(res)[at].pid != pid) {
		if ((rc = binding_reserve(res, (size_t)res->nb + 1)) < 0)
			return rc;
	}
	if ((rc = roleset_get(r, sorted, m, &rs)) < 0)
		return rc;
	b = rb(res);
	if (at < res->nb && b[at].pid == pid) {
		roleset_put(r, b[at].rs);
		b[at].rs = rs;
		return 0;
	}
	memmove(b + at + 1, b + at, (res->nb - at) * sizeof(*b));
	b[at].pid = pid;
	b[at].rs = rs;
	res->nb++;
	r->nbindings++;
	return 0;
}

int
idg_rbac_binding_get(const struct idg_rbac *r, idg_rid rid, idg_pid pid, const idg_role **roles,
    size_t *n)
{
	const struct resource *res;
	size_t at;

	if (rid >= r->nres || !r->res[rid].live)
		return IDG_ERR_NOTFOUND;
	res = &r->res[rid];
	at = binding_lower(res, pid);
	if (at == res->nb || crb(res)[at].pid != pid)
		return IDG_ERR_NOTFOUND;
	*roles = r->rsets[crb(res)[at].rs].roles;
	*n = r->rsets[crb(res)[at].rs].n;
	return 0;
}

size_t
idg_rbac_binding_count(const struct idg_rbac *r, idg_rid rid)
{
	return rid < r->nres && r->res[rid].live ? r->res[rid].nb : 0;
}

void
idg_rbac_binding_at(const struct idg_rbac *r, idg_rid rid, size_t i, idg_pid *pid,
    const idg_role **roles, size_t *n)
{
	const struct binding *b = &crb(&r->res[rid])[i];

	*pid = b->pid;
	*roles = r->rsets[b->rs].roles;
	*n = r->rsets[b->rs].n;
}

size_t
idg_rbac_binding_total(const struct idg_rbac *r)
{
	return r->nbindings;
}

void
idg_rbac_reset(struct idg_rbac *r)
{
	for (size_t i = 0; i < r->nres; i++) {
		struct resource *res = &r->res[i];
		uint32_t keep = 0;

		if (!res->live)
			continue;
		for (uint32_t k = 0; k < res->nb; k++) {
			if (i == IDG_RID_CLUSTER && rb(res)[k].pid == IDG_PID_ROOT) {
				rb(res)[keep++] = rb(res)[k];
				continue;
			}
			roleset_put(r, rb(res)[k].rs);
			r->nbindings--;
		}
		res->nb = keep;
	}
	for (size_t i = 0; i < r->npr; i++) {
		struct principal *p = &r->pr[i];

		p->ng = p->nm = 0;
		free(p->gset);
		p->gset = NULL;
		p->gmask = 0;
	}
}

/* ---------- decisions ---------- */

/* Does binding subject s count for who? (who's own, allClusterUsers, or one of its groups) */
static inline bool
applies(const struct idg_rbac *r, const struct principal *p, idg_pid who, idg_pid all, idg_pid s)
{
	if (s == who || s == all)
		return true;
	return p != NULL && r->pkind[s] == IDG_PK_GROUP && in_groups(p, s);
}

bool
idg_rbac_check(const struct idg_rbac *r, idg_pid who, int perm, idg_rid rid, unsigned flags)
{
	const struct principal *p = who < r->npr ? &r->pr[who] : NULL;
	idg_pid all = (flags & IDG_CHECK_SKIP_ALL) ? IDG_PID_NONE : IDG_PID_ALL;
	uint64_t bit;
	int w;

	if (perm < 0 || perm >= idg_perm_count() || rid >= r->nres || !r->res[rid].live)
		return false;
	bit = UINT64_C(1) << (perm & 63);
	w = perm >> 6;
	/* Memory latency, not arithmetic, is the cost of a check on a large store: start the
	 * loads that do not depend on each other (the resource and the caller's group filter)
	 * together rather than one after the other. */
	__builtin_prefetch(&r->res[rid]);
	__builtin_prefetch(&r->res[rid].inl[RES_INLINE - 1]);
	if (p != NULL) {
		__builtin_prefetch(p);
		if (p->gset != NULL)
			__builtin_prefetch(p->gset);
	}
	for (; rid != IDG_RID_NONE; rid = r->res[rid].parent) {
		const struct resource *res = &r->res[rid];

		/* The parent's record loads while this level's bindings are scanned. */
		if (res->parent != IDG_RID_NONE) {
			__builtin_prefetch(&r->res[res->parent]);
			__builtin_prefetch(&r->res[res->parent].inl[RES_INLINE - 1]);
		}
		if (res->b != NULL)
			__builtin_prefetch(res->b + 8);
		for (uint32_t i = 0; i < res->nb; i++) {
			const struct binding b = crb(res)[i];

			if ((r->rsperms[b.rs].w[w] & bit) && applies(r, p, who, all, b.pid))
				return true;
		}
	}
	return false;
}

void
idg_rbac_effective(const struct idg_rbac *r, idg_pid who, idg_rid rid, unsigned flags,
    struct idg_permset *perms_out, uint8_t *roles_seen)
{
	const struct principal *p = who < r->npr ? &r->pr[who] : NULL;
	idg_pid all = (flags & IDG_CHECK_SKIP_ALL) ? IDG_PID_NONE : IDG_PID_ALL;

	memset(perms_out, 0, sizeof(*perms_out));
	if (rid >= r->nres || !r->res[rid].live)
		return;
	for (; rid != IDG_RID_NONE; rid = r->res[rid].parent) {
		const struct resource *res = &r->res[rid];

		for (uint32_t i = 0; i < res->nb; i++) {
			const struct binding b = crb(res)[i];

			if (!applies(r, p, who, all, b.pid))
				continue;
			idg_permset_union(perms_out, &r->rsperms[b.rs]);
			if (roles_seen)
				for (uint16_t k = 0; k < r->rsets[b.rs].n; k++)
					roles_seen[r->rsets[b.rs].roles[k]] = 1;
		}
	}
}

size_t
idg_rbac_explain(const struct idg_rbac *r, idg_pid who, int perm, idg_rid rid, unsigned flags,
    struct idg_grant *out, size_t max)
{
	const struct principal *p = who < r->npr ? &r->pr[who] : NULL;
	idg_pid all = (flags & IDG_CHECK_SKIP_ALL) ? IDG_PID_NONE : IDG_PID_ALL;
	size_t n = 0;

	if (perm < 0 || perm >= idg_perm_count() || rid >= r->nres || !r->res[rid].live)
		return 0;
	for (; rid != IDG_RID_NONE; rid = r->res[rid].parent) {
		const struct resource *res = &r->res[rid];

		for (uint32_t i = 0; i < res->nb; i++) {
			const struct binding b = crb(res)[i];
			const struct roleset *s = &r->rsets[b.rs];

			if (!idg_permset_has(&r->rsperms[b.rs], perm) || !applies(r, p, who, all, b.pid))
				continue;
			/* Name each role of the set that carries the permission. */
			for (uint16_t k = 0; k < s->n; k++) {
				if (!idg_permset_has(&r->roles[s->roles[k]].perms, perm))
					continue;
				if (n < max) {
					out[n].at = rid;
					out[n].via = b.pid;
					out[n].role = s->roles[k];
				}
				n++;
			}
		}
	}
	return n;
}

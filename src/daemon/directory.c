/* The POSIX directory: which names may be users, which ids they and their groups get, what
 * keeps an id held, and the start-up work (directory.h). The view and the snapshot are in
 * dir_view.c, sshd's provisional entries in dir_provisional.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/dir_int.h"
#include "daemon/enforce.h"
#include "rbac/names.h"

static bool
private_groups(const struct idg_daemon *d)
{
	return strcmp(d->cfg.idmap_primary_group, IDG_PRIMARY_PRIVATE) == 0;
}

/* Is name one of idgate's POSIX-only groups ([idmap] users_group, a named primary group)? */
static bool
posix_only_group(const struct idg_daemon *d, const char *name)
{
	return strcmp(name, d->cfg.idmap_users_group) == 0 ||
	    (!private_groups(d) && strcmp(name, d->cfg.idmap_primary_group) == 0);
}

void
idg_dir_batch_init(struct idg_dir_batch *b)
{
	idg_idtab_init(&b->ids, 0x6261746368ULL);
}

void
idg_dir_batch_free(struct idg_dir_batch *b)
{
	idg_idtab_free(&b->ids);
}

void
idg_dir_alloc_ctx(const struct idg_daemon *d, const struct idg_dir_batch *b,
    struct idg_idalloc *a)
{
	memset(a, 0, sizeof(*a));
	a->min = (uint32_t)d->cfg.idmap_id_min;
	a->max = (uint32_t)d->cfg.idmap_id_max;
	a->local = &d->dir->local;
	a->taken[a->ntaken++] = &d->st->ids;
	a->taken[a->ntaken++] = &d->dir->prov_ids;
	if (b)
		a->taken[a->ntaken++] = &b->ids;
}

static int
refresh_local(struct idg_daemon *d, char *why, size_t whylen)
{
	int rc = idg_localdb_refresh(&d->dir->local);

	if (rc < 0)
		snprintf(why, whylen, "cannot read %s and %s: refusing new names until they can be "
		    "read", d->dir->local.path[0], d->dir->local.path[1]);
	return rc == IDG_ERR_NOMEM ? rc : rc < 0 ? IDG_ERR_IO : 0;
}

/* idg_dir_user_check against the local accounts as last read. */
static int
check_name(const struct idg_daemon *d, const char *name, const struct idg_user *u, char *why,
    size_t whylen)
{
	const struct idg_localdb *l = &d->dir->local;
	const char *owner;
	uint32_t h;

	if (idg_localdb_user(l, name))
		snprintf(why, whylen, "'%s' is a local account on this host; an IdP user never "
		    "shadows it", name);
	else if (private_groups(d) && idg_localdb_group(l, name))
		snprintf(why, whylen, "'%s' is a local group on this host; the user's private group "
		    "would shadow it", name);
	else if (posix_only_group(d, name))
		snprintf(why, whylen, "'%s' is the name of idgate's own POSIX group ([idmap])", name);
	else if (u && u->uid && (owner = idg_localdb_id(l, u->uid)) != NULL)
		snprintf(why, whylen, "the uid of '%s' (%u) now belongs to the local account or group "
		    "'%s'", name, u->uid, owner);
	else if ((u == NULL || u->uid == 0) && (owner = idg_localdb_id(l,
	    h = idg_idmap_hash_id(name, (uint32_t)d->cfg.idmap_id_min,
	    (uint32_t)d->cfg.idmap_id_max))) != NULL)
		snprintf(why, whylen, "'%s' maps onto an existing local id %u (%s)", name, h, owner);
	else
		return 0;
	return IDG_ERR_DENIED;
}

int
idg_dir_user_check(struct idg_daemon *d, const char *name, const struct idg_user *u,
    char *why, size_t whylen)
{
	int rc = refresh_local(d, why, whylen);

	return rc < 0 ? rc : check_name(d, name, u, why, whylen);
}

uint32_t
idg_dir_held_id(const struct idg_daemon *d, char kind, const char *name)
{
	const struct idg_hold *h = idg_state_hold(d->st, kind, name);

	if (h == NULL || !h->live || idg_localdb_id(&d->dir->local, h->id) ||
	    h->id < (uint64_t)d->cfg.idmap_id_min || h->id > (uint64_t)d->cfg.idmap_id_max)
		return 0;
	return h->id;
}

/* A free id: a held one taken back (ID_RELEASE in c), the provisional one, or a new one. */
static int
give_id(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c, char kind,
    const char *name, uint32_t *id_out, char *why, size_t whylen)
{
	const struct idg_prov *p;
	struct idg_idalloc a;
	uint32_t id;
	int rc;

	if ((rc = refresh_local(d, why, whylen)) < 0)
		return rc;
	if ((id = idg_dir_held_id(d, kind, name)) != 0) {
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_ID_RELEASE, .u = id });
	} else if (kind == IDG_HOLD_USER && (p = idg_dir_prov_find(d->dir, name)) != NULL &&
	    !idg_localdb_id(&d->dir->local, p->uid) && !idg_idtab_has(&d->st->ids, p->uid) &&
	    !idg_idtab_has(&b->ids, p->uid)) {
		id = p->uid;
	} else {
		idg_dir_alloc_ctx(d, b, &a);
		if ((rc = idg_idmap_alloc(&a, name, &id, why, whylen)) < 0)
			return rc;
	}
	if ((rc = idg_idtab_put(&b->ids, id, 1)) < 0)
		return rc;
	*id_out = id;
	return 0;
}

int
idg_dir_user_uid(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c,
    const char *name, uint32_t *uid_out, char *why, size_t whylen)
{
	int rc = give_id(d, b, c, IDG_HOLD_USER, name, uid_out, why, whylen);

	if (rc == IDG_ERR_CONFLICT)
		rc = IDG_ERR_DENIED;
	return rc;
}

uint32_t
idg_dir_group_gid(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c,
    const char *name, char *why, size_t whylen)
{
	uint32_t gid = 0;
	int rc;

	if (idg_idmap_posix_group(name, why, whylen) < 0)
		goto out;
	if ((rc = refresh_local(d, why, whylen)) < 0)
		goto out;
	if (idg_localdb_group(&d->dir->local, name)) {
		snprintf(why, whylen, "'%s' is a local group on this host; an IdP group never "
		    "shadows it", name);
		goto out;
	}
	if (posix_only_group(d, name)) {
		snprintf(why, whylen, "'%s' is the name of idgate's own POSIX group ([idmap])", name);
		goto out;
	}
	if (give_id(d, b, c, IDG_HOLD_GROUP, name, &gid, why, whylen) < 0)
		gid = 0;
out:
	if (gid == 0)
		log_notice("group %s stays out of the POSIX view: %s", name, why);
	return gid;
}

void
idg_dir_user_delete(struct idg_daemon *d, struct idg_change *c, const struct idg_user *u,
    int64_t now)
{
	idg_pid pid = idg_rbac_principal_find(d->st->rbac, u->principal);
	const idg_pid *groups;
	size_t n = 0;

	if (pid != IDG_PID_NONE)
		idg_rbac_groups_of(d->st->rbac, pid, &groups, &n);
	for (size_t i = 0; i < n; i++)
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_MEMBER_DEL,
		    .a = idg_rbac_principal_name(d->st->rbac, groups[i]) + strlen("group:"),
		    .b = u->principal });
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_DEL, .a = u->name });
	if (u->uid)
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_ID_HOLD, .u = u->uid,
		    .a = u->name, .b = idg_hold_kind_name(IDG_HOLD_USER), .t1 = now });
}

void
idg_dir_group_hold(struct idg_change *c, const struct idg_group *g, int64_t now)
{
	if (g->gid)
		idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_ID_HOLD, .u = g->gid,
		    .a = g->name, .b = idg_hold_kind_name(IDG_HOLD_GROUP), .t1 = now });
}

uint32_t
idg_dir_gid_of_uid(const struct idg_daemon *d, uint32_t uid)
{
	return d->dir && d->dir->primary_gid ? d->dir->primary_gid : uid;
}

uint32_t
idg_dir_primary_gid(const struct idg_daemon *d, const struct idg_user *u)
{
	return idg_dir_gid_of_uid(d, u->uid);
}

void
idg_dir_home(const struct idg_daemon *d, const char *name, char *buf, size_t len)
{
	const char *base = d->cfg.idmap_home_base;
	size_t bl = strlen(base);

	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	snprintf(buf, len, "%.*s/%s", (int)(bl == 1 ? 0 : bl), base, name);
}

bool
idg_dir_user_visible(const struct idg_daemon *d, const struct idg_user *u, char *why, size_t whylen)
{
	if (!u->live || u->uid == 0) {
		snprintf(why, whylen, "no uid");
		return false;
	}
	if (u->uid < (uint64_t)d->cfg.idmap_id_min || u->uid > (uint64_t)d->cfg.idmap_id_max) {
		snprintf(why, whylen, "uid %u is outside [idmap] id_min..id_max", u->uid);
		return false;
	}
	return check_name(d, u->name, u, why, whylen) == 0;
}

void
idg_dir_gecos(const char *in, char *out, size_t outlen)
{
	size_t n = 0, max = outlen ? outlen - 1 : 0;

	if (max > 255)
		max = 255;
	if (in == NULL || !idg_str_printable(in))
		in = "";
	for (; in[n] && n < max; n++)
		out[n] = in[n] == ':' || in[n] == '\n' ? ' ' : in[n];
	/* Never end inside a UTF-8 sequence. */
	while (n > 0 && in[n] && ((unsigned char)in[n] & 0xc0) == 0x80)
		n--;
	if (outlen)
		out[n] = '\0';
}

void
idg_dir_provisional_forget(struct idg_daemon *d, const char *name)
{
	if (d->dir)
		idg_dir_prov_drop(d->dir, name);
}

/* ---------- start-up ---------- */

/* The gid of a POSIX-only group: held already, or held now (in c). */
static int
posix_group_gid(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c,
    const char *name, uint32_t *gid_out, char *err, size_t errlen)
{
	const struct idg_group *g = idg_state_group(d->st, name);
	const struct idg_hold *h = idg_state_hold(d->st, IDG_HOLD_POSIX, name);
	struct idg_idalloc a;
	char why[512];
	int rc;

	if (h && h->live) {
		*gid_out = h->id;
		return 0;
	}
	if (g && g->gid) {	/* a named primary group that is one of idgate's groups */
		*gid_out = g->gid;
		return 0;
	}
	if (idg_localdb_group(&d->dir->local, name)) {
		snprintf(err, errlen, "[idmap] names '%s', a local group: idgate's groups get their "
		    "own gids inside id_min..id_max; choose another name", name);
		return IDG_ERR_CONFIG;
	}
	idg_dir_alloc_ctx(d, b, &a);
	if ((rc = idg_idmap_alloc(&a, name, gid_out, why, sizeof(why))) < 0 ||
	    (rc = idg_idtab_put(&b->ids, *gid_out, 1)) < 0) {
		snprintf(err, errlen, "[idmap] group '%s': %s", name, why);
		return rc == IDG_ERR_NOMEM ? rc : IDG_ERR_CONFIG;
	}
	idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_ID_HOLD, .u = *gid_out, .a = name,
	    .b = idg_hold_kind_name(IDG_HOLD_POSIX), .t1 = (int64_t)time(NULL) });
	return 0;
}

static int
cmp_user_age(const void *x, const void *y)
{
	const struct idg_user *a = *(const struct idg_user *const *)x;
	const struct idg_user *b = *(const struct idg_user *const *)y;

	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Users stored before schema 3 get their uids in the order they came, then by name. */
static int
assign_user_ids(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c)
{
	struct idg_user **todo = calloc(d->st->nusers + 1, sizeof(*todo));
	size_t n = 0;
	char why[512];
	uint32_t uid;
	int rc = 0;

	if (todo == NULL)
		return IDG_ERR_NOMEM;
	for (size_t i = 0; i < d->st->nusers; i++)
		if (d->st->users[i].live && d->st->users[i].uid == 0)
			todo[n++] = &d->st->users[i];
	qsort(todo, n, sizeof(*todo), cmp_user_age);
	for (size_t i = 0; i < n && rc != IDG_ERR_NOMEM; i++) {
		if ((rc = idg_dir_user_check(d, todo[i]->name, NULL, why, sizeof(why))) == 0 &&
		    (rc = idg_dir_user_uid(d, b, c, todo[i]->name, &uid, why, sizeof(why))) == 0)
			idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_USER_UID,
			    .a = todo[i]->name, .u = uid });
		else if (rc != IDG_ERR_NOMEM)
			log_warn("user %s gets no uid and stays out of the POSIX view: %s",
			    todo[i]->name, why);
	}
	free(todo);
	return rc == IDG_ERR_NOMEM ? rc : 0;
}

static void
assign_group_ids(struct idg_daemon *d, struct idg_dir_batch *b, struct idg_change *c)
{
	char why[512];
	uint32_t gid;

	for (size_t i = 0; i < d->st->ngroups; i++) {
		const struct idg_group *g = &d->st->groups[i];

		if (g->live && g->gid == 0 &&
		    (gid = idg_dir_group_gid(d, b, c, g->name, why, sizeof(why))) != 0)
			idg_change_add(c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_GID, .a = g->name,
			    .u = gid });
	}
}

static int
assign_ids(struct idg_daemon *d, char *err, size_t errlen)
{
	struct idg_dir_batch b;
	struct idg_change c;
	int rc;

	idg_dir_batch_init(&b);
	idg_change_init(&c);
	if (d->cfg.idmap_users_group[0] && (rc = posix_group_gid(d, &b, &c,
	    d->cfg.idmap_users_group, &d->dir->users_gid, err, errlen)) < 0)
		goto out;
	if (!private_groups(d) && (rc = posix_group_gid(d, &b, &c, d->cfg.idmap_primary_group,
	    &d->dir->primary_gid, err, errlen)) < 0)
		goto out;
	if ((rc = assign_user_ids(d, &b, &c)) < 0) {
		snprintf(err, errlen, "giving stored users their uids: %s", idg_strerror(rc));
		goto out;
	}
	assign_group_ids(d, &b, &c);
	if (c.n > 0 && (rc = idg_state_commit(d->st, &c, err, errlen)) == 0)
		log_notice("directory: %zu id(s) given and recorded at start-up", c.n);
out:
	idg_change_free(&c);
	idg_dir_batch_free(&b);
	return rc;
}

/* After every committed change: a change that touches users, groups or memberships may
 * change the POSIX view. */
static void
on_commit(void *ctx, const struct idg_change *c)
{
	struct idg_daemon *d = ctx;

	for (size_t i = 0; i < c->n; i++) {
		switch (c->m[i].kind) {
		case IDG_MUT_GROUP_ADD: case IDG_MUT_GROUP_DEL: case IDG_MUT_MEMBER_ADD:
		case IDG_MUT_MEMBER_DEL: case IDG_MUT_AUTH_RESET: case IDG_MUT_USER_ADD:
		case IDG_MUT_USER_DEL: case IDG_MUT_USER_PIN: case IDG_MUT_USER_UID:
		case IDG_MUT_USER_GECOS: case IDG_MUT_GROUP_GID: case IDG_MUT_ID_HOLD:
		case IDG_MUT_ID_RELEASE:
			d->dir->dirty = true;
			break;
		default:
			break;
		}
	}
	if (d->dir->dirty)
		(void)idg_dir_publish(d, false);
	idg_enforce_on_commit(d, c);
}

int
idg_dir_open(struct idg_daemon *d, char *err, size_t errlen)
{
	struct idg_dir *dir = calloc(1, sizeof(*dir));
	char why[512];
	int rc;

	if (dir == NULL)
		return IDG_ERR_NOMEM;
	d->dir = dir;
	if ((rc = idg_random(dir->key, sizeof(dir->key))) < 0 ||
	    (rc = idg_localdb_init(&dir->local, NULL, NULL, dir->key)) < 0 ||
	    (rc = idg_dir_prov_init(dir, (size_t)d->cfg.nss_provisional_max)) < 0) {
		snprintf(err, errlen, "directory: %s", idg_strerror(rc));
		return rc;
	}
	if ((rc = refresh_local(d, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "directory: %s", why);
		return rc;
	}
	if ((rc = assign_ids(d, err, errlen)) < 0)
		return rc;
	d->st->on_commit = on_commit;
	d->st->on_commit_ctx = d;
	(void)idg_dir_publish(d, true);
	return 0;
}

uint32_t
idg_dir_users_gid(const struct idg_daemon *d)
{
	return d->dir ? d->dir->users_gid : 0;
}

void
idg_dir_free(struct idg_daemon *d)
{
	struct idg_dir *dir = d->dir;

	if (dir == NULL)
		return;
	if (d->st && d->st->on_commit == on_commit)
		d->st->on_commit = NULL;
	idg_localdb_free(&dir->local);
	idg_dir_prov_free(dir);
	free(dir->last);
	free(dir);
	d->dir = NULL;
}

void
idg_dir_reconfigure(struct idg_daemon *d)
{
	if (d->dir == NULL)
		return;
	if (d->dir->prov_cap != (size_t)d->cfg.nss_provisional_max) {
		idg_dir_prov_free(d->dir);
		if (idg_dir_prov_init(d->dir, (size_t)d->cfg.nss_provisional_max) < 0)
			log_err("directory: no memory for provisional entries; none are given");
	}
	(void)idg_dir_publish(d, false);
}

void
idg_dir_tick(struct idg_daemon *d, int64_t now_ms)
{
	struct idg_dir *dir = d->dir;

	if (dir == NULL)
		return;
	idg_dir_prov_expire(dir, now_ms);
	/* A local account appearing may hide an IdP user (never shadowed), one going may show it. */
	if (idg_localdb_refresh(&dir->local) == 0 && dir->local.generation != dir->local_built)
		dir->dirty = true;
	if ((dir->dirty && !dir->failed) || (dir->failed && now_ms >= dir->retry_at))
		(void)idg_dir_publish(d, false);
	else
		idg_dir_check_published(d);
}

/* Numeric ids for IdP users and groups: the id table, the hash, the local accounts and the
 * allocator (ids.h). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "idmap/ids.h"

/* ---------- the id table ---------- */

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t
slot_of(const struct idg_idtab *t, uint32_t id)
{
	return (size_t)mix(id ^ t->key) & (t->cap - 1);
}

void
idg_idtab_init(struct idg_idtab *t, uint64_t key)
{
	memset(t, 0, sizeof(*t));
	t->key = key;
}

static int
grow(struct idg_idtab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct idg_idtab_slot *ns = calloc(ncap, sizeof(*ns)), *old = t->s;
	size_t ocap = t->cap;

	if (ns == NULL)
		return IDG_ERR_NOMEM;
	t->s = ns;
	t->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (old[i].id == 0)
			continue;
		for (j = slot_of(t, old[i].id); ns[j].id != 0; j = (j + 1) & (ncap - 1))
			;
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

int
idg_idtab_put(struct idg_idtab *t, uint32_t id, uint32_t val)
{
	size_t j;
	int rc;

	if (id == 0)
		return IDG_ERR_INVAL;
	/* At most half full: probes stay short. */
	if ((t->n + 1) * 2 > t->cap && (rc = grow(t)) < 0)
		return rc;
	for (j = slot_of(t, id); t->s[j].id != 0; j = (j + 1) & (t->cap - 1)) {
		if (t->s[j].id == id) {
			t->s[j].val = val;
			return 0;
		}
	}
	t->s[j].id = id;
	t->s[j].val = val;
	t->n++;
	return 0;
}

static ssize_t
find(const struct idg_idtab *t, uint32_t id)
{
	if (t->cap == 0 || id == 0)
		return -1;
	for (size_t j = slot_of(t, id); t->s[j].id != 0; j = (j + 1) & (t->cap - 1))
		if (t->s[j].id == id)
			return (ssize_t)j;
	return -1;
}

int
idg_idtab_get(const struct idg_idtab *t, uint32_t id, uint32_t *val_out)
{
	ssize_t j = find(t, id);

	if (j < 0)
		return IDG_ERR_NOTFOUND;
	if (val_out)
		*val_out = t->s[j].val;
	return 0;
}

bool
idg_idtab_has(const struct idg_idtab *t, uint32_t id)
{
	return find(t, id) >= 0;
}

/* Backward-shift deletion: no tombstones, so lookups never slow down with churn. */
int
idg_idtab_del(struct idg_idtab *t, uint32_t id)
{
	ssize_t f = find(t, id);
	size_t i, j, mask = t->cap - 1;

	if (f < 0)
		return IDG_ERR_NOTFOUND;
	i = (size_t)f;
	for (j = (i + 1) & mask; t->s[j].id != 0; j = (j + 1) & mask) {
		size_t home = slot_of(t, t->s[j].id);

		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->s[i] = t->s[j];
			i = j;
		}
	}
	t->s[i].id = 0;
	t->s[i].val = 0;
	t->n--;
	return 0;
}

void
idg_idtab_clear(struct idg_idtab *t)
{
	if (t->cap)
		memset(t->s, 0, t->cap * sizeof(*t->s));
	t->n = 0;
}

void
idg_idtab_free(struct idg_idtab *t)
{
	if (t == NULL)
		return;
	free(t->s);
	t->s = NULL;
	t->cap = t->n = 0;
}

/* ---------- the hash ---------- */

uint64_t
idg_idmap_fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

uint32_t
idg_idmap_hash_id(const char *name, uint32_t min, uint32_t max)
{
	uint64_t span = (uint64_t)max - min + 1;

	return (uint32_t)(min + idg_idmap_fnv1a64(name) % span);
}

/* ---------- local accounts ---------- */

int
idg_localdb_init(struct idg_localdb *db, const char *passwd, const char *group,
    const uint8_t key[16])
{
	memset(db, 0, sizeof(*db));
	memcpy(db->key, key, 16);
	db->path[0] = strdup(passwd ? passwd : "/etc/passwd");
	db->path[1] = strdup(group ? group : "/etc/group");
	if (db->path[0] == NULL || db->path[1] == NULL) {
		idg_localdb_free(db);
		return IDG_ERR_NOMEM;
	}
	return 0;
}

static void
contents_free(struct idg_localdb *db)
{
	for (size_t i = 0; i < db->nnames; i++)
		free(db->names[i]);
	free(db->names);
	db->names = NULL;
	db->nnames = db->capnames = 0;
	idg_strmap_free(&db->users);
	idg_strmap_free(&db->groups);
	idg_idtab_free(&db->ids);
}

static int
keep_name(struct idg_localdb *db, const char *name, uint32_t *idx_out)
{
	if (db->nnames == db->capnames) {
		size_t ncap = db->capnames ? db->capnames * 2 : 64;
		char **p = realloc(db->names, ncap * sizeof(*p));

		if (p == NULL)
			return IDG_ERR_NOMEM;
		db->names = p;
		db->capnames = ncap;
	}
	if ((db->names[db->nnames] = strdup(name)) == NULL)
		return IDG_ERR_NOMEM;
	*idx_out = (uint32_t)db->nnames++;
	return 0;
}

/* One account: its name in map, its id in ids (the first owner of an id is kept). */
static int
add_account(struct idg_localdb *db, struct idg_strmap *map, const char *name, uint32_t id)
{
	uint32_t idx;
	int rc;

	if ((rc = keep_name(db, name, &idx)) < 0 ||
	    (rc = idg_strmap_put(map, db->names[idx], idx)) < 0)
		return rc;
	if (id != 0 && !idg_idtab_has(&db->ids, id))
		rc = idg_idtab_put(&db->ids, id, idx);
	return rc;
}

/* fgetpwent/fgetgrent return NULL at the end of the file and on an error alike (a failed
 * read, say EISDIR, or no memory for a long line). Only the end means every account was
 * read: anything else taken for it would drop the rest of the local accounts from the view. */
static int
read_end(FILE *f)
{
	if (feof(f) && !ferror(f))
		return 0;
	return errno == ENOMEM ? IDG_ERR_NOMEM : IDG_ERR_IO;
}

/* fgetpwent/fgetgrent parse the files themselves: no NSS, no recursion. */
static int
read_passwd(struct idg_localdb *db, FILE *f)
{
	struct passwd *pw;
	int rc = 0;

	/* A local user's primary gid is a local id even with no line in /etc/group: an IdP
	 * user given it as a uid (and private group) would share that user's group files. */
	while (rc == 0 && (pw = fgetpwent(f)) != NULL)
		if ((rc = add_account(db, &db->users, pw->pw_name, (uint32_t)pw->pw_uid)) == 0 &&
		    pw->pw_gid != 0 && !idg_idtab_has(&db->ids, (uint32_t)pw->pw_gid))
			rc = idg_idtab_put(&db->ids, (uint32_t)pw->pw_gid,
			    (uint32_t)(db->nnames - 1));
	return rc < 0 ? rc : read_end(f);
}

static int
read_group(struct idg_localdb *db, FILE *f)
{
	struct group *gr;
	int rc = 0;

	while (rc == 0 && (gr = fgetgrent(f)) != NULL)
		rc = add_account(db, &db->groups, gr->gr_name, (uint32_t)gr->gr_gid);
	return rc < 0 ? rc : read_end(f);
}

static bool
changed(const struct idg_localdb *db, int i, const struct stat *st)
{
	return !db->seen[i].valid || db->seen[i].dev != st->st_dev ||
	    db->seen[i].ino != st->st_ino || db->seen[i].size != st->st_size ||
	    db->seen[i].mtime.tv_sec != st->st_mtim.tv_sec ||
	    db->seen[i].mtime.tv_nsec != st->st_mtim.tv_nsec;
}

/* Read both files into fresh tables; the old ones stay in use until this succeeded. */
static int
reload(struct idg_localdb *db, const struct stat st[2])
{
	struct idg_localdb n;
	uint8_t k[16];
	uint64_t ik;
	FILE *f;
	int rc;

	memset(&n, 0, sizeof(n));
	memcpy(k, db->key, 16);
	k[0] ^= 1;
	memcpy(&ik, db->key + 8, sizeof(ik));
	idg_idtab_init(&n.ids, ik);
	if ((rc = idg_strmap_init(&n.users, db->key)) < 0 ||
	    (rc = idg_strmap_init(&n.groups, k)) < 0)
		goto fail;
	for (int i = 0; i < 2; i++) {
		if ((f = fopen(db->path[i], "re")) == NULL) {
			rc = IDG_ERR_IO;
			goto fail;
		}
		rc = i == 0 ? read_passwd(&n, f) : read_group(&n, f);
		fclose(f);
		if (rc < 0)
			goto fail;
	}
	contents_free(db);
	db->users = n.users;
	db->groups = n.groups;
	db->ids = n.ids;
	db->names = n.names;
	db->nnames = n.nnames;
	db->capnames = n.capnames;
	for (int i = 0; i < 2; i++) {
		db->seen[i].dev = st[i].st_dev;
		db->seen[i].ino = st[i].st_ino;
		db->seen[i].size = st[i].st_size;
		db->seen[i].mtime = st[i].st_mtim;
		db->seen[i].valid = true;
	}
	db->generation++;
	return 0;
fail:
	contents_free(&n);
	return rc;
}

int
idg_localdb_refresh(struct idg_localdb *db)
{
	struct stat st[2];
	int rc;

	for (int i = 0; i < 2; i++)
		if (stat(db->path[i], &st[i]) < 0)
			return IDG_ERR_IO;
	if (!changed(db, 0, &st[0]) && !changed(db, 1, &st[1]))
		return 0;
	if ((rc = reload(db, st)) < 0)
		return rc == IDG_ERR_NOMEM ? rc : IDG_ERR_IO;
	return 0;
}

bool
idg_localdb_user(const struct idg_localdb *db, const char *name)
{
	uint32_t v;

	return db->users.cap && idg_strmap_get(&db->users, name, &v) == 0;
}

bool
idg_localdb_group(const struct idg_localdb *db, const char *name)
{
	uint32_t v;

	return db->groups.cap && idg_strmap_get(&db->groups, name, &v) == 0;
}

const char *
idg_localdb_id(const struct idg_localdb *db, uint32_t id)
{
	uint32_t idx;

	if (idg_idtab_get(&db->ids, id, &idx) < 0 || idx >= db->nnames)
		return NULL;
	return db->names[idx];
}

void
idg_localdb_free(struct idg_localdb *db)
{
	if (db == NULL)
		return;
	contents_free(db);
	free(db->path[0]);
	free(db->path[1]);
	db->path[0] = db->path[1] = NULL;
}

/* ---------- allocation ---------- */

static bool
blocked(const struct idg_idalloc *a, uint32_t id)
{
	if (id == IDG_ID_NOBODY || id == IDG_ID_16BIT_INVALID || idg_localdb_id(a->local, id))
		return true;
	for (size_t i = 0; i < a->ntaken; i++)
		if (a->taken[i] && idg_idtab_has(a->taken[i], id))
			return true;
	return false;
}

int
idg_idmap_alloc(const struct idg_idalloc *a, const char *name, uint32_t *id_out, char *why,
    size_t whylen)
{
	uint64_t span, steps;
	uint32_t id, h;
	const char *owner;

	if (a->min == 0 || a->min > a->max) {
		snprintf(why, whylen, "the id range %u-%u is empty or includes 0", a->min, a->max);
		return IDG_ERR_INVAL;
	}
	span = (uint64_t)a->max - a->min + 1;
	h = idg_idmap_hash_id(name, a->min, a->max);
	if ((owner = idg_localdb_id(a->local, h)) != NULL) {
		snprintf(why, whylen, "'%s' maps onto an existing local id %u (%s)", name, h, owner);
		return IDG_ERR_CONFLICT;
	}
	/* A run of blocked ids is no longer than everything that can block one. */
	steps = a->local->ids.n + 3;
	for (size_t i = 0; i < a->ntaken; i++)
		steps += a->taken[i] ? a->taken[i]->n : 0;
	if (steps > span)
		steps = span;
	id = h;
	for (uint64_t i = 0; i < steps; i++) {
		if (!blocked(a, id)) {
			*id_out = id;
			return 0;
		}
		id = id == a->max ? a->min : id + 1;
	}
	snprintf(why, whylen, "no free id left in the range %u-%u", a->min, a->max);
	return IDG_ERR_TOOBIG;
}

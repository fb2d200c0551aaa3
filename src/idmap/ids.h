/* Numeric ids for IdP users and groups: a stable hash of the POSIX name into the configured
 * range, probing past ids idgate gave already, never an id or name of a local account.
 * Local accounts are read from /etc/passwd and /etc/group as files, never through NSS
 * (idgated must not resolve names through its own module). No globals; libc only. */
#ifndef IDG_IDMAP_IDS_H
#define IDG_IDMAP_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "rbac/hash.h"

/* A map from an id (never 0) to a u32. Open addressing with a keyed mix, so ids chosen by
 * an outsider cannot pile up in one run of slots. */
struct idg_idtab_slot {
	uint32_t id;		/* 0: empty */
	uint32_t val;
};

struct idg_idtab {
	struct idg_idtab_slot *s;
	size_t cap;		/* power of two, or 0 */
	size_t n;
	uint64_t key;
};

void idg_idtab_init(struct idg_idtab *t, uint64_t key);
/* Insert or replace; IDG_ERR_INVAL for id 0. */
int idg_idtab_put(struct idg_idtab *t, uint32_t id, uint32_t val);
/* 0 and *val_out (may be NULL), or IDG_ERR_NOTFOUND. */
int idg_idtab_get(const struct idg_idtab *t, uint32_t id, uint32_t *val_out);
bool idg_idtab_has(const struct idg_idtab *t, uint32_t id);
int idg_idtab_del(struct idg_idtab *t, uint32_t id);
void idg_idtab_clear(struct idg_idtab *t);
void idg_idtab_free(struct idg_idtab *t);

/* FNV-1a, 64 bits, over the bytes of s. */
uint64_t idg_idmap_fnv1a64(const char *s);
/* min + fnv1a64(name) mod (max - min + 1): where name's id is looked for first. */
uint32_t idg_idmap_hash_id(const char *name, uint32_t min, uint32_t max);

/* The local accounts: names and ids of /etc/passwd and /etc/group. */
struct idg_localdb {
	char *path[2];			/* passwd, group */
	struct idg_strmap users, groups;	/* name -> index into names */
	struct idg_idtab ids;		/* uid or gid -> index into names (its owner) */
	char **names;
	size_t nnames, capnames;
	struct {
		dev_t dev;
		ino_t ino;
		off_t size;
		struct timespec mtime;
		bool valid;
	} seen[2];
	uint64_t generation;		/* grows with every read of the files */
	uint8_t key[16];
};

/* Paths NULL: /etc/passwd and /etc/group (tests name their own files). Reads nothing yet. */
int idg_localdb_init(struct idg_localdb *db, const char *passwd, const char *group,
    const uint8_t key[16]);
/* Read the files again if either changed since the last read (inode, size, mtime).
 * IDG_ERR_IO when one cannot be read: callers refuse what they were asked (fail closed). */
int idg_localdb_refresh(struct idg_localdb *db);
bool idg_localdb_user(const struct idg_localdb *db, const char *name);
bool idg_localdb_group(const struct idg_localdb *db, const char *name);
/* The local account or group holding id as its uid or gid, or NULL. */
const char *idg_localdb_id(const struct idg_localdb *db, uint32_t id);
void idg_localdb_free(struct idg_localdb *db);

/* What an allocation must avoid: the range, the local accounts, and every id idgate has
 * given or reserved (users' uids — which are their private groups' gids — groups' gids and
 * held ids share one id space), given as up to 4 tables. */
struct idg_idalloc {
	uint32_t min, max;
	const struct idg_localdb *local;
	const struct idg_idtab *taken[4];
	size_t ntaken;
};

/* ids never handed out even inside a range: the historical nobody and (uint16_t)-1. */
#define IDG_ID_NOBODY 65534u
#define IDG_ID_16BIT_INVALID 65535u

/* The id for name: its hash id when free; when idgate gave that id already (or it is a
 * never-handed-out id), the next free one upwards, wrapping at max, skipping local ids and
 * taken ones. The result depends only on the name, the range, the local ids and the taken
 * ids, so two nodes given the same names in the same order agree.
 * IDG_ERR_CONFLICT when the hash id itself is a local account's id (why: which; the name
 * is refused, never probed past); IDG_ERR_TOOBIG when no id in the range is free. */
int idg_idmap_alloc(const struct idg_idalloc *a, const char *name, uint32_t *id_out, char *why,
    size_t whylen);

#endif

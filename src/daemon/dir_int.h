/* The directory's insides, shared by directory.c, dir_view.c, dir_provisional.c and
 * api_users.c only. */
#ifndef IDG_DAEMON_DIR_INT_H
#define IDG_DAEMON_DIR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "daemon/directory.h"
#include "idmap/idmap.h"
#include "idmap/ids.h"
#include "rbac/hash.h"

/* sshd asked about a name idgated does not know: the uid it will keep if it logs in. */
struct idg_prov {
	char name[IDG_POSIX_NAME_MAX + 1];
	uint32_t uid;
	int64_t expires;	/* monotonic ms */
	bool live;
};

struct idg_dir {
	struct idg_localdb local;
	uint64_t local_built;		/* local.generation the published view saw */
	uint32_t users_gid;		/* [idmap] users_group's gid; 0: none */
	uint32_t primary_gid;		/* [idmap] primary_group's gid; 0: private groups */

	/* The snapshot: the last one published (to compare a new view with) and its number. */
	uint64_t generation;
	uint8_t *last;
	size_t last_len;
	uint64_t hidden_hash;		/* of what the last view left out, to log changes once */
	bool dirty;			/* the view may have changed since the last publish */
	bool failed;			/* the last publish failed: retried */
	int64_t retry_at;		/* monotonic ms */
	struct stat published;		/* the file as we left it (dev, inode, size, mtime) */
	bool published_set;

	/* Provisional entries: a ring, oldest first; names and uids indexed. */
	struct idg_prov *prov;
	size_t prov_cap, prov_head, prov_count;
	struct idg_strmap prov_names;	/* name -> ring slot */
	struct idg_idtab prov_ids;	/* uid -> ring slot */
	uint8_t key[16];
};

/* dir_view.c: build the POSIX view; publish it when it differs from the last one (or
 * always, with force). 0, or IDG_ERR_* (logged; retried by the tick). */
int idg_dir_publish(struct idg_daemon *d, bool force);
/* Publish again when the file at [nss] snapshot is not the one last published (once a
 * second, from the tick). */
void idg_dir_check_published(struct idg_daemon *d);

/* dir_provisional.c */
int idg_dir_prov_init(struct idg_dir *dir, size_t cap);
void idg_dir_prov_free(struct idg_dir *dir);
void idg_dir_prov_expire(struct idg_dir *dir, int64_t now_ms);
/* The live entry for name, or NULL. */
const struct idg_prov *idg_dir_prov_find(const struct idg_dir *dir, const char *name);
/* A new entry (the oldest goes when the ring is full). */
int idg_dir_prov_add(struct idg_dir *dir, const char *name, uint32_t uid, int64_t expires);
void idg_dir_prov_drop(struct idg_dir *dir, const char *name);

/* The id a name held before it was deleted (kind IDG_HOLD_USER or _GROUP), if nothing local
 * took it meanwhile and it is inside the range; else 0. */
uint32_t idg_dir_held_id(const struct idg_daemon *d, char kind, const char *name);

/* The allocator's view of what is taken: given ids, provisional ones, the batch's. */
void idg_dir_alloc_ctx(const struct idg_daemon *d, const struct idg_dir_batch *b,
    struct idg_idalloc *a);

#endif

/* What a repo directory's POSIX ACL should say, from the role engine: the users and groups
 * that hold REPO_READ (read and traverse) or REPO_WRITE (read and write) on the repo, with
 * roles inherited from its project and the cluster counting. Pure: no I/O, no globals. */
#ifndef IDG_ENFORCE_ACL_CALC_H
#define IDG_ENFORCE_ACL_CALC_H

#include <stddef.h>
#include <stdint.h>

#include "rbac/rbac.h"

/* Most named entries one repo's ACL may hold: an ext4 inode keeps an ACL in one 4 KiB
 * xattr block (about 500 entries); past this the repo is closed, not half-applied. */
#define IDG_ACL_ENTRIES_MAX 256

enum idg_acl_tag { IDG_ACLT_USER = 1, IDG_ACLT_GROUP = 2 };
enum idg_acl_perm { IDG_ACLP_READ = 1, IDG_ACLP_WRITE = 2 };	/* WRITE includes READ */

struct idg_acl_ent {
	uint8_t tag;	/* enum idg_acl_tag */
	uint8_t perm;	/* enum idg_acl_perm */
	uint32_t id;	/* uid or gid */
};

/* Entries sorted by (tag, id), one per (tag, id), the strongest permission kept. */
struct idg_acl_spec {
	struct idg_acl_ent e[IDG_ACL_ENTRIES_MAX];
	size_t n;
};

/* How a principal reaches the POSIX view: 0 with *tag_out and *id_out set; 1 when it has no
 * POSIX id (a robot, a pipeline, a group or user without an id yet): it is left out. */
typedef int (*idg_acl_resolve_fn)(void *ctx, idg_pid pid, uint8_t *tag_out, uint32_t *id_out);

/* The entries repo (a repo resource) should carry. The root principal is left out (uid 0
 * needs no entry). 0; IDG_ERR_INVAL for a resource that is not a live repo; IDG_ERR_TOOBIG
 * past IDG_ACL_ENTRIES_MAX. On failure *out is untouched. */
int idg_acl_compute(const struct idg_rbac *r, idg_rid repo, idg_acl_resolve_fn resolve,
    void *ctx, struct idg_acl_spec *out);

/* Equal specs (same entries, same permissions)? */
int idg_acl_spec_cmp(const struct idg_acl_spec *a, const struct idg_acl_spec *b);

#endif

/* Applying an ACL spec (acl_calc.h) to a repo tree through libacl. The tree is walked with
 * directory descriptors only: every name is opened with openat(O_NOFOLLOW) relative to its
 * parent, symlinks are never followed (their targets are never touched), nothing on another
 * filesystem is entered, and only directories and regular files are changed: of files with
 * several hard links (they may also have a name outside the repo), only the owner's and IdP
 * users', and only when idg_acl_set_owned_links says so. */
#ifndef IDG_ENFORCE_ACL_APPLY_H
#define IDG_ENFORCE_ACL_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "enforce/acl_calc.h"

/* Deepest directory level walked below a repo directory; deeper ones are logged, and left
 * unreachable to anyone the levels above refuse. */
#define IDG_APPLY_DEPTH_MAX 64

/* The ACLs one repo's objects should carry, built once per pass. */
struct idg_acl_set;

/* owner/group: every directory and file is given to them; mode: the base permissions of
 * directories (owner, owning group, others: e.g. 0750); files get the same without execute,
 * except files whose owner may execute them. Set-id and sticky bits are cleared everywhere. */
int idg_acl_set_new(const struct idg_acl_spec *spec, uid_t owner, gid_t group, mode_t mode,
    struct idg_acl_set **out);
void idg_acl_set_free(struct idg_acl_set *s);
/* yes: regular files with more than one hard link that belong to the set's owner, or to a
 * uid in id_lo..id_hi (IdP users: whoever may hold a repo role), are changed like the others
 * (default: every multi-link file is left alone). Only sound where the kernel lets nobody
 * link a file it may not read and write (fs.protected_hardlinks = 1): then such a file is
 * the repo's own linked out by someone with access, or a writer's own linked in, and that
 * access must end with the role through whatever name; at worst it is a file the linker
 * could already read and write. Multi-link files of anyone else (local users, system
 * accounts) are always left alone. */
void idg_acl_set_owned_links(struct idg_acl_set *s, bool yes, uid_t id_lo, uid_t id_hi);

struct idg_apply_stats {
	uint64_t dirs, files;	/* looked at */
	uint64_t changed;	/* objects whose owner, mode or ACL was rewritten */
	uint64_t skipped;	/* symlinks, special files, other filesystems, too deep */
	uint64_t errors;
};

/* Told about every object that was changed (repaired) or deliberately left alone: its path
 * relative to the repo directory ("." for the directory itself) and what was wrong, e.g.
 * "access ACL was user::rwx,group::rwx,other::rwx", or why it was left alone. */
typedef void (*idg_apply_report_fn)(void *ctx, const char *path, bool repaired,
    const char *what);

/* Walk the directory name below parentfd and make every object agree with set, writing only
 * what differs. Each directory is changed before it is read, so nobody whom set shuts out
 * can add anything to it that the walk would miss. report may be NULL. 0, or IDG_ERR_IO when
 * the directory itself cannot be opened (a symlink or anything but a directory is refused:
 * ELOOP/ENOTDIR); errors below it are counted in stats and the walk goes on. */
int idg_acl_apply_tree(int parentfd, const char *name, const struct idg_acl_set *set,
    idg_apply_report_fn report, void *ctx, struct idg_apply_stats *stats);

/* One open directory or regular file (dir says which it must be), as a walk would leave it:
 * for idgated's own new files and directories, before anyone can see them. 0, or
 * IDG_ERR_INVAL when fd is not of that type; a write that fails counts in stats->errors. */
int idg_acl_apply_fd(int fd, bool dir, const struct idg_acl_set *set,
    struct idg_apply_stats *stats);

#endif

/* Home directories of IdP users, made on their first login (PAM session). */
#ifndef IDG_DAEMON_HOME_H
#define IDG_DAEMON_HOME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Bounds on what is copied from the skeleton directory. */
#define IDG_SKEL_DEPTH_MAX 8
#define IDG_SKEL_ENTRIES_MAX 1000
#define IDG_SKEL_FILE_MAX (1024 * 1024)
#define IDG_SKEL_TOTAL_MAX (16 * 1024 * 1024)

struct idg_home_req {
	const char *base;	/* [idmap] home_base */
	const char *name;	/* a valid POSIX login name: the directory's name in base */
	uid_t uid;
	gid_t gid;
	const char *skel;	/* skeleton directory, or NULL / "": none */
};

/* Make BASE/NAME, owned by uid:gid, mode 0700, with copies of the skeleton's files, unless
 * it exists already (as anything: it is then left alone, *created_out false).
 *
 * BASE is opened without following any symbolic link in its path and must be a directory
 * owned by root and writable by nobody else; otherwise nothing is made (a symlink or a
 * directory someone else controls could point the new home, and the chown, anywhere). The
 * home is built under a temporary name in BASE that only root can enter, every file made
 * with O_EXCL|O_NOFOLLOW relative to its directory's descriptor, owned and moded through
 * that descriptor, and then renamed into place without replacing anything
 * (RENAME_NOREPLACE): it appears whole or not at all. The skeleton is read without
 * following symlinks (a symlink in it is copied as a symlink), only when it is owned by root
 * and writable by nobody else; regular files, directories and symlinks are copied, set-id
 * bits dropped; anything else, and whatever passes the IDG_SKEL_* bounds, is skipped and
 * said in note. 0, or IDG_ERR_* with why (nothing is left behind). */
int idg_home_create(const struct idg_home_req *r, bool *created_out, char *why, size_t whylen,
    char *note, size_t notelen);

#endif
